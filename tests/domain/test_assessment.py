"""The rules of the monthly exam: periods, rates, points, the ranking and the surge rule."""

from datetime import UTC, date, datetime, timedelta

import pytest

from catalog.policies import load_pack
from domain.assessment import (
    Counts,
    Group,
    Period,
    PeriodKind,
    community_of,
    composite,
    decline_rate,
    is_surge,
    kept,
    rank,
    rates,
    score,
)
from domain.policy import AssessmentRule

QINGDAO = load_pack("qingdao").assessment


def test_periods_are_beijing_calendar_periods():
    m = Period.parse("2026-11")
    assert (m.label, m.previous().label, m.next().label) == ("2026-11", "2026-10", "2026-12")
    assert m.start == datetime(2026, 10, 31, 16, tzinfo=UTC)  # 00:00 Beijing time
    assert Period.parse("2026-01").previous().label == "2025-12"
    assert Period.parse("2026-W47").first == date(2026, 11, 16)
    assert Period.parse("2026-Q4").previous().label == "2026-Q3"
    # 23:30 UTC on the 30th is already 1 December in Beijing: the last complete month is November.
    assert Period.last_complete(PeriodKind.month, datetime(2026, 11, 30, 23, 30, tzinfo=UTC)).label == "2026-11"
    assert Period.last_complete(PeriodKind.day, datetime(2026, 11, 22, 17, tzinfo=UTC)).label == "2026-11-22"
    with pytest.raises(ValueError):
        Period.parse("November")


def test_a_clock_is_kept_missed_or_undecided():
    due = datetime(2026, 11, 22, 12, tzinfo=UTC)
    assert kept(due - timedelta(hours=1), due, None) is True
    assert kept(None, due, due) is False  # breached, still running
    assert kept(due + timedelta(hours=1), due, due) is False  # met late
    assert kept(None, due, None) is None
    assert kept(None, None, None) is None


def test_community_of_an_address():
    assert community_of("团岛社区12号楼") == "团岛社区"
    assert community_of("市南区八大峡街道团岛社区12号楼") == "团岛社区"
    assert community_of("团岛二路12号楼金水花园") == "金水花园"
    assert community_of("金水花园3号楼2单元") == "金水花园"
    assert community_of("团岛二路12号") is None


def test_rates_come_from_their_sources_and_weights_share_out_a_missing_rate():
    c = Counts(
        unit="u",
        assessed=20,
        previous=25,
        response_met=18,
        response_due=20,
        resolved=12,
        resolution_asked=16,
        satisfied=14,
        satisfaction_asked=16,
        on_time=19,
        completion_due=20,
    )
    r = rates(c)
    assert r == {"response": 0.9, "resolution": 0.75, "satisfaction": 0.875, "on_time": 0.95, "decline": 0.2}
    beijing = {"response": 0.30, "resolution": 0.35, "satisfaction": 0.35}
    assert composite(r, beijing) == round(90 * 0.3 + 75 * 0.35 + 87.5 * 0.35, 2)
    # No callback answers yet: response alone carries the weight.
    assert composite({**r, "resolution": None, "satisfaction": None}, beijing) == 90.0
    assert composite({"response": None}, beijing) is None
    assert decline_rate(20, 25) == 0.2 and decline_rate(30, 20) == -0.5 and decline_rate(5, 0) is None


def test_plus_and_minus_items_are_capped_and_count_for_both_sides():
    c = Counts(unit="u", assessed=40, previous=20, response_met=40, response_due=40, overdue=30, praise=2)
    s = score(c, "八大峡街道", Group.street, QINGDAO)
    items = {i.fact: i.points for i in s.items}
    assert items["overdue"] == -10  # 30 x -0.5, capped at 10
    assert items["praise"] == 1.0
    assert items["similar_growth"] == -5  # doubled: 10 steps of 10 %, capped at 5
    assert s.points == pytest.approx(sum(items.values()))
    assert s.score == pytest.approx(s.rate_score + s.points)
    supervisor = score(c, "市城管局", Group.department, QINGDAO)
    assert {i.fact for i in supervisor.items} == {i.fact for i in s.items}  # 双加双减: the same items


def test_ranking_needs_the_minimum_sample_and_shows_the_change():
    rule = AssessmentRule(min_sample=10)

    def s(unit, assessed, met):
        return score(
            Counts(unit=unit, assessed=assessed, response_met=met, response_due=assessed), unit, Group.street, rule
        )

    tiny = s("tiny", 3, 3)  # 100 % on 3 tickets
    ranked = rank([s("a", 50, 40), s("b", 50, 45), tiny, s("c", 20, 18)], rule.min_sample)
    assert [x.unit for x in ranked] == ["b", "c", "a", "tiny"]
    assert [x.rank for x in ranked] == [1, 1, 3, None]  # b and c both 90 %: the same rank
    assert not ranked[-1].ranked
    before = rank([s("a", 50, 48), s("b", 50, 30), s("c", 20, 10)], rule.min_sample)
    now = rank([s("a", 50, 40), s("b", 50, 45), s("c", 20, 10)], rule.min_sample, before)
    b = next(x for x in now if x.unit == "b")
    assert (b.previous_rank, b.rank, b.rank_change) == (2, 1, 1)


def test_a_surge_is_many_requests_against_the_places_own_baseline():
    rule = QINGDAO.surge  # 8+ in 2 h, 4x the 28-day average for 2 h
    assert is_surge(12, 0, rule)
    assert not is_surge(7, 0, rule)  # below the minimum
    # A busy place: 28 days x 12 windows x 3 a window = 1008 before; 12 now is normal for it.
    assert not is_surge(12, 1008, rule)
    assert is_surge(12, 200, rule)
