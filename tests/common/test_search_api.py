"""``q`` and ``missing_translation`` through the API, on every list with text."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.factories import Factory


async def _codes(client: httpx.AsyncClient, url: str, **params: Any) -> list[str]:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return sorted(item.get("code") or item["title"] for item in body["items"])


# The issue's table: what an Arabic speaker types, and what is stored.
ROWS = [
    ("البحريـن", "مملكة البحرين"),  # tatweel
    ("ٱلبحرين", "مملكة البحرين"),  # alef wasla
    ("امن", "الأَمْنُ البحري"),  # no hamza, no diacritics
    ("الامن", "الأَمْنُ البحري"),
    ("امن", "أمن الطاقة"),
    ("منظمه", "منظمة حلف شمال الأطلسي"),  # heh for teh marbuta
    ("مكافحة الارهاب", "التعاون في مكافحة الإرهاب"),  # hamza below
    ("2016", "برنامج ٢٠١٦"),  # Arabic-Indic digits
    ("cooperation", "Coopération politique"),  # Latin accents
    ("COOPÉRATION", "coopération"),
]


@pytest.mark.parametrize(("typed", "stored"), ROWS)
async def test_the_issue_table_on_projects(
    client: httpx.AsyncClient, factory: Factory, typed: str, stored: str
) -> None:
    programme = await factory.programme()
    await factory.project(programme_id=programme.id, code="HIT", title=stored)
    await factory.project(programme_id=programme.id, code="MISS", title="Exercise observation")
    assert await _codes(client, "/api/v1/projects", q=typed) == ["HIT"]


async def test_search_covers_code_texts_and_every_translation(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.partner(
        code="BHR",
        kind="country",
        name="Kingdom of Bahrain",
        translations={"fr": {"name": "Royaume de Bahreïn"}, "ar": {"name": "مملكة البحرين"}},
    )
    await factory.partner(code="KWT", kind="country", name="State of Kuwait")
    url = "/api/v1/partners"
    assert await _codes(client, url, q="bhr") == ["BHR"]
    assert await _codes(client, url, q="bahreïn") == ["BHR"]
    assert await _codes(client, url, q="bahrein") == ["BHR"]
    assert await _codes(client, url, q="البحرين") == ["BHR"]
    assert await _codes(client, url, q="ﺍﻟﺒﺤﺮﻳﻦ") == ["BHR"]  # presentation forms
    assert await _codes(client, url, q="kingdom") == ["BHR"]
    assert await _codes(client, url, q="state") == ["KWT"]
    # a substring never spans two texts of a row
    assert await _codes(client, url, q="Bahrain Royaume") == []


async def test_search_follows_translation_changes(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    fw = await factory.framework(code="ICI", name="Istanbul Cooperation Initiative")
    url = "/api/v1/frameworks"
    assert await _codes(client, url, q="إسطنبول") == []
    patched = await client.patch(
        f"{url}/{fw.id}", json={"translations": {"ar": {"name": "مبادرة إسطنبول للتعاون"}}}
    )
    assert patched.status_code == 200
    assert await _codes(client, url, q="اسطنبول") == ["ICI"]
    await client.patch(f"{url}/{fw.id}", json={"translations": {"ar": None}})
    assert await _codes(client, url, q="اسطنبول") == []


async def test_like_characters_are_literal(client: httpx.AsyncClient, factory: Factory) -> None:
    programme = await factory.programme()
    for code, title in [
        ("PCT", "100% done"),
        ("PCT2", "1000 done"),
        ("UND", "a_b"),
        ("UND2", "axb"),
        ("BSL", "back\\slash"),
        ("BSL2", "backslash"),
        ("QUO", "O'Brien's $1 report"),
    ]:
        await factory.project(programme_id=programme.id, code=code, title=title)
    url = "/api/v1/projects"
    assert await _codes(client, url, q="0%") == ["PCT"]
    assert await _codes(client, url, q="%") == ["PCT"]
    assert await _codes(client, url, q="a_b") == ["UND"]
    assert await _codes(client, url, q="_") == ["UND"]
    assert await _codes(client, url, q="k\\s") == ["BSL"]
    assert await _codes(client, url, q="\\") == ["BSL"]
    # q is written into the statement as a quoted literal: quotes and $n stay text
    assert await _codes(client, url, q="o'brien's $1") == ["QUO"]
    assert await _codes(client, url, q="'; DROP TABLE projects; --") == []
    assert await _codes(client, url, q="'") == ["QUO"]
    # the same through the trigram index (three letters or digits in a row)
    assert await _codes(client, url, q="100%") == ["PCT"]
    assert await _codes(client, url, q="back\\s") == ["BSL"]


async def test_short_and_long_terms_take_their_own_statements(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    """A term with no trigram is matched by a plain scan (its own statement shape), with the
    same results as the indexed LIKE for terms that have one."""
    from ipcp_api.common.search import shape

    assert shape("zz") == "short"
    assert shape("a b") == "short"
    assert shape("a_b") == "short"
    assert shape("١٢") == "short"
    assert shape("ab1") == ""
    assert shape("قرط") == ""
    programme = await factory.programme()
    await factory.project(programme_id=programme.id, code="Q1", title="Zanzibar_x")
    await factory.project(programme_id=programme.id, code="Q2", title="ZanzibarXx")
    url = "/api/v1/projects"
    assert await _codes(client, url, q="r_x") == ["Q1"]  # short: strpos
    assert await _codes(client, url, q="bar_x") == ["Q1"]  # LIKE: "_" escaped
    assert await _codes(client, url, q="zanzi") == ["Q1", "Q2"]
    assert await _codes(client, url, q="z") == ["Q1", "Q2"]


@pytest.mark.parametrize(
    "collection", ["frameworks", "partners", "pillars", "programmes", "projects", "milestones"]
)
async def test_bad_q_is_422(client: httpx.AsyncClient, collection: str) -> None:
    url = f"/api/v1/{collection}"
    for q in ["", "x" * 201, "\u0640\u0640", "\u064e", "a\x00"]:
        response = await client.get(url, params={"q": q})
        assert response.status_code == 422, (q, response.text)
        assert response.json()["errors"][0]["loc"] == ["query", "q"]
    assert (await client.get(url, params={"q": "x" * 200})).status_code == 200


async def test_milestones_take_q(client: httpx.AsyncClient, factory: Factory) -> None:
    project = await factory.project()
    await factory.milestone(
        project_id=project.id,
        title="Course curriculum agreed",
        translations={"ar": {"title": "الاتفاق على منهج الدورة"}},
    )
    await factory.milestone(project_id=project.id, title="Something else")
    assert await _codes(client, "/api/v1/milestones", q="منهج") == ["Course curriculum agreed"]


async def test_search_uses_the_trigram_index(session: AsyncSession) -> None:
    """The plan of a selective ``q`` on a table big enough to prefer an index."""
    await session.execute(text("SET LOCAL enable_seqscan = off"))
    plan = (
        await session.execute(
            text(
                "EXPLAIN SELECT id FROM projects WHERE search LIKE"
                " '%' || ipcp_fold('البحرين') || '%'"
            )
        )
    ).all()
    assert "ix_projects_search" in " ".join(row[0] for row in plan)


@pytest.mark.parametrize(
    ("collection", "make", "field"),
    [
        ("frameworks", "framework", "name"),
        ("partners", "partner", "name"),
        ("programmes", "programme", "title"),
        ("projects", "project", "title"),
        ("milestones", "milestone", "title"),
    ],
)
async def test_missing_translation(
    client: httpx.AsyncClient, factory: Factory, collection: str, make: str, field: str
) -> None:
    create = getattr(factory, make)
    full = await create(translations={"fr": {field: "fr"}, "ar": {field: "ar"}})
    no_ar = await create(translations={"fr": {field: "fr"}})
    in_ar = await create(lang="ar", translations={"en": {field: "en"}})
    url = f"/api/v1/{collection}"

    async def ids(lang: str) -> set[int]:
        response = await client.get(url, params={"missing_translation": lang, "limit": 200})
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    mine = {full.id, no_ar.id, in_ar.id}
    assert ids_subset(await ids("ar"), mine) == {no_ar.id}
    assert ids_subset(await ids("fr"), mine) == {in_ar.id}
    assert ids_subset(await ids("en"), mine) == set()
    for bad in ["de", "EN", "x", "english"]:
        response = await client.get(url, params={"missing_translation": bad})
        assert response.status_code == 422, bad
        assert response.json()["errors"][0]["loc"] == ["query", "missing_translation"]


def ids_subset(found: set[int], mine: set[int]) -> set[int]:
    return found & mine


async def test_missing_translation_counts_nullable_fields_only_when_set(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    without = await factory.framework(translations={"fr": {"name": "fr"}})
    with_description = await factory.framework(
        description="A description", translations={"fr": {"name": "fr"}}
    )
    response = await client.get("/api/v1/frameworks", params={"missing_translation": "fr"})
    found = {item["id"] for item in response.json()["items"]}
    assert with_description.id in found
    assert without.id not in found
