"""The OpenAPI document, made to tell the truth about what goes over the wire.

FastAPI's generator gets a few things wrong for this API, so the document it builds is
refined once, the first time it is asked for:

- every error response (4xx/5xx) is ``application/problem+json`` with the ``Problem`` schema
  (never FastAPI's ``HTTPValidationError``, never ``application/json``);
- numeric bounds are exact integers (FastAPI's OpenAPI models turn them into floats, and
  ``float(2**63 - 1)`` is ``2**63``: one past the largest id the database holds);
- query, header and path parameters never admit ``null`` (a query string cannot carry it),
  nor do form fields; a required form field is not empty (FastAPI takes "" as missing);
- the document shows what a person filling a form needs, not the database's limits: an
  integer bounded by PostgreSQL's bigint is ``format: int64`` (no ``maximum`` of
  9223372036854775807), and the "no NUL character" rule (API.md: 422) is checked but not
  shown as a pattern (``.ci/fuzz.sh`` generates no NUL, ``allow-x00 = false``);
- optional parameters carry no example or default (Swagger UI would pre-fill and send them);
- a ``default: null`` that the property's own schema does not allow is dropped (in a merge
  patch an absent field means "unchanged", not ``null``);
- POST operations behind a token declare the ``Idempotency-Key`` header they honour (and
  ``Idempotent-Replayed`` on their 201);
- responses declare the headers the service always sends: ``X-Request-ID`` on every one,
  ``WWW-Authenticate`` on 401, ``Retry-After`` on 429 and 503, ``Location`` and ``ETag`` on
  201, ``ETag`` on a single resource (200 and 304) and after a PATCH, ``Link`` on lists.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

from ipcp_api.common.idempotency import MAX_KEY_LENGTH
from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.errors import PROBLEM_JSON
from ipcp_api.problems import INTERNAL, PROBLEM_TYPES, ProblemType

PROBLEM_REF = "#/components/schemas/Problem"
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


# Route functions whose name is not the method name a client wants (the rest are camel-cased
# as they are: ``list_programmes`` -> ``listProgrammes``).
_OPERATION_IDS = {
    "healthz": "checkLiveness",
    "readyz": "checkReadiness",
    "token": "createToken",
    "programme_report": "getProgrammeReport",
    "partner_report": "getPartnerReport",
    "portfolio_report": "getPortfolioReport",
    "get_me": "getCurrentUser",
}


def operation_id(route: APIRoute) -> str:
    """The operationId of a route, in lower camel case: a generated client's method name.

    ``generate_unique_id_function`` of the app (so it also names FastAPI's generated body
    schemas). Unique across the document: tests/test_openapi.py checks.
    """
    name = _OPERATION_IDS.get(route.name, route.name)
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def install_openapi(app: FastAPI) -> None:
    """Serve the refined document at ``/openapi.json`` (and to ``ipcp-api openapi``)."""

    def openapi() -> dict[str, Any]:
        if not app.openapi_schema:
            app.openapi_schema = refine(FastAPI.openapi(app))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def refine(doc: dict[str, Any]) -> dict[str, Any]:
    _exact_bounds(doc)
    # Paths are relative to the host that serves this document (and its root path, which
    # FastAPI lists first when there is one); linters ask for the list to be present.
    doc.setdefault("servers", [{"url": "/", "description": "The server of this document"}])
    doc["info"].setdefault("license", {"name": "Apache-2.0", "identifier": "Apache-2.0"})
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    headers = components.setdefault("headers", {})
    headers.update({name: dict(spec) for name, spec in HEADERS.items()})
    for schema in schemas.values():
        _drop_impossible_defaults(schema)
    for path, item in doc.get("paths", {}).items():
        for method, operation in item.items():
            if method in _METHODS:
                _refine_operation(method, operation)
                _problem_examples(path, method, operation, schemas)
                # open endpoints say so (an empty list), as linters ask
                operation.setdefault("security", [])
    for name in _FASTAPI_422:
        schemas.pop(name, None)
    for name in _form_schemas(doc):
        _form_fields(schemas[name])
    _client_names(doc)
    _sign_in(doc)
    _plain_words(doc)
    if "Problem" in schemas:
        # a generated client can switch on the kind (problems.py has the list)
        kinds = [kind.type for kind in PROBLEM_TYPES.values()]
        schemas["Problem"]["properties"]["type"]["enum"] = [*kinds, INTERNAL]
    return doc


SIGN_IN = "signIn"
SIGN_IN_DESCRIPTION = (
    "**Sign in with your IPCP username and password** — the ones you were given for this"
    " service. Leave *client_id* and *client_secret* empty. Then press **Authorize**, and"
    " **Close**: every request you try from this page is sent as you, and shows only what"
    " you may see."
)


def _sign_in(doc: dict[str, Any]) -> None:
    """One security scheme, named and described in plain words (the *Authorize* dialog)."""
    schemes: dict[str, Any] = doc["components"].get("securitySchemes", {})
    renamed = {old: SIGN_IN for old in schemes if old != SIGN_IN}
    for old, new in renamed.items():
        schemes[new] = schemes.pop(old)
    if SIGN_IN in schemes:
        schemes[SIGN_IN]["description"] = SIGN_IN_DESCRIPTION
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method in _METHODS:
                operation["security"] = [
                    {renamed.get(name, name): scopes for name, scopes in requirement.items()}
                    for requirement in operation.get("security", [])
                ]


# Schemas FastAPI names after Python's generics or its own body wrappers, renamed for the
# people who read generated clients: ``Page_ProgrammeRead_`` -> ``ProgrammePage``.
_SCHEMA_NAMES = {"Body_createToken": "TokenRequest"}
_GENERIC_PAGE = re.compile(r"^Page_([A-Za-z0-9]+?)(?:Read)?_$")


def _client_names(doc: dict[str, Any]) -> None:
    schemas: dict[str, Any] = doc["components"]["schemas"]
    renames: dict[str, str] = {}
    for name in schemas:
        page = _GENERIC_PAGE.match(name)
        new = _SCHEMA_NAMES.get(name) or (f"{page.group(1)}Page" if page else None)
        if new and new not in schemas:
            renames[name] = new
    if not renames:
        return
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)
        schemas[new]["title"] = new
    doc["components"]["schemas"] = dict(sorted(schemas.items()))
    old_refs = {
        f"#/components/schemas/{old}": f"#/components/schemas/{new}" for old, new in renames.items()
    }

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref in old_refs:
                node["$ref"] = old_refs[ref]
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for item in node:
                visit(item)

    visit(doc)


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


def _refine_operation(method: str, operation: dict[str, Any]) -> None:
    parameters = operation.get("parameters", [])
    for parameter in parameters:
        if "schema" in parameter:
            parameter["schema"] = _without_null(parameter["schema"])
        if not parameter.get("required"):
            _nothing_prefilled(parameter)
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


def _nothing_prefilled(parameter: dict[str, Any]) -> None:
    """Swagger UI fills a parameter's input with its example or default, and sends it: an
    untouched form would filter (``active_on=2017-06-30``). An optional parameter shows
    neither; its description says what leaving it out means."""
    parameter.pop("example", None)
    parameter.pop("examples", None)
    schema = parameter.get("schema", {})
    schema.pop("example", None)
    schema.pop("examples", None)
    if "default" in schema:
        default = schema.pop("default")
        description = parameter.get("description", "")
        if "efault" not in description:
            value = str(default).lower() if isinstance(default, bool) else default
            parameter["description"] = f"{description} Default `{value}`.".strip()


def _is_page(response: dict[str, Any]) -> bool:
    schema = response.get("content", {}).get("application/json", {}).get("schema", {})
    ref = str(schema.get("$ref", ""))
    return ref.startswith("#/components/schemas/Page_") or ref.endswith("Page")


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
    """Integral float bounds back to integers; the bigint ceiling becomes ``format: int64``."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if key in _BOUNDS and isinstance(value, float) and value.is_integer():
                node[key] = MAX_BIGINT if value == float(MAX_BIGINT) else int(value)
            else:
                _exact_bounds(value)
        if node.get("maximum") == MAX_BIGINT and node.get("type") == "integer":
            del node["maximum"]
            node.setdefault("format", "int64")
    elif isinstance(node, list):
        for item in node:
            _exact_bounds(item)


