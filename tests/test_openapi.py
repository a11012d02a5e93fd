"""The OpenAPI document tells the truth (API.md "Operations"; .ci/fuzz.sh checks the wire).

Built once from a fresh app, without a database: the document is static.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ipcp_api.app import create_app
from ipcp_api.common.types import MAX_BIGINT
from ipcp_api.config import load_settings
from ipcp_api.problems import PROBLEM_TYPES

PROBLEM = {"$ref": "#/components/schemas/Problem"}
TOKEN = "/api/v1/auth/token"
METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    app = create_app(load_settings(secret_key="openapi-" + "x" * 40))
    return app.openapi()


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def walk(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_the_document_is_openapi_3_1(doc: dict[str, Any]) -> None:
    assert doc["openapi"].startswith("3.1.")
    assert len(list(operations(doc))) >= 40


def test_every_operation_has_a_summary_a_tag_and_a_unique_operation_id(
    doc: dict[str, Any],
) -> None:
    known_tags = {tag["name"] for tag in doc["tags"]}
    seen: dict[str, str] = {}
    for path, method, operation in operations(doc):
        label = f"{method.upper()} {path}"
        assert operation.get("summary", "").strip(), label
        assert operation.get("tags"), label
        assert set(operation["tags"]) <= known_tags, label
        operation_id = operation.get("operationId")
        assert operation_id, label
        assert operation_id not in seen, f"{label} and {seen.get(operation_id)}"
        assert re.fullmatch(r"[a-z]+(?:[A-Z][a-z0-9]*)*", operation_id), label
        seen[operation_id] = label
    # the names a front-end developer would have chosen (API.md, Operations)
    assert {
        "listProgrammes",
        "getProgramme",
        "createProgramme",
        "updateProgramme",
        "deleteProgramme",
        "getProgrammeReport",
        "getPartnerReport",
        "getPortfolioReport",
        "createToken",
        "getCurrentUser",
        "listAuditEvents",
        "getProblemType",
        "checkReadiness",
    } <= set(seen)


def test_client_facing_names(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert {"ProgrammePage", "ProjectPage", "MilestonePage", "TokenRequest"} <= set(schemas)
    assert not [name for name in schemas if name.startswith(("Page_", "Body_"))]
    listed = doc["paths"]["/api/v1/programmes"]["get"]["responses"]["200"]
    assert listed["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ProgrammePage"
    }
    assert "Link" in listed["headers"]
    headers = {
        p["name"]
        for _, _, operation in operations(doc)
        for p in operation.get("parameters", [])
        if p["in"] == "header"
    }
    assert headers == {"If-Match", "If-None-Match", "Idempotency-Key"}


def test_every_protected_operation_declares_401(doc: dict[str, Any]) -> None:
    for path, method, operation in operations(doc):
        if path.startswith("/api/v1/") and path != TOKEN:
            assert "401" in operation["responses"], f"{method.upper()} {path}"
            assert operation.get("security"), f"{method.upper()} {path}"
            headers = operation["responses"]["401"]["headers"]
            assert "WWW-Authenticate" in headers, f"{method.upper()} {path}"
    token = doc["paths"][TOKEN]["post"]
    assert not token.get("security")
    assert {"401", "413", "422", "429", "503"} <= set(token["responses"])


def test_every_error_response_is_problem_json_with_its_type_and_an_example(
    doc: dict[str, Any],
) -> None:
    checked = 0
    for path, method, operation in operations(doc):
        for code, response in operation["responses"].items():
            if int(code) >= 400:
                label = f"{method.upper()} {path} {code}"
                assert set(response["content"]) == {"application/problem+json"}, label
                media = response["content"]["application/problem+json"]
                assert media["schema"] == PROBLEM, label
                examples = media["examples"]
                assert examples, label
                for slug, example in examples.items():
                    value = example["value"]
                    assert value["type"] == f"/problems/{slug}", label
                    assert PROBLEM_TYPES[slug].status == value["status"] == int(code), label
                    assert value["title"], label
                    assert value["detail"], label
                    assert f"`/problems/{slug}`" in response["description"], label
                    if int(code) == 422:
                        assert value["errors"][0]["loc"], label
                checked += 1
    assert checked > 200
    # the kinds of 409 a front end tells apart
    by_method = {
        method: set(
            operation["responses"]["409"]["content"]["application/problem+json"]["examples"]
        )
        for method, operation in doc["paths"]["/api/v1/programmes/{programme_id}"].items()
        if "409" in operation["responses"]
    }
    assert by_method == {
        "patch": {"conflict-unique", "conflict-state", "conflict-in-flight"},
        "delete": {"conflict-children", "conflict-state"},
    }
    created = doc["paths"]["/api/v1/programmes"]["post"]["responses"]["409"]
    assert set(created["content"]["application/problem+json"]["examples"]) == {
        "conflict-unique",
        "conflict-in-flight",
    }
    not_found = doc["paths"]["/api/v1/programmes/{programme_id}/report"]["get"]["responses"]["404"]
    value = not_found["content"]["application/problem+json"]["examples"]["not-found"]["value"]
    assert value["detail"] == "programme 42 does not exist"
    problem = doc["components"]["schemas"]["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "detail"}
    assert problem["properties"]["errors"]["type"] == "array"  # absent, never null


def test_nothing_refers_to_fastapis_validation_error(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    refs = {node["$ref"] for node in walk(doc) if isinstance(node, dict) and "$ref" in node}
    assert not any("ValidationError" in ref for ref in refs)
    # and every reference resolves
    for ref in refs:
        _, section, kind, name = ref.split("/")
        assert name in doc[section][kind], ref


def test_errors_every_route_can_answer_are_declared(doc: dict[str, Any]) -> None:
    for path, method, operation in operations(doc):
        label = f"{method.upper()} {path}"
        responses = operation["responses"]
        if path.startswith("/api/v1/"):
            # unknown query parameters (422) and a database that does not answer (503)
            assert {"422", "503"} <= set(responses), label
        if "requestBody" in operation:
            assert "413" in responses, label
        if "{" in path and path != "/api/v1/users/me":
            assert "404" in responses, label
        if "If-Match" in {p["name"].title() for p in operation.get("parameters", [])}:
            assert "412" in responses, label
        if method == "delete":
            assert "409" in responses, label
        if path.endswith("/report") or path == "/api/v1/reports/portfolio":
            assert "406" in responses, label
            assert set(responses["200"]["content"]) == {"application/json", "text/csv"}
    assert "503" in doc["paths"]["/readyz"]["get"]["responses"]


def test_numeric_bounds_are_exact_integers(doc: dict[str, Any]) -> None:
    partner_id = doc["components"]["schemas"]["ProgrammeCreate"]["properties"]["partner_id"]
    # the bigint ceiling is int64, not a 19-digit maximum in the forms
    assert partner_id["format"] == "int64"
    assert "maximum" not in partner_id
    assert partner_id["minimum"] == 1
    assert MAX_BIGINT not in [node.get("maximum") for node in walk(doc) if isinstance(node, dict)]
    for node in walk(doc):
        if isinstance(node, dict):
            for key in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
                assert not isinstance(node.get(key), float), node


def test_parameters_never_admit_null(doc: dict[str, Any]) -> None:
    for path, method, operation in operations(doc):
        for parameter in operation.get("parameters", []):
            nulls = [
                node
                for node in walk(parameter["schema"])
                if isinstance(node, dict) and node.get("type") == "null"
            ]
            assert not nulls, f"{method.upper()} {path} {parameter['name']}"
            assert parameter["schema"].get("default", 0) is not None


def test_a_merge_patch_shows_null_only_where_it_clears(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    patch = schemas["FrameworkPatch"]["properties"]
    assert patch["code"]["type"] == "string"  # may be left out, not cleared
    assert "default" not in patch["code"]
    assert {"type": "null"} in patch["description"]["anyOf"]  # null clears it
    milestone = schemas["MilestonePatch"]["properties"]
    assert "anyOf" not in milestone["weight"]
    assert {"type": "null"} in milestone["completed_on"]["anyOf"]


def test_input_rules_are_in_the_document(doc: dict[str, Any]) -> None:
    schemas = doc["components"]["schemas"]
    assert schemas["FrameworkCreate"]["properties"]["code"]["pattern"] == r"^[A-Z0-9-]{2,16}$"
    assert schemas["PillarPatch"]["properties"]["code"]["pattern"] == r"^[a-z0-9-]{2,64}$"
    assert schemas["UserCreate"]["properties"]["username"]["pattern"] == r"^[a-z0-9._-]{3,64}$"
    assert schemas["ProjectCreate"]["properties"]["areas"]["uniqueItems"] is True
    assert schemas["ProgrammeCreate"]["properties"]["status"]["enum"] == ["draft"]
    # NUL is refused (422: see the resources' tests), but not shown as a pattern in the forms
    name = schemas["FrameworkCreate"]["properties"]["name"]
    assert "pattern" not in name
    params = {p["name"]: p for p in doc["paths"]["/api/v1/frameworks"]["get"]["parameters"]}
    assert params["sort"]["schema"]["enum"] == [
        "code",
        "-code",
        "name",
        "-name",
        "launched_on",
        "-launched_on",
    ]
    assert "pattern" not in params["q"]["schema"]
    assert "u0000" not in json.dumps(doc)


def test_no_optional_parameter_is_prefilled(doc: dict[str, Any]) -> None:
    """Swagger UI fills an input with a parameter's example or default, and sends it."""
    for path, method, operation in operations(doc):
        for parameter in operation.get("parameters", []):
            if parameter.get("required"):
                continue
            label = f"{method.upper()} {path} {parameter['name']}"
            assert "example" not in parameter, label
            assert "examples" not in parameter, label
            for key in ("example", "examples", "default"):
                assert key not in parameter["schema"], label
    listed = {p["name"]: p for p in doc["paths"]["/api/v1/programmes"]["get"]["parameters"]}
    assert "Default `50`" in listed["limit"]["description"]


