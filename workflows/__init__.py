"""Durable orchestration of a ticket: `ticket.TicketWorkflow`, one workflow per ticket, with every
update, validator, query and signal declared in that one class.

    intake -> dispatch -> handling (under deadlines; escalation, returns, consultation) -> callback -> close

Its helpers are composed, each in the module of its capability's name (intake, dispatch,
deadlines, ownership, emergency, callback, delivery, projection); `consultation.ConsultationWorkflow`
is the child workflow of a disputed ownership. Only deterministic code here: every side effect is
an activity, called through `calls`."""
