"""An API schema that tells the truth: every operation documents the error answers it can give,
with their body, so a client (and schemathesis, tests/api/test_schema.py) knows what to expect."""

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api.errors import ErrorBody, ValidationErrorBody

_WHY = {
    400: "Refused in the format of the API concerned (Open311: [{code, description}])",
    401: "No token, or a bad or expired one",
    403: "This role or unit may not do this",
    404: "No such ticket, unit, article or delivery",
    409: "Not allowed in the ticket's current stage, or a stale edit",
    422: "Invalid input: what is wrong, field by field",
    429: "Too many wrong attempts: try again after Retry-After seconds",
    500: "Unexpected error: quote request_id to the operators",
    503: "Temporal or the database is unavailable: retry after Retry-After seconds",
}
_UPDATES = ("post", "put", "delete", "patch")


def _codes(path: str, method: str, op: dict[str, Any]) -> set[int]:
    codes = {422, 500, 503}
    if op.get("security"):
        codes |= {401, 403}
    if "{" in path:
        codes.add(404)
    if method in _UPDATES:
        codes |= {404, 409}
    if path.startswith("/public/"):
        codes |= {403, 404, 409, 429}
    if path.startswith("/open311/"):  # the GeoReport spec's own errors: [{code, description}]
        codes |= {400, 403, 404}
    if path.startswith("/workbench/"):  # the pages' calls: session cookie and CSRF token
        codes |= {400, 401, 403, 404, 409, 429}
    return codes


# Open311 answers errors in the GeoReport v2 format: a list of {code, description} (JSON or XML).
_OPEN311_ERRORS = {
    "type": "array",
    "items": {
        "type": "object",
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
        "required": ["code", "description"],
    },
}


def _error(code: int, path: str = "") -> dict[str, Any]:
    model = ValidationErrorBody if code == 422 else ErrorBody
    if path.startswith("/open311/"):  # the spec's list, or the product's own body (input hygiene runs first)
        either = {"anyOf": [_OPEN311_ERRORS, {"$ref": f"#/components/schemas/{model.__name__}"}]}
        return {
            "description": _WHY[code],
            "content": {"application/json": {"schema": either}, "application/xml": {"schema": {"type": "string"}}},
        }
    response: dict[str, Any] = {
        "description": _WHY[code],
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
    }
    if code in (429, 503):
        response["headers"] = {"Retry-After": {"schema": {"type": "integer"}, "description": "seconds"}}
    if code == 401:
        response["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
    return response


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes, tags=app.openapi_tags
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorBody, ValidationErrorBody):
            for name, sub in (
                model.model_json_schema(ref_template="#/components/schemas/{model}").pop("$defs", {}).items()
            ):
                components[name] = sub
            components[model.__name__] = model.model_json_schema(ref_template="#/components/schemas/{model}")
            components[model.__name__].pop("$defs", None)
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        for path, operations in schema.get("paths", {}).items():
            for method, op in operations.items():
                responses = op.setdefault("responses", {})
                for code in sorted(_codes(path, method, op)):
                    documented = responses.get(str(code), {})
                    responses[str(code)] = _error(code, path) | (
                        {"description": documented["description"]}
                        if "description" in documented and code != 422
                        else {}
                    )
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
