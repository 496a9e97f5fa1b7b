"""structlog, configured once. Readable console locally, JSON in production (HOTLINE_LOG_JSON=true).

Standard-library records (Temporal's workflow.logger, uvicorn) go through the same processors, so a
workflow log line carries the ticket and workflow ids like an API or activity line does."""

import logging
import sys

import structlog
import temporalio.activity
import temporalio.workflow

from domain.privacy import scrub_phones

_PII_KEYS = {"phone", "citizen_phone", "name", "citizen_name", "citizen"}
_ID_KEYS = {"ticket", "workflow_id", "unit", "run_id", "timestamp", "logger", "level", "idempotency_key"}


def _scrub_pii(_, __, event_dict):
    """Last line of defence: no citizen phone number or name reaches a log sink."""
    for key in list(event_dict):
        if key in _PII_KEYS:
            event_dict[key] = "***"
        elif key not in _ID_KEYS and isinstance(event_dict[key], str):
            event_dict[key] = scrub_phones(event_dict[key])
    return event_dict


def _flatten_temporal_extra(_, __, event_dict):
    # workflow.logger / activity.logger put their context in a dict; lift the ids we bind on.
    for key in ("temporal_workflow", "temporal_activity"):
        info = event_dict.pop(key, None)
        if isinstance(info, dict):
            event_dict.setdefault("workflow_id", info.get("workflow_id"))
            if key == "temporal_activity":
                event_dict.setdefault("activity", info.get("activity_type"))
    wid = event_dict.get("workflow_id")
    if isinstance(wid, str) and wid.startswith("ticket-"):
        event_dict.setdefault("ticket", wid.removeprefix("ticket-"))
    return event_dict


_configured = False


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the moment (test runners and daemons swap it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def configure_logging(json: bool = False, level: str = "INFO") -> None:
    global _configured
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _flatten_temporal_extra,
        _scrub_pii,
    ]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    # Temporal's workflow and activity loggers: context as fields, not appended to the message.
    temporalio.workflow.logger.workflow_info_on_message = False
    temporalio.activity.logger.activity_info_on_message = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str | None = None, **bound):
    return structlog.get_logger(name).bind(**bound)