def test_the_authorize_dialog_speaks_plainly(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert list(schemes) == ["signIn"]
    description = schemes["signIn"]["description"]
    assert "IPCP username and password" in description
    assert "Leave *client_id* and *client_secret* empty" in description
    for path, method, operation in operations(doc):
        assert operation["security"] in ([], [{"signIn": []}]), f"{method} {path}"


def test_headers_the_service_sends_are_declared(doc: dict[str, Any]) -> None:
    headers = doc["components"]["headers"]
    for path, method, operation in operations(doc):
        label = f"{method.upper()} {path}"
        for code, response in operation["responses"].items():
            assert "X-Request-ID" in response["headers"], f"{label} {code}"
            if code in ("429", "503"):
                assert "Retry-After" in response["headers"], f"{label} {code}"
        if method == "post" and operation.get("security"):
            names = [p["name"] for p in operation["parameters"]]
            assert "Idempotency-Key" in names, label
            if path.endswith("/commit"):  # an action on an existing import: 200
                assert "200" in operation["responses"], label
                continue
            created = operation["responses"]["201"]["headers"]
            assert {"Location", "ETag"} <= set(created), label
    assert headers["X-Request-ID"]["required"] is True
    framework = doc["paths"]["/api/v1/frameworks/{framework_id}"]
    assert "ETag" in framework["get"]["responses"]["200"]["headers"]
    assert "ETag" in framework["get"]["responses"]["304"]["headers"]
    assert "ETag" in framework["patch"]["responses"]["200"]["headers"]
    assert "Link" in doc["paths"]["/api/v1/frameworks"]["get"]["responses"]["200"]["headers"]


async def test_the_served_document_is_the_refined_one(anon: httpx.AsyncClient) -> None:
    response = await anon.get("/openapi.json")
    assert response.status_code == 200
    served = response.json()
    assert "HTTPValidationError" not in served["components"]["schemas"]
    assert "headers" in served["components"]


def test_descriptions_speak_to_a_liaison_officer(doc: dict[str, Any]) -> None:
    text = json.dumps(doc)
    assert "API.md" not in text
    assert "9223372036854775807" not in text
    report = doc["paths"]["/api/v1/programmes/{programme_id}/report"]["get"]
    assert "`0.3396` means 34 % done" in report["description"]
    for value in ("complete", "on_track", "behind", "late", "not_planned"):
        assert f"`{value}`" in doc["components"]["schemas"]["Schedule"]["description"]
        assert f"`{value}`" in report["description"]
    for path, method, operation in operations(doc):
        for parameter in operation.get("parameters", []):
            if parameter["in"] == "path" and parameter["name"].endswith("_id"):
                label = f"{method.upper()} {path} {parameter['name']}"
                assert "To find a " in parameter["description"], label
                assert "GET /api/v1/" in parameter["description"], label
    # ReDoc's sample answer is one consistent picture: half done, something overdue, behind
    summary = doc["components"]["schemas"]["Summary"]["properties"]
    assert summary["progress"]["examples"] == [0.5]
    assert summary["milestones_overdue"]["examples"] == [1]
    assert summary["schedule"]["examples"] == ["behind"]
    for path in (
        "/api/v1/programmes/{programme_id}/report",
        "/api/v1/partners/{partner_id}/report",
        "/api/v1/reports/portfolio",
    ):
        media = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        sample = media["example"]["summary"]
        assert sample["progress"] < 1, path
        assert sample["schedule"] != "complete", path


def test_the_ways_to_find_an_id_are_real_filters(doc: dict[str, Any]) -> None:
    hints = {
        match
        for node in walk(doc)
        if isinstance(node, dict) and isinstance(node.get("description"), str)
        for match in re.findall(r"`GET (/api/v1/[a-z-]+)\?([a-z_]+)=", node["description"])
    }
    assert len(hints) >= 6, hints
    for path, name in hints:
        names = {p["name"] for p in doc["paths"][path]["get"]["parameters"]}
        assert name in names, (path, name)
