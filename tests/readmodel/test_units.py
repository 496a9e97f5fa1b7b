"""The unit table: seeded from the city's file, idempotently; what deliveries read."""

from catalog.cities import load_directory
from readmodel import db, units
from readmodel.units import rebase, seed


def unit(settings, unit_id: str):
    with db.session(settings.database_url) as session:
        return units.get(session, unit_id)


def test_seed_loads_every_unit_with_how_to_reach_it_and_what_it_supervises(settings):
    directory = load_directory("qingdao")
    first = seed(settings.database_url, directory)
    assert first.added == len(directory.units) and first.updated == first.deactivated == 0
    urban = unit(settings, "qd.dept.urban")
    assert urban.endpoint == "http://127.0.0.1:8100/units/qd.dept.urban" and urban.credential_ref == "dept-urban"
    assert "urban.street_vendor" in urban.supervises and urban.kind == "sector" and urban.tier == "city"
    street = unit(settings, "qd.shinan.badaxia")
    assert (street.endpoint, street.parent, street.supervises) == (None, "qd.shinan", [])

    again = seed(settings.database_url, directory)
    assert (again.added, again.updated, again.unchanged) == (0, 0, len(directory.units))


def test_seed_can_point_endpoints_elsewhere_and_keeps_units_the_file_dropped(settings):
    directory = load_directory("qingdao")
    seed(settings.database_url, directory)
    moved = seed(settings.database_url, directory, origin="https://gw.example.gov.cn:9443")
    assert moved.updated == sum(1 for u in directory.units.values() if u.endpoint)
    assert unit(settings, "qd.util.water").endpoint == "https://gw.example.gov.cn:9443/units/qd.util.water"

    smaller = directory.model_copy(update={"units": {k: v for k, v in directory.units.items() if k != "qd.util.gas"}})
    result = seed(settings.database_url, smaller)
    assert result.deactivated == 1
    gas = unit(settings, "qd.util.gas")
    assert gas is not None and gas.active is False  # open tickets may still name it


def test_rebase_keeps_the_path():
    assert rebase("http://127.0.0.1:8100/units/x", "127.0.0.1:9100") == "http://127.0.0.1:9100/units/x"
    assert rebase("http://a/units/x", None) == "http://a/units/x"
    assert rebase(None, "http://b") is None
