"""A ticket's models (domain/ticket.py): what intake accepts, the callback answer's consistency,
and the live state's derived views (deadline, overdue, the flat facts, the masked copy)."""

from datetime import timedelta

import pytest
from pydantic import ValidationError

from domain.policy import ClockName
from domain.ticket import (
    Actor,
    Appeal,
    CallbackAnswer,
    CallbackRecord,
    Citizen,
    Clock,
    ConsultationView,
    Cooperation,
    ExtensionRequest,
    ReturnRequest,
    TicketSummary,
    TimelineEvent,
    clock_key,
)
from domain.vocabulary import Channel, Role, Satisfaction, Stage
from tests.factories import NOW, STREET, URBAN, request, ticket_state


def clock(name=ClockName.completion, days=7, **kw) -> Clock:
    return Clock(name=name, limit=f"{days}d", started_at=NOW, due_at=NOW + timedelta(days=days),
                 warn_at=NOW + timedelta(days=days * 0.8), **kw)  # fmt: skip


# -- intake ------------------------------------------------------------------------------------


@pytest.mark.parametrize("phone", ["13800138000", "+86 138-0013-8000", "0532-88881234", "138****8000"])
def test_a_phone_is_digits_with_a_plus_spaces_or_dashes_or_a_masked_one(phone):
    assert Citizen(phone=phone).phone == phone


@pytest.mark.parametrize("phone", ["abc", "1380013800O", "138", "#13800138000", "138-0013-8000 转 12"])
def test_anything_else_as_a_phone_is_refused(phone):
    with pytest.raises(ValidationError, match="phone must be digits"):
        Citizen(phone=phone)


def test_no_phone_is_allowed_and_an_empty_one_is_none():
    assert Citizen().phone is None and Citizen(phone="").phone is None
    assert Citizen().name == ""  # anonymous


def test_a_description_is_trimmed_and_a_blank_one_refused():
    assert request(description="  路灯不亮  ").description == "路灯不亮"
    with pytest.raises(ValidationError, match="description is blank"):
        request(description="    ")


# -- the callback answer -----------------------------------------------------------------------


def test_a_reached_citizens_answer_needs_resolved_and_satisfaction():
    with pytest.raises(ValidationError, match="needs both"):
        CallbackAnswer(reached=True, resolved=True)
    with pytest.raises(ValidationError, match="needs both"):
        CallbackAnswer(reached=True, satisfaction=Satisfaction.satisfied)


def test_an_unreached_citizen_has_no_answer_to_record():
    with pytest.raises(ValidationError, match="only be recorded when the citizen was reached"):
        CallbackAnswer(reached=False, satisfaction=Satisfaction.unsatisfied)
    assert CallbackAnswer(reached=False).confirms is False


@pytest.mark.parametrize(
    ("resolved", "satisfaction", "confirms"),
    [
        (True, Satisfaction.satisfied, True),
        (True, Satisfaction.basically_satisfied, True),
        (True, Satisfaction.unsatisfied, False),
        (False, Satisfaction.satisfied, False),
    ],
)
def test_only_resolved_and_at_least_basically_satisfied_confirms(resolved, satisfaction, confirms):
    assert CallbackAnswer(reached=True, resolved=resolved, satisfaction=satisfaction).confirms is confirms


# -- who acts --------------------------------------------------------------------------------


def test_an_actor_is_named_by_its_unit_else_by_role_and_user():
    assert Actor(role=Role.unit, unit=STREET, user="张三").label == STREET
    assert Actor(role=Role.center, user="回访员").label == "center:回访员"
    assert Actor(role=Role.supervisor).label == "supervisor"


def test_one_clock_per_name_and_one_report_clock_per_unit():
    assert clock_key(ClockName.completion) == "completion"
    assert clock_key(ClockName.report, URBAN) == "report:qd.dept.urban"


# -- the live state --------------------------------------------------------------------------


def test_flags_are_kept_once_and_sorted():
    s = ticket_state()
    s.flag("urged")
    s.flag("supervised")
    s.flag("urged")
    assert s.flags == ["supervised", "urged"]
    s.unflag("urged")
    s.unflag("never-set")
    assert s.flags == ["supervised"]


def test_the_deadline_is_the_running_completion_clock():
    s = ticket_state()
    assert s.deadline is None
    s.clocks["acknowledge"] = clock(ClockName.acknowledge, days=1)
    assert s.deadline is None  # only the completion clock is the ticket's deadline
    s.clocks["completion"] = clock()
    assert s.deadline == NOW + timedelta(days=7)
    s.clocks["completion"].met_at = NOW + timedelta(days=2)
    assert s.deadline is None


def test_overdue_and_warned_follow_the_running_clocks():
    s = ticket_state(clocks={"completion": clock()})
    assert (s.overdue, s.warned) == (False, False)
    s.clocks["completion"].warned_at = NOW + timedelta(days=6)
    assert (s.overdue, s.warned) == (False, True)
    s.clocks["completion"].breached_at = NOW + timedelta(days=7)
    assert (s.overdue, s.warned) == (True, False)
    s.clocks["completion"].paused_at = NOW + timedelta(days=8)  # a consultation pauses the clocks
    assert (s.overdue, s.warned) == (False, False)


