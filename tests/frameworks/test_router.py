from __future__ import annotations

import httpx

from ipcp_api.models import FrameworkMembership

URL = "/api/v1/frameworks"


async def test_create_get_list(client: httpx.AsyncClient) -> None:
    body = {
        "code": "ICI",
        "name": "Istanbul Cooperation Initiative",
        "launched_on": "2004-06-28",
        "description": "«مبادرة إسطنبول للتعاون»",
    }
    created = await client.post(URL, json=body)
    assert created.status_code == 201, created.text
    data = created.json()
    assert created.headers["location"] == f"{URL}/{data['id']}"
    assert data["version"] == 1
    assert data["description"] == body["description"]
    got = await client.get(created.headers["location"])
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.headers["cache-control"] == "no-store"
    assert got.json() == data
    listed = await client.get(URL)
    assert listed.json()["total"] == 1
    assert listed.json()["items"][0]["code"] == "ICI"


async def test_pagination_sort_and_link(client: httpx.AsyncClient, factory) -> None:
    for i in range(5):
        await factory.framework(code=f"F{i}", name=f"Name {4 - i}")
    first = await client.get(URL, params={"limit": 2, "sort": "-name"})
    assert first.status_code == 200
    page = first.json()
    assert page["total"] == 5
    assert [f["name"] for f in page["items"]] == ["Name 4", "Name 3"]
    assert 'rel="next"' in first.headers["link"]
    seen = [f["name"] for f in page["items"]]
    cursor = page["next_cursor"]
    while cursor:
        nxt = await client.get(URL, params={"limit": 2, "sort": "-name", "cursor": cursor})
        seen += [f["name"] for f in nxt.json()["items"]]
        cursor = nxt.json()["next_cursor"]
    assert seen == ["Name 4", "Name 3", "Name 2", "Name 1", "Name 0"]


async def test_nullable_sort_pages_through_nulls(client: httpx.AsyncClient, factory) -> None:
    from datetime import date

    for i, launched in enumerate([None, date(2004, 1, 1), None, date(1994, 1, 1), None]):
        await factory.framework(code=f"N{i}", launched_on=launched)
    for sort in ("launched_on", "-launched_on"):
        codes, cursor = [], None
        while True:
            params = {"limit": 2, "sort": sort} | ({"cursor": cursor} if cursor else {})
            body = (await client.get(URL, params=params)).json()
            codes += [f["code"] for f in body["items"]]
            cursor = body["next_cursor"]
            if not cursor:
                break
        assert sorted(codes) == ["N0", "N1", "N2", "N3", "N4"], sort
        expected = ["N3", "N1", "N0", "N2", "N4"]
        assert codes == (expected if sort == "launched_on" else expected[::-1]), sort


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"limit": 0},
        {"limit": 201},
        {"limit": "x"},
        {"sort": "description"},
        {"cursor": "garbage"},
        {"cursor": "eyJ4IjoxfQ.deadbeef"},
        {"colour": "red"},
        {"q": "a\x00b"},
    ):
        response = await client.get(URL, params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], params


async def test_cursor_of_another_sort_is_422(client: httpx.AsyncClient, factory) -> None:
    for i in range(3):
        await factory.framework(code=f"C{i}")
    cursor = (await client.get(URL, params={"limit": 1})).json()["next_cursor"]
    response = await client.get(URL, params={"limit": 1, "sort": "name", "cursor": cursor})
    assert response.status_code == 422


async def test_q_is_case_insensitive_in_any_script(client: httpx.AsyncClient, factory) -> None:
    await factory.framework(code="ICI", name="Istanbul Cooperation Initiative")
    await factory.framework(code="AR", name="مبادرة إسطنبول للتعاون")
    await factory.framework(code="GR", name="ΕΛΛΆΔΑ")
    assert [
        f["code"] for f in (await client.get(URL, params={"q": "istanBUL"})).json()["items"]
    ] == ["ICI"]
    assert [
        f["code"] for f in (await client.get(URL, params={"q": "إسطنبول"})).json()["items"]
    ] == ["AR"]
    assert [f["code"] for f in (await client.get(URL, params={"q": "ελλάδα"})).json()["items"]] == [
        "GR"
    ]
    assert (await client.get(URL, params={"q": "%"})).json()["total"] == 0


