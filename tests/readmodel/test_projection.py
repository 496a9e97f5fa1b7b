"""The read model follows the workflow: newest state wins, retries change nothing, no PII."""

import threading
from datetime import UTC, datetime

from sqlalchemy import event, inspect
from sqlmodel import col, select

from activities.projection import ProjectionActivities
from domain.contracts import Delivery, DeliveryKind, Projection
from domain.ticket import TicketState
from domain.vocabulary import Stage
from readmodel import db
from readmodel.deliveries import record_delivery
from readmodel.tables import DeliveryRow, TicketRow, TicketUnitRow
from tests.factories import ticket_input


def state(version: int, stage: Stage, lead: str = "qd.shinan.badaxia", coordinator: str | None = None) -> TicketState:
    inp = ticket_input()
    return TicketState(
        number="20261122000042",
        workflow_id="ticket-20261122000042",
        request=inp.request,
        received_at=datetime(2026, 11, 22, tzinfo=UTC),
        stage=stage,
        lead_unit=lead,
        supervisor_unit="qd.dept.urban",
        coordinator_unit=coordinator,
        version=version,
    )


def test_schema_is_migrated(settings):
    tables = set(inspect(db.get_engine(settings.database_url)).get_table_names())
    assert {"ticket", "ticket_unit", "intake_request", "delivery", "alembic_version"} <= tables


def test_newest_projection_wins_and_a_late_retry_changes_nothing(settings):
    project = ProjectionActivities(settings).project_ticket
    project(Projection(state=state(1, Stage.dispatch).masked(), citizen_key="k"))
    project(Projection(state=state(3, Stage.handling, coordinator="qd.shinan").masked(), citizen_key="k"))
    project(Projection(state=state(2, Stage.dispatch).masked(), citizen_key="k"))  # a retried older one
    with db.session(settings.database_url) as session:
        row = session.get(TicketRow, "20261122000042")
        assert (row.stage, row.version, row.coordinator_unit) == ("handling", 3, "qd.shinan")
        roles = {(r.unit, r.role) for r in session.exec(select(TicketUnitRow))}
        assert roles == {("qd.shinan.badaxia", "lead"), ("qd.dept.urban", "supervisor"), ("qd.shinan", "coordinator")}
        assert "13800138000" not in row.state_json and "王女士" not in row.state_json


def test_a_retried_delivery_is_one_row(settings):
    d = Delivery(
        ticket="20261122000042",
        workflow_id="ticket-20261122000042",
        sequence=1,
        unit="qd.shinan.badaxia",
        kind=DeliveryKind.work_order,
        message="",
    )
    url = settings.database_url
    record_delivery(url, d, channel="department_api", status="retrying", error="503 from the department")
    record_delivery(url, d, channel="department_api", status="delivered", reference="D-7")
    with db.session(url) as session:
        first = session.exec(select(DeliveryRow)).one()
    record_delivery(url, d, channel="department_api", status="delivered", detail="duplicate")
    with db.session(url) as session:
        rows = session.exec(select(DeliveryRow)).all()
    assert len(rows) == 1 and rows[0].idempotency_key == "20261122000042-1"
    row = rows[0]
    assert (row.attempts, row.status, row.detail) == (3, "delivered", "duplicate")
    # The center still sees why it took a retry, the department's reference, and when it arrived.
    assert (row.last_error, row.reference) == ("503 from the department", "D-7")
    assert row.delivered_at is not None and row.delivered_at == first.delivered_at


def test_migrations_run_twice_without_harm(settings):
    db.migrate(settings.database_url)
    db.migrate(settings.database_url)


def test_returns_are_rows_and_follow_their_status(settings):
    """A return (退单) is a row from its first projection on; a later decision changes its status."""
    from domain.ticket import ReturnRequest
    from readmodel.tables import TicketReturnRow

    project = ProjectionActivities(settings).project_ticket
    asked = ReturnRequest(unit="qd.shinan.badaxia", reason="不属本单位", at=datetime(2026, 11, 22, 9, tzinfo=UTC))
    s = state(1, Stage.handling)
    s.returns = [asked]
    project(Projection(state=s.masked(), citizen_key=None))
    s = state(2, Stage.dispatch, lead="qd.shinan.yunnanlu")
    s.returns = [asked.model_copy(update={"status": "approved"})]
    project(Projection(state=s.masked(), citizen_key=None))
    with db.session(settings.database_url) as session:
        rows = session.exec(select(TicketReturnRow)).all()
        assert [(r.seq, r.unit, r.status) for r in rows] == [(0, "qd.shinan.badaxia", "approved")]
        roles = {(r.unit, r.role) for r in session.exec(select(TicketUnitRow))}
        assert ("qd.shinan.yunnanlu", "lead") in roles and ("qd.shinan.badaxia", "lead") not in roles


