"""The city's units and responsibility list as data (domain/directory.py): what a directory must
hold together, finding a unit as people name it, and the escalation chain (三环)."""

import pytest
from pydantic import ValidationError

from domain.directory import Category, Directory, Unit

UNITS = [
    dict(id="c", name="市民诉求中心", tier="city", kind="center"),
    dict(id="d", name="市南区", tier="district", kind="locality", parent="c", aliases=["南区"]),
    dict(id="d2", name="市北区", tier="district", kind="locality", parent="c"),
    dict(id="s", name="八大峡街道", tier="street", kind="locality", parent="d"),
    dict(id="s2", name="台东街道", tier="street", kind="locality", parent="d2"),
    dict(id="urban", name="城管局", tier="city", kind="sector"),
    dict(id="water", name="水务集团", tier="city", kind="utility"),
]
CATEGORIES = [dict(id="urban.street_vendor", name="占道经营", supervisor="urban"),
              dict(id="water.supply", name="供水", supervisor="urban", lead="water")]  # fmt: skip


def directory(units=UNITS, categories=CATEGORIES) -> Directory:
    return Directory(
        city="town",
        units={u["id"]: Unit(**u) for u in units},
        categories={c["id"]: Category(**c) for c in categories},
    )


def test_a_street_escalates_through_its_district_to_the_city_a_department_straight_to_the_center():
    town = directory()
    assert town.escalation_chain("s") == ["s", "d", "c"]
    assert town.escalation_chain("water") == ["water", "c"]
    assert town.escalation_chain("c") == ["c"]
    assert town.center().id == "c"


def test_a_unit_is_found_by_id_name_or_alias_within_a_tier_or_a_parent():
    town = directory()
    assert town.find("d").id == town.find("市南区").id == town.find(" 南区 ").id == "d"
    assert town.find("市南区", tier="street") is None
    assert town.find("八大峡街道", parent="d").id == "s"
    assert town.find("八大峡街道", parent="d2") is None
    assert town.find("朝阳区") is None


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda u, c: u[3].update(parent="nowhere"), "unit s: parent 'nowhere' is not a unit"),
        (lambda u, c: u[1].update(parent="s2"), "unit d: parent s2 is not on a higher tier"),
        (lambda u, c: u[2].update(aliases=["南区"]), "name '南区' is used by both d and d2"),
        (lambda u, c: c[0].update(supervisor="nobody"), "supervisor 'nobody' is not a unit"),
        (lambda u, c: c[0].update(supervisor="water"), "supervisor water is not a sector department"),
        (lambda u, c: c[1].update(lead="ghost"), "lead 'ghost' is not a unit"),
        (lambda u, c: u[0].update(kind="sector"), "no city-tier center unit"),
    ],
)
def test_a_directory_that_does_not_hold_together_is_refused_with_the_reason(change, problem):
    units, categories = [dict(u) for u in UNITS], [dict(c) for c in CATEGORIES]
    change(units, categories)
    with pytest.raises(ValidationError) as err:
        directory(units, categories)
    assert problem in str(err.value)


def test_a_misspelt_field_or_an_odd_id_in_the_data_is_an_error():
    with pytest.raises(ValidationError, match="alias"):
        Unit(id="s", name="街道", tier="street", kind="locality", alias=["x"])
    with pytest.raises(ValidationError, match="id"):
        Unit(id="Qd Center", name="中心", tier="city", kind="center")
    with pytest.raises(ValidationError, match="id"):
        Category(id="Urban-Vendor", name="占道", supervisor="urban")
