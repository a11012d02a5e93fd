"""``lang`` and ``translations`` on every resource with human text (API.md, Languages)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ipcp_api.models import AuditEvent
from tests.factories import Factory

Body = Callable[[Factory], Awaitable[dict[str, Any]]]


async def _framework(_: Factory) -> dict[str, Any]:
    return {"code": "ICI", "name": "Istanbul Cooperation Initiative"}


async def _partner(_: Factory) -> dict[str, Any]:
    return {"code": "BHR", "kind": "country", "name": "Kingdom of Bahrain"}


async def _pillar(_: Factory) -> dict[str, Any]:
    return {"code": "capacity-building", "name": "Capacity building", "position": 4}


async def _programme(factory: Factory) -> dict[str, Any]:
    partner = await factory.partner()
    return {
        "partner_id": partner.id,
        "code": "BHR-IPCP-2016",
        "title": "Bahrain IPCP",
        "starts_on": "2016-06-01",
        "ends_on": "2018-06-30",
    }


async def _project(factory: Factory) -> dict[str, Any]:
    programme = await factory.programme()
    pillar = await factory.pillar()
    return {
        "programme_id": programme.id,
        "pillar_id": pillar.id,
        "code": "CT-1",
        "title": "Counter-terrorism course",
        "starts_on": "2016-09-01",
        "ends_on": "2017-06-30",
    }


async def _milestone(factory: Factory) -> dict[str, Any]:
    project = await factory.project()
    return {
        "project_id": project.id,
        "title": "Curriculum agreed",
        "due_on": project.starts_on.isoformat(),
    }


# collection, body, the main translatable field and its maximum length, a nullable one
RESOURCES: list[tuple[str, Body, str, int, str | None]] = [
    ("frameworks", _framework, "name", 200, "description"),
    ("partners", _partner, "name", 200, None),
    ("pillars", _pillar, "name", 200, "description"),
    ("programmes", _programme, "title", 300, "description"),
    ("projects", _project, "title", 300, "description"),
    ("milestones", _milestone, "title", 300, None),
]
IDS = [r[0] for r in RESOURCES]
PARAMS = ("collection", "body", "field", "max_length", "nullable")


def _locs(response: httpx.Response) -> list[list[Any]]:
    assert response.status_code == 422, response.text
    return [e["loc"] for e in response.json()["errors"]]


@pytest.mark.parametrize(
    ("collection", "body", "field", "max_length", "nullable"), RESOURCES, ids=IDS
)
async def test_create_read_patch_and_audit(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    collection: str,
    body: Body,
    field: str,
    max_length: int,
    nullable: str | None,
) -> None:
    url = f"/api/v1/{collection}"
    data = await body(factory)
    plain = await client.post(url, json=data)
    assert plain.status_code == 201, plain.text
    assert plain.json()["lang"] == "en"
    assert plain.json()["translations"] == {}
    assert (await client.delete(f"{url}/{plain.json()['id']}")).status_code == 204

    translations = {"fr": {field: "Texte français"}, "ar": {field: "نص عربي"}}
    created = await client.post(url, json=data | {"translations": translations})
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["lang"] == "en"
    assert item["translations"] == translations
    location = created.headers["location"]
    assert (await client.get(location)).json() == item

    # merge patch inside translations: set one, keep the rest
    patched = await client.patch(location, json={"translations": {"ar": {field: "نص جديد"}}})
    assert patched.status_code == 200, patched.text
    assert patched.json()["translations"] == {
        "fr": {field: "Texte français"},
        "ar": {field: "نص جديد"},
    }
    assert patched.json()["version"] == 2
    # {"fr": {}} changes nothing (same version)
    same = await client.patch(location, json={"translations": {"fr": {}}})
    assert same.status_code == 200
    assert same.json()["version"] == 2
    # removing the last field of a language removes the language
    removed = await client.patch(location, json={"translations": {"fr": {field: None}}})
    assert removed.json()["translations"] == {"ar": {field: "نص جديد"}}
    # lang may not move onto a language that has a translation...
    clash = await client.patch(location, json={"lang": "ar"})
    assert _locs(clash) == [["body", "lang"]]
    # ...unless it is removed (or moved) in the same PATCH
    moved = await client.patch(
        location,
        json={
            "lang": "ar",
            field: "نص جديد",
            "translations": {"ar": None, "en": {field: "English"}},
        },
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["lang"] == "ar"
    assert moved.json()["translations"] == {"en": {field: "English"}}
    # a language set to null removes all of it
    cleared = await client.patch(location, json={"translations": {"en": None}})
    assert cleared.json()["translations"] == {}

    if nullable is not None:
        # a field whose own value is null may still have translations
        kept = await client.patch(
            location, json={nullable: None, "translations": {"fr": {nullable: "Description"}}}
        )
        assert kept.status_code == 200, kept.text
        assert kept.json()[nullable] is None
        assert kept.json()["translations"] == {"fr": {nullable: "Description"}}

    events = (
        await session.scalars(
            select(AuditEvent)
            .where(AuditEvent.entity == collection, AuditEvent.entity_id == item["id"])
            .order_by(AuditEvent.id)
        )
    ).all()
    assert events[0].changes["translations"] == [None, translations]
    assert events[0].changes["lang"] == [None, "en"]
    assert events[1].changes == {
        "translations": [translations, {"fr": {field: "Texte français"}, "ar": {field: "نص جديد"}}]
    }
    assert events[3].changes["lang"] == ["en", "ar"]


@pytest.mark.parametrize(
    ("collection", "body", "field", "max_length", "nullable"), RESOURCES, ids=IDS
)
async def test_bad_translations_are_422_naming_them(
    client: httpx.AsyncClient,
    factory: Factory,
    session: AsyncSession,
    collection: str,
    body: Body,
    field: str,
    max_length: int,
    nullable: str | None,
) -> None:
    url = f"/api/v1/{collection}"
    data = await body(factory)
    cases: list[tuple[Any, list[Any]]] = [
        ({"de": {field: "Deutsch"}}, ["body", "translations", "de"]),
        ({"en": {field: "English"}}, ["body", "translations", "en"]),
        ({"fr": {}}, ["body", "translations", "fr"]),
        ({"fr": {"code": "X"}}, ["body", "translations", "fr", "code"]),
        ({"fr": {"weight": 3}}, ["body", "translations", "fr", "weight"]),
        ({"fr": {field: "x" * (max_length + 1)}}, ["body", "translations", "fr", field]),
        ({"fr": {field: ""}}, ["body", "translations", "fr", field]),
        ({"fr": {field: "a\u0000b"}}, ["body", "translations", "fr", field]),
        ({"fr": {field: 5}}, ["body", "translations", "fr", field]),
        ({"fr": {field: None}}, ["body", "translations", "fr", field]),
        ({"fr": None}, ["body", "translations", "fr"]),
        ({"fr": "texte"}, ["body", "translations", "fr"]),
        (["fr"], ["body", "translations"]),
    ]
    for translations, loc in cases:
        response = await client.post(url, json=data | {"translations": translations})
        assert loc in _locs(response), (translations, response.text)
    assert _locs(await client.post(url, json=data | {"lang": "de"})) == [["body", "lang"]]
    assert _locs(await client.post(url, json=data | {"lang": None})) == [["body", "lang"]]

    created = await client.post(url, json=data | {"translations": {"fr": {field: "Texte"}}})
    assert created.status_code == 201, created.text
    location = created.headers["location"]
    for translations, loc in [
        ({"de": {field: "Deutsch"}}, ["body", "translations", "de"]),
        ({"en": {field: "English"}}, ["body", "translations", "en"]),
        ({"fr": {"code": "X"}}, ["body", "translations", "fr", "code"]),
        ({"fr": {field: "x" * (max_length + 1)}}, ["body", "translations", "fr", field]),
        ({"ar": {field: "\u0000"}}, ["body", "translations", "ar", field]),
    ]:
        response = await client.patch(location, json={"translations": translations})
        assert loc in _locs(response), (translations, response.text)
    assert _locs(await client.patch(location, json={"lang": "fr"})) == [["body", "lang"]]
    assert _locs(await client.patch(location, json={"lang": None})) == [["body", "lang"]]
    after = (await client.get(location)).json()
    assert after == created.json()  # nothing changed
    events = await session.scalars(
        select(AuditEvent.id).where(
            AuditEvent.entity == collection, AuditEvent.entity_id == after["id"]
        )
    )
    assert len(events.all()) == 1  # the create only


async def test_translations_null_removes_every_translation(client: httpx.AsyncClient) -> None:
    created = await client.post(
        "/api/v1/frameworks",
        json={
            "code": "MD",
            "name": "Mediterranean Dialogue",
            "translations": {
                "fr": {"name": "Dialogue méditerranéen"},
                "ar": {"name": "الحوار المتوسطي"},
            },
        },
    )
    patched = await client.patch(created.headers["location"], json={"translations": None})
    assert patched.status_code == 200
    assert patched.json()["translations"] == {}


async def test_database_refuses_a_translation_in_the_own_language(
    session: AsyncSession, factory: Factory
) -> None:
    from sqlalchemy.exc import IntegrityError

    framework = await factory.framework(lang="fr", translations={"en": {"name": "x"}})
    assert framework.id
    framework.translations = {"fr": {"name": "x"}}
    with pytest.raises(IntegrityError, match="frameworks_translations_check"):
        await session.flush()


async def test_openapi_documents_lang_and_translations(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for name in ("Framework", "Partner", "Pillar", "Programme", "Project", "Milestone"):
        create = schemas[f"{name}Create"]["properties"]
        assert {"lang", "translations"} <= set(create), name
        assert "propertyNames" in create["translations"]
        assert f"{name}Translation" in schemas
        example = schemas[f"{name}Create"]["examples"][0]
        assert example["lang"] == "en"
        assert set(example["translations"]) == {"fr", "ar"}, name
        read = schemas[f"{name}Read"]["properties"]
        assert {"lang", "translations"} <= set(read), name
