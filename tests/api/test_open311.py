"""Open311 GeoReport v2, as a civic reporting app sees it: read through `georeport` (a GeoReport v2
client from PyPI, JSON and XML), posted as the spec's form (`georeport` reads only; the PyPI
clients that also post, `open311` and `three`, are Python 2 code that does not import on 3.11),
over real HTTP against the real dev server and a worker."""

import asyncio
import random
from datetime import datetime, timedelta

import httpx
import pytest
import pytest_asyncio
import requests
from georeport import GeoReport

from api import intake
from api.main import create_app
from tests.api.conftest import serve
from tests.conftest import task_queue
from tests.eventually import assert_eventually
from tests.simulated import free_port
from tests.simulated import serve as serve_app
from worker import build_worker

KEY = "fms-qingdao-test-key"


@pytest_asyncio.fixture
async def o311(dev_env, settings, api_database):
    s = settings.model_copy(update={"database_url": api_database, "open311_keys": {KEY: "FixMyStreet Qingdao"}})
    async with serve(dev_env, s) as running:
        yield running


def client(api, fmt="json") -> GeoReport:
    return GeoReport(f"{str(api.http.base_url).rstrip('/')}/open311/v2", output_format=fmt)


def post(api, **form) -> requests.Response:
    """The spec's POST: application/x-www-form-urlencoded, as FixMyStreet sends it."""
    return requests.post(
        f"{str(api.http.base_url).rstrip('/')}/open311/v2/requests.{form.pop('fmt', 'json')}", data=form, timeout=30
    )


def report(**extra) -> dict:
    n = random.randrange(10**6)
    return {
        "api_key": KEY, "service_code": "urban.road_damage", "lat": f"36.0{n:06d}", "long": "120.3015",
        "description": f"团岛二路{n}号门前路面塌陷一个大坑，电动车差点摔倒", "first_name": "女士", "last_name": "王",
        "phone": f"139{random.randrange(10**8):08d}", "media_url": f"https://fms.example/photo/{n}.jpg", **extra,
    }  # fmt: skip


async def test_services_and_definitions_come_from_the_responsibility_list(o311):
    gr, gx = client(o311), client(o311, "xml")
    listed = await asyncio.to_thread(gr.get_service_list)
    road = next(s for s in listed if s["service_code"] == "urban.road_damage")
    assert (road["service_name"], road["group"], road["metadata"]) == ("道路破损", "青岛市城市管理局", True)
    as_xml = await asyncio.to_thread(gx.get_service_list)
    assert [s["service_code"] for s in as_xml] == [s["service_code"] for s in listed]

    definition = await asyncio.to_thread(gr.get_service_definition, "urban.road_damage")
    attrs = {a["code"]: a for a in definition["attributes"]}
    assert set(attrs) == {"street", "district", "kind"}
    assert {"key": "qd.shinan.badaxia", "name": "市南区 八大峡街道"} in attrs["street"]["values"]
    xml_def = await asyncio.to_thread(gx.get_service_definition, "urban.road_damage")
    assert xml_def["service_code"] == "urban.road_damage" and len(xml_def["attributes"]["attribute"]) == 3

    r = await o311.http.get("/open311/v2/services/no.such.thing.xml")
    assert r.status_code == 404 and "<errors><error><code>404</code><description>no service" in r.text


