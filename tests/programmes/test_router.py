from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from ipcp_api.common.metrics import today
from ipcp_api.enums import ProgrammeStatus
from ipcp_api.models import AuditEvent
from ipcp_api.programmes.workflow import TRANSITIONS

URL = "/api/v1/programmes"
S = ProgrammeStatus
APPROVED_ONCE = (S.approved, S.active, S.completed)
FORBIDDEN = sorted(
    (old, new) for old in S for new in S if old != new and (old, new) not in TRANSITIONS
)


def body(partner_id: int, **kw: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "partner_id": partner_id,
        "code": "BHR-IPCP-2016",
        "title": "Individual Partnership and Cooperation Programme, Bahrain 2016–2018",
        "starts_on": "2016-06-01",
        "ends_on": "2018-06-30",
    }
    data.update(kw)
    return data


async def programme_at(factory: Any, status: ProgrammeStatus, **kw: Any) -> Any:
    """A programme in ``status``; approved_on is set where the workflow must have set it."""
    if status in APPROVED_ONCE:
        kw.setdefault("approved_on", date(2016, 5, 1))
    return await factory.programme(status=status.value, **kw)


async def audit_events(session: Any, programme_id: int) -> list[AuditEvent]:
    return list(
        (
            await session.scalars(
                select(AuditEvent)
                .where(AuditEvent.entity == "programmes", AuditEvent.entity_id == programme_id)
                .order_by(AuditEvent.id)
            )
        ).all()
    )


# --- create, read, list -------------------------------------------------------------------


async def test_create_get_list(client: httpx.AsyncClient, factory: Any, session: Any) -> None:
    partner = await factory.partner()
    sent = body(partner.id, description="برنامج الشراكة والتعاون الفردي «IPCP»")
    created = await client.post(URL, json=sent)
    assert created.status_code == 201, created.text
    data = created.json()
    assert created.headers["location"] == f"{URL}/{data['id']}"
    assert created.headers["etag"] == '"1"'
    assert data["version"] == 1
    assert data["status"] == "draft"
    assert data["kind"] == "IPCP"
    assert data["approved_on"] is None
    assert data["description"] == sent["description"]
    for key in ("partner_id", "code", "title", "starts_on", "ends_on"):
        assert data[key] == sent[key]
    got = await client.get(created.headers["location"])
    assert got.status_code == 200
    assert got.headers["etag"] == '"1"'
    assert got.json() == data
    listed = (await client.get(URL)).json()
    assert listed["total"] == 1
    assert listed["items"] == [data]
    [event] = await audit_events(session, data["id"])
    assert event.action == "create"
    assert event.changes["code"] == [None, "BHR-IPCP-2016"]
    assert event.changes["status"] == [None, "draft"]


async def test_create_accepts_draft_status_kind_and_equal_dates(
    client: httpx.AsyncClient, factory: Any
) -> None:
    partner = await factory.partner()
    response = await client.post(
        URL,
        json=body(
            partner.id, status="draft", kind="ITPP", starts_on="2017-01-01", ends_on="2017-01-01"
        ),
    )
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "draft"
    assert response.json()["kind"] == "ITPP"


async def test_create_with_a_status_other_than_draft_is_422(
    client: httpx.AsyncClient, factory: Any
) -> None:
    partner = await factory.partner()
    for status in (s.value for s in S if s is not S.draft):
        response = await client.post(URL, json=body(partner.id, status=status))
        assert response.status_code == 422, status
        assert response.json()["errors"][0]["loc"] == ["body", "status"]
        assert "draft" in response.json()["errors"][0]["msg"]
    assert (await client.get(URL)).json()["total"] == 0


