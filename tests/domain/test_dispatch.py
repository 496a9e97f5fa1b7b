import pytest

from catalog.cities import load_directory
from domain.directory import Directory
from domain.dispatch import resolve_address, route, unit_info
from domain.errors import Refusal, RefusalKind
from domain.ownership.ruling import ResponsibilityRule
from domain.ticket import Address


@pytest.fixture(scope="module")
def qingdao() -> Directory:
    return load_directory("qingdao")


def test_street_of_the_address_leads_and_the_sector_supervisor_gets_the_copy(qingdao):
    r = route("urban.street_vendor", Address(district="市南区", street="八大峡街道"), qingdao)
    assert r.lead_unit == "qd.shinan.badaxia"
    assert r.supervisor_unit == "qd.dept.urban"
    assert r.escalation_chain == ["qd.shinan.badaxia", "qd.shinan", "qd.center"]
    assert [t.value for t in r.escalation_tiers] == ["street", "district", "city"]


def test_the_responsibility_list_can_name_a_utility_instead(qingdao):
    r = route("water.supply", Address(district="qd.licang", street="qd.licang.zhenhualu"), qingdao)
    assert r.lead_unit == "qd.util.water"
    assert r.supervisor_unit == "qd.dept.water"
    assert r.escalation_chain == ["qd.util.water", "qd.center"]


def test_old_names_and_aliases_resolve(qingdao):
    street = next(u for u in qingdao.units.values() if u.parent == "qd.xihaian")
    r = route("urban.sanitation", Address(district="黄岛区", street=street.name), qingdao)
    assert r.district_unit == "qd.xihaian"


@pytest.mark.parametrize(
    ("category", "district", "street", "reason"),
    [
        ("no.such", "市南区", "八大峡街道", "unknown category"),
        ("urban.street_vendor", "市北区", "八大峡街道", "not in 市北区"),
        ("urban.street_vendor", "朝阳区", "八大峡街道", "unknown district"),
        ("urban.street_vendor", "市南区", "中关村街道", "unknown street"),
    ],
)
def test_impossible_addresses_are_refused_with_the_reason(qingdao, category, district, street, reason):
    with pytest.raises(Refusal) as r:
        route(category, Address(district=district, street=street), qingdao)
    assert reason in r.value.reason


def test_directory_refuses_duplicates_and_dangling_references(tmp_path, monkeypatch):
    from catalog import cities as directory

    city = tmp_path / "town"
    city.mkdir()
    (city / "units.toml").write_text(
        '[[unit]]\nid = "c"\nname = "中心"\ntier = "city"\nkind = "center"\n'
        '[[unit]]\nid = "d"\nname = "区"\ntier = "district"\nkind = "locality"\nparent = "c"\n'
        '[[unit]]\nid = "d"\nname = "区2"\ntier = "district"\nkind = "locality"\nparent = "c"\n'
    )
    (city / "responsibilities.toml").write_text("")
    monkeypatch.setattr(directory, "CITIES_DIR", tmp_path)
    directory.load_directory.cache_clear()
    with pytest.raises(ValueError, match="appears twice"):
        directory.load_directory("town")
    (city / "units.toml").write_text(
        '[[unit]]\nid = "c"\nname = "中心"\ntier = "city"\nkind = "center"\n'
        '[[unit]]\nid = "s"\nname = "街道"\ntier = "street"\nkind = "locality"\nparent = "nowhere"\nalias = ["x"]\n'
    )
    directory.load_directory.cache_clear()
    with pytest.raises(ValueError) as err:
        directory.load_directory("town")
    assert "alias" in str(err.value)  # a misspelt field is an error, not silently dropped
    directory.load_directory.cache_clear()


def test_a_candidate_for_an_approved_return_is_everyone_else_the_list_names(qingdao):
    r = route("urban.street_vendor", Address(district="市南区", street="八大峡街道"), qingdao)
    assert r.candidates == ["qd.dept.urban", "qd.shinan"]  # the sector, then the district
    assert r.unit_names["qd.dept.urban"] == qingdao.units["qd.dept.urban"].name
    assert "first-responsible" in r.reason and r.cooperating == []


def _rule(area: str, lead: str, cooperating=(), category="urban.street_vendor") -> ResponsibilityRule:
    return ResponsibilityRule(category=category, area=area, lead=lead, cooperating=list(cooperating),
                              ticket="20261102000001", ruled_by="leader:分管副主任", reason="按行业职责确定")  # fmt: skip


def test_a_saved_ruling_for_the_street_wins_and_brings_its_cooperating_units(qingdao):
    rules = [
        _rule("qd.shinan", "qd.shinan"),
        _rule("qd.shinan.badaxia", "qd.dept.urban", ["qd.shinan.badaxia", "qd.nowhere"]),
    ]
    r = route("urban.street_vendor", Address(district="市南区", street="八大峡街道"), qingdao, rules)
    assert r.lead_unit == "qd.dept.urban" and r.escalation_chain == ["qd.dept.urban", "qd.center"]
    assert r.cooperating == ["qd.shinan.badaxia"]  # units no longer in the directory are dropped
    assert r.reason.startswith("saved ruling (ticket 20261102000001)")
    assert r.supervisor_unit == "qd.dept.urban" and r.street_unit == "qd.shinan.badaxia"


def test_a_saved_ruling_for_the_district_applies_to_its_other_streets(qingdao):
    street = next(u for u in qingdao.units.values() if u.parent == "qd.shinan" and u.id != "qd.shinan.badaxia")
    rules = [_rule("qd.shinan", "qd.dept.urban"), _rule("qd.shinan.badaxia", "qd.shinan")]
    r = route("urban.street_vendor", Address(district="市南区", street=street.name), qingdao, rules)
    assert r.lead_unit == "qd.dept.urban"


def test_a_saved_ruling_for_another_category_or_an_unknown_lead_is_ignored(qingdao):
    rules = [_rule("qd.shinan.badaxia", "qd.dept.urban", category="water.supply"),
             _rule("qd.shinan.badaxia", "qd.gone")]  # fmt: skip
    r = route("urban.street_vendor", Address(district="市南区", street="八大峡街道"), qingdao, rules)
    assert r.lead_unit == "qd.shinan.badaxia"


def test_a_unit_to_hand_a_ticket_to_comes_with_its_chain_and_an_unknown_one_is_refused(qingdao):
    info = unit_info("qd.shinan.badaxia", qingdao)
    assert info.escalation_chain == ["qd.shinan.badaxia", "qd.shinan", "qd.center"]
    assert [t.value for t in info.escalation_tiers] == ["street", "district", "city"]
    assert set(info.unit_names) == set(info.escalation_chain)
    with pytest.raises(Refusal) as r:
        unit_info("qd.nowhere", qingdao)
    assert r.value.kind == RefusalKind.invalid and "unknown unit 'qd.nowhere'" in r.value.reason


def test_an_address_is_resolved_to_unit_ids(qingdao):
    a = resolve_address(Address(district="市南区", street="八大峡街道", text="团岛二路12号"), qingdao)
    assert (a.district, a.street, a.text) == ("qd.shinan", "qd.shinan.badaxia", "团岛二路12号")
