"""Deadlines: the working-day calendar, the clocks, escalation, the whistle, urging and extensions."""
