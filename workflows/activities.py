"""How workflows call activities: names and the timeouts and retry policies each kind deserves.
Workflows refer to activities by name so the sandbox never imports SQLModel or httpx."""

from datetime import timedelta

from temporalio.common import RetryPolicy

DECIDE_INTAKE = "decide_intake"
DELIVER = "deliver"
REQUEST_CALLBACK = "request_callback"
NOTIFY_CITIZEN = "notify_citizen"
RESOLVE_UNITS = "resolve_units"
GIVE_UP_DELIVERY = "give_up_delivery"
TRANSFER_EMERGENCY = "transfer_emergency"
SAVE_RESPONSIBILITY_RULE = "save_responsibility_rule"
PROJECT_TICKET = "project_ticket"

# Error types of deliveries: a definite refusal is not retried; an unreachable system is.
DELIVERY_REJECTED = "DeliveryRejected"
DELIVERY_UNAVAILABLE = "DeliveryUnavailable"

# Reading data files and the database: quick, retried a few times, then the ticket must wait
# for an operator fix rather than run on wrong rules.
INTAKE = dict(
    start_to_close_timeout=timedelta(seconds=30),
    retry_policy=RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1)),
)

# Deliveries to departments: a department system may be down for hours. Temporal retries with
# backoff (no retry loops in our code) until the delivery goes through or a week has passed;
# a definite refusal (non-retryable error) surfaces at once as a delivery failure.
DELIVERY = dict(
    start_to_close_timeout=timedelta(seconds=30),
    schedule_to_close_timeout=timedelta(days=7),  # the pack's [delivery] give_up_after overrides
    retry_policy=RetryPolicy(
        initial_interval=timedelta(seconds=2),
        backoff_coefficient=2.0,
        maximum_interval=timedelta(minutes=10),
        non_retryable_error_types=[DELIVERY_REJECTED],
    ),
)

# The read-model projection is a cheap local write: a local activity, retried quickly.
PROJECTION = dict(
    start_to_close_timeout=timedelta(seconds=15),
    retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=200), maximum_interval=timedelta(seconds=10)),
)
