"""The pieces of an intake that understands the citizen: spelling variants, paraphrase, decisive
words, emergency patterns, addresses read to streets, and the learned model on small data."""

import pytest

from catalog.cities import load_directory, load_lists, load_places
from domain.intake.address import read_address
from domain.intake.model import Sample, train
from domain.intake.textsearch import Synonyms, TextIndex, normalize
from domain.intake.triage import EmergencyService, TriagePath, emergency_hints, suggest
from domain.vocabulary import Kind


@pytest.fixture(scope="module")
def lists():
    return load_lists("qingdao")


@pytest.fixture(scope="module")
def directory():
    return load_directory("qingdao")


def test_variants_and_typos_are_one_spelling_and_a_variant_inside_the_word_is_left_alone(lists):
    syn = lists.synonym_map
    assert normalize("我的身分证丢了", syn) == normalize("我的身份证丢了", syn)
    assert "燃气" in normalize("一股煤气味", syn)
    assert normalize("坐公交车", syn) == "坐公交车"  # not 公交车车
    assert normalize("ＡＢＣ １２３", syn) == "abc 123"


def test_a_paraphrase_jieba_cuts_differently_still_matches_by_characters():
    index = TextIndex([("id", "身份证丢失补办"), ("other", "暖气不热")], Synonyms.of({"身份证": ["身分证"]}))
    hit = index.search("身分证掉了要补办", 1)[0]
    assert hit.key == "id" and hit.similarity >= 0.5


@pytest.mark.parametrize(
    "text, number",
    [
        ("有个男的拿着菜刀追着人跑", "110"),
        ("屋里一股燃气味，不知道哪漏的", "119"),
        ("我姥姥半边脸歪了说不出话", "120"),
        ("一辆电动车被拉货的三轮撞翻了", "122"),
    ],
)
def test_emergencies_are_caught_in_their_many_wordings(lists, text, number):
    hints = emergency_hints(text, lists)
    assert hints and hints[0].number == EmergencyService(number) and hints[0].strength == 1.0


@pytest.mark.parametrize("text", ["早上车打不着火了，修车师傅说是电瓶", "燃气费怎么又涨价了", "工厂烟囱冒黑烟污染空气"])
def test_look_alikes_are_not_emergencies(lists, text):
    assert not [h for h in emergency_hints(text, lists) if h.strength >= 1]


def test_a_danger_told_after_the_fact_is_only_a_weak_hint(lists):
    hints = emergency_hints("上个月小区着火了，物业到现在也没把楼道修好", lists)
    assert hints and hints[0].strength < 1


@pytest.mark.parametrize(
    "text, number",
    [
        ("我妈吃东西噎住了，脸都憋紫了", "120"),
        ("我爸刚才嘴巴歪了，说话也说不利索", "120"),
        ("老人从楼梯上摔下来，叫他也不吭声", "120"),
        ("有人在小区门口喊救命，好像有人在打她", "110"),
        ("我女儿在超市门口被一个陌生男的抱走了", "110"),
        ("楼道里冒出好多烟，还有一股焦糊味", "119"),
        ("电梯突然往下掉了一截，我们还在里面", "119"),
    ],
)
def test_colloquial_emergencies_are_caught(lists, text, number):
    hints = [h for h in emergency_hints(text, lists) if h.strength >= 1]
    assert hints and hints[0].number == EmergencyService(number)


@pytest.mark.parametrize(
    "text",
    [
        "楼下烧烤店天天冒烟，熏得我们没法开窗",  # a recurring nuisance: a complaint
        "下班路上被车撞了算不算工伤，怎么申请",  # about what followed, not the danger now
        "这个路口没有红绿灯，迟早要出事故",  # a risk, not an event
        "楼道堆满纸箱子，担心着火",
        "路边有个大坑，我的电动车掉进去了，车把摔坏了",
        "有人偷倒建筑垃圾在河边",
        "工地晚上还在打桩，吵死了",
    ],
)
def test_nuisances_risks_and_aftermaths_are_not_emergencies_now(lists, text):
    assert not [h for h in emergency_hints(text, lists) if h.strength >= 1]


def test_a_single_decisive_word_counts(lists):
    empty = TextIndex([])
    d = suggest("这件事我准备去信访", Kind.help, None, lists, empty, {})
    assert d.path == TriagePath.legal_channel and d.legal_channel.id == "petition"


@pytest.mark.parametrize(
    "text, category",
    [
        ("不好意思，打错了", "harassment_no_request"),
        ("我在济南租的房子押金不退，你们管吗", "outside_jurisdiction"),
        ("帮我推荐个靠谱的装修公司", "commercial_inquiries"),
    ],
)
def test_decisive_words_and_patterns_settle_out_of_scope(lists, text, category):
    d = suggest(text, Kind.help, None, lists, TextIndex([]), {})
    assert d.path == TriagePath.out_of_scope and d.out_of_scope.id == category


