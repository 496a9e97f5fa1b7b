import pytest

from domain.directory import Directory
from catalog.cities import load_directory
from domain.errors import Refusal
from domain.dispatch import route
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
