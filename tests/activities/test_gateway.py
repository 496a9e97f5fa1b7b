"""The delivery, notification and callback activities against httpx.MockTransport: what each
answer of the other side means for Temporal (retry or not), what the read model records, what
goes over the wire, and what never reaches a log."""

import dataclasses
import itertools
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import structlog
from pydantic import SecretStr
from sqlmodel import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.callback import CallbackActivities
from activities.delivery import LOCAL_ATTEMPT_TIMEOUT, LOCAL_PAUSE, LOCAL_SLOW, UNIT_FRESH, DeliveryActivities
from activities.gateway import Http
from activities.notify import NotifyActivities
from catalog.cities import load_directory
from domain.contracts import CallbackRequest, CitizenNotice, Delivery, DeliveryKind, WorkOrder
from domain.vocabulary import Kind, Urgency
from readmodel import db
from readmodel.tables import DeliveryRow, UnitRow
from readmodel.units import seed

PHONE = "13800138000"
DEPT = "qd.dept.urban"
STREET = "qd.shinan.badaxia"


class Recorder:
    """A MockTransport handler: records requests, answers with the next prepared response."""

    def __init__(self, *answers: httpx.Response | Exception):
        self.answers = list(answers) or [httpx.Response(200, json={"reference": "D-1"})]
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


def delivery(kind=DeliveryKind.work_order, unit=DEPT, sequence=1) -> Delivery:
    wo = WorkOrder(
        number="20261122000042", category="urban.street_vendor", kind=Kind.complaint, urgency=Urgency.normal,
        enterprise=False, description="烧烤摊占道经营", address="团岛二路12号", district="qd.shinan", street=STREET,
        citizen_name="王女士", citizen_phone=PHONE, lead_unit=STREET, supervisor_unit=DEPT,
        deadline=datetime(2026, 11, 29, 3, 0, tzinfo=UTC),
    )  # fmt: skip
    return Delivery(
        ticket="20261122000042", workflow_id="ticket-20261122000042", sequence=sequence, unit=unit, kind=kind,
        message="催办：请尽快办理", work_order=wo,
    )  # fmt: skip


@pytest.fixture
def settings(settings):
    seed(settings.database_url, load_directory(settings.city), origin="http://dept.test")
    return settings


def run(activities_cls, settings, recorder: Recorder):
    acts = activities_cls(settings, Http(settings.department_timeout, httpx.MockTransport(recorder)))
    return acts


def row(settings, key="20261122000042-1") -> DeliveryRow:
    with db.session(settings.database_url) as session:
        return session.exec(select(DeliveryRow).where(DeliveryRow.idempotency_key == key)).one()


async def deliver(settings, recorder: Recorder, d: Delivery | None = None):
    acts = run(DeliveryActivities, settings, recorder)
    return await ActivityEnvironment().run(acts.deliver, d or delivery())


async def test_a_2xx_is_delivered_with_the_key_the_credential_and_the_work_order(settings):
    rec = Recorder(httpx.Response(201, json={"reference": "URB-77", "duplicate": False}))
    receipt = await deliver(settings, rec)
    assert (receipt.delivered, receipt.channel, receipt.detail) == (True, "department_api", "URB-77")
    [req] = rec.requests
    assert str(req.url) == f"http://dept.test/units/{DEPT}/work-orders"
    assert req.headers["Idempotency-Key"] == "20261122000042-1"
    assert req.headers["Authorization"] == f"Bearer {settings.department_credential('dept-urban')}"
    assert PHONE in req.content.decode()  # the handling unit must reach the citizen
    r = row(settings)
    assert (r.status, r.channel, r.attempts, r.reference, r.last_error) == (
        "delivered",
        "department_api",
        1,
        "URB-77",
        None,
    )
    assert r.delivered_at is not None


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_unavailable_answers_are_retried_by_temporal(settings, status):
    with pytest.raises(ApplicationError) as raised:
        await deliver(settings, Recorder(httpx.Response(status, json={"detail": "busy"})))
    assert raised.value.type == "DeliveryUnavailable" and not raised.value.non_retryable
    r = row(settings)
    assert r.status == "retrying" and r.last_error == f"HTTP {status}: busy"


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
async def test_other_4xx_answers_are_refusals_and_not_retried(settings, status):
    with pytest.raises(ApplicationError) as raised:
        await deliver(settings, Recorder(httpx.Response(status, json={"detail": f"拒收，联系电话{PHONE}"})))
    assert raised.value.type == "DeliveryRejected" and raised.value.non_retryable
    assert PHONE not in raised.value.message  # an echoed phone number is masked before it is kept
    r = row(settings)
    assert r.status == "failed" and r.last_error.startswith(f"HTTP {status}: 拒收") and PHONE not in r.last_error


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("gone")]
)
async def test_no_answer_at_all_is_retried(settings, error):
    with pytest.raises(ApplicationError) as raised:
        await deliver(settings, Recorder(error))
    assert raised.value.type == "DeliveryUnavailable" and not raised.value.non_retryable
    assert row(settings).status == "retrying"


