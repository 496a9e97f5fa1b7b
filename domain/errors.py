"""Why an action is refused. Each kind maps to one HTTP status in the API."""

from enum import StrEnum


class RefusalKind(StrEnum):
    forbidden = "Forbidden"  # wrong unit or role -> 403
    conflict = "Conflict"  # not allowed in this stage -> 409
    invalid = "Invalid"  # malformed or impossible request -> 422


class Refusal(Exception):
    def __init__(self, kind: RefusalKind, reason: str):
        super().__init__(reason)
        self.kind = kind
        self.reason = reason


def forbidden(reason: str) -> Refusal:
    return Refusal(RefusalKind.forbidden, reason)


def conflict(reason: str) -> Refusal:
    return Refusal(RefusalKind.conflict, reason)


def invalid(reason: str) -> Refusal:
    return Refusal(RefusalKind.invalid, reason)