def test_an_emergency_transfer_past_its_follow_up_is_overdue_without_any_clock():
    s = ticket_state(Stage.follow_up, flags=["follow_up", "follow_up_overdue"])
    assert s.overdue and s.flat().overdue


def test_what_is_pending_is_found_among_the_requests():
    s = ticket_state()
    assert s.pending_return is None and s.pending_extension is None and s.open_consultation is None
    s.returns = [ReturnRequest(unit=STREET, reason="非本单位职责", at=NOW, status="rejected"),
                 ReturnRequest(unit=STREET, reason="确非职责", at=NOW)]  # fmt: skip
    s.extensions = [ExtensionRequest(unit=STREET, by="3d", reason="工期长", at=NOW, decision="approved"),
                    ExtensionRequest(unit=STREET, by="2d", reason="再延", at=NOW)]  # fmt: skip
    view = dict(workflow_id="c", reason="职责不清", opened_by="center", opened_at=NOW, candidates={})
    s.consultations = [
        ConsultationView(number=1, status="consensus", **view),
        ConsultationView(number=2, status="needs_ruling", **view),
    ]
    assert s.pending_return is s.returns[1]
    assert s.pending_extension is s.extensions[1]
    assert s.open_consultation is s.consultations[1]  # waiting for a ruling is still open


def test_every_delivery_gets_the_next_sequence():
    s = ticket_state()
    assert [s.next_delivery(), s.next_delivery(), s.next_delivery()] == [1, 2, 3]


def test_the_flat_facts_name_every_unit_concerned_and_count_what_counts():
    s = ticket_state(coordinator_unit="qd.shinan", clocks={"completion": clock(estimated=True)})
    s.cooperating["qd.dept.environment"] = Cooperation(unit="qd.dept.environment", via="whistle", since=NOW)
    s.extensions = [ExtensionRequest(unit=STREET, by="3d", reason="x", at=NOW, decision="approved"),
                    ExtensionRequest(unit=STREET, by="3d", reason="x", at=NOW, decision="rejected")]  # fmt: skip
    by = dict(at=NOW, by="center:回访员")
    s.callbacks = [
        CallbackRecord(reached=True, resolved=False, satisfaction=Satisfaction.unsatisfied, attempt=1, **by),
        CallbackRecord(reached=True, resolved=True, satisfaction=Satisfaction.satisfied, attempt=1, round=1, **by),
        CallbackRecord(reached=False, attempt=2, round=1, **by),
    ]
    f = s.flat()
    assert f.units == ["qd.dept.environment", "qd.dept.urban", "qd.shinan", "qd.shinan.badaxia"]
    assert (f.deadline, f.deadline_estimated) == (NOW + timedelta(days=7), True)
    assert f.extension_count == 1
    assert (f.resolved, f.satisfaction) == (True, "satisfied")  # the last citizen actually reached
    s.assessed_satisfaction = "unsatisfied"  # e.g. an unreachable citizen counted as the pack says
    assert s.flat().satisfaction == "unsatisfied"


def test_the_masked_state_hides_the_citizen_and_leaves_the_live_state_alone():
    s = ticket_state(request=request(citizen=Citizen(name="王小明", phone="13800138000", callback_opt_out=True)))
    m = s.masked()
    assert (m.request.citizen.name, m.request.citizen.phone) == ("王**", "138****8000")
    assert m.request.citizen.callback_opt_out is True
    assert (s.request.citizen.name, s.request.citizen.phone) == ("王小明", "13800138000")
    assert "13800138000" not in m.model_dump_json()
    assert type(m).model_validate_json(m.model_dump_json()) == m  # the read model can load it back


def test_the_masked_state_hides_repeat_callers_and_phones_in_the_timeline_and_is_its_own_copy():
    repeat = Appeal(key="k", at=NOW, channel=Channel.phone, citizen=Citizen(name="李四", phone="13900139000"),
                    description="再次反映，电话13900139000", by="desk")  # fmt: skip
    s = ticket_state(
        appeals=[repeat], timeline=[TimelineEvent(at=NOW, actor="desk", event="merged", detail="来电13900139000")]
    )
    m = s.masked()
    assert "13900139000" not in m.model_dump_json() and m.appeals[0].citizen.name == "李*"
    assert s.appeals[0].citizen.phone == "13900139000" and "13900139000" in s.timeline[0].detail
    # the live state moves on; the copy the projector serializes does not
    s.timeline.append(TimelineEvent(at=NOW, actor="desk", event="urged"))
    s.appeals.append(repeat)
    assert (len(m.timeline), len(m.appeals)) == (1, 1)


def test_an_actions_summary_is_where_the_ticket_now_stands():
    s = ticket_state(clocks={"completion": clock()}, flags=["urged"])
    summary = TicketSummary.of(s)
    assert (summary.number, summary.stage, summary.lead_unit) == (s.number, Stage.handling, STREET)
    assert summary.deadline == s.deadline and summary.flags == ["urged"] and summary.outcome is None