async def test_retry_after_is_honoured_up_to_the_maximum_interval(settings):
    with pytest.raises(ApplicationError) as soon:
        await deliver(settings, Recorder(httpx.Response(429, headers={"Retry-After": "30"})))
    assert soon.value.next_retry_delay == timedelta(seconds=30)
    with pytest.raises(ApplicationError) as late:
        await deliver(settings, Recorder(httpx.Response(503, headers={"Retry-After": "86400"})))
    assert late.value.next_retry_delay == timedelta(minutes=10)


async def test_every_attempt_carries_the_same_key_and_is_one_row(settings):
    rec = Recorder(httpx.Response(503), httpx.Response(200, json={"reference": "R", "duplicate": True}))
    with pytest.raises(ApplicationError):
        await deliver(settings, rec)
    await deliver(settings, rec)
    assert [r.headers["Idempotency-Key"] for r in rec.requests] == ["20261122000042-1"] * 2
    r = row(settings)
    assert (r.status, r.attempts, r.last_error) == ("delivered", 2, "HTTP 503: Service Unavailable")
    assert "duplicate" in r.detail


@pytest.mark.parametrize(
    "kind, route",
    [
        (DeliveryKind.rehandle, "work-orders"),
        (DeliveryKind.copy, "notices"),
        (DeliveryKind.reminder, "notices"),
        (DeliveryKind.escalation, "notices"),
        (DeliveryKind.whistle, "notices"),
        (DeliveryKind.urge, "urges"),
        (DeliveryKind.cancellation, "cancellations"),
    ],
)
async def test_each_kind_goes_to_its_route(settings, kind, route):
    rec = Recorder()
    await deliver(settings, rec, delivery(kind))
    [req] = rec.requests
    assert req.url.path == f"/units/{DEPT}/{route}"
    # Only units that take part in the handling get the citizen's contact.
    assert (PHONE in req.content.decode()) == (
        kind in (DeliveryKind.rehandle, DeliveryKind.escalation, DeliveryKind.whistle)
    )


async def test_a_unit_without_endpoint_finds_it_in_its_inbox_and_on_its_duty_phone(settings):
    rec = Recorder()
    receipt = await deliver(settings, rec, delivery(unit=STREET))
    assert (receipt.channel, rec.requests) == ("queue", [])
    assert row(settings).status == "delivered"

    with db.session(settings.database_url) as session:
        unit = session.get(UnitRow, STREET)
        unit.notify_phone = "0532-88886666"
        session.add(unit)
        session.commit()
    s = settings.model_copy(update={"sms_endpoint": "http://sms.test/send", "sms_api_key": SecretStr("k")})
    rec = Recorder(httpx.Response(200, json={"id": "SMS-1"}))
    with structlog.testing.capture_logs() as logs:
        receipt = await deliver(s, rec, delivery(unit=STREET, sequence=2))
    assert receipt.channel == "sms"
    [req] = rec.requests
    sent = req.read().decode()
    assert str(req.url) == "http://sms.test/send" and req.headers["Authorization"] == "Bearer k"
    assert "0532-88886666" in sent and "【派单】工单20261122000042（占道经营）" in sent
    assert PHONE not in sent and "王女士" not in sent  # no citizen data in a unit's SMS
    assert "0532-88886666" not in str(logs) and logs  # logged, without the number
    r = row(settings, "20261122000042-2")
    assert (r.channel, r.status, r.reference) == ("sms", "delivered", "SMS-1")
    assert "办理期限2026-11-29 11:00。" in json.loads(sent)["text"]  # China time, to the minute

    # A deadline in a year without an official holiday schedule says it is an estimate.
    d = delivery(unit=STREET, sequence=3)
    d.work_order.deadline_estimated = True
    rec = Recorder(httpx.Response(200, json={"id": "SMS-2"}))
    await deliver(s, rec, d)
    text = json.loads(rec.requests[0].read().decode())["text"]
    assert "办理期限2026-11-29 11:00（预计，以国务院公布的节假日安排为准）" in text


async def test_an_unseeded_unit_falls_back_to_its_inbox_and_an_inactive_one_is_refused(settings):
    receipt = await deliver(settings, Recorder(), delivery(unit="qd.not.seeded"))
    assert receipt.channel == "queue"
    with db.session(settings.database_url) as session:
        unit = session.get(UnitRow, DEPT)
        unit.active = False
        session.add(unit)
        session.commit()
    with pytest.raises(ApplicationError) as raised:
        await deliver(settings, Recorder(), delivery(sequence=2))
    assert raised.value.non_retryable and "no longer active" in raised.value.message