def test_a_qingdao_road_named_after_another_city_is_not_another_city(lists):
    d = suggest("济南路上的路灯坏了一排", Kind.complaint, None, lists, TextIndex([]), {})
    assert d.path == TriagePath.dispatch


def test_already_in_court_asking_to_intervene_is_out_of_scope_not_the_court(lists):
    empty = TextIndex([])
    d = suggest("官司已经立案了，你们给法官打个招呼", Kind.help, None, lists, empty, {})
    assert d.path == TriagePath.out_of_scope and d.out_of_scope.id == "proceedings_intervention"


def test_the_address_names_the_street_through_an_alias_a_road_or_says_it_is_ambiguous(directory):
    places = load_places("qingdao")
    r = read_address("青岛市市北区台东三路18号2单元", directory, places)
    assert (r.district, r.street, r.ambiguous) == ("qd.shibei", "qd.shibei.taidong", False)
    r = read_address("李沧区书院路", directory, places)
    assert r.ambiguous and r.street is None and r.district == "qd.licang"
    assert {c.id for c in r.candidates} == {"qd.licang.licun", "qd.licang.hushanlu"}
    r = read_address("市南区云南路街道办事处附近", directory, places)
    assert r.street == "qd.shinan.yunnanlu"
    assert read_address("", directory, places).street is None


def _small() -> list[Sample]:
    rows = []
    for t in ["楼下烧烤油烟太大", "饭店油烟熏人", "餐馆排烟对着窗户", "炸串的油烟呛人"]:
        rows.append(Sample(text=t, source="corpus", path="dispatch", category="urban.cooking_fumes"))
    for t in ["工地半夜施工太吵", "广场舞音响太响", "KTV唱到凌晨吵死了", "楼上空调外机噪音大"]:
        rows.append(Sample(text=t, source="corpus", path="dispatch", category="environment.noise"))
    for t in ["有人拿刀砍人", "两个人打起来了见血了", "小偷在撬门"]:
        rows.append(Sample(text=t, source="corpus", path="emergency_transfer", emergency="110"))
    for t in ["身份证丢了怎么补办", "补办身份证去哪"]:
        rows.append(Sample(text=t, source="knowledge", path="direct_answer", article="id_card_replacement"))
    # The center's history: tickets of cooking fumes in 台东 were finally led by the urban department.
    for n in range(4):
        rows.append(Sample(
            text=f"台东的饭店油烟问题{n}", source="history", path="dispatch", category="urban.cooking_fumes",
            street="qd.shibei.taidong", district="qd.shibei", lead_unit="qd.dept.urban", listed_lead="qd.shibei.taidong",
        ))  # fmt: skip
    return rows


def test_the_model_learns_paths_categories_articles_and_lead_corrections_from_small_data():
    model = train(_small())
    p = model.predict("楼下饭馆的油烟太呛了")
    assert p.categories[0][0] == "urban.cooking_fumes" and p.paths[0][0] == "dispatch"
    assert model.predict("有人拿着刀追人").emergency()[0] == "110"
    assert model.predict("身份证补办").articles[0][0] == "id_card_replacement"
    corr = model.lead_correction("urban.cooking_fumes", "qd.shibei.taidong", "qd.shibei")
    assert corr is not None and corr.unit == "qd.dept.urban" and corr.tickets == 4
    assert model.lead_correction("environment.noise", "qd.shibei.taidong", "qd.shibei") is None
    assert model.samples["history"] == 4 and model.fingerprint


def test_the_same_data_trains_the_same_fingerprint_and_new_data_another():
    a, b = train(_small()), train(_small())
    assert a.fingerprint == b.fingerprint
    c = train([*_small(), Sample(text="噪音又来了", source="history", path="dispatch", category="environment.noise")])
    assert c.fingerprint != a.fingerprint


def test_suggest_with_a_model_reads_the_emergency_and_the_path(lists):
    model = train(_small())
    d = suggest("有人拿着菜刀追着人跑", Kind.help, None, lists, TextIndex([]), {}, model=model)
    assert d.path == TriagePath.emergency_transfer and d.emergency.number == EmergencyService.police


def test_a_weak_desk_closure_yields_to_the_operators_category():
    from domain.intake.triage import TriageDecision, filed_in_scope

    weak = TriageDecision(path=TriagePath.out_of_scope, reason="out of scope: 内部事务", confidence=0.34)
    sure = weak.model_copy(update={"confidence": 1.0})
    d = filed_in_scope(weak, "transport.taxi")
    assert d.path == TriagePath.dispatch and d.reason.startswith("in scope: filed under transport.taxi")
    assert filed_in_scope(sure, "transport.taxi") == sure  # a decisive word still closes it at the desk
    assert filed_in_scope(weak, None) == weak  # the category was the suggestion's, not the operator's
