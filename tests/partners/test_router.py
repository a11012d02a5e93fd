from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ipcp_api.models import AuditEvent, FrameworkMembership, Partner

URL = "/api/v1/partners"
BAHRAIN_AR = "مملكة البحرين"


async def _state(session: Any) -> tuple[int, int, list[tuple[Any, ...]]]:
    """Partners, memberships and every partner row: to prove a bad request changed nothing."""
    partners = await session.scalar(select(func.count()).select_from(Partner))
    memberships = await session.scalar(select(func.count()).select_from(FrameworkMembership))
    rows = (
        await session.execute(
            select(Partner.id, Partner.code, Partner.kind, Partner.name, Partner.version).order_by(
                Partner.id
            )
        )
    ).all()
    return partners, memberships, [tuple(r) for r in rows]


async def _events(session: Any, partner_id: int) -> list[AuditEvent]:
    return list(
        (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "partners", AuditEvent.entity_id == partner_id)
                .order_by(AuditEvent.id)
            )
        ).all()
    )


# --- create and read --------------------------------------------------------------------------


async def test_create_get_list_with_memberships(
    client: httpx.AsyncClient, factory, session
) -> None:
    ici = await factory.framework(code="ICI", name="Istanbul Cooperation Initiative")
    md = await factory.framework(code="MD", name="Mediterranean Dialogue")
    body = {
        "code": "BHR",
        "kind": "country",
        "name": BAHRAIN_AR,
        # sent out of order: the response lists them by framework_id
        "memberships": [
            {"framework_id": md.id, "joined_on": None, "note": None},
            {"framework_id": ici.id, "joined_on": "2004-12-01", "note": "date per NATO fact sheet"},
        ],
    }
    created = await client.post(URL, json=body)
    assert created.status_code == 201, created.text
    data = created.json()
    assert created.headers["location"] == f"{URL}/{data['id']}"
    assert created.headers["etag"] == '"1"'
    assert data["version"] == 1
    assert data["name"] == BAHRAIN_AR
    assert data["kind"] == "country"
    assert data["memberships"] == [
        {"framework_id": ici.id, "joined_on": "2004-12-01", "note": "date per NATO fact sheet"},
        {"framework_id": md.id, "joined_on": None, "note": None},
    ]
    got = await client.get(created.headers["location"])
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json() == data
    listed = (await client.get(URL)).json()
    assert listed["total"] == 1
    assert listed["items"] == [data]
    [event] = await _events(session, data["id"])
    assert event.action == "create"
    assert event.changes == {
        "code": [None, "BHR"],
        "kind": [None, "country"],
        "name": [None, BAHRAIN_AR],
        "memberships": [
            None,
            [
                {
                    "framework_id": ici.id,
                    "joined_on": "2004-12-01",
                    "note": "date per NATO fact sheet",
                },
                {"framework_id": md.id, "joined_on": None, "note": None},
            ],
        ],
        "lang": [None, "en"],
        "translations": [None, {}],
    }


async def test_memberships_default_to_empty_and_fields_to_null(
    client: httpx.AsyncClient, factory
) -> None:
    fw = await factory.framework()
    response = await client.post(URL, json={"code": "NATO-PA", "kind": "organisation", "name": "x"})
    assert response.status_code == 201, response.text
    assert response.json()["memberships"] == []
    response = await client.post(
        URL,
        json={
            "code": "QAT",
            "kind": "country",
            "name": "Qatar",
            "memberships": [{"framework_id": fw.id}],
        },
    )
    assert response.status_code == 201, response.text
    assert response.json()["memberships"] == [
        {"framework_id": fw.id, "joined_on": None, "note": None}
    ]


async def test_arabic_name_round_trips_and_q_finds_it(client: httpx.AsyncClient, factory) -> None:
    await factory.partner(kind="country", code="KWT", name="State of Kuwait")
    created = await client.post(URL, json={"code": "BHR", "kind": "country", "name": BAHRAIN_AR})
    assert created.status_code == 201
    assert created.json()["name"] == BAHRAIN_AR
    assert (await client.get(created.headers["location"])).json()["name"] == BAHRAIN_AR
    found = (await client.get(URL, params={"q": "البحرين"})).json()
    assert found["total"] == 1
    assert [p["name"] for p in found["items"]] == [BAHRAIN_AR]
    # q searches code and name, case-insensitively
    assert [p["code"] for p in (await client.get(URL, params={"q": "bhr"})).json()["items"]] == [
        "BHR"
    ]
    assert [p["code"] for p in (await client.get(URL, params={"q": "kuWAIT"})).json()["items"]] == [
        "KWT"
    ]
    assert (await client.get(URL, params={"q": "%"})).json()["total"] == 0


