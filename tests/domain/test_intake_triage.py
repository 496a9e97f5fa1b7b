"""Intake triage on Qingdao's lists and starter knowledge base, with what citizens actually say."""

import tomllib
from pathlib import Path

import pytest

from catalog.cities import CITIES_DIR, load_lists
from domain.intake.textsearch import TextIndex
from domain.intake.triage import (
    Article,
    EmergencyService,
    TriageOverride,
    TriagePath,
    apply_override,
    emergency_hints,
    suggest,
)
from domain.vocabulary import Kind

DAY = Path(__file__).parents[1] / "data" / "day_of_requests.toml"


@pytest.fixture(scope="module")
def lists():
    return load_lists("qingdao")


@pytest.fixture(scope="module")
def kb():
    with (CITIES_DIR / "qingdao" / "knowledge.toml").open("rb") as f:
        raw = tomllib.load(f)["article"]
    docs = [(a["id"], f"{a['title']} {a.get('question', '')} {' '.join(a.get('keywords', []))}") for a in raw]
    return TextIndex(docs), {a["id"]: Article(id=a["id"], title=a["title"], answer=a["answer"]) for a in raw}


def triage(text, kind, lists, kb, service=None):
    index, articles = kb
    return suggest(text, kind, service, lists, index, articles)


def test_a_consultation_the_knowledge_base_answers_is_a_direct_answer(lists, kb):
    d = triage("我想问一下住房公积金怎么提取，租房能不能取出来", Kind.consultation, lists, kb)
    assert d.path == TriagePath.direct_answer
    assert "公积金" in d.article.title and d.article.answer


def test_a_complaint_is_never_answered_from_the_knowledge_base(lists, kb):
    d = triage("我想问一下住房公积金怎么提取，租房能不能取出来", Kind.complaint, lists, kb)
    assert d.path == TriagePath.dispatch


def test_a_consultation_nobody_wrote_an_article_for_is_dispatched(lists, kb):
    d = triage("请问我们小区门口那个公交站什么时候能恢复，施工围挡拆了没有", Kind.consultation, lists, kb)
    assert d.path == TriagePath.dispatch


def test_a_dispute_between_private_parties_is_out_of_scope(lists, kb):
    d = triage("朋友借了我五万块钱两年了一直不还，打电话也不接，你们能不能帮我要回来", Kind.help, lists, kb)
    assert d.path in (TriagePath.out_of_scope, TriagePath.legal_channel)
    assert (d.out_of_scope or d.legal_channel) is not None


def test_a_court_judgment_not_enforced_goes_to_the_legal_channel(lists, kb):
    d = triage("法院判决下来半年了，对方还是不执行判决，我申请强制执行也没有动静", Kind.complaint, lists, kb)
    assert d.path == TriagePath.legal_channel
    assert "法院" in d.legal_channel.name and d.legal_channel.guidance


def test_a_flagged_emergency_is_transferred_with_the_services_script(lists, kb):
    d = triage("楼下饭店厨房着火了，冒了好多黑烟", Kind.help, lists, kb, EmergencyService.fire)
    assert d.path == TriagePath.emergency_transfer
    assert d.emergency.number == EmergencyService.fire and "119" in d.emergency.transfer_script


def test_emergency_words_suggest_the_transfer_and_hint_the_service(lists, kb):
    text = "楼下饭店厨房着火了，冒了好多黑烟"
    d = triage(text, Kind.help, lists, kb)
    assert d.path == TriagePath.emergency_transfer and d.emergency.number == EmergencyService.fire
    hints = emergency_hints(text, lists)
    assert hints[0].number == EmergencyService.fire and "着火" in hints[0].matched


def test_an_ordinary_complaint_is_dispatched(lists, kb):
    d = triage("小区楼下烧烤摊占道经营，油烟和噪音扰民，晚上十二点还在营业", Kind.complaint, lists, kb)
    assert d.path == TriagePath.dispatch


def test_a_day_at_the_desk_every_request_takes_its_expected_path(lists, kb):
    """The day's requests (tests/data/day_of_requests.toml): a repeat is triaged like its first."""
    with DAY.open("rb") as f:
        day = tomllib.load(f)["request"]
    wrong = []
    for i, r in enumerate(day, 1):
        expected = "dispatch" if r["expected"] == "merge" else r["expected"]
        service = EmergencyService(r["emergency_service"]) if r.get("emergency_service") else None
        d = triage(r["description"], Kind(r["kind"]), lists, kb, service)
        if d.path.value != expected:
            wrong.append((i, r["description"], expected, d.path.value, d.reason))
    assert not wrong, "\n".join(map(str, wrong))


def test_the_operator_overrides_with_a_reason_and_the_suggestion_is_kept(lists, kb):
    index, articles = kb
    suggested = triage("小区楼下烧烤摊占道经营，油烟扰民", Kind.complaint, lists, kb)
    override = TriageOverride(path=TriagePath.legal_channel, reason="群众已起诉，告知法院途径", legal_channel="court")
    d = apply_override(suggested, override, "intake:desk-07", lists, articles)
    assert (d.path, d.suggested, d.overridden_by) == (TriagePath.legal_channel, TriagePath.dispatch, "intake:desk-07")
    assert d.reason == "群众已起诉，告知法院途径" and d.legal_channel.id == "court"


def test_an_override_naming_nothing_is_refused_with_the_reason(lists, kb):
    index, articles = kb
    suggested = triage("小区楼下烧烤摊占道经营", Kind.complaint, lists, kb)
    with pytest.raises(ValueError, match="no knowledge-base article"):
        apply_override(
            suggested,
            TriageOverride(path=TriagePath.direct_answer, reason="口头答复", article_id="nope"),
            "x",
            lists,
            articles,
        )
