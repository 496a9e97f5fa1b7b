"""Message templates as data (catalog/sms.toml, Chinese): a name and a text with {params}.

Loaded and checked once; rendering a template with a parameter missing is an error that names it,
never a message with a hole in it."""

import string
import tomllib
from functools import lru_cache
from pathlib import Path

FOLDER = Path(__file__).parent
_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    pass


def _fields(text: str) -> set[str]:
    names = set()
    for _, field, spec, conversion in _FORMATTER.parse(text):
        if field is None:
            continue
        if not field.isidentifier() or spec or conversion:
            raise TemplateError(f"placeholder {{{field}}} must be a plain name")
        names.add(field)
    return names


@lru_cache
def load(kind: str = "sms") -> dict[str, str]:
    path = FOLDER / f"{kind}.toml"
    try:
        with path.open("rb") as f:
            raw = tomllib.load(f)
    except (FileNotFoundError, tomllib.TOMLDecodeError) as e:
        raise TemplateError(f"{path}: {e}") from e
    templates = {}
    for name, table in raw.items():
        text = table.get("text") if isinstance(table, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise TemplateError(f"{path.name}: template {name} has no text")
        try:
            _fields(text)
        except TemplateError as e:
            raise TemplateError(f"{path.name}: template {name}: {e}") from None
        templates[name] = text
    return templates


def render(name: str, params: dict[str, str], kind: str = "sms") -> str:
    templates = load(kind)
    if name not in templates:
        raise TemplateError(f"no {kind} template {name!r} (known: {', '.join(sorted(templates))})")
    text = templates[name]
    missing = _fields(text) - params.keys()
    if missing:
        raise TemplateError(f"{kind} template {name} needs {', '.join(sorted(missing))}")
    return text.format_map(params)
