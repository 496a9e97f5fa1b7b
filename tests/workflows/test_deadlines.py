"""Deadlines as each city's pack has them, on the statutory calendar, on the time-skipping
server started at chosen dates (libfaketime)."""

from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from domain.deadlines.calendar import CHINA_TZ
from domain.ticket import Citizen
from domain.vocabulary import Kind, Urgency
from tests.conftest import task_queue, time_env_at
from tests.factories import ticket_input
from tests.workflows import drive
from worker import build_worker


def local(*args) -> datetime:
    return datetime(*args, tzinfo=CHINA_TZ)


def end_of(y, m, d) -> datetime:
    return local(y, m, d, 23, 59, 59)


# Monday 2 November 2026, 09:00 in Beijing: an ordinary working week.
MONDAY = local(2026, 11, 2, 9, 0).astimezone(UTC)


@pytest_asyncio.fixture(scope="module")
async def monday_env():
    async with time_env_at(MONDAY) as env:
        yield env


async def deadline_of(env, settings, **ticket) -> tuple[datetime, dict, datetime]:
    q = task_queue()
    async with build_worker(env.client, settings, q):
        h = await drive.start(env, q, ticket_input(**ticket))
        s = await drive.state(h)
        await h.terminate("measured")
    dispatched = next(e.at for e in s.timeline if e.event == "dispatched")
    # The server clock started where we asked and is still on that Monday morning.
    assert dispatched.astimezone(CHINA_TZ).date() == MONDAY.astimezone(CHINA_TZ).date()
    return s.deadline, {k: c.due_at for k, c in s.clocks.items()}, dispatched


def near(a: datetime, b: datetime) -> bool:
    return abs(a - b) < timedelta(seconds=5)


FOUR_LEVELS = {  # Beijing's 2 h / 24 h / 7 d / 15 d, calendar time from dispatch
    Urgency.emergency: timedelta(hours=2),
    Urgency.urgent: timedelta(hours=24),
    Urgency.normal: timedelta(days=7),
    Urgency.complex: timedelta(days=15),
}
EXPECTED = {
    # Beijing's 7 d / 15 d are periods of days read as the Civil Code reads them: from the day after
    # dispatch, ending at 24:00 of the last day (Mon 9 Nov, Tue 17 Nov).
    "beijing": {**FOUR_LEVELS, Urgency.normal: end_of(2026, 11, 9), Urgency.complex: end_of(2026, 11, 17)},
    "qingdao": FOUR_LEVELS,
    "jinan": {  # working days end at midnight of the n-th working day after the day of dispatch
        Urgency.emergency: timedelta(hours=2),
        Urgency.urgent: end_of(2026, 11, 3),
        Urgency.normal: end_of(2026, 11, 9),
        Urgency.complex: end_of(2026, 11, 9),
    },
}


@pytest.mark.parametrize("pack", sorted(EXPECTED))
async def test_each_pack_sets_the_deadline_of_each_urgency(monday_env, settings, pack):
    for urgency, due in EXPECTED[pack].items():
        deadline, _, dispatched = await deadline_of(monday_env, settings, policy_pack=pack, urgency=urgency)
        expected = dispatched + due if isinstance(due, timedelta) else due
        assert deadline == expected, (pack, urgency, deadline, expected)


@pytest.mark.parametrize(
    ("kind", "due"),
    [
        (Kind.consultation, end_of(2026, 11, 5)),  # 3 working days
        (Kind.help, end_of(2026, 11, 11)),  # 7
        (Kind.suggestion, end_of(2026, 11, 11)),
        (Kind.complaint, end_of(2026, 11, 23)),  # 15
        (Kind.report, end_of(2026, 11, 23)),
        (Kind.praise, end_of(2026, 11, 5)),
    ],
)
async def test_sichuan_counts_working_days_by_kind(monday_env, settings, kind, due):
    deadline, _, _ = await deadline_of(monday_env, settings, policy_pack="sichuan", kind=kind)
    assert deadline == due


async def test_sichuan_emergency_keeps_calendar_hours(monday_env, settings):
    deadline, _, dispatched = await deadline_of(
        monday_env, settings, policy_pack="sichuan", kind=Kind.complaint, urgency=Urgency.emergency
    )
    assert deadline == dispatched + timedelta(hours=2)


async def test_enterprise_2115_runs_its_three_clocks(monday_env, settings):
    deadline, clocks, dispatched = await deadline_of(monday_env, settings, policy_pack="qingdao", enterprise=True)
    assert clocks["contact"] == dispatched + timedelta(hours=2)  # 2 h to contact the company
    assert clocks["first_feedback"] == end_of(2026, 11, 3)  # 1 working day to first feedback
    assert deadline == end_of(2026, 11, 23)  # 15 working days to done
    _, plain, dispatched = await deadline_of(monday_env, settings, policy_pack="qingdao", enterprise=False)
    assert "first_feedback" not in plain and plain["contact"] == dispatched + timedelta(hours=24)


