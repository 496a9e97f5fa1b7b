"""Every activity a ticket calls, typed: the activity is named by its method reference, its
options are keyword arguments chosen for the kind of work it does, and the result type comes
from the method's annotation. Workflow code calls these, never an activity by name."""

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.callback import CallbackActivities
    from activities.delivery import DeliveryActivities
    from activities.emergency import EmergencyActivities
    from activities.intake import IntakeActivities
    from activities.notify import NotifyActivities
    from activities.ownership import OwnershipActivities
    from activities.projection import ProjectionActivities
    from domain.contracts import (
        DELIVERY_REJECTED,
        CallbackRequest,
        CitizenNotice,
        Delivery,
        DeliveryReceipt,
        EmergencyTransfer,
        IntakeDecision,
        Projection,
    )
    from domain.ownership.ruling import ResponsibilityRule
    from domain.ticket import TicketInput, UnitInfo

# Reading data files and the database: quick, retried a few times, then the ticket must wait
# for an operator fix rather than run on wrong rules.
READ_TIMEOUT = timedelta(seconds=30)
READ_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))

# Deliveries to departments: a department system may be down for hours. Temporal retries with
# backoff (no retry loops in our code) until the delivery goes through or a week has passed;
# a definite refusal (non-retryable error) surfaces at once as a delivery failure.
DELIVERY_ATTEMPT = timedelta(seconds=30)
DELIVERY_GIVE_UP = timedelta(days=7)  # the pack's [delivery] give_up_after overrides it for work orders
DELIVERY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[DELIVERY_REJECTED],
)

# The read-model projection is a cheap local write: a local activity, retried quickly.
PROJECTION_TIMEOUT = timedelta(seconds=15)
PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10))


async def decide_intake(input: TicketInput) -> IntakeDecision:
    return await workflow.execute_activity_method(
        IntakeActivities.decide_intake, input, start_to_close_timeout=READ_TIMEOUT, retry_policy=READ_RETRY
    )


async def resolve_units(ids: list[str]) -> dict[str, UnitInfo]:
    return await workflow.execute_activity_method(
        OwnershipActivities.resolve_units,
        list(dict.fromkeys(ids)),
        start_to_close_timeout=READ_TIMEOUT,
        retry_policy=READ_RETRY,
    )


async def save_responsibility_rule(rule: ResponsibilityRule) -> None:
    await workflow.execute_activity_method(
        OwnershipActivities.save_responsibility_rule, rule, start_to_close_timeout=READ_TIMEOUT, retry_policy=READ_RETRY
    )


# A delivery's first attempt is a local activity, inside the workflow task that caused it: when
# the department answers at once (nearly always), that saves an activity task and the workflow
# task its result would wake — 14 of a full lifecycle's 18 activities are deliveries, and a
# deadline warning is one. The attempt is short (activities/delivery.py LOCAL_ATTEMPT_TIMEOUT);
# a failure that another attempt may fix goes to the durable activity with Temporal's retries.
LOCAL_DELIVERY_ATTEMPT = timedelta(seconds=5)
ONE_ATTEMPT = RetryPolicy(maximum_attempts=1)


async def deliver_first_attempt(delivery: Delivery) -> DeliveryReceipt:
    """A delivery's first attempt, inside the workflow task. Its failure comes as it was raised
    (an ApplicationError), its timeout as an ActivityError."""
    return await workflow.execute_local_activity_method(
        DeliveryActivities.deliver,
        delivery,
        start_to_close_timeout=LOCAL_DELIVERY_ATTEMPT,
        retry_policy=ONE_ATTEMPT,
    )


async def deliver(delivery: Delivery, give_up_after: timedelta = DELIVERY_GIVE_UP) -> DeliveryReceipt:
    """A delivery as a durable activity, retried by Temporal until `give_up_after`."""
    return await workflow.execute_activity_method(
        DeliveryActivities.deliver,
        delivery,
        start_to_close_timeout=DELIVERY_ATTEMPT,
        schedule_to_close_timeout=give_up_after,
        retry_policy=DELIVERY_RETRY,
    )


async def give_up_delivery(delivery: Delivery, reason: str) -> None:
    await workflow.execute_local_activity_method(
        DeliveryActivities.give_up_delivery,
        args=[delivery, reason],
        start_to_close_timeout=PROJECTION_TIMEOUT,
        retry_policy=PROJECTION_RETRY,
    )


async def notify_citizen(notice: CitizenNotice) -> DeliveryReceipt:
    return await workflow.execute_activity_method(
        NotifyActivities.notify_citizen,
        notice,
        start_to_close_timeout=DELIVERY_ATTEMPT,
        schedule_to_close_timeout=DELIVERY_GIVE_UP,
        retry_policy=DELIVERY_RETRY,
    )


async def request_callback(request: CallbackRequest, give_up_after: timedelta) -> DeliveryReceipt:
    return await workflow.execute_activity_method(
        CallbackActivities.request_callback,
        request,
        start_to_close_timeout=DELIVERY_ATTEMPT,
        schedule_to_close_timeout=give_up_after,
        retry_policy=DELIVERY_RETRY,
    )


async def transfer_emergency(transfer: EmergencyTransfer) -> str:
    return await workflow.execute_activity_method(
        EmergencyActivities.transfer_emergency,
        transfer,
        start_to_close_timeout=DELIVERY_ATTEMPT,
        schedule_to_close_timeout=DELIVERY_GIVE_UP,
        retry_policy=DELIVERY_RETRY,
    )


async def project_ticket(projection: Projection, after_the_task: bool) -> None:
    """A local activity, inside the workflow task that made the change (the projection check
    rewrites a row that a task which never completed wrote ahead of its workflow).

    For a while the projection was an activity after the task (patch "projection-after-the-task").
    That did not remove the SDK's replay fault it was meant to avoid (temporalio 1.35: a worker
    with nothing cached takes in an update after the task's other results live, before them on
    replay; see tests/workflows/known_nondeterministic/), and an activity's result after every
    change made a task with both far more likely. Runs that recorded that patch keep the activity;
    every run since records "projection-local-again" and keeps the local activity (the projector
    asks, workflows/projection.py)."""
    run = workflow.execute_activity_method if after_the_task else workflow.execute_local_activity_method
    await run(
        ProjectionActivities.project_ticket,
        projection,
        start_to_close_timeout=PROJECTION_TIMEOUT,
        retry_policy=PROJECTION_RETRY,
    )
