"""Milestone ``ref``: nullable, 1–32 characters, unique within its project; ``ref=`` and ``q``."""

from __future__ import annotations

import httpx

from tests.milestones.test_router import body, project_now

URL = "/api/v1/milestones"


async def test_ref_create_read_patch_clear(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    created = await client.post(URL, json=body(project.id, ref="M-1"))
    assert created.status_code == 201, created.text
    assert created.json()["ref"] == "M-1"
    plain = await client.post(URL, json=body(project.id, title="Other"))
    assert plain.json()["ref"] is None
    patched = await client.patch(f"{URL}/{created.json()['id']}", json={"ref": None})
    assert patched.status_code == 200
    assert patched.json()["ref"] is None
    again = await client.patch(f"{URL}/{created.json()['id']}", json={"ref": "M-2"})
    assert again.json()["ref"] == "M-2"


async def test_ref_bounds(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    for bad in ("", "x" * 33, 5):
        answer = await client.post(URL, json=body(project.id, ref=bad))
        assert answer.status_code == 422, bad
        assert answer.json()["errors"][0]["loc"] == ["body", "ref"]


async def test_ref_unique_within_project(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    other = await project_now(factory)
    assert (await client.post(URL, json=body(project.id, ref="M1"))).status_code == 201
    clash = await client.post(URL, json=body(project.id, ref="M1", title="Second"))
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "ref"]
    # the same ref in another project is fine
    assert (await client.post(URL, json=body(other.id, ref="M1"))).status_code == 201
    second = await client.post(URL, json=body(project.id, ref="M2", title="Second"))
    moved = await client.patch(f"{URL}/{second.json()['id']}", json={"ref": "M1"})
    assert moved.status_code == 409


async def test_ref_filter_and_search(client: httpx.AsyncClient, factory) -> None:
    project = await project_now(factory)
    one = (await client.post(URL, json=body(project.id, ref="KEY-7", title="Alpha"))).json()
    await client.post(URL, json=body(project.id, ref="key-7b", title="Beta"))
    await client.post(URL, json=body(project.id, title="Gamma"))
    exact = (await client.get(URL, params={"ref": "KEY-7"})).json()
    assert [item["id"] for item in exact["items"]] == [one["id"]]
    assert (await client.get(URL, params={"ref": "key-7"})).json()["total"] == 0
    found = (await client.get(URL, params={"q": "key-7"})).json()
    assert sorted(item["title"] for item in found["items"]) == ["Alpha", "Beta"]
    assert (await client.get(URL, params={"ref": ""})).status_code == 422