async def test_a_deactivated_unit_is_refused_once_its_cached_row_is_stale(settings):
    """Deliveries read a unit's row at most every 30 s (a deadline storm sends thousands a minute
    to a few dozen units): a deactivation takes effect within that time, not at once."""
    acts = run(DeliveryActivities, settings, Recorder(httpx.Response(201, json={"reference": "U-1"})))
    env = ActivityEnvironment()
    assert (await env.run(acts.deliver, delivery(sequence=1))).channel == "department_api"
    with db.session(settings.database_url) as session:
        unit = session.get(UnitRow, DEPT)
        unit.active = False
        session.add(unit)
        session.commit()
    assert (await env.run(acts.deliver, delivery(sequence=2))).delivered  # the row read 0 s ago
    later = acts.clock() + UNIT_FRESH + 1
    acts.clock = lambda: later
    with pytest.raises(ApplicationError) as raised:
        await env.run(acts.deliver, delivery(sequence=3))
    assert "no longer active" in raised.value.message


def local_attempt() -> ActivityEnvironment:
    """The environment of a delivery's first attempt, a local activity in the ticket's workflow task."""
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, is_local=True)
    return env


async def test_a_local_first_attempt_waits_briefly_and_leaves_a_failing_system_to_the_durable_retries(settings):
    """The first attempt runs inside the ticket's workflow task, so it waits a short time for an
    answer, and a system that just failed or was slow is not tried again locally for a while: those deliveries
    go to the durable activity at once, which waits as long as the settings say."""
    rec = Recorder(httpx.ReadTimeout("slow"), httpx.Response(201, json={"reference": "U-1"}))
    acts = run(DeliveryActivities, settings.model_copy(update={"department_timeout": 10.0}), rec)
    with pytest.raises(ApplicationError) as slow:
        await local_attempt().run(acts.deliver, delivery(sequence=1))
    assert slow.value.type == "DeliveryUnavailable" and not slow.value.non_retryable
    assert f"no answer within {LOCAL_ATTEMPT_TIMEOUT:g} s" in slow.value.message
    assert rec.requests[0].extensions["timeout"]["read"] == LOCAL_ATTEMPT_TIMEOUT
    assert row(settings, "20261122000042-1").status == "retrying"  # the attempt was made: it counts

    # The same system moments later: no request, a retryable failure for the durable activity.
    with pytest.raises(ApplicationError) as paused:
        await local_attempt().run(acts.deliver, delivery(sequence=2))
    assert paused.value.type == "DeliveryUnavailable" and not paused.value.non_retryable
    assert len(rec.requests) == 1
    # The durable activity tries it, with the settings' wait, and succeeds.
    assert (await ActivityEnvironment().run(acts.deliver, delivery(sequence=2))).delivered
    assert rec.requests[1].extensions["timeout"]["read"] == 10.0
    # Once it answered, local first attempts go to it again.
    assert (await local_attempt().run(acts.deliver, delivery(sequence=3))).delivered
    assert len(rec.requests) == 3

    # After a failure, the pause ends by itself.
    rec.answers = [httpx.Response(503), httpx.Response(201, json={"reference": "U-2"})]
    with pytest.raises(ApplicationError):
        await local_attempt().run(acts.deliver, delivery(sequence=4))
    later = acts.clock() + LOCAL_PAUSE + 1
    acts.clock = lambda: later
    assert (await local_attempt().run(acts.deliver, delivery(sequence=5))).delivered
    assert len(rec.requests) == 5

    # Two slow answers within the pause, like a failure, leave the system to the durable activity
    # for a while: the attempt holds a workflow-task slot of the worker as long as it waits. One
    # slow answer is not enough: it may be the worker's own pause (a garbage collection).
    acts.clock = itertools.count(later, LOCAL_SLOW + 0.1).__next__  # each reading comes that much later
    with structlog.testing.capture_logs() as logs:
        assert (await local_attempt().run(acts.deliver, delivery(sequence=6))).delivered
        assert (await local_attempt().run(acts.deliver, delivery(sequence=7))).delivered  # asked again
        with pytest.raises(ApplicationError) as slow_pause:
            await local_attempt().run(acts.deliver, delivery(sequence=8))
        assert (await ActivityEnvironment().run(acts.deliver, delivery(sequence=8))).delivered  # slow again
    assert "slow" in slow_pause.value.message and not slow_pause.value.non_retryable
    assert len(rec.requests) == 8
    # The operator hears of it once, as the system turns slow, not on every slow delivery.
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
        "slow answers: first attempts to this system left to the durable activity"
    ]