async def test_a_report_becomes_a_ticket_and_reads_back_with_its_deadline(o311):
    form = report(**{"attribute[street]": "qd.shinan.badaxia"})
    r = await asyncio.to_thread(post, o311, **form)
    assert r.status_code == 201, r.text
    number = r.json()[0]["service_request_id"]
    gr = client(o311)

    async def dispatched():
        try:
            found = await asyncio.to_thread(gr.get_service_request, number)
        except requests.HTTPError as e:
            raise AssertionError(f"not yet readable: {e}") from e
        assert found["expected_datetime"], "no deadline yet"
        return found

    found = await assert_eventually(dispatched)
    assert (found["status"], found["service_code"], found["agency_responsible"]) == (
        "open",
        "urban.road_damage",
        "八大峡街道",
    )
    assert found["description"] == form["description"] and found["media_url"] == form["media_url"]
    assert (found["lat"], found["long"]) == (float(form["lat"]), 120.3015)
    assert datetime.fromisoformat(found["expected_datetime"]) > datetime.fromisoformat(found["requested_datetime"])
    assert "八大峡街道" in found["status_notes"]

    # The ticket is one like any other: the desk sees it on the open311 channel, by the client's name.
    state = (
        await o311.http.get(f"/tickets/{number}", headers=o311.auth("center"))
    ).json()  # the center sees the citizen in clear
    assert state["request"]["channel"] == "open311" and state["lead_unit"] == "qd.shinan.badaxia"
    assert state["request"]["citizen"] == {"name": "王女士", "phone": form["phone"], "callback_opt_out": False}
    assert form["phone"] not in str(found) and "王" not in str(found)  # the public feed never names the citizen

    # The spec's filters, in both formats.
    open_ = await asyncio.to_thread(gr.get_service_requests, service_code="urban.road_damage", status="open")
    assert number in [x["service_request_id"] for x in open_]
    closed = await asyncio.to_thread(gr.get_service_requests, status="closed")
    assert number not in [x["service_request_id"] for x in closed]
    since = (datetime.now().astimezone() - timedelta(hours=1)).isoformat(timespec="seconds")
    ranged = await asyncio.to_thread(gr.get_service_requests, start_date=since, service_code="urban.street_vendor")
    assert number not in [x["service_request_id"] for x in ranged]
    by_id = await asyncio.to_thread(client(o311, "xml").get_service_request, number)
    assert (by_id["service_request_id"], by_id["status"], by_id["agency_responsible"]) == (number, "open", "八大峡街道")

    # The same report retried (its answer lost) is the same ticket.
    again = await asyncio.to_thread(post, o311, **form)
    assert again.json()[0]["service_request_id"] == number


async def test_the_street_is_found_in_the_address_or_the_report_is_refused_in_the_specs_format(o311):
    r = await asyncio.to_thread(post, o311, **report(address_string="市南区八大峡街道团岛二路门前"))
    assert r.status_code == 201, r.text

    r = await asyncio.to_thread(post, o311, **report(fmt="xml"))  # lat/long only: no street office named
    assert r.status_code == 400
    assert r.text.startswith("<?xml") and "<errors><error><code>400</code>" in r.text
    assert "street office" in r.text and "attribute[street]" in r.text

    r = await asyncio.to_thread(post, o311, **report(api_key="guessed"))
    assert r.status_code == 403 and r.json() == [{"code": 403, "description": "api_key is not valid"}]
    r = await asyncio.to_thread(post, o311, **report(service_code="urban.nothing", address_string="八大峡街道"))
    assert r.status_code == 400 and "not a service" in r.json()[0]["description"]
    r = await asyncio.to_thread(
        post, o311, **report(**{"attribute[street]": "qd.shinan.badaxia", "attribute[district]": "qd.shibei"})
    )
    assert r.status_code == 400 and "not a street office in 市北区" in r.json()[0]["description"]


async def test_a_report_taken_while_temporal_is_away_answers_a_token_that_later_names_the_ticket(
    dev_env, settings, api_database
):
    away = settings.model_copy(update={
        "database_url": api_database, "open311_keys": {KEY: "FixMyStreet Qingdao"},
        "temporal_address": f"127.0.0.1:{free_port()}", "task_queue": task_queue(),
    })  # fmt: skip
    async with serve_app(create_app(away)) as url, httpx.AsyncClient(base_url=url) as http:
        form = report(**{"attribute[street]": "八大峡街道"})
        r = await http.post("/open311/v2/requests.json", data=form)
        assert r.status_code == 202, r.text
        token = r.json()[0]["token"]
        r = await http.get(f"/open311/v2/tokens/{token}.json")
        assert r.json() == [{"service_request_id": None, "token": token}]

        # Temporal is back: the reconciler starts the ticket, and the token names it.
        async with build_worker(dev_env.client, away, away.task_queue):
            assert await intake.reconcile(dev_env.client, away, older_than=timedelta(0)) >= 1
            r = await http.get(f"/open311/v2/tokens/{token}.xml")
            assert "<service_request_id>" in r.text and "<token>" in r.text
            number = r.text.split("<service_request_id>")[1].split("<")[0]
            assert len(number) == 14


@pytest.mark.parametrize(
    "query", ["status=pending", "start_date=yesterday", "start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z"]
)
async def test_bad_filters_are_refused_with_a_reason(o311, query):
    r = await o311.http.get(f"/open311/v2/requests.json?{query}")
    assert r.status_code == 400 and r.json()[0]["code"] == 400 and r.json()[0]["description"]
