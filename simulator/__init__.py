"""The department simulator: a small FastAPI service that stands in for every department system
of the directory (the units with an `endpoint`), the SMS provider and the automated callback
channel, so the product runs end to end on one machine.

It implements the department-system API (docs/department-api.md) under /units/{unit_id}/...,
checks each unit's credential, does each Idempotency-Key once, and then behaves like the
department's staff: after random delays it acknowledges, reports progress and completes through
the product's API with a unit token, sometimes asking for an extension or to return the ticket.
As the citizen it answers callback surveys. Faults (5xx, 4xx, timeouts, slowness, being down)
are injected on demand through /admin/faults.

    python -m simulator            (or `hotline simulator`; `hotline up` starts it)"""