async def test_a_system_that_asked_to_wait_gets_no_local_attempt_before_its_retry_after(settings):
    """A 429 or 503 with Retry-After: the other deliveries to that system from this worker do not
    ask it again before then either; each first attempt says how much of the wait is left, and the
    workflow waits that out before the durable activity asks."""
    rec = Recorder(httpx.Response(429, headers={"Retry-After": "120"}), httpx.Response(201, json={"reference": "U"}))
    acts = run(DeliveryActivities, settings, rec)
    start = acts.clock()
    acts.clock = lambda: start
    with pytest.raises(ApplicationError) as busy:
        await local_attempt().run(acts.deliver, delivery(sequence=1))
    assert busy.value.next_retry_delay == timedelta(seconds=120)

    acts.clock = lambda: start + 45
    with pytest.raises(ApplicationError) as waiting:
        await local_attempt().run(acts.deliver, delivery(sequence=2))
    assert len(rec.requests) == 1  # not asked again
    assert waiting.value.type == "DeliveryUnavailable" and not waiting.value.non_retryable
    assert waiting.value.next_retry_delay == timedelta(seconds=75)  # what is left of the 120 s

    acts.clock = lambda: start + 121 + LOCAL_PAUSE  # the wait, and the failure's pause, are over
    assert (await local_attempt().run(acts.deliver, delivery(sequence=3))).delivered
    assert len(rec.requests) == 2


async def test_delivery_logs_never_carry_the_citizen(settings):
    with structlog.testing.capture_logs() as logs:
        await deliver(settings, Recorder())
        with pytest.raises(ApplicationError):
            await deliver(settings, Recorder(httpx.Response(500)), delivery(sequence=2))
    assert logs and PHONE not in str(logs) and "王女士" not in str(logs)
    assert {entry["ticket"] for entry in logs} == {"20261122000042"} and {entry["unit"] for entry in logs} == {DEPT}


# -- citizens: SMS notices and the callback channel ----------------------------------------------


def notice(template="reply_ready", **params) -> CitizenNotice:
    return CitizenNotice(
        ticket="20261122000042", workflow_id="ticket-20261122000042", sequence=7, phone=PHONE, template=template,
        params=params,
    )  # fmt: skip


async def test_citizen_sms_is_rendered_from_the_template_and_sent_through_the_gateway(settings):
    queued = await ActivityEnvironment().run(
        run(NotifyActivities, settings, Recorder()).notify_citizen, notice(reply="已处理")
    )
    assert queued.detail == "queued" and row(settings, "20261122000042-7").status == "queued"  # no provider configured

    s = settings.model_copy(update={"sms_endpoint": "http://sms.test/send"})
    rec = Recorder(httpx.Response(200, json={"id": "M-9"}))
    with structlog.testing.capture_logs() as logs:
        sent = await ActivityEnvironment().run(run(NotifyActivities, s, rec).notify_citizen, notice(reply="摊点已取缔"))
    assert sent.detail == "delivered"
    body = rec.requests[0].read().decode()
    assert PHONE in body and "您反映的诉求（工单号20261122000042）已办结，承办单位答复：摊点已取缔" in body
    assert PHONE not in str(logs)

    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(run(NotifyActivities, s, rec).notify_citizen, notice())  # no reply param
    assert raised.value.non_retryable and "needs reply" in raised.value.message


def callback_request() -> CallbackRequest:
    return CallbackRequest(
        ticket="20261122000042", workflow_id="ticket-20261122000042", sequence=9, attempt=1, phone=PHONE,
        result="resolved", reply="已处理",
    )  # fmt: skip


async def test_callback_requests_go_to_the_survey_channel_or_the_manual_queue(settings):
    manual = await ActivityEnvironment().run(
        run(CallbackActivities, settings, Recorder()).request_callback, callback_request()
    )
    assert manual.channel == "queue"

    s = settings.model_copy(update={"callback_endpoint": "http://ivr.test/surveys"})
    rec = Recorder(httpx.Response(202, json={}))
    automated = await ActivityEnvironment().run(run(CallbackActivities, s, rec).request_callback, callback_request())
    assert automated.channel == "voice" and rec.requests[0].headers["Idempotency-Key"] == "20261122000042-9"
    assert '"channel":"voice"' in rec.requests[0].read().decode()

    with pytest.raises(ApplicationError) as raised:
        await ActivityEnvironment().run(
            run(CallbackActivities, s, Recorder(httpx.Response(503))).request_callback, callback_request()
        )
    assert not raised.value.non_retryable

    # A provider refusal must not stall the ticket: operators call back by hand.
    refused = await ActivityEnvironment().run(
        run(CallbackActivities, s, Recorder(httpx.Response(400, json={"detail": "号码格式错误"}))).request_callback,
        callback_request(),
    )
    assert refused.channel == "queue"
    r = row(settings, "20261122000042-9")
    assert (r.channel, r.status) == ("queue", "delivered") and "号码格式错误" in r.last_error