async def test_invalid_bodies_are_422_and_create_nothing(
    client: httpx.AsyncClient, factory: Any
) -> None:
    partner = await factory.partner()
    await factory.programme(partner_id=partner.id, code="DUP-1")
    cases: list[tuple[dict[str, Any], str | None]] = [
        (body(partner.id, code="bhr-ipcp"), "code"),
        (body(partner.id, code="B"), "code"),
        (body(partner.id, code="B" * 33), "code"),
        (body(partner.id, code="BHR IPCP"), "code"),
        (body(partner.id, code="BHR_IPCP"), "code"),
        (body(partner.id, title=""), "title"),
        (body(partner.id, title="x" * 301), "title"),
        (body(partner.id, title="a\x00b"), "title"),
        (body(partner.id, title=5), "title"),
        (body(partner.id, description="x" * 20001), "description"),
        (body(partner.id, kind="ipcp"), "kind"),
        (body(partner.id, kind="NATO"), "kind"),
        (body(partner.id, status="open"), "status"),
        (body(partner.id, starts_on="01/06/2016"), "starts_on"),
        (body(partner.id, starts_on="2016-02-30"), "starts_on"),
        (body(partner.id, starts_on=20160601), "starts_on"),
        (body(partner.id, ends_on="2016-05-31"), "ends_on"),
        (body(partner.id, ends_on=None), "ends_on"),
        (body(999_999_999), "partner_id"),
        (body(2**63), "partner_id"),
        (body(0), "partner_id"),
        (body(str(partner.id)), "partner_id"),
        (body(partner.id, approved_on="2016-06-01"), "approved_on"),
        (body(partner.id, id=5), "id"),
        (body(partner.id, version=2), "version"),
        (body(partner.id, colour="red"), "colour"),
        ({k: v for k, v in body(partner.id).items() if k != "title"}, "title"),
        ({k: v for k, v in body(partner.id).items() if k != "partner_id"}, "partner_id"),
    ]
    for sent, field in cases:
        response = await client.post(URL, json=sent)
        assert response.status_code == 422, (sent, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        locs = [e["loc"] for e in response.json()["errors"]]
        assert any(loc[:2] == ["body", field] for loc in locs), (field, locs)
    malformed = await client.post(
        URL, content=b'{"code": "X', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    clash = await client.post(URL, json=body(partner.id, code="DUP-1"))
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["loc"] == ["body", "code"]
    assert (await client.get(URL)).json()["total"] == 1


async def test_ids(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{URL}/999999")).status_code == 404
    assert (await client.get(f"{URL}/99999999999999999999999")).status_code == 404
    assert (await client.get(f"{URL}/0")).status_code == 404
    assert (await client.get(f"{URL}/abc")).status_code == 422
    assert (await client.patch(f"{URL}/999999", json={"title": "x"})).status_code == 404
    assert (await client.delete(f"{URL}/999999")).status_code == 404


async def test_method_not_allowed_lists_allow(client: httpx.AsyncClient, factory: Any) -> None:
    programme = await factory.programme()
    response = await client.put(URL, json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {"GET", "POST"}
    response = await client.put(f"{URL}/{programme.id}", json={})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) == {
        "GET",
        "PATCH",
        "DELETE",
    }


async def test_no_token_is_401(anon: httpx.AsyncClient) -> None:
    response = await anon.get(URL)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


# --- patch -------------------------------------------------------------------------------


async def test_patch_is_a_merge_patch(
    client: httpx.AsyncClient, factory: Any, session: Any
) -> None:
    programme = await factory.programme(description="d", kind="IPAP")
    url = f"{URL}/{programme.id}"
    response = await client.patch(url, json={"description": None}, headers={"If-Match": '"1"'})
    assert response.status_code == 200, response.text
    data = response.json()
    assert data["description"] is None
    assert data["kind"] == "IPAP"
    assert data["title"] == programme.title
    assert data["version"] == 2
    assert response.headers["etag"] == '"2"'
    changed = await client.patch(url, json={"title": "Новое название", "kind": "other"})
    assert changed.json()["version"] == 3
    assert changed.json()["title"] == "Новое название"
    # nothing changes: 200, same version, no audit row
    same = await client.patch(
        url, json={"title": "Новое название", "starts_on": "2016-06-01", "status": "draft"}
    )
    assert same.status_code == 200
    assert same.json()["version"] == 3
    assert same.headers["etag"] == '"3"'
    assert (await client.patch(url, json={})).json()["version"] == 3
    events = await audit_events(session, programme.id)
    assert [e.action for e in events] == ["update", "update"]
    assert events[0].changes == {"description": ["d", None]}
    assert events[1].changes["kind"] == ["IPAP", "other"]


async def test_bad_patches_are_rejected_and_change_nothing(
    client: httpx.AsyncClient, factory: Any
) -> None:
    partner = await factory.partner()
    other = await factory.programme(partner_id=partner.id, code="TAKEN")  # same partner
    programme = await factory.programme(partner_id=partner.id, description="d")
    url = f"{URL}/{programme.id}"
    before = (await client.get(url)).json()
    cases: list[tuple[dict[str, Any], int, str | None]] = [
        ({"title": None}, 422, "title"),
        ({"code": None}, 422, "code"),
        ({"status": None}, 422, "status"),
        ({"starts_on": None}, 422, "starts_on"),
        ({"partner_id": None}, 422, "partner_id"),
        ({"kind": None}, 422, "kind"),
        ({"approved_on": "2016-06-01"}, 422, "approved_on"),
        ({"approved_on": None}, 422, "approved_on"),
        ({"id": 3}, 422, "id"),
        ({"version": 9}, 422, "version"),
        ({"created_at": "2020-01-01T00:00:00Z"}, 422, "created_at"),
        ({"unknown": 1}, 422, "unknown"),
        ({"title": ""}, 422, "title"),
        ({"code": "lower"}, 422, "code"),
        ({"kind": "NATO"}, 422, "kind"),
        ({"status": "open"}, 422, "status"),
        ({"ends_on": "2016-05-31"}, 422, "ends_on"),
        ({"starts_on": "2018-07-01"}, 422, "ends_on"),
        ({"starts_on": "2019-01-01", "ends_on": "2018-12-31"}, 422, "ends_on"),
        ({"partner_id": 999_999_999}, 422, "partner_id"),
        ({"partner_id": 2**63}, 422, "partner_id"),
        ({"code": "TAKEN"}, 409, "code"),
        ({"status": "approved"}, 409, "status"),
        ({"status": "completed"}, 409, "status"),
    ]
    for sent, code, field in cases:
        response = await client.patch(url, json=sent)
        assert response.status_code == code, (sent, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if field is not None:
            locs = [e["loc"] for e in response.json()["errors"]]
            assert any(loc[:2] == ["body", field] for loc in locs), (sent, locs)
    stale = await client.patch(url, json={"title": "New"}, headers={"If-Match": '"2"'})
    assert stale.status_code == 412
    assert (await client.get(url)).json() == before
    assert (await client.get(f"{URL}/{other.id}")).json()["code"] == "TAKEN"


async def test_if_match_accepts_current_and_star(client: httpx.AsyncClient, factory: Any) -> None:
    programme = await factory.programme()
    url = f"{URL}/{programme.id}"
    assert (await client.patch(url, json={"title": "a"}, headers={"If-Match": '"1"'})).json()[
        "version"
    ] == 2
    assert (await client.patch(url, json={"title": "b"}, headers={"If-Match": "*"})).json()[
        "version"
    ] == 3
    assert (
        await client.patch(url, json={"title": "c"}, headers={"If-Match": '"1", "2"'})
    ).status_code == 412
    # a stale If-Match is 412 even when the patch would change nothing
    assert (
        await client.patch(url, json={"title": "b"}, headers={"If-Match": '"1"'})
    ).status_code == 412


async def test_patch_partner_to_another_visible_partner(
    client: httpx.AsyncClient, factory: Any
) -> None:
    programme = await factory.programme()
    partner = await factory.partner()
    response = await client.patch(f"{URL}/{programme.id}", json={"partner_id": partner.id})
    assert response.status_code == 200
    assert response.json()["partner_id"] == partner.id


# --- workflow ----------------------------------------------------------------------------


async def test_every_allowed_transition_is_200(client: httpx.AsyncClient, factory: Any) -> None:
    # one client for the whole table (signing in costs a slow password hash)
    for old, new in sorted(TRANSITIONS):
        programme = await programme_at(factory, old)
        response = await client.patch(
            f"{URL}/{programme.id}", json={"status": new.value}, headers={"If-Match": '"1"'}
        )
        assert response.status_code == 200, (old, new, response.text)
        assert response.json()["status"] == new.value
        assert response.json()["version"] == 2


async def test_every_other_status_change_is_409(client: httpx.AsyncClient, factory: Any) -> None:
    assert len(FORBIDDEN) == 21
    for old, new in FORBIDDEN:
        programme = await programme_at(factory, old)
        url = f"{URL}/{programme.id}"
        response = await client.patch(url, json={"status": new.value})
        assert response.status_code == 409, (old, new, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["loc"] == ["body", "status"]
        after = (await client.get(url)).json()
        assert after["status"] == old.value, (old, new)
        assert after["version"] == 1


async def test_cancelled_from_every_status_but_completed(
    client: httpx.AsyncClient, factory: Any
) -> None:
    for status in (S.draft, S.submitted, S.approved, S.active):
        programme = await programme_at(factory, status)
        response = await client.patch(f"{URL}/{programme.id}", json={"status": "cancelled"})
        assert response.status_code == 200, (status, response.text)
        assert response.json()["status"] == "cancelled"
    completed = await programme_at(factory, S.completed)
    response = await client.patch(f"{URL}/{completed.id}", json={"status": "cancelled"})
    assert response.status_code == 409
    assert (await client.get(f"{URL}/{completed.id}")).json()["status"] == "completed"


async def test_setting_the_same_status_is_not_a_transition(
    client: httpx.AsyncClient, factory: Any, session: Any
) -> None:
    for status in S:
        programme = await programme_at(factory, status)
        response = await client.patch(f"{URL}/{programme.id}", json={"status": status.value})
        assert response.status_code == 200, status
        assert response.json()["version"] == 1
        assert response.headers["etag"] == '"1"'
        assert await audit_events(session, programme.id) == []


async def test_full_lifecycle_sets_approved_on_once(
    client: httpx.AsyncClient, factory: Any, session: Any
) -> None:
    partner = await factory.partner()
    created = (await client.post(URL, json=body(partner.id))).json()
    url = f"{URL}/{created['id']}"
    versions = []
    for status in ("submitted", "draft", "submitted", "approved"):
        response = await client.patch(url, json={"status": status})
        assert response.status_code == 200, response.text
        versions.append(response.json()["version"])
        if status != "approved":
            assert response.json()["approved_on"] is None
    assert versions == [2, 3, 4, 5]
    approved = (await client.get(url)).json()
    assert approved["approved_on"] == today().isoformat()
    for status in ("active", "completed"):
        response = await client.patch(url, json={"status": status})
        assert response.status_code == 200
        assert response.json()["approved_on"] == today().isoformat()
    events = await audit_events(session, created["id"])
    approval = events[4]
    assert approval.changes == {
        "status": ["submitted", "approved"],
        "approved_on": [None, today().isoformat()],
    }


async def test_approved_on_is_read_only(client: httpx.AsyncClient, factory: Any) -> None:
    programme = await programme_at(factory, S.approved)
    url = f"{URL}/{programme.id}"
    for sent in ({"approved_on": "2020-01-01"}, {"approved_on": None}):
        response = await client.patch(url, json=sent)
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "approved_on"]
    assert (await client.get(url)).json()["approved_on"] == "2016-05-01"


async def test_dates_are_frozen_once_approved(client: httpx.AsyncClient, factory: Any) -> None:
    for status in (S.approved, S.active, S.completed, S.cancelled):
        programme = await factory.programme(status=status.value, approved_on=date(2016, 5, 1))
        url = f"{URL}/{programme.id}"
        for sent in (
            {"starts_on": "2016-01-01"},
            {"ends_on": "2019-01-01"},
            {"starts_on": "2016-01-01", "ends_on": "2019-01-01"},
            {"ends_on": "2018-06-30", "starts_on": "2016-05-01"},
        ):
            response = await client.patch(url, json=sent)
            assert response.status_code == 409, (status, sent, response.text)
        # the same values are not a change; other fields still change
        same = await client.patch(url, json={"starts_on": "2016-06-01", "ends_on": "2018-06-30"})
        assert same.status_code == 200
        assert same.json()["version"] == 1
        titled = await client.patch(url, json={"title": "Renamed", "starts_on": "2016-06-01"})
        assert titled.status_code == 200
        after = titled.json()
        assert (after["starts_on"], after["ends_on"]) == ("2016-06-01", "2018-06-30")
        assert after["version"] == 2


async def test_dates_change_freely_before_approval(client: httpx.AsyncClient, factory: Any) -> None:
    for status in (S.draft, S.submitted, S.cancelled):
        programme = await factory.programme(status=status.value)
        response = await client.patch(
            f"{URL}/{programme.id}", json={"starts_on": "2016-01-01", "ends_on": "2019-12-31"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["starts_on"] == "2016-01-01"


async def test_shrinking_the_period_must_keep_projects_inside(
    client: httpx.AsyncClient, factory: Any
) -> None:
    programme = await factory.programme(starts_on=date(2016, 1, 1), ends_on=date(2018, 12, 31))
    await factory.project(
        programme_id=programme.id, starts_on=date(2016, 6, 1), ends_on=date(2017, 6, 30)
    )
    await factory.project(
        programme_id=programme.id, starts_on=date(2017, 1, 1), ends_on=date(2018, 6, 30)
    )
    url = f"{URL}/{programme.id}"
    for sent, fields in (
        ({"starts_on": "2016-06-02"}, [["body", "starts_on"]]),
        ({"ends_on": "2018-06-29"}, [["body", "ends_on"]]),
        (
            {"starts_on": "2016-07-01", "ends_on": "2018-01-01"},
            [["body", "starts_on"], ["body", "ends_on"]],
        ),
        # moving the whole period later also leaves a project outside
        ({"starts_on": "2016-12-01", "ends_on": "2019-12-31"}, [["body", "starts_on"]]),
    ):
        response = await client.patch(url, json=sent)
        assert response.status_code == 422, (sent, response.text)
        assert [e["loc"] for e in response.json()["errors"]] == fields
    after = (await client.get(url)).json()
    assert (after["starts_on"], after["ends_on"], after["version"]) == (
        "2016-01-01",
        "2018-12-31",
        1,
    )
    # shrinking onto the projects' bounds exactly is fine; so is growing
    fit = await client.patch(url, json={"starts_on": "2016-06-01", "ends_on": "2018-06-30"})
    assert fit.status_code == 200, fit.text
    grown = await client.patch(url, json={"starts_on": "2015-01-01", "ends_on": "2020-12-31"})
    assert grown.status_code == 200
    assert grown.json()["version"] == 3


async def test_shrinking_without_projects_is_fine(client: httpx.AsyncClient, factory: Any) -> None:
    programme = await factory.programme()
    other = await factory.programme()
    await factory.project(programme_id=other.id)  # another programme's project does not count
    response = await client.patch(
        f"{URL}/{programme.id}", json={"starts_on": "2017-01-01", "ends_on": "2017-01-01"}
    )
    assert response.status_code == 200, response.text


# --- delete ------------------------------------------------------------------------------


async def test_delete_with_projects_is_409(client: httpx.AsyncClient, factory: Any) -> None:
    project = await factory.project()
    url = f"{URL}/{project.programme_id}"
    response = await client.delete(url)
    assert response.status_code == 409
    assert "projects" in response.json()["detail"]
    assert (await client.get(url)).status_code == 200


async def test_staff_deletes_in_any_status(client_for: Any, factory: Any) -> None:
    staff = await client_for("staff")
    for status in S:
        programme = await programme_at(factory, status)
        assert (await staff.delete(f"{URL}/{programme.id}")).status_code == 204, status


# --- filters and sorting -----------------------------------------------------------------


async def test_filters(client: httpx.AsyncClient, factory: Any) -> None:
    bhr = await factory.partner(kind="country", code="BHR", name="Bahrain")
    kwt = await factory.partner(kind="country", code="KWT", name="Kuwait")
    await factory.programme(
        partner_id=bhr.id,
        code="BHR-IPCP-2016",
        title="Bahrain IPCP",
        starts_on=date(2016, 6, 1),
        ends_on=date(2018, 6, 30),
        description="مكافحة الإرهاب",
    )
    await factory.programme(
        partner_id=bhr.id,
        code="BHR-ITPP-2019",
        title="Tailored programme",
        kind="ITPP",
        status="submitted",
        starts_on=date(2019, 1, 1),
        ends_on=date(2020, 12, 31),
    )
    await factory.programme(
        partner_id=kwt.id,
        code="KWT-IPCP-2017",
        title="Kuwait IPCP",
        status="approved",
        approved_on=date(2017, 1, 1),
        starts_on=date(2017, 1, 1),
        ends_on=date(2018, 12, 31),
        description="Counter-piracy",
    )

    async def codes(**params: Any) -> list[str]:
        response = await client.get(URL, params=params)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["total"] == len(page["items"])
        return [p["code"] for p in page["items"]]

    assert await codes() == ["BHR-IPCP-2016", "BHR-ITPP-2019", "KWT-IPCP-2017"]
    assert await codes(q="bhr") == ["BHR-IPCP-2016", "BHR-ITPP-2019"]
    assert await codes(q="TAILORED") == ["BHR-ITPP-2019"]
    assert await codes(q="piracy") == ["KWT-IPCP-2017"]
    assert await codes(q="الإرهاب") == ["BHR-IPCP-2016"]
    assert await codes(q="%") == []
    assert await codes(q="_") == []
    assert await codes(partner_id=kwt.id) == ["KWT-IPCP-2017"]
    assert await codes(partner_id=999_999_999) == []
    assert await codes(status="submitted") == ["BHR-ITPP-2019"]
    assert await codes(status="cancelled") == []
    assert await codes(kind="ITPP") == ["BHR-ITPP-2019"]
    assert await codes(kind="IPCP") == ["BHR-IPCP-2016", "KWT-IPCP-2017"]
    assert await codes(kind="IPCP", partner_id=bhr.id) == ["BHR-IPCP-2016"]
    assert await codes(kind="IPCP", status="approved", q="kuwait") == ["KWT-IPCP-2017"]
    assert await codes(kind="IPCP", status="submitted") == []
    # active_on: inclusive at both ends
    assert await codes(active_on="2016-05-31") == []
    assert await codes(active_on="2016-06-01") == ["BHR-IPCP-2016"]
    assert await codes(active_on="2017-01-01") == ["BHR-IPCP-2016", "KWT-IPCP-2017"]
    assert await codes(active_on="2018-06-30") == ["BHR-IPCP-2016", "KWT-IPCP-2017"]
    assert await codes(active_on="2018-07-01") == ["KWT-IPCP-2017"]
    assert await codes(active_on="2018-12-31") == ["KWT-IPCP-2017"]
    assert await codes(active_on="2019-01-01") == ["BHR-ITPP-2019"]
    assert await codes(active_on="2021-01-01") == []
    assert await codes(active_on="2017-01-01", partner_id=bhr.id) == ["BHR-IPCP-2016"]


async def test_bad_list_parameters_are_422(client: httpx.AsyncClient) -> None:
    for params in (
        {"status": "open"},
        {"status": "DRAFT"},
        {"status": ""},
        {"kind": "ipcp"},
        {"kind": "NATO"},
        {"active_on": "2017-13-01"},
        {"active_on": "20170101"},
        {"active_on": "01/06/2017"},
        {"active_on": "2017-02-29"},
        {"partner_id": "abc"},
        {"partner_id": "1.5"},
        {"partner_id": "0"},
        {"partner_id": str(2**63)},
        {"limit": 0},
        {"limit": 201},
        {"sort": "description"},
        {"sort": "partner_id"},
        {"cursor": "garbage"},
        {"partner": "1"},
        {"state": "draft"},
        {"q": "a\x00b"},
    ):
        response = await client.get(URL, params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"], params


@pytest.mark.parametrize("field", ["code", "title", "starts_on", "ends_on", "status"])
async def test_sort_and_paginate(client: httpx.AsyncClient, factory: Any, field: str) -> None:
    statuses = ["draft", "submitted", "cancelled", "draft", "submitted"]
    for i in range(5):
        await factory.programme(
            code=f"S-{i}",
            title=f"Title {(i * 3) % 5}",
            starts_on=date(2016, 1, 1 + (i * 2) % 5),
            ends_on=date(2020, 1, 1 + (4 - i)),
            status=statuses[i],
        )
    every = (await client.get(URL, params={"limit": 200})).json()["items"]
    for sort in (field, f"-{field}"):
        expected = sorted(every, key=lambda p: (p[field], p["id"]), reverse=sort.startswith("-"))
        seen: list[int] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2, "sort": sort}
            if cursor:
                params["cursor"] = cursor
            response = await client.get(URL, params=params)
            assert response.status_code == 200, response.text
            page = response.json()
            assert page["total"] == 5
            assert page["limit"] == 2
            seen += [p["id"] for p in page["items"]]
            cursor = page["next_cursor"]
            if cursor:
                assert 'rel="next"' in response.headers["link"]
            else:
                assert "link" not in response.headers
                break
        assert seen == [p["id"] for p in expected], sort


# --- access ------------------------------------------------------------------------------


async def test_liaison_and_bound_viewer_see_only_their_partner(
    client_for: Any, factory: Any
) -> None:
    mine = await factory.partner()
    theirs = await factory.partner()
    own = await factory.programme(partner_id=mine.id, code="MINE-1")
    other = await factory.programme(partner_id=theirs.id, code="THEIRS-1")
    liaison = await client_for("liaison", mine.id)
    viewer = await client_for("viewer", mine.id)
    for user in (liaison, viewer):
        listed = (await user.get(URL)).json()
        assert listed["total"] == 1
        assert [p["code"] for p in listed["items"]] == ["MINE-1"]
        assert (await user.get(URL, params={"partner_id": theirs.id})).json()["total"] == 0
        assert (await user.get(URL, params={"q": "THEIRS"})).json()["total"] == 0
        assert (await user.get(f"{URL}/{own.id}")).status_code == 200
        assert (await user.get(f"{URL}/{other.id}")).status_code == 404
    # writes to an invisible programme are 404 for a liaison (it does not exist for them)
    assert (await liaison.patch(f"{URL}/{other.id}", json={"title": "x"})).status_code == 404
    assert (await liaison.delete(f"{URL}/{other.id}")).status_code == 404
    unbound = await client_for("viewer")
    assert (await unbound.get(URL)).json()["total"] == 2
    assert (await unbound.get(f"{URL}/{other.id}")).status_code == 200
    staff = await client_for("staff")
    assert (await staff.get(URL)).json()["total"] == 2


async def test_viewer_never_writes(
    client: httpx.AsyncClient, client_for: Any, factory: Any
) -> None:
    partner = await factory.partner()
    programme = await factory.programme(partner_id=partner.id)
    url = f"{URL}/{programme.id}"
    before = (await client.get(url)).json()
    for viewer in (await client_for("viewer", partner.id), await client_for("viewer")):
        assert (await viewer.post(URL, json=body(partner.id, code="NEW-1"))).status_code == 403
        assert (await viewer.patch(url, json={"title": "x"})).status_code == 403
        assert (await viewer.patch(url, json={"status": "submitted"})).status_code == 403
        assert (await viewer.patch(url, json={})).status_code == 403
        assert (await viewer.delete(url)).status_code == 403
    assert (await client.get(url)).json() == before
    assert (await client.get(URL)).json()["total"] == 1


async def test_liaison_creates_for_its_own_partner_only(
    client: httpx.AsyncClient, client_for: Any, factory: Any
) -> None:
    mine = await factory.partner()
    theirs = await factory.partner()
    liaison = await client_for("liaison", mine.id)
    created = await liaison.post(URL, json=body(mine.id, code="MINE-NEW"))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "draft"
    for partner_id in (theirs.id, 999_999_999):
        response = await liaison.post(URL, json=body(partner_id, code="THEIRS-NEW"))
        assert response.status_code == 422
        assert response.json()["errors"][0]["loc"] == ["body", "partner_id"]
    submitted = await liaison.post(URL, json=body(mine.id, code="MINE-SUB", status="submitted"))
    assert submitted.status_code == 422
    assert [p["code"] for p in (await client.get(URL)).json()["items"]] == ["MINE-NEW"]


async def test_liaison_edits_only_drafts(
    client: httpx.AsyncClient, client_for: Any, factory: Any
) -> None:
    mine = await factory.partner()
    theirs = await factory.partner()
    liaison = await client_for("liaison", mine.id)
    draft = await factory.programme(partner_id=mine.id)
    url = f"{URL}/{draft.id}"
    edited = await liaison.patch(
        url, json={"title": "Edited", "ends_on": "2019-06-30", "description": None}
    )
    assert edited.status_code == 200, edited.text
    moved = await liaison.patch(url, json={"partner_id": theirs.id})
    assert moved.status_code == 422
    assert moved.json()["errors"][0]["loc"] == ["body", "partner_id"]
    for status in (S.submitted, S.approved, S.active, S.completed, S.cancelled):
        programme = await programme_at(factory, status, partner_id=mine.id)
        purl = f"{URL}/{programme.id}"
        before = (await client.get(purl)).json()
        for sent in ({"title": "x"}, {"ends_on": "2018-06-29"}, {"description": "d"}):
            response = await liaison.patch(purl, json=sent)
            assert response.status_code == 403, (status, sent, response.text)
        # sending what it already is changes nothing and is not a write
        same = await liaison.patch(purl, json={"title": programme.title})
        assert same.status_code == 200
        assert (await client.get(purl)).json() == before


async def test_liaison_submits_and_takes_back_but_cannot_approve(
    client: httpx.AsyncClient, client_for: Any, factory: Any
) -> None:
    mine = await factory.partner()
    liaison = await client_for("liaison", mine.id)
    programme = await factory.programme(partner_id=mine.id)
    url = f"{URL}/{programme.id}"
    assert (await liaison.patch(url, json={"status": "submitted"})).status_code == 200
    # returned for rework, but not while editing in the same request
    mixed = await liaison.patch(url, json={"status": "draft", "title": "Reworked"})
    assert mixed.status_code == 403
    assert (await liaison.patch(url, json={"status": "draft"})).status_code == 200
    assert (await liaison.patch(url, json={"status": "submitted"})).status_code == 200
    for target in ("approved", "cancelled"):
        response = await liaison.patch(url, json={"status": target})
        assert response.status_code == 403, target
    after = (await client.get(url)).json()
    assert (after["status"], after["version"], after["approved_on"]) == ("submitted", 4, None)
    draft = await factory.programme(partner_id=mine.id)
    assert (await liaison.patch(f"{URL}/{draft.id}", json={"status": "cancelled"})).status_code == (
        403
    )
    approved = await programme_at(factory, S.approved, partner_id=mine.id)
    assert (
        await liaison.patch(f"{URL}/{approved.id}", json={"status": "active"})
    ).status_code == 403
    active = await programme_at(factory, S.active, partner_id=mine.id)
    assert (
        await liaison.patch(f"{URL}/{active.id}", json={"status": "completed"})
    ).status_code == 403
    assert (
        await liaison.patch(f"{URL}/{active.id}", json={"status": "cancelled"})
    ).status_code == 403
    # taking back something that is not submitted is a workflow error
    assert (
        await liaison.patch(f"{URL}/{approved.id}", json={"status": "draft"})
    ).status_code == 409
    for p, status in ((draft, "draft"), (approved, "approved"), (active, "active")):
        assert (await client.get(f"{URL}/{p.id}")).json()["status"] == status


async def test_staff_runs_the_whole_workflow(client_for: Any, factory: Any) -> None:
    staff = await client_for("staff")
    programme = await factory.programme()
    url = f"{URL}/{programme.id}"
    for status in ("submitted", "approved", "active", "completed"):
        response = await staff.patch(url, json={"status": status})
        assert response.status_code == 200, (status, response.text)
    other = await factory.programme()
    assert (await staff.patch(f"{URL}/{other.id}", json={"status": "cancelled"})).status_code == 200


async def test_liaison_deletes_only_its_own_drafts(
    client: httpx.AsyncClient, client_for: Any, factory: Any
) -> None:
    mine = await factory.partner()
    liaison = await client_for("liaison", mine.id)
    draft = await factory.programme(partner_id=mine.id)
    assert (await liaison.delete(f"{URL}/{draft.id}")).status_code == 204
    for status in (S.submitted, S.approved, S.active, S.completed, S.cancelled):
        programme = await programme_at(factory, status, partner_id=mine.id)
        assert (await liaison.delete(f"{URL}/{programme.id}")).status_code == 403, status
        assert (await client.get(f"{URL}/{programme.id}")).status_code == 200


# --- statement budget --------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 100])
async def test_statement_budget(client_for: Any, factory: Any, statements: Any, n: int) -> None:
    partner = await factory.partner()
    first = None
    for i in range(n):
        programme = await factory.programme(partner_id=partner.id, code=f"B-{i:03d}")
        first = first or programme
    assert first is not None
    for role, partner_id in (("admin", None), ("liaison", partner.id)):
        user = await client_for(role, partner_id)
        statements.reset()
        response = await user.get(
            URL, params={"limit": 200, "kind": "IPCP", "active_on": "2017-01-01", "q": "B-"}
        )
        assert response.status_code == 200
        assert len(response.json()["items"]) == n
        assert statements.count <= 4, statements.statements
        statements.reset()
        assert (await user.get(f"{URL}/{first.id}")).status_code == 200
        assert statements.count <= 4, statements.statements
