"""The OpenAPI document, made to tell the truth about what goes over the wire.

FastAPI's generator gets a few things wrong for this API, so the document it builds is
refined once, the first time it is asked for:

- every error response (4xx/5xx) is ``application/problem+json`` with the ``Problem`` schema
  (never FastAPI's ``HTTPValidationError``, never ``application/json``);
- numeric bounds are exact integers (FastAPI's OpenAPI models turn them into floats, and
  ``float(2**63 - 1)`` is ``2**63``: one past the largest id the database holds);
- query, header and path parameters never admit ``null`` (a query string cannot carry it),
  nor do form fields; a required form field is not empty (FastAPI takes "" as missing);
- no text input may contain NUL (API.md: 422): every input string that has no pattern,
  enum or date format of its own says so with the pattern ``^[^\\u0000]*$``;
- a ``default: null`` that the property's own schema does not allow is dropped (in a merge
  patch an absent field means "unchanged", not ``null``);
- POST operations behind a token declare the ``Idempotency-Key`` header they honour (and
  ``Idempotent-Replayed`` on their 201);
- responses declare the headers the service always sends: ``X-Request-ID`` on every one,
  ``WWW-Authenticate`` on 401, ``Retry-After`` on 429 and 503, ``Location`` and ``ETag`` on
  201, ``ETag`` on a single resource (200 and 304) and after a PATCH, ``Link`` on lists.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from ipcp_api.common.idempotency import MAX_KEY_LENGTH
from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.errors import PROBLEM_JSON

PROBLEM_REF = "#/components/schemas/Problem"
NUL_FREE = "^[^\\u0000]*$"
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_FASTAPI_422 = ("HTTPValidationError", "ValidationError")
_BOUNDS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Reusable response headers; each is always sent where it is declared, but ``Link`` and
# ``Idempotent-Replayed``.
HEADERS: dict[str, dict[str, Any]] = {
    "X-Request-ID": {
        "required": True,
        "description": "The request's id: the client's own when it sent a safe one"
        " (1–128 of `A–Z a–z 0–9 . _ : -`), else a new one. The server logs it.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 128},
    },
    "WWW-Authenticate": {
        "required": True,
        "description": "`Bearer`: sign in at `POST /api/v1/auth/token`.",
        "schema": {"type": "string"},
    },
    "Retry-After": {
        "required": True,
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    "Location": {
        "required": True,
        "description": "The new resource's URL.",
        "schema": {"type": "string"},
    },
    "ETag": {
        "required": True,
        "description": 'The resource\'s version, `"<version>"`: send it back in `If-Match`'
        " (PATCH, DELETE) or `If-None-Match` (GET).",
        "schema": {"type": "string", "pattern": '^"[0-9]+"$'},
    },
    "Link": {
        "description": 'The next page, `<url>; rel="next"`; absent on the last page.',
        "schema": {"type": "string"},
    },
    "Idempotent-Replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the"
        " same `Idempotency-Key` (nothing was created this time).",
        "schema": {"type": "string", "enum": ["true"]},
    },
}

IDEMPOTENCY_KEY: dict[str, Any] = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "description": (
        "Makes a retried POST safe (kept at least 24 hours, per user and route): the same key"
        " with the same body replays the first response with `Idempotent-Replayed: true` and"
        " creates nothing; the same key with another body is 422; while the first request is"
        " still in flight, 409."
    ),
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_KEY_LENGTH},
}


def install_openapi(app: FastAPI) -> None:
    """Serve the refined document at ``/openapi.json`` (and to ``ipcp-api openapi``)."""

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = refine(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def refine(doc: dict[str, Any]) -> dict[str, Any]:
    _exact_bounds(doc)
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    headers = components.setdefault("headers", {})
    headers.update({name: dict(spec) for name, spec in HEADERS.items()})
    for schema in schemas.values():
        _drop_impossible_defaults(schema)
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                _refine_operation(method, operation)
    for name in _FASTAPI_422:
        schemas.pop(name, None)
    for name in _input_schemas(doc):
        _nul_free(schemas[name])
    for name in _form_schemas(doc):
        _form_fields(schemas[name])
    return doc


def _form_schemas(doc: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            content = (
                operation.get("requestBody", {}).get("content", {}) if method in _METHODS else {}
            )
            for media_type, media in content.items():
                if media_type in FORM_TYPES:
                    names |= _refs(media.get("schema", {}))
    return names


def _form_fields(schema: dict[str, Any]) -> None:
    """A form field is text: never null, and an empty required one counts as missing (422)."""
    properties = schema.get("properties", {})
    for name, prop in list(properties.items()):
        prop = properties[name] = _without_null(prop)
        if name in schema.get("required", []) and prop.get("type") == "string":
            prop.setdefault("minLength", 1)


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"].rsplit("/", 1)[-1]} if isinstance(node.get("$ref"), str) else set()
        for value in node.values():
            found |= _refs(value)
        return found
    if isinstance(node, list):
        return set().union(*(_refs(item) for item in node)) if node else set()
    return set()


def _input_schemas(doc: dict[str, Any]) -> set[str]:
    """The component schemas that describe what clients send (bodies and parameters)."""
    schemas = doc["components"]["schemas"]
    pending: set[str] = set()
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                for parameter in operation.get("parameters", []):
                    _nul_free(parameter.get("schema", {}))
                for media in operation.get("requestBody", {}).get("content", {}).values():
                    _nul_free(media.get("schema", {}))
                    pending |= _refs(media.get("schema", {}))
    found: set[str] = set()
    while pending:
        name = pending.pop()
        if name in found or name not in schemas:
            continue
        found.add(name)
        pending |= _refs(schemas[name])
    return found


def _nul_free(schema: Any) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not {"pattern", "enum", "const", "format"} & set(schema):
        schema["pattern"] = NUL_FREE
    if schema.get("format") == "password" and "pattern" not in schema:
        schema["pattern"] = NUL_FREE
    for key in ("properties", "patternProperties"):
        for value in schema.get(key, {}).values():
            _nul_free(value)
    for key in ("items", "additionalProperties", "not"):
        _nul_free(schema.get(key))
    for key in ("anyOf", "oneOf", "allOf", "prefixItems"):
        for value in schema.get(key, []):
            _nul_free(value)


def _refine_operation(method: str, operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        if "schema" in parameter:
            parameter["schema"] = _without_null(parameter["schema"])
    protected = bool(operation.get("security"))
    if method == "post" and protected:
        names = {p.get("name", "").lower() for p in parameters}
        if IDEMPOTENCY_KEY["name"].lower() not in names:
            operation["parameters"] = [*parameters, dict(IDEMPOTENCY_KEY)]
    responses: dict[str, Any] = operation.get("responses", {})
    single = "304" in responses  # a GET of one resource
    for code, response in responses.items():
        status = int(code) if code.isdigit() else 0
        if status >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
        wanted = ["X-Request-ID"]
        if status == 401:
            wanted.append("WWW-Authenticate")
        if status in (429, 503):
            wanted.append("Retry-After")
        if status == 201:
            wanted += ["Location", "ETag"]
            if protected:
                wanted.append("Idempotent-Replayed")
        if (status in (200, 304) and single) or (status == 200 and method == "patch"):
            wanted.append("ETag")
        if status == 200 and method == "get" and _is_page(response):
            wanted.append("Link")
        declared = response.setdefault("headers", {})
        for name in wanted:
            declared.setdefault(name, {"$ref": f"#/components/headers/{name}"})
    operation["responses"] = dict(
        sorted(responses.items(), key=lambda kv: (not kv[0].isdigit(), kv[0]))
    )


def _is_page(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    return str(schema.get("$ref", "")).startswith("#/components/schemas/Page_")


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A parameter's schema without the ``null`` branch (and without ``default: null``)."""
    options = schema.get("anyOf")
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) != len(options):
            schema = {k: v for k, v in schema.items() if k != "anyOf"}
            if len(kept) == 1:
                schema = {**kept[0], **schema}
            else:
                schema["anyOf"] = kept
    if "default" in schema and schema["default"] is None:
        schema = {k: v for k, v in schema.items() if k != "default"}
    return schema


def _allows_null(schema: dict[str, Any]) -> bool:
    kind = schema.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    if schema.get("const", 0) is None or None in schema.get("enum", [0]):
        return True
    return any(_allows_null(option) for option in schema.get("anyOf", schema.get("oneOf", [])))


def _drop_impossible_defaults(schema: dict[str, Any]) -> None:
    for prop in schema.get("properties", {}).values():
        default_null = isinstance(prop, dict) and "default" in prop and prop["default"] is None
        if default_null and not _allows_null(prop):
            del prop["default"]


def _exact_bounds(node: Any) -> None:
    """Integral float bounds back to integers; ``float(MAX_BIGINT)`` back to ``MAX_BIGINT``."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _BOUNDS and isinstance(value, float) and value.is_integer():
                node[key] = MAX_BIGINT if value == float(MAX_BIGINT) else int(value)
            else:
                _exact_bounds(value)
    elif isinstance(node, list):
        for item in node:
            _exact_bounds(item)