async def test_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{URL}/999999")).status_code == 404
    assert (await client.get(f"{URL}/99999999999999999999999")).status_code == 404
    assert (await client.get(f"{URL}/0")).status_code == 404
    assert (await client.get(f"{URL}/abc")).status_code == 422
    assert (await client.patch(f"{URL}/999999", json={"name": "x"})).status_code == 404
    assert (await client.delete(f"{URL}/999999")).status_code == 404


# --- the code rule ----------------------------------------------------------------------------


async def test_real_country_codes_are_accepted(client: httpx.AsyncClient) -> None:
    for code in ("BHR", "ARE", "KWT", "QAT", "JOR", "ISR", "EGY", "MAR"):
        response = await client.post(URL, json={"code": code, "kind": "country", "name": code})
        assert response.status_code == 201, response.text


async def test_bad_codes_are_422(client: httpx.AsyncClient, session) -> None:
    before = await _state(session)
    for code, kind in (
        ("XXX", "country"),  # the right shape, but not a country
        ("ZZZ", "country"),
        ("BH", "country"),  # alpha-2
        ("048", "country"),  # numeric
        ("BAHR", "country"),
        ("B-R", "country"),
        ("bhr", "country"),  # lowercase
        ("N", "organisation"),
        ("NATO_PA", "organisation"),
        ("nato", "organisation"),
        ("A" * 17, "organisation"),
        ("", "organisation"),
    ):
        response = await client.post(URL, json={"code": code, "kind": kind, "name": "x"})
        assert response.status_code == 422, (code, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == ["body", "code"], code
    assert await _state(session) == before


async def test_organisation_may_use_a_code_shaped_like_a_country(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(URL, json={"code": "XXX", "kind": "organisation", "name": "x"})
    assert response.status_code == 201


# --- other bad input --------------------------------------------------------------------------


async def test_invalid_bodies(client: httpx.AsyncClient, factory, session) -> None:
    fw = await factory.framework()
    await factory.partner(kind="country", code="BHR", name="Bahrain")
    good = {"code": "KWT", "kind": "country", "name": "Kuwait"}
    cases: list[dict[str, Any]] = [
        {**good, "kind": "state"},
        {**good, "kind": None},
        {**good, "kind": 1},
        {"code": "KWT", "name": "Kuwait"},
        {"kind": "country", "name": "Kuwait"},
        {"code": "KWT", "kind": "country"},
        {**good, "name": ""},
        {**good, "name": "x" * 201},
        {**good, "name": "a\x00b"},
        {**good, "name": 5},
        {**good, "name": None},
        {**good, "code": None},
        {**good, "id": 5},
        {**good, "version": 2},
        {**good, "created_at": "2020-01-01T00:00:00Z"},
        {**good, "colour": "red"},
        {**good, "memberships": None},
        {**good, "memberships": {"framework_id": fw.id}},
        {**good, "memberships": [fw.id]},
        {**good, "memberships": [{}]},
        {**good, "memberships": [{"framework_id": str(fw.id)}]},
        {**good, "memberships": [{"framework_id": 0}]},
        {**good, "memberships": [{"framework_id": -1}]},
        {**good, "memberships": [{"framework_id": 2**63}]},
        {**good, "memberships": [{"framework_id": 1.5}]},
        {**good, "memberships": [{"framework_id": fw.id, "joined_on": "01/12/2004"}]},
        {**good, "memberships": [{"framework_id": fw.id, "joined_on": "2004-02-30"}]},
        {**good, "memberships": [{"framework_id": fw.id, "joined_on": 20041201}]},
        {**good, "memberships": [{"framework_id": fw.id, "note": "x" * 2001}]},
        {**good, "memberships": [{"framework_id": fw.id, "note": "a\x00b"}]},
        {**good, "memberships": [{"framework_id": fw.id, "colour": "red"}]},
        {**good, "memberships": [{"framework_id": fw.id, "partner_id": 1}]},
    ]
    before = await _state(session)
    for body in cases:
        response = await client.post(URL, json=body)
        assert response.status_code == 422, body
        assert response.json()["errors"], body
    malformed = await client.post(
        URL, content=b'{"code": "KWT"', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    assert await _state(session) == before


async def test_duplicate_framework_is_422_naming_the_item(
    client: httpx.AsyncClient, factory, session
) -> None:
    fw = await factory.framework()
    other = await factory.framework()
    before = await _state(session)
    response = await client.post(
        URL,
        json={
            "code": "BHR",
            "kind": "country",
            "name": "Bahrain",
            "memberships": [
                {"framework_id": fw.id},
                {"framework_id": other.id},
                {"framework_id": fw.id, "joined_on": "2004-12-01"},
            ],
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "memberships", 2, "framework_id"]
    assert await _state(session) == before


async def test_unknown_framework_is_422_naming_the_item(
    client: httpx.AsyncClient, factory, session
) -> None:
    fw = await factory.framework()
    before = await _state(session)
    response = await client.post(
        URL,
        json={
            "code": "BHR",
            "kind": "country",
            "name": "Bahrain",
            "memberships": [{"framework_id": fw.id}, {"framework_id": 987654321}],
        },
    )
    assert response.status_code == 422
    body = response.json()
    assert body["errors"] == [
        {"loc": ["body", "memberships", 1, "framework_id"], "msg": body["errors"][0]["msg"]}
    ]
    assert "987654321" in body["errors"][0]["msg"]
    assert await _state(session) == before


async def test_code_clash_is_409(client: httpx.AsyncClient, factory, session) -> None:
    await factory.partner(kind="country", code="BHR", name="Bahrain")
    before = await _state(session)
    clash = await client.post(URL, json={"code": "BHR", "kind": "country", "name": "again"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "code"]
    assert await _state(session) == before


# --- patch ------------------------------------------------------------------------------------


async def test_patch_is_a_merge_patch(client: httpx.AsyncClient, factory, session) -> None:
    fw = await factory.framework()
    partner = await factory.partner(kind="country", code="BHR", name="Bahrain")
    session.add(FrameworkMembership(partner_id=partner.id, framework_id=fw.id, note="n"))
    await session.flush()
    url = f"{URL}/{partner.id}"
    response = await client.patch(url, json={"name": BAHRAIN_AR}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["name"] == BAHRAIN_AR
    assert body["code"] == "BHR"
    assert body["memberships"] == [{"framework_id": fw.id, "joined_on": None, "note": "n"}]
    assert body["version"] == 2
    assert response.headers["etag"] == '"2"'
    # nothing changes: 200 and the same version
    same = await client.patch(url, json={"name": BAHRAIN_AR, "kind": "country"})
    assert same.status_code == 200
    assert same.json()["version"] == 2
    before = await _state(session)
    for bad in (
        {"name": None},
        {"code": None},
        {"kind": None},
        {"memberships": None},
        {"id": 3},
        {"version": 7},
        {"updated_at": "2020-01-01T00:00:00Z"},
        {"unknown": 1},
        {"name": ""},
        {"kind": "state"},
        {"memberships": [{"framework_id": fw.id, "joined_on": "2004-13-01"}]},
    ):
        assert (await client.patch(url, json=bad)).status_code == 422, bad
    stale = await client.patch(url, json={"name": "New"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert await _state(session) == before
    assert (await client.get(url)).json()["name"] == BAHRAIN_AR


async def test_patch_memberships_replaces_the_list(
    client: httpx.AsyncClient, factory, session
) -> None:
    ici = await factory.framework(code="ICI")
    md = await factory.framework(code="MD")
    gp = await factory.framework(code="GP")
    partner = await factory.partner(kind="country", code="BHR", name="Bahrain")
    session.add_all(
        [
            FrameworkMembership(partner_id=partner.id, framework_id=ici.id, note="old"),
            FrameworkMembership(partner_id=partner.id, framework_id=md.id),
        ]
    )
    await session.flush()
    url = f"{URL}/{partner.id}"
    # keep ICI (changed), drop MD, add GP
    response = await client.patch(
        url,
        json={
            "memberships": [
                {"framework_id": gp.id, "joined_on": "2014-09-05"},
                {"framework_id": ici.id, "joined_on": "2004-12-01", "note": "new"},
            ]
        },
        headers={"If-Match": '"1"'},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["memberships"] == sorted(
        [
            {"framework_id": ici.id, "joined_on": "2004-12-01", "note": "new"},
            {"framework_id": gp.id, "joined_on": "2014-09-05", "note": None},
        ],
        key=lambda m: m["framework_id"],
    )
    # a membership change is a change of the partner
    assert body["version"] == 2
    assert response.headers["etag"] == '"2"'
    assert body["updated_at"] >= body["created_at"]
    rows = (
        await session.execute(
            select(FrameworkMembership.framework_id, FrameworkMembership.note)
            .where(FrameworkMembership.partner_id == partner.id)
            .order_by(FrameworkMembership.framework_id)
        )
    ).all()
    assert sorted(tuple(r) for r in rows) == sorted([(ici.id, "new"), (gp.id, None)])
    assert (await client.get(url)).json() == body
    # the same list in another order changes nothing
    same = await client.patch(url, json={"memberships": list(reversed(body["memberships"]))})
    assert same.status_code == 200
    assert same.json()["version"] == 2
    # the audit trail shows the old and new lists
    events = await _events(session, partner.id)
    assert [e.action for e in events] == ["update"]
    assert set(events[0].changes) == {"memberships"}
    old, new = events[0].changes["memberships"]
    assert old == sorted(
        [
            {"framework_id": ici.id, "joined_on": None, "note": "old"},
            {"framework_id": md.id, "joined_on": None, "note": None},
        ],
        key=lambda m: m["framework_id"],
    )
    assert new == body["memberships"]
    # an item is a whole value: omitted joined_on / note become null
    response = await client.patch(
        url, json={"memberships": [{"framework_id": ici.id}, {"framework_id": gp.id}]}
    )
    assert response.status_code == 200, response.text
    assert response.json()["version"] == 3
    assert response.json()["memberships"] == sorted(
        [
            {"framework_id": ici.id, "joined_on": None, "note": None},
            {"framework_id": gp.id, "joined_on": None, "note": None},
        ],
        key=lambda m: m["framework_id"],
    )
    # an empty list removes every membership
    emptied = await client.patch(url, json={"memberships": []}, headers={"If-Match": '"3"'})
    assert emptied.status_code == 200
    assert emptied.json()["memberships"] == []
    assert emptied.json()["version"] == 4
    assert (
        await session.scalar(
            select(func.count())
            .select_from(FrameworkMembership)
            .where(FrameworkMembership.partner_id == partner.id)
        )
    ) == 0


async def test_patch_bad_memberships_change_nothing(
    client: httpx.AsyncClient, factory, session
) -> None:
    fw = await factory.framework()
    partner = await factory.partner()
    session.add(FrameworkMembership(partner_id=partner.id, framework_id=fw.id))
    await session.flush()
    url = f"{URL}/{partner.id}"
    before = await _state(session)
    dup = await client.patch(
        url, json={"memberships": [{"framework_id": fw.id}, {"framework_id": fw.id}]}
    )
    assert dup.status_code == 422
    assert dup.json()["errors"][0]["loc"] == ["body", "memberships", 1, "framework_id"]
    unknown = await client.patch(
        url, json={"name": "new", "memberships": [{"framework_id": 987654321}]}
    )
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["loc"] == ["body", "memberships", 0, "framework_id"]
    stale = await client.patch(url, json={"memberships": []}, headers={"If-Match": '"9"'})
    assert stale.status_code == 412
    assert await _state(session) == before
    assert (await client.get(url)).json()["memberships"] == [
        {"framework_id": fw.id, "joined_on": None, "note": None}
    ]


async def test_patch_code_and_kind_rules(client: httpx.AsyncClient, factory, session) -> None:
    org = await factory.partner(kind="organisation", code="GCC", name="Gulf Cooperation Council")
    await factory.partner(kind="country", code="KWT", name="Kuwait")
    bhr = await factory.partner(kind="country", code="BHR", name="Bahrain")
    before = await _state(session)
    # kind -> country with a code that is not a country: 422 (naming kind, the field sent)
    response = await client.patch(f"{URL}/{org.id}", json={"kind": "country"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "kind"]
    # a country's code must stay a real one
    for code in ("XXX", "BH", "NATO"):
        response = await client.patch(f"{URL}/{bhr.id}", json={"code": code})
        assert response.status_code == 422, code
        assert response.json()["errors"][0]["loc"] == ["body", "code"]
    # both at once, still not a country
    response = await client.patch(f"{URL}/{org.id}", json={"kind": "country", "code": "XXX"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["body", "code"]
    # a clash with another partner's code: 409
    clash = await client.patch(f"{URL}/{bhr.id}", json={"code": "KWT"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "code"]
    assert await _state(session) == before
    # good changes
    response = await client.patch(f"{URL}/{org.id}", json={"kind": "country", "code": "QAT"})
    assert response.status_code == 200, response.text
    assert (response.json()["kind"], response.json()["code"]) == ("country", "QAT")
    response = await client.patch(f"{URL}/{bhr.id}", json={"kind": "organisation"})
    assert response.status_code == 200
    assert response.json()["kind"] == "organisation"
    response = await client.patch(f"{URL}/{bhr.id}", json={"code": "BAHRAIN-GOV"})
    assert response.status_code == 200
    assert response.json()["code"] == "BAHRAIN-GOV"
    events = await _events(session, bhr.id)
    assert [e.changes for e in events] == [
        {"kind": ["country", "organisation"]},
        {"code": ["BHR", "BAHRAIN-GOV"]},
    ]


# --- delete -----------------------------------------------------------------------------------


async def test_delete_takes_memberships_with_it(
    client: httpx.AsyncClient, factory, session
) -> None:
    fw = await factory.framework()
    partner = await factory.partner(kind="country", code="BHR", name=BAHRAIN_AR)
    session.add(
        FrameworkMembership(
            partner_id=partner.id, framework_id=fw.id, joined_on=date(2004, 12, 1), note="n"
        )
    )
    await session.flush()
    url = f"{URL}/{partner.id}"
    assert (await client.delete(url, headers={"If-Match": '"7"'})).status_code == 412
    assert (await client.delete(url, headers={"If-Match": '"1"'})).status_code == 204
    assert (await client.get(url)).status_code == 404
    assert (await client.delete(url)).status_code == 404
    assert (
        await session.scalar(
            select(func.count())
            .select_from(FrameworkMembership)
            .where(FrameworkMembership.partner_id == partner.id)
        )
    ) == 0
    # the framework itself stays
    assert (await client.get(f"/api/v1/frameworks/{fw.id}")).status_code == 200
    [event] = await _events(session, partner.id)
    assert event.action == "delete"
    assert event.changes == {
        "code": ["BHR", None],
        "kind": ["country", None],
        "name": [BAHRAIN_AR, None],
        "memberships": [[{"framework_id": fw.id, "joined_on": "2004-12-01", "note": "n"}], None],
        "lang": ["en", None],
        "translations": [{}, None],
    }


async def test_delete_with_programmes_is_409(client: httpx.AsyncClient, factory, session) -> None:
    fw = await factory.framework()
    partner = await factory.partner()
    session.add(FrameworkMembership(partner_id=partner.id, framework_id=fw.id))
    await factory.programme(partner_id=partner.id)
    before = await _state(session)
    response = await client.delete(f"{URL}/{partner.id}")
    assert response.status_code == 409
    assert "programmes" in response.json()["detail"]
    assert await _state(session) == before
    assert (await client.get(f"{URL}/{partner.id}")).json()["memberships"] == [
        {"framework_id": fw.id, "joined_on": None, "note": None}
    ]
    assert await _events(session, partner.id) == []


# --- filters, sorting, pages ------------------------------------------------------------------


async def test_filters_combine(client: httpx.AsyncClient, factory, session) -> None:
    ici = await factory.framework(code="ICI")
    md = await factory.framework(code="MD")
    bhr = await factory.partner(kind="country", code="BHR", name="Bahrain")
    kwt = await factory.partner(kind="country", code="KWT", name="Kuwait")
    egy = await factory.partner(kind="country", code="EGY", name="Egypt")
    gcc = await factory.partner(kind="organisation", code="GCC", name="Gulf Cooperation Council")
    session.add_all(
        [
            FrameworkMembership(partner_id=bhr.id, framework_id=ici.id),
            FrameworkMembership(partner_id=kwt.id, framework_id=ici.id),
            FrameworkMembership(partner_id=egy.id, framework_id=md.id),
            FrameworkMembership(partner_id=gcc.id, framework_id=ici.id),
            FrameworkMembership(partner_id=gcc.id, framework_id=md.id),
        ]
    )
    await session.flush()

    async def codes(**params: Any) -> list[str]:
        response = await client.get(URL, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["total"] == len(body["items"])
        return [p["code"] for p in body["items"]]

    assert await codes() == ["BHR", "EGY", "GCC", "KWT"]
    assert await codes(kind="country") == ["BHR", "EGY", "KWT"]
    assert await codes(kind="organisation") == ["GCC"]
    assert await codes(framework_id=ici.id) == ["BHR", "GCC", "KWT"]
    assert await codes(framework_id=md.id) == ["EGY", "GCC"]
    assert await codes(framework_id=ici.id, kind="country") == ["BHR", "KWT"]
    assert await codes(framework_id=md.id, kind="country", q="egy") == ["EGY"]
    assert await codes(framework_id=md.id, q="kuwait") == []
    assert await codes(framework_id=987654321) == []
    assert await codes(q="COOPERATION") == ["GCC"]
    assert await codes(sort="-code") == ["KWT", "GCC", "EGY", "BHR"]
    assert await codes(sort="name") == ["BHR", "EGY", "GCC", "KWT"]
    assert await codes(sort="-name") == ["KWT", "GCC", "EGY", "BHR"]
    # each item lists all its memberships, not only the filtered framework's
    gcc_item = (await client.get(URL, params={"framework_id": md.id, "q": "GCC"})).json()["items"]
    assert [m["framework_id"] for m in gcc_item[0]["memberships"]] == sorted([ici.id, md.id])


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"kind": "state"},
        {"kind": ""},
        {"framework_id": "abc"},
        {"framework_id": "1.5"},
        {"framework_id": 0},
        {"framework_id": 2**63},
        {"sort": "kind"},
        {"sort": "memberships"},
        {"limit": 0},
        {"limit": 201},
        {"cursor": "garbage"},
        {"frameworkid": 1},
        {"q": "a\x00b"},
    ):
        response = await client.get(URL, params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], params


async def test_pagination(client: httpx.AsyncClient, factory) -> None:
    for i in range(5):
        await factory.partner(code=f"ORG-{i}", name=f"Name {4 - i}")
    first = await client.get(URL, params={"limit": 2, "sort": "-name"})
    page = first.json()
    assert page["total"] == 5
    assert 'rel="next"' in first.headers["link"]
    seen = [p["name"] for p in page["items"]]
    cursor = page["next_cursor"]
    while cursor:
        nxt = (await client.get(URL, params={"limit": 2, "sort": "-name", "cursor": cursor})).json()
        seen += [p["name"] for p in nxt["items"]]
        cursor = nxt["next_cursor"]
    assert seen == ["Name 4", "Name 3", "Name 2", "Name 1", "Name 0"]


# --- access -----------------------------------------------------------------------------------


async def test_liaison_sees_only_its_partner(client_for, factory) -> None:
    a = await factory.partner(kind="country", code="BHR", name=BAHRAIN_AR)
    b = await factory.partner(kind="country", code="KWT", name="Kuwait")
    liaison = await client_for("liaison", a.id)
    listed = await liaison.get(URL)
    assert listed.status_code == 200
    assert listed.json()["total"] == 1
    assert [p["id"] for p in listed.json()["items"]] == [a.id]
    assert (await liaison.get(f"{URL}/{a.id}")).status_code == 200
    missing = await liaison.get(f"{URL}/{b.id}")
    assert missing.status_code == 404
    # exactly like a partner that does not exist
    assert missing.json()["detail"] == f"partner {b.id} does not exist"
    assert (await liaison.get(URL, params={"q": "Kuwait"})).json()["total"] == 0
    assert (await liaison.get(URL, params={"kind": "country"})).json()["total"] == 1


async def test_viewer_scoping(client_for, factory) -> None:
    a = await factory.partner()
    b = await factory.partner()
    bound = await client_for("viewer", a.id)
    assert [p["id"] for p in (await bound.get(URL)).json()["items"]] == [a.id]
    assert (await bound.get(URL)).json()["total"] == 1
    assert (await bound.get(f"{URL}/{b.id}")).status_code == 404
    assert (await bound.get(f"{URL}/{a.id}")).status_code == 200
    unbound = await client_for("viewer")
    assert (await unbound.get(URL)).json()["total"] == 2
    assert (await unbound.get(f"{URL}/{b.id}")).status_code == 200
    staff = await client_for("staff")
    assert (await staff.get(URL)).json()["total"] == 2


@pytest.mark.parametrize(
    ("role", "bound"), [("liaison", True), ("viewer", True), ("viewer", False)]
)
async def test_writes_need_admin_or_staff(
    client_for, factory, session, role: str, bound: bool
) -> None:
    fw = await factory.framework()
    own = await factory.partner()
    other = await factory.partner()
    caller = await client_for(role, own.id if bound else None)
    before = await _state(session)
    body = {"code": "BHR", "kind": "country", "name": "Bahrain"}
    assert (await caller.post(URL, json=body)).status_code == 403
    for partner in (own, other):
        url = f"{URL}/{partner.id}"
        assert (await caller.patch(url, json={"name": "x"})).status_code == 403
        assert (
            await caller.patch(url, json={"memberships": [{"framework_id": fw.id}]})
        ).status_code == 403
        assert (await caller.delete(url)).status_code == 403
    assert await _state(session) == before


async def test_staff_writes(client_for, factory) -> None:
    staff = await client_for("staff")
    created = await staff.post(URL, json={"code": "BHR", "kind": "country", "name": "Bahrain"})
    assert created.status_code == 201
    url = created.headers["location"]
    assert (await staff.patch(url, json={"name": BAHRAIN_AR})).status_code == 200
    assert (await staff.delete(url)).status_code == 204


async def test_no_token_is_401(anon: httpx.AsyncClient) -> None:
    response = await anon.get(URL)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_method_not_allowed_lists_allow(client: httpx.AsyncClient, factory) -> None:
    response = await client.put(URL, json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    partner = await factory.partner()
    response = await client.post(f"{URL}/{partner.id}", json={})
    assert response.status_code == 405
    assert {"GET", "PATCH", "DELETE"} <= set(response.headers["allow"].replace(" ", "").split(","))


# --- statement budget -------------------------------------------------------------------------


async def _partners_with_membership(session: Any, factory: Any, n: int, prefix: str) -> None:
    fw = await factory.framework()
    partners = [Partner(kind="organisation", code=f"{prefix}-{i}", name=f"P {i}") for i in range(n)]
    session.add_all(partners)
    await session.flush()
    session.add_all(
        [
            FrameworkMembership(partner_id=p.id, framework_id=fw.id, note=f"n{i}")
            for i, p in enumerate(partners)
        ]
    )
    await session.flush()


@pytest.mark.parametrize("n", [1, 100])
async def test_statement_budget(
    client: httpx.AsyncClient, factory, session, statements, n: int
) -> None:
    await _partners_with_membership(session, factory, n, "BUDGET")
    assert (await client.get("/api/v1/pillars")).status_code == 200  # the token's first read
    statements.reset()
    response = await client.get(URL, params={"limit": 200})
    assert response.status_code == 200
    body = response.json()
    assert body["total"] == n
    assert all(len(p["memberships"]) == 1 for p in body["items"])
    # one statement: the user check, the page with its total and the memberships
    assert statements.count == 1, statements.statements
    listed = statements.count
    # filtered lists cost the same
    statements.reset()
    response = await client.get(URL, params={"limit": 200, "kind": "organisation", "q": "P"})
    assert response.json()["total"] == n
    assert statements.count == listed
    # detail: the user check, the partner and its memberships
    statements.reset()
    response = await client.get(f"{URL}/{body['items'][0]['id']}")
    assert response.status_code == 200
    assert statements.count == 1, statements.statements


async def test_statement_count_is_the_same_at_1_and_100(
    client: httpx.AsyncClient, factory, session, statements
) -> None:
    await _partners_with_membership(session, factory, 1, "ONE")
    assert (await client.get("/api/v1/pillars")).status_code == 200  # the token's first read
    statements.reset()
    assert (await client.get(URL, params={"limit": 200})).json()["total"] == 1
    one = statements.count
    await _partners_with_membership(session, factory, 99, "MORE")
    statements.reset()
    body = (await client.get(URL, params={"limit": 200})).json()
    assert body["total"] == 100
    assert all(len(p["memberships"]) == 1 for p in body["items"])
    assert statements.count == one