def test_an_attempt_that_outlived_its_timeout_does_not_overwrite_a_newer_projection(settings):
    """A projection attempt stuck on a busy database past its timeout is retried while its thread
    still runs; the newer projection written meanwhile must survive the old thread's write (it left
    closed tickets showing `callback` in the read model under chaos)."""
    project = ProjectionActivities(settings).project_ticket
    project(Projection(state=state(1, Stage.dispatch).masked(), citizen_key="k"))
    newer = threading.Thread(target=project, args=(Projection(state=state(3, Stage.closed).masked(), citizen_key="k"),))
    stale = threading.Thread(
        target=project, args=(Projection(state=state(2, Stage.callback).masked(), citizen_key="k"),)
    )

    def newer_lands_between(conn, cursor, statement, *_):
        # Once the stale attempt has sent its first statement, the newer projection runs to its end
        # (or until it waits for the stale attempt's lock, which is the point).
        if threading.current_thread() is stale:
            if not newer.is_alive() and not newer.ident:
                newer.start()
                newer.join(timeout=1)

    engine = db.get_engine(settings.database_url)
    event.listen(engine, "after_cursor_execute", newer_lands_between)
    try:
        stale.start()
        stale.join()
        newer.join()
    finally:
        event.remove(engine, "after_cursor_execute", newer_lands_between)
    with db.session(settings.database_url) as session:
        row = session.get(TicketRow, "20261122000042")
        assert (row.stage, row.version) == ("closed", 3)


def test_a_version_written_by_a_task_that_never_completed_is_overwritten_when_the_workflow_reaches_it(settings):
    """A workflow task wrote v2 "callback" and was lost; the workflow, from its history, reaches v2
    another way (a deadline warning): its v2 replaces the one that never happened."""
    project = ProjectionActivities(settings).project_ticket
    project(Projection(state=state(1, Stage.handling).masked(), citizen_key="k"))
    project(Projection(state=state(2, Stage.callback).masked(), citizen_key="k"))  # the lost task's write
    project(Projection(state=state(2, Stage.handling, coordinator="qd.shinan").masked(), citizen_key="k"))
    with db.session(settings.database_url) as session:
        row = session.get(TicketRow, "20261122000042")
        assert (row.stage, row.version, row.coordinator_unit) == ("handling", 2, "qd.shinan")


def test_a_repair_writes_only_over_the_version_it_found(settings):
    """The projection check rewrites a row that went ahead of its workflow (v3 "closed", with a
    return the workflow never recorded) from the workflow's v2, unless a projection changed the row
    meanwhile."""
    from domain.ticket import ReturnRequest
    from readmodel.projection import write_ticket
    from readmodel.tables import TicketReturnRow

    project = ProjectionActivities(settings).project_ticket
    ahead = state(3, Stage.closed)
    ahead.returns = [
        ReturnRequest(unit="qd.shinan.badaxia", reason="不属本单位", at=datetime(2026, 11, 22, tzinfo=UTC))
    ]
    project(Projection(state=ahead.masked(), citizen_key="k"))
    engine = db.get_engine(settings.database_url)
    durable = Projection(state=state(2, Stage.callback).masked(), citizen_key="k")
    with engine.begin() as conn:
        assert not write_ticket(conn, durable, replacing=4)  # the row is not at the version found: left alone
    with engine.begin() as conn:
        assert write_ticket(conn, durable, replacing=3)
    with db.session(settings.database_url) as session:
        row = session.get(TicketRow, "20261122000042")
        assert (row.stage, row.version) == ("callback", 2)
        assert session.exec(select(TicketReturnRow)).all() == []


def test_a_page_counts_every_matching_row_not_just_the_page(settings):
    """GET /tickets, /deliveries and the other lists say how many match, whatever the page."""
    url = settings.database_url
    for sequence, unit in enumerate(["qd.shinan.badaxia", "qd.shinan.badaxia", "qd.dept.urban"], start=1):
        d = Delivery(ticket="20261122000042", workflow_id="ticket-20261122000042", sequence=sequence, unit=unit,
                     kind=DeliveryKind.work_order, message="")  # fmt: skip
        record_delivery(url, d, channel="queue", status="delivered")
    newest_first = select(DeliveryRow).order_by(col(DeliveryRow.sequence).desc())
    with db.session(url) as session:
        total, rows = db.page(session, newest_first, page=1, page_size=2)
        assert (total, [r.sequence for r in rows]) == (3, [3, 2])
        total, rows = db.page(session, newest_first.where(DeliveryRow.unit == "qd.shinan.badaxia"), 2, 1)
        assert (total, [r.sequence for r in rows]) == (2, [1])
        assert db.page(session, newest_first.where(DeliveryRow.unit == "nobody"), 1, 50) == (0, [])