async def test_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{URL}/999999")).status_code == 404
    assert (await client.get(f"{URL}/99999999999999999999999")).status_code == 404
    assert (await client.get(f"{URL}/-1")).status_code == 404
    assert (await client.get(f"{URL}/abc")).status_code == 422


async def test_invalid_bodies(client: httpx.AsyncClient, factory) -> None:
    await factory.framework(code="DUP")
    cases = [
        {"code": "ici", "name": "x"},
        {"code": "I", "name": "x"},
        {"code": "ICI2", "name": ""},
        {"code": "ICI2", "name": "x" * 201},
        {"code": "ICI2", "name": "a\x00b"},
        {"code": "ICI2", "name": "x", "launched_on": "28/06/2004"},
        {"code": "ICI2", "name": "x", "launched_on": 20040628},
        {"code": "ICI2", "name": "x", "launched_on": "2004-02-30"},
        {"code": "ICI2", "name": 5},
        {"code": "ICI2", "name": "x", "id": 5},
        {"code": "ICI2", "name": "x", "version": 2},
        {"code": "ICI2", "name": "x", "colour": "red"},
        {"name": "x"},
    ]
    for body in cases:
        response = await client.post(URL, json=body)
        assert response.status_code == 422, body
    malformed = await client.post(
        URL, content=b'{"code": "X', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    clash = await client.post(URL, json={"code": "DUP", "name": "again"})
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "code"]
    assert (await client.get(URL)).json()["total"] == 1


async def test_patch_is_a_merge_patch(client: httpx.AsyncClient, factory) -> None:
    from datetime import date

    fw = await factory.framework(launched_on=date(2004, 6, 28), description="d")
    url = f"{URL}/{fw.id}"
    response = await client.patch(url, json={"description": None}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["description"] is None
    assert body["launched_on"] == "2004-06-28"
    assert body["version"] == 2
    assert response.headers["etag"] == '"2"'
    # nothing changes: 200 and the same version
    same = await client.patch(url, json={"launched_on": "2004-06-28"})
    assert same.status_code == 200
    assert same.json()["version"] == 2
    for bad in (
        {"name": None},
        {"code": None},
        {"id": 3},
        {"created_at": "2020-01-01T00:00:00Z"},
        {"unknown": 1},
        {"name": ""},
    ):
        assert (await client.patch(url, json=bad)).status_code == 422, bad
    stale = await client.patch(url, json={"name": "New"}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412
    assert (await client.get(url)).json()["name"] == fw.name


async def test_delete_with_members_is_409(client: httpx.AsyncClient, factory, session) -> None:
    fw = await factory.framework()
    partner = await factory.partner()
    session.add(FrameworkMembership(partner_id=partner.id, framework_id=fw.id))
    await session.flush()
    response = await client.delete(f"{URL}/{fw.id}")
    assert response.status_code == 409
    assert (await client.get(f"{URL}/{fw.id}")).status_code == 200


async def test_method_not_allowed_lists_allow(client: httpx.AsyncClient) -> None:
    response = await client.put(URL, json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}


async def test_body_too_large_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        URL, json={"code": "BIG", "name": "x", "description": "y" * (1024 * 1024 + 10)}
    )
    assert response.status_code == 413


async def test_writes_need_staff(client_for, factory) -> None:
    partner = await factory.partner()
    liaison = await client_for("liaison", partner.id)
    assert (await liaison.get(URL)).status_code == 200
    assert (await liaison.post(URL, json={"code": "NO", "name": "no"})).status_code == 403


async def test_no_token_is_401(anon: httpx.AsyncClient) -> None:
    response = await anon.get(URL)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


async def test_idempotency_key_replays(client: httpx.AsyncClient) -> None:
    body = {"code": "IDEM", "name": "Once"}
    headers = {"Idempotency-Key": "k-1"}
    first = await client.post(URL, json=body, headers=headers)
    assert first.status_code == 201
    again = await client.post(URL, json=body, headers=headers)
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert (await client.get(URL)).json()["total"] == 1
    other = await client.post(URL, json={"code": "IDEM2", "name": "Other"}, headers=headers)
    assert other.status_code == 422
    too_long = await client.post(
        URL, json={"code": "X2", "name": "x"}, headers={"Idempotency-Key": "k" * 256}
    )
    assert too_long.status_code == 422
    assert (await client.get(URL)).json()["total"] == 1
