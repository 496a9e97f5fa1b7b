import re
from pathlib import Path

import pytest

from catalog.policies import POLICIES_DIR, available_packs, load_pack
from domain.policy import ClockName, ClockRule, Limit, PolicyPack
from domain.vocabulary import Kind, Urgency


@pytest.mark.parametrize("name", ["beijing", "qingdao", "jinan", "sichuan", "yantai", "weifang", "tianjin"])
def test_every_shipped_pack_loads_and_names_its_version(name):
    pack = load_pack(name)
    assert pack.name == name and pack.version and len(pack.digest) == 12


def test_beijing_four_levels():
    pack = load_pack("beijing")
    limits = [str(pack.completion_limit(u, Kind.complaint, False)) for u in Urgency]
    assert limits == ["2h", "24h", "7d", "15d"]


def test_qingdao_enterprise_2115_but_an_emergency_stays_an_emergency():
    pack = load_pack("qingdao")
    assert str(pack.completion_limit(Urgency.normal, Kind.complaint, True)) == "15wd"
    assert str(pack.completion_limit(Urgency.emergency, Kind.complaint, True)) == "2h"
    contact = pack.clocks["contact"]
    assert str(contact.limit_for(Urgency.normal, Kind.complaint, True)) == "2h"
    feedback = pack.clocks["first_feedback"]
    assert str(feedback.limit_for(Urgency.normal, Kind.help, True)) == "1wd"
    assert feedback.limit_for(Urgency.normal, Kind.help, False) is None  # enterprise only


def test_sichuan_counts_by_kind_in_working_days():
    pack = load_pack("sichuan")
    assert [
        str(pack.completion_limit(Urgency.normal, k, False)) for k in (Kind.consultation, Kind.help, Kind.complaint)
    ] == ["3wd", "7wd", "15wd"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            'name = "bad"\nversion = "1"\ntitle = "x"\n[clocks.completion]\nby_urgency = { normal = "7d" }\n',
            "no limit for: emergency",
        ),
        (
            'name = "bad"\nversion = "1"\ntitle = "x"\n[clocks.completion]\nby_urgency = { emergency = "2 hours", urgent = "1d", normal = "7d", complex = "15d" }\n',
            "is not a time limit",
        ),
        (
            'name = "other"\nversion = "1"\ntitle = "x"\n[clocks.completion]\nby_urgency = { emergency = "2h", urgent = "1d", normal = "7d", complex = "15d" }\n',
            "file name must match",
        ),
        ('name = "bad"\nversion = "1"\n[clocks.completion\n', "bad.toml"),
    ],
)
def test_a_broken_pack_is_refused_with_a_clear_reason(tmp_path: Path, text, problem):
    (tmp_path / "bad.toml").write_text(text)
    with pytest.raises(ValueError) as err:
        load_pack("bad", tmp_path)
    assert problem in str(err.value)


def test_unknown_pack_lists_the_known_ones():
    with pytest.raises(ValueError, match="available: beijing"):
        load_pack("atlantis")


def test_limit_round_trip():
    assert str(Limit.model_validate("5wd")) == "5wd"
    assert Limit.model_validate("90m").seconds() == 5400


@pytest.mark.parametrize(("text", "seconds", "words"), [("90s", 90, "90秒"), ("30m", 1800, "30分钟"), ("2h", 7200, "2小时"),
                                                        ("7d", 604800, "7天"), (" 5 wd ", 432000, "5个工作日")])  # fmt: skip
def test_a_limit_is_read_as_written_and_told_to_the_citizen_in_words(text, seconds, words):
    limit = Limit.model_validate(text)
    assert limit.seconds() == seconds and limit.in_words() == words
    assert limit.working_days is text.strip().endswith("wd")


def test_the_most_specific_clock_rule_wins():
    rule = ClockRule(by_urgency={Urgency.emergency: "2h", Urgency.normal: "7d"}, by_kind={Kind.consultation: "3d"},
                     enterprise="5d")  # fmt: skip
    assert str(rule.limit_for(Urgency.emergency, Kind.consultation, True)) == "2h"  # an emergency stays one
    assert str(rule.limit_for(Urgency.normal, Kind.consultation, True)) == "5d"  # then the enterprise standard
    assert str(rule.limit_for(Urgency.normal, Kind.consultation, False)) == "3d"  # then the kind
    assert str(rule.limit_for(Urgency.normal, Kind.complaint, False)) == "7d"  # then the urgency
    assert rule.limit_for(Urgency.complex, Kind.complaint, False) is None


def test_a_units_report_clock_follows_the_whistle_rule_and_is_not_set_under_clocks():
    pack = load_pack("qingdao")
    assert pack.rule_for(ClockName.report).on_breach == pack.whistle.on_breach
    raw = pack.model_dump(mode="json")
    raw["clocks"]["report"] = raw["clocks"]["completion"]
    with pytest.raises(ValueError, match="set under \\[whistle\\]"):
        PolicyPack.model_validate(raw)


def _value(line: str) -> str:
    """A TOML line without its comment (packs put no '#' inside strings)."""
    return line.split("#", 1)[0]


@pytest.mark.parametrize("name", available_packs())
def test_every_number_in_a_pack_names_its_source_or_says_it_is_a_choice(name):
    """A center must be able to say where each number comes from: a source tag defined in the
    pack's header ([XX]), or `choice` (the center's own, no published number)."""
    lines = (POLICIES_DIR / f"{name}.toml").read_text(encoding="utf-8").splitlines()
    header = "\n".join(line for line in lines if line.startswith("#"))
    unsourced = []
    for number, line in enumerate(lines, 1):
        value = _value(line)
        if re.match(r"\s*(name|version|title)\s*=", value) or not re.search(r"\d", value):
            continue
        comment = line[len(value) :]
        tags = re.findall(r"\[([A-Za-z0-9-]+)\]", comment)
        if "choice" not in comment and not tags:
            unsourced.append(f"{name}.toml:{number}: {line.strip()}")
        for tag in tags:
            assert f"[{tag}]" in header, f"{name}.toml:{number} cites [{tag}], which the header does not define"
    assert not unsourced, "numbers without a source or `choice`:\n" + "\n".join(unsourced)


def test_weifang_from_its_sources():
    pack = load_pack("weifang")
    # 5 working days to finish (Shandong rules); utilities: in hand within 2 h, done within 1 working day.
    assert str(pack.completion_limit(Urgency.normal, Kind.complaint, False)) == "5wd"
    assert str(pack.completion_limit(Urgency.urgent, Kind.help, False)) == "1wd"
    assert str(pack.clocks["contact"].limit_for(Urgency.urgent, Kind.help, False)) == "2h"
    assert (str(pack.returns.window), str(pack.extension.max_each)) == ("2wd", "10wd")


def test_tianjin_sign_for_by_urgency():
    pack = load_pack("tianjin")
    sign_for = pack.clocks["acknowledge"]
    assert [str(sign_for.limit_for(u, Kind.help, False)) for u in Urgency] == ["15m", "30m", "1wd", "1wd"]


def test_jinan_returns_within_two_working_days_as_the_shandong_rules_say():
    assert str(load_pack("jinan").returns.window) == "2wd"


def test_day_limits_default_to_exact_hours_and_beijing_reads_them_as_the_civil_code_does():
    assert {n: load_pack(n).day_limits for n in available_packs()} == {
        "beijing": "civil_code", "jinan": "exact", "qingdao": "exact", "sichuan": "exact",
        "tianjin": "exact", "weifang": "exact", "yantai": "exact",
    }  # fmt: skip
