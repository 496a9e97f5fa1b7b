"""Clean input, one rule for every route: free text may hold tabs and line breaks, but no other
control character (NUL, ANSI escapes), no bidirectional override (a reply that reads backwards in
a supervisor's list) and no lone surrogate. Such input is refused with a 422 naming the field and
the character; it is never stored, shown or stripped silently."""

import json
import re
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError

# C0 and C1 controls but \t \n \r, DEL, the bidi embeddings/overrides/isolates and marks, and
# surrogates (only reachable through a JSON \\ud800 escape).
FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def _problem(loc: tuple[str | int, ...], text: str) -> dict[str, Any] | None:
    found = FORBIDDEN.search(text)
    if found is None:
        return None
    char = f"U+{ord(found.group()):04X}"
    msg = f"control or bidirectional-override character {char} is not allowed in text"
    return {"loc": loc, "msg": msg, "type": "forbidden_character", "input": char}


def _walk(loc: tuple[str | int, ...], value: Any, problems: list[dict[str, Any]]) -> None:
    if isinstance(value, str):
        if (p := _problem(loc, value)) is not None:
            problems.append(p)
    elif isinstance(value, dict):
        for k, v in value.items():
            if (p := _problem((*loc, str(k)), str(k))) is not None:
                problems.append(p)
            _walk((*loc, str(k)), v, problems)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _walk((*loc, i), v, problems)


async def clean_input(request: Request) -> None:
    """An app-wide dependency: path, query and JSON body checked before any route runs."""
    problems: list[dict[str, Any]] = []
    for name, value in request.path_params.items():
        _walk(("path", name), value, problems)
    for name, value in request.query_params.multi_items():
        _walk(("query", name), value, problems)
    if "json" in request.headers.get("content-type", ""):
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None  # not JSON: the route's own validation says so
        _walk(("body",), body, problems)
    if problems:
        raise RequestValidationError(problems)