async def test_enterprise_clocks_fire_and_are_met_by_the_unit(monday_env, settings):
    q = task_queue()
    async with build_worker(monday_env.client, settings, q):
        h = await drive.start(monday_env, q, ticket_input(policy_pack="qingdao", enterprise=True))
        await drive.acknowledge(h, "qd.shinan.badaxia")
        await monday_env.sleep(timedelta(hours=2, minutes=1))
        s = await drive.state(h)
        contact = [e.event for e in s.timeline if e.data.get("clock") == "contact"]
        assert contact == ["deadline_warning", "deadline_breached", "reminder", "supervision"]
        await drive.progress(h, "qd.shinan.badaxia", "已与企业负责人电话沟通，明日上门", contacted=True)
        s = await drive.state(h)
        assert s.clocks["contact"].met_at and s.clocks["first_feedback"].met_at
        assert s.clocks["first_feedback"].breached_at is None  # fed back within the working day
        assert not s.overdue
        await h.terminate("done")


@pytest.mark.parametrize(
    ("dispatched", "due", "why"),
    [
        # Saturday 14 Feb 2026 is a make-up workday; Spring Festival runs 15–23 Feb; the next
        # make-up workday is Saturday 28 Feb: 24, 25, 26, 27, 28 are the five working days.
        (local(2026, 2, 14, 15, 0), end_of(2026, 2, 28), "afternoon before Spring Festival"),
        # Monday 28 Sep 2026: 29, 30 Sep, then National Day 1–7 Oct, then 8, 9 Oct and the
        # make-up Saturday 10 Oct.
        (local(2026, 9, 28, 10, 0), end_of(2026, 10, 10), "across National Day and its make-up workday"),
    ],
)
async def test_working_day_deadlines_across_the_holidays(settings, dispatched, due, why):
    async with time_env_at(dispatched.astimezone(UTC)) as env:
        q = task_queue()
        async with build_worker(env.client, settings, q):
            h = await drive.start(env, q, ticket_input(policy_pack="jinan"))
            s = await drive.state(h)
            await h.terminate("measured")
    assert s.deadline == due, why
    assert not s.clocks["completion"].estimated and "estimated_deadline" not in s.flags


async def test_a_deadline_beyond_the_official_calendar_is_estimated(settings):
    # 15 December 2026 + 15 working days lands in 2027, for which chinese-calendar has no data yet.
    async with time_env_at(local(2026, 12, 15, 10, 0).astimezone(UTC)) as env:
        q = task_queue()
        async with build_worker(env.client, settings, q):
            h = await drive.start(env, q, ticket_input(policy_pack="sichuan", kind=Kind.complaint))
            s = await drive.state(h)
            await h.terminate("measured")
    assert s.deadline.year == 2027
    assert s.clocks["completion"].estimated and "estimated_deadline" in s.flags


# Workers that stop and start again in one test: no sticky cache, so the time-skipping server
# hands the ticket to the new worker at once (a real server falls back after a few seconds).
RESTARTABLE = {"max_cached_workflows": 0}


async def test_changing_the_pack_setting_changes_new_tickets_not_open_ones(time_env, settings):
    q = task_queue()
    async with build_worker(time_env.client, settings.model_copy(update={"policy_pack": "qingdao"}), q, **RESTARTABLE):
        first = await drive.start(time_env, q, ticket_input(urgency=Urgency.emergency))
        before = await drive.state(first)
    async with build_worker(time_env.client, settings.model_copy(update={"policy_pack": "beijing"}), q, **RESTARTABLE):
        second = await drive.start(
            time_env, q, ticket_input(urgency=Urgency.emergency, citizen=Citizen(phone="13511112222"))
        )
        await drive.acknowledge(first, "qd.shinan.badaxia")
        await time_env.sleep(timedelta(hours=3, minutes=5))  # the first ticket escalates under its own rules
        s1, s2 = await drive.state(first), await drive.state(second)
        await first.terminate("done")
        await second.terminate("done")
    assert before.policy.name == s1.policy.name == "qingdao"
    assert s2.policy.name == "beijing"
    # Qingdao's ladder escalates 1 h after the 2 h deadline; its fresh district deadline is 2 h again.
    escalated = next(e for e in s1.timeline if e.event == "escalated")
    assert near(escalated.at, before.deadline + timedelta(hours=1))
