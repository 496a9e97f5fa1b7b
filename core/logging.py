"""structlog, configured once. Readable console locally, JSON in production (HOTLINE_LOG_JSON=true).

A traceback is rendered as plain text without local variables in every mode (locals hold tokens,
salts and citizens), then scrubbed like any other field: phone numbers, bearer tokens, pydantic's
echoed inputs and the values of the configured secrets never reach a sink.

Standard-library records (Temporal's workflow.logger, uvicorn) go through the same processors, so a
workflow log line carries the ticket and workflow ids like an API or activity line does."""

import logging
import re
import sys
from collections.abc import Iterable

import structlog
import temporalio.activity
import temporalio.workflow

from domain.privacy import scrub_phones

_PII_KEYS = {"phone", "citizen_phone", "name", "citizen_name", "citizen"}
_ID_KEYS = {"ticket", "workflow_id", "unit", "run_id", "timestamp", "logger", "level", "idempotency_key", "request_id"}
_SECRET_KEYS = {"token", "authorization", "secret", "password", "api_key", "salt", "credential"}

# A JWT (three base64url parts, the first one `{"`), a bearer credential, and what pydantic echoes
# of a rejected input (`input_value='王女士'`): none of them belongs in a log.
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.?[A-Za-z0-9_-]*")
_BEARER = re.compile(r"(?i)(bearer\s+)\S+")
_ECHOED_INPUT = re.compile(r"input_value=('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^,\s\]]+)")
_secrets: list[str] = []


def scrub(text: str) -> str:
    text = scrub_phones(text)
    text = _JWT.sub("***", text)
    text = _BEARER.sub(r"\1***", text)
    text = _ECHOED_INPUT.sub("input_value=***", text)
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _scrub_pii(_, __, event_dict):
    """Last line of defence: no citizen phone number or name, no token or secret reaches a log sink."""
    for key in list(event_dict):
        if key in _PII_KEYS or key.lower() in _SECRET_KEYS:
            event_dict[key] = "***"
        elif key not in _ID_KEYS and isinstance(event_dict[key], str):
            event_dict[key] = scrub(event_dict[key])
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


def configure_logging(json: bool = False, level: str = "INFO", secrets: Iterable[str] = ()) -> None:
    """`secrets`: values to blank wherever they appear (Settings.secret_values())."""
    global _configured
    _secrets[:] = sorted({s for s in secrets if s}, key=len, reverse=True)
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _flatten_temporal_extra,
        # The traceback as plain text, no locals, in both modes: then scrubbed with the rest.
        structlog.processors.format_exc_info,
        _scrub_pii,
    ]
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False)
        if json
        else structlog.dev.ConsoleRenderer(
            colors=sys.stderr.isatty(), exception_formatter=structlog.dev.plain_traceback
        )
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
    """A lazy logger: one made at import time still takes the configuration made later (a bound
    logger made before configure_logging would keep structlog's defaults: locals in tracebacks)."""
    return structlog.get_logger(name, **bound)
