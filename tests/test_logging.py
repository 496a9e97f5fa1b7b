"""Logs are JSON in production, bound with the ticket, and never carry a citizen's phone or name."""

import json
import logging

from core.logging import configure_logging, get_logger


def test_json_lines_are_bound_and_scrubbed(capsys):
    configure_logging(json=True, level="INFO")
    get_logger("test", ticket="20261122000001", workflow_id="ticket-20261122000001", unit="qd.shinan.badaxia").info(
        "delivered", phone="13800138000", note="市民电话13912345678已联系"
    )
    # A standard-library record, like Temporal's workflow.logger writes.
    logging.getLogger("temporalio.workflow").info(
        "acknowledged", extra={"temporal_workflow": {"workflow_id": "ticket-20261122000002"}, "unit": "qd.shinan"}
    )
    lines = [json.loads(line) for line in capsys.readouterr().err.strip().splitlines()]
    first, second = lines[-2], lines[-1]
    assert first["ticket"] == "20261122000001" and first["unit"] == "qd.shinan.badaxia"
    assert first["phone"] == "***" and "13912345678" not in first["note"]
    assert second["ticket"] == "20261122000002" and second["workflow_id"] == "ticket-20261122000002"
    configure_logging(json=False)  # back to the suite's console logging
