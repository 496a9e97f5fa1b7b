"""Durable orchestration of a ticket, one module per stage of the lifecycle:

    intake -> dispatch -> handling (under deadlines) -> escalation -> consultation -> callback -> close

`ticket.TicketWorkflow` composes the stages; each stage module holds its part of the run and the
updates that belong to it. Only deterministic code here: every side effect is an activity."""