# --- problem types and an example for each error response ---------------------------------

# The kinds of 409 each method can meet (problems.py has the list and their meaning).
_CONFLICTS = {
    "post": ("conflict-unique", "conflict-in-flight"),
    "patch": ("conflict-unique", "conflict-state", "conflict-in-flight"),
    "delete": ("conflict-children", "conflict-state"),
}


def _subject(path: str) -> str:
    """``/api/v1/programmes/{programme_id}/report`` -> ``programme`` (for an example)."""
    ids = [part[1:-4] for part in path.split("/") if part.startswith("{") and part.endswith("_id}")]
    return ids[-1].replace("_", " ") if ids else "resource"


def _body_properties(operation: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    for media in operation.get("requestBody", {}).get("content", {}).values():
        ref = str(media.get("schema", {}).get("$ref", ""))
        schema = schemas.get(ref.rsplit("/", 1)[-1], {}) if ref else media.get("schema", {})
        properties: dict[str, Any] = schema.get("properties", {})
        if properties:
            return properties
    return {}


def _validation_example(
    path: str, operation: dict[str, Any], schemas: dict[str, Any]
) -> tuple[list[Any], str]:
    if "requestBody" in operation:
        form = set(operation["requestBody"].get("content", {})) & set(FORM_TYPES)
        if form:
            return ["body", "password"], "password is required (a form field)"
        properties = _body_properties(operation, schemas)
        for name, prop in properties.items():
            options = [prop, *prop.get("anyOf", [])]
            for option in options:
                if option.get("type") == "string" and option.get("minLength") == 1:
                    return ["body", name], "String should have at least 1 character"
        required = [
            name
            for media in operation["requestBody"].get("content", {}).values()
            for name in schemas.get(
                str(media.get("schema", {}).get("$ref", "")).rsplit("/", 1)[-1], {}
            ).get("required", [])
        ]
        return (["body", required[0]] if required else ["body"]), "Field required"
    names = {p["name"]: p["in"] for p in operation.get("parameters", []) if p.get("in") == "query"}
    if "limit" in names:
        return ["query", "limit"], "Input should be less than or equal to 200"
    if "as_of" in names:
        return ["query", "as_of"], "must be a date in the form YYYY-MM-DD"
    if "{" in path:
        name = path.rsplit("{", 1)[1].split("}", 1)[0]
        return [
            "path",
            name,
        ], "Input should be a valid integer, unable to parse string as an integer"
    return ["query", "colour"], "unknown query parameter"


def _example_value(
    kind: ProblemType, path: str, operation: dict[str, Any], schemas: dict[str, Any]
) -> dict[str, Any]:
    detail = kind.example
    value: dict[str, Any] = {"type": kind.type, "title": kind.title, "status": kind.status}
    if kind.slug == "not-found":
        detail = f"{_subject(path)} 42 does not exist"
    if kind.slug == "unauthorized" and "security" in operation:
        detail = "invalid or expired token"
    if kind.slug == "validation":
        loc, msg = _validation_example(path, operation, schemas)
        detail = f"{'.'.join(str(part) for part in loc)}: {msg}"
        value.update(detail=detail, errors=[{"loc": loc, "msg": msg}])
        return value
    if kind.slug == "conflict-unique":
        field = _unique_field(operation, schemas) or "code"
        detail = f"{field}: this value is already taken"
        value.update(detail=detail, errors=[{"loc": ["body", field], "msg": detail}])
        return value
    value["detail"] = detail
    return value


# Fields that are unique keys of some resource (a clash is conflict-unique).
_UNIQUE_FIELDS = ("code", "username", "ref")


def _unique_field(operation: dict[str, Any], schemas: dict[str, Any]) -> str | None:
    properties = _body_properties(operation, schemas)
    return next((name for name in _UNIQUE_FIELDS if name in properties), None)


def _problem_examples(
    path: str, method: str, operation: dict[str, Any], schemas: dict[str, Any]
) -> None:
    """Every error response names its problem type(s) and shows an example of each."""
    for code, response in operation.get("responses", {}).items():
        status = int(code) if code.isdigit() else 0
        if status < 400:
            continue
        kinds = [kind for kind in PROBLEM_TYPES.values() if kind.status == status]
        if status == 409:
            wanted = _CONFLICTS.get(method, ("conflict-state",))
            if _unique_field(operation, schemas) is None:
                wanted = tuple(slug for slug in wanted if slug != "conflict-unique")
            kinds = [kind for kind in kinds if kind.slug in wanted]
        if not kinds:
            continue
        media = response["content"][PROBLEM_JSON]
        media["examples"] = {
            kind.slug: {
                "summary": f"type {kind.type}",
                "value": _example_value(kind, path, operation, schemas),
            }
            for kind in kinds
        }
        types = ", ".join(f"`{kind.type}`" for kind in kinds)
        description = response.get("description", "")
        if "Problem type" not in description:
            response["description"] = f"{description} Problem type: {types}.".strip()


# --- descriptions a liaison officer can read ----------------------------------------------

# How a person who knows a code finds an id (the ``code=`` filter of each collection).
_FIND_ID = {
    "framework_id": ("framework", "from its code: `GET /api/v1/frameworks?code=ICI`"),
    "partner_id": ("partner", "from its code: `GET /api/v1/partners?code=BHR`"),
    "pillar_id": ("pillar", "from its code: `GET /api/v1/pillars?code=political-diplomatic`"),
    "programme_id": ("programme", "from its code: `GET /api/v1/programmes?code=BHR-IPCP-2016`"),
    "project_id": ("project", "from its code: `GET /api/v1/projects?code=PD-01`"),
    "milestone_id": (
        "milestone",
        "from its project: `GET /api/v1/milestones?project_id=<the project's id>`, or from"
        " its ref: `GET /api/v1/milestones?ref=M1`",
    ),
    "import_id": (
        "spreadsheet import",
        "in the answer to its upload (`id`, and the `Location` header), then"
        " `GET /api/v1/imports/<id>`",
    ),
    "user_id": ("user", "from the username: `GET /api/v1/users?q=bahrain`"),
    "baseline_id": (
        "baseline",
        "from its programme: `GET /api/v1/programmes/<the programme's id>/baselines`",
    ),
    "committee_id": ("committee", "from its code: `GET /api/v1/committees?code=PCSC`"),
    "review_id": (
        "review",
        "from its programme: `GET /api/v1/reviews?programme_id=<the programme's id>`",
    ),
    "decision_id": (
        "decision",
        "from its review: `GET /api/v1/decisions?review_id=<the review's id>`",
    ),
    "action_item_id": (
        "follow-up action item",
        "from its review: `GET /api/v1/action-items?review_id=<the review's id>`",
    ),
}

_ENUMS = {
    "Schedule": (
        "Where a set of milestones stands against its plan, as of the report's date:"
        " `complete` — every milestone that counts is done;"
        " `on_track` — nothing is overdue (some work may still be ahead);"
        " `behind` — at least one milestone is overdue, none by more than 30 days;"
        " `late` — at least one milestone is overdue by more than 30 days;"
        " `not_planned` — no milestone counts yet (none, or all cancelled), so there are no"
        " figures."
    ),
    "ProgrammeStatus": (
        "Where the programme is in its life: `draft` (being written) → `submitted` (sent for"
        " review; may go back to `draft`) → `approved` → `active` → `completed`; `cancelled`"
        " from any status but `completed`."
    ),
    "ProjectStatus": "`planned`, `in_progress`, `on_hold`, `completed` or `cancelled` (a"
    " cancelled project's milestones no longer count in the figures).",
    "MilestoneState": "`pending` (not done yet), `done` (give `completed_on`) or `cancelled`"
    " (no longer counts in the figures).",
}


def _plain_words(doc: dict[str, Any]) -> None:
    for item in doc.get("paths", {}).values():
        for method, operation in item.items():
            if method not in _METHODS:
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("name") == "cursor" and parameter.get("in") == "query":
                    # opaque: its inner shape is the server's business (a forged one is 422)
                    parameter.get("schema", {}).pop("pattern", None)
                    parameter["description"] = (
                        "To read the next page: the `next_cursor` of the page before. Leave it"
                        " empty for the first page."
                    )
                found = _FIND_ID.get(parameter.get("name", ""))
                if found is None:
                    continue
                what, how = found
                hint = f"To find a {what}'s id {how}."
                if parameter["in"] == "path":
                    parameter["description"] = f"The {what}'s id (a number). {hint}"
                elif hint not in parameter.get("description", ""):
                    parameter["description"] = f"{parameter.get('description', '')} {hint}".strip()
                parameter.get("schema", {}).pop("description", None)
    schemas = doc["components"]["schemas"]
    for name, description in _ENUMS.items():
        if name in schemas:
            schemas[name]["description"] = description
