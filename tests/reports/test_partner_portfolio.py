"""GET /api/v1/partners/{id}/report and /api/v1/reports/portfolio, and report scoping."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from ipcp_api.models import FrameworkMembership, Partner, Pillar, Programme
from ipcp_api.reports.schemas import PartnerReport, PortfolioReport
from tests.reports.helpers import all_pillars, empty, figures, pillar_row

D = date
AS_OF = "2017-06-30"


@dataclass
class World:
    """Three partners with programmes, one without (weights in brackets, ✓ = done on).

    BHR (frameworks: ICI)
      W BHR-IPCP-2014 completed, starts 2014-01-01
          political: w1 due 2014-06-01 [1] ✓ 2014-05-01
      X BHR-IPCP-2016 active, starts 2016-06-01
          political: m1 due 2017-01-01 [4] ✓ 2016-12-20; m2 due 2017-06-01 [4] pending
      Y BHR-ITPP-2016 active, starts 2016-06-01 (same day as X: code breaks the tie)
          emerging:  m3 due 2017-03-01 [1] ✓ 2017-02-01; m4 due 2017-12-01 [2] pending
          emerging:  a cancelled project: k1 due 2017-01-01 [5] pending (not counted)
      Z BHR-IPCP-2019 draft, starts 2019-01-01: no project
    QAT (frameworks: ICI)
      Q QAT-IPCP-2017 approved: defence: q1 due 2017-05-01 [2] pending
    MAR (frameworks: MD)
      M MAR-IPCP-2017 draft: no project
    JOR: no programme (never a portfolio row)
    """

    ici: int
    md: int
    bhr: Partner
    qat: Partner
    mar: Partner
    jor: Partner
    w: Programme
    x: Programme
    y: Programme
    z: Programme
    q: Programme
    m: Programme
    pillars: list[Pillar]


@pytest.fixture
async def world(factory: Any, session: Any) -> World:
    ici = await factory.framework(code="ICI", name="Istanbul Cooperation Initiative")
    md = await factory.framework(code="MD", name="Mediterranean Dialogue")
    bhr = await factory.partner(kind="country", code="BHR", name="Kingdom of Bahrain")
    qat = await factory.partner(kind="country", code="QAT", name="State of Qatar")
    mar = await factory.partner(kind="country", code="MAR", name="Kingdom of Morocco")
    jor = await factory.partner(kind="country", code="JOR", name="Jordan")
    session.add_all(
        [
            FrameworkMembership(partner_id=bhr.id, framework_id=ici.id),
            FrameworkMembership(partner_id=qat.id, framework_id=ici.id),
            FrameworkMembership(partner_id=mar.id, framework_id=md.id),
        ]
    )
    await session.flush()
    pillars = await all_pillars(session)
    political, defence, emerging = pillars[:3]

    async def programme(partner: Partner, code: str, status: str, starts: date) -> Programme:
        approved = D(2013, 1, 1) if status in ("approved", "active", "completed") else None
        p: Programme = await factory.programme(
            partner_id=partner.id,
            code=code,
            title=f"{code} title",
            status=status,
            approved_on=approved,
            starts_on=starts,
            ends_on=D(2021, 12, 31),
        )
        return p

    w = await programme(bhr, "BHR-IPCP-2014", "completed", D(2014, 1, 1))
    z = await programme(bhr, "BHR-IPCP-2019", "draft", D(2019, 1, 1))
    y = await programme(bhr, "BHR-ITPP-2016", "active", D(2016, 6, 1))
    x = await programme(bhr, "BHR-IPCP-2016", "active", D(2016, 6, 1))
    q = await programme(qat, "QAT-IPCP-2017", "approved", D(2017, 1, 1))
    m = await programme(mar, "MAR-IPCP-2017", "draft", D(2017, 1, 1))

    async def project(prog: Programme, pillar: Pillar, *milestones: tuple[Any, ...], **kw):
        p = await factory.project(
            programme_id=prog.id, pillar_id=pillar.id, starts_on=D(2014, 1, 1), **kw
        )
        for due, weight, done in milestones:
            await factory.milestone(
                project_id=p.id,
                due_on=due,
                weight=weight,
                state="done" if done else "pending",
                completed_on=done,
            )
        return p

    await project(w, political, (D(2014, 6, 1), 1, D(2014, 5, 1)))
    await project(x, political, (D(2017, 1, 1), 4, D(2016, 12, 20)), (D(2017, 6, 1), 4, None))
    await project(y, emerging, (D(2017, 3, 1), 1, D(2017, 2, 1)), (D(2017, 12, 1), 2, None))
    await project(y, emerging, (D(2017, 1, 1), 5, None), status="cancelled")
    await project(q, defence, (D(2017, 5, 1), 2, None))
    return World(ici.id, md.id, bhr, qat, mar, jor, w, x, y, z, q, m, pillars)


def programme_row(p: Programme, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "programme": {"id": p.id, "code": p.code, "title": p.title, "status": p.status},
        **values,
    }


def partner_row(p: Partner, programmes: int, values: dict[str, Any]) -> dict[str, Any]:
    return {
        "partner": {"id": p.id, "code": p.code, "name": p.name},
        "programmes": programmes,
        **values,
    }


# Figures as of 2017-06-30, worked out once:
# W: 1/1 done, 1/1 due -> 1.0, 1.0, 0.0, complete
W_FIG = figures(1, 1, 1, 0, 1.0, 1.0, 0.0, "complete")
# X: done m1 4/8 = 0.5; due m1+m2 8/8 = 1.0; var -0.5; m2 overdue 29 days -> behind
X_FIG = figures(1, 2, 1, 1, 0.5, 1.0, -0.5, "behind")
# Y: 2 projects (one cancelled); done m3 1/3 = 0.3333; due m3 1/3 = 0.3333; var 0; on track
Y_FIG = figures(2, 2, 1, 0, 0.3333, 0.3333, 0.0, "on_track")
# Q: done 0/2; due 2/2 = 1.0; var -1.0; q1 overdue 60 days (05-01 -> 06-30) -> late
Q_FIG = figures(1, 1, 0, 1, 0.0, 1.0, -1.0, "late")
# BHR = W+X+Y+Z: 4 projects, 5 counted, done w1 m1 m3 = 3, overdue m2 = 1,
# W = 1+8+3 = 12; done 1+4+1 = 6/12 = 0.5; due 1+8+1 = 10/12 = 0.8333; var -4/12 = -0.3333
BHR_FIG = figures(4, 5, 3, 1, 0.5, 0.8333, -0.3333, "behind")
# political = W's + X's projects: 2 projects, 3 counted, done 2, overdue 1, W = 9,
# done 5/9 = 0.5556, due 9/9 = 1.0, var -4/9 = -0.4444, behind
POLITICAL_FIG = figures(2, 3, 2, 1, 0.5556, 1.0, -0.4444, "behind")


async def get(client: httpx.AsyncClient, url: str, model: Any, **params: Any) -> Any:
    response = await client.get(url, params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    # exactly the documented shape: no missing or extra field, the same values
    assert model.model_validate(body).model_dump(mode="json") == body
    return body


async def test_partner_report(client: httpx.AsyncClient, world: World) -> None:
    w = world
    body = await get(client, f"/api/v1/partners/{w.bhr.id}/report", PartnerReport, as_of=AS_OF)
    assert body["as_of"] == AS_OF
    assert body["partner"] == {"id": w.bhr.id, "code": "BHR", "name": "Kingdom of Bahrain"}
    assert body["summary"] == BHR_FIG
    political, defence, emerging = w.pillars[:3]
    assert (
        body["pillars"]
        == [
            pillar_row(political, POLITICAL_FIG),
            pillar_row(defence, empty(0)),  # no BHR project: listed with zeros
            pillar_row(emerging, Y_FIG),
            *(pillar_row(p, empty(0)) for p in w.pillars[3:]),
        ]
    )
    # by starts_on, then code: W (2014), X and Y (2016-06-01: IPCP < ITPP), Z (2019)
    assert body["programmes"] == [
        programme_row(w.w, W_FIG),
        programme_row(w.x, X_FIG),
        programme_row(w.y, Y_FIG),
        programme_row(w.z, empty(0)),  # no project: zeros and not_planned
    ]


async def test_partner_report_other_dates(client: httpx.AsyncClient, world: World) -> None:
    w = world
    url = f"/api/v1/partners/{w.bhr.id}/report"
    # 2014-05-31: only w1 (done 05-01) is due-or-done: W = 12 still (all counted milestones),
    # done 1/12 = 0.0833; due 0/12 (w1 due 06-01) = 0; var 0.0833; nothing overdue
    body = await get(client, url, PartnerReport, as_of="2014-05-31")
    assert body["summary"] == figures(4, 5, 1, 0, 0.0833, 0.0, 0.0833, "on_track")
    # 2018-01-01: done 6/12 = 0.5; all due 12/12 = 1.0; var -0.5;
    # overdue m2 (214 days), m4 (2017-12-01: 31 days) -> late
    body = await get(client, url, PartnerReport, as_of="2018-01-01")
    assert body["summary"] == figures(4, 5, 3, 2, 0.5, 1.0, -0.5, "late")
    assert body["programmes"][2] == programme_row(
        # Y: done 1/3 = 0.3333; due 3/3 = 1.0; var -0.6667; m4 31 days overdue -> late
        w.y,
        figures(2, 2, 1, 1, 0.3333, 1.0, -0.6667, "late"),
    )
    # a partner with no programme: empty report with every pillar
    body = await get(client, f"/api/v1/partners/{w.jor.id}/report", PartnerReport, as_of=AS_OF)
    assert body["summary"] == empty(0)
    assert body["programmes"] == []
    assert body["pillars"] == [pillar_row(p, empty(0)) for p in w.pillars]


async def test_partner_csv(client: httpx.AsyncClient, world: World) -> None:
    w = world
    response = await client.get(
        f"/api/v1/partners/{w.bhr.id}/report",
        params={"as_of": AS_OF},
        headers={"Accept": "text/csv"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows == [
        ["programme_id", "programme_code", "programme_title", "status", "projects",
         "milestones", "milestones_done", "milestones_overdue", "progress",
         "expected_progress", "variance", "schedule"],
        [str(w.w.id), "BHR-IPCP-2014", "BHR-IPCP-2014 title", "completed",
         "1", "1", "1", "0", "1.0", "1.0", "0.0", "complete"],
        [str(w.x.id), "BHR-IPCP-2016", "BHR-IPCP-2016 title", "active",
         "1", "2", "1", "1", "0.5", "1.0", "-0.5", "behind"],
        [str(w.y.id), "BHR-ITPP-2016", "BHR-ITPP-2016 title", "active",
         "2", "2", "1", "0", "0.3333", "0.3333", "0.0", "on_track"],
        [str(w.z.id), "BHR-IPCP-2019", "BHR-IPCP-2019 title", "draft",
         "0", "0", "0", "0", "", "", "", "not_planned"],
    ]  # fmt: skip


async def test_portfolio(client: httpx.AsyncClient, world: World) -> None:
    w = world
    url = "/api/v1/reports/portfolio"
    body = await get(client, url, PortfolioReport, as_of=AS_OF)
    assert body["as_of"] == AS_OF
    # by partner code; JOR has no programme, so no row; MAR's one programme is empty
    assert body["partners"] == [
        partner_row(w.bhr, 4, BHR_FIG),
        partner_row(w.mar, 1, empty(0)),
        partner_row(w.qat, 1, Q_FIG),
    ]
    # all: 5 projects, 6 counted, done 3, overdue m2 + q1 = 2, W = 12 + 2 = 14,
    # done 6/14 = 0.4286, due 10+2 = 12/14 = 0.8571, var -6/14 = -0.4286, q1 60 days -> late
    total = figures(5, 6, 3, 2, 0.4286, 0.8571, -0.4286, "late")
    assert body["summary"] == total
    political, defence, emerging = w.pillars[:3]
    assert body["pillars"][:3] == [
        pillar_row(political, POLITICAL_FIG),
        pillar_row(defence, Q_FIG),
        pillar_row(emerging, Y_FIG),
    ]

    # status=active: X and Y only -> 3 projects, 4 counted (m1..m4), done m1 m3 = 2,
    # overdue m2 = 1, W = 8+3 = 11, done 5/11 = 0.4545, due 9/11 = 0.8182, var -4/11 = -0.3636
    active = figures(3, 4, 2, 1, 0.4545, 0.8182, -0.3636, "behind")
    body = await get(client, url, PortfolioReport, as_of=AS_OF, status="active")
    assert body["partners"] == [partner_row(w.bhr, 2, active)]
    assert body["summary"] == active
    assert body["pillars"][:3] == [
        pillar_row(political, X_FIG),
        pillar_row(defence, empty(0)),
        pillar_row(emerging, Y_FIG),
    ]

    # framework ICI: BHR and QAT (MAR is in MD); the figures are those of all (MAR is empty)
    body = await get(client, url, PortfolioReport, as_of=AS_OF, framework_id=w.ici)
    assert body["partners"] == [partner_row(w.bhr, 4, BHR_FIG), partner_row(w.qat, 1, Q_FIG)]
    assert body["summary"] == total
    # framework MD: MAR only, an empty programme
    body = await get(client, url, PortfolioReport, as_of=AS_OF, framework_id=w.md)
    assert body["partners"] == [partner_row(w.mar, 1, empty(0))]
    assert body["summary"] == empty(0)
    assert body["pillars"] == [pillar_row(p, empty(0)) for p in w.pillars]
    # both filters: ICI and draft -> BHR's Z (no project) only
    body = await get(client, url, PortfolioReport, as_of=AS_OF, framework_id=w.ici, status="draft")
    assert body["partners"] == [partner_row(w.bhr, 1, empty(0))]
    # nothing matches: an unknown framework, a status nobody has
    for params in ({"framework_id": 999999}, {"status": "cancelled"}):
        body = await get(client, url, PortfolioReport, as_of=AS_OF, **params)
        assert body["partners"] == []
        assert body["summary"] == empty(0)
        assert len(body["pillars"]) == len(w.pillars)


async def test_portfolio_csv(client: httpx.AsyncClient, world: World) -> None:
    w = world
    response = await client.get(
        "/api/v1/reports/portfolio", params={"as_of": AS_OF}, headers={"Accept": "text/csv"}
    )
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"))))
    assert rows == [
        ["partner_id", "partner_code", "partner_name", "programmes", "projects", "milestones",
         "milestones_done", "milestones_overdue", "progress", "expected_progress", "variance",
         "schedule"],
        [str(w.bhr.id), "BHR", "Kingdom of Bahrain", "4",
         "4", "5", "3", "1", "0.5", "0.8333", "-0.3333", "behind"],
        [str(w.mar.id), "MAR", "Kingdom of Morocco", "1",
         "0", "0", "0", "0", "", "", "", "not_planned"],
        [str(w.qat.id), "QAT", "State of Qatar", "1",
         "1", "1", "0", "1", "0.0", "1.0", "-1.0", "late"],
    ]  # fmt: skip
    xml = await client.get("/api/v1/reports/portfolio", headers={"Accept": "application/xml"})
    assert xml.status_code == 406


async def test_bad_parameters(client: httpx.AsyncClient, world: World) -> None:
    for params in (
        {"status": "bogus"},
        {"status": "ACTIVE"},
        {"framework_id": "abc"},
        {"framework_id": "0"},
        {"framework_id": str(2**63)},
        {"framework_id": "1.5"},
        {"as_of": "2017-13-01"},
        {"partner_id": "1"},
    ):
        response = await client.get("/api/v1/reports/portfolio", params=params)
        assert response.status_code == 422, params
        assert response.headers["content-type"] == "application/problem+json"
    response = await client.get(
        f"/api/v1/partners/{world.bhr.id}/report", params={"as_of": "2017-02-29"}
    )
    assert response.status_code == 422
    for ident in ("999999", str(2**63), "9" * 30, "0"):
        assert (await client.get(f"/api/v1/partners/{ident}/report")).status_code == 404, ident
    assert (await client.get("/api/v1/partners/abc/report")).status_code == 422
    response = await client.get(
        f"/api/v1/partners/{world.bhr.id}/report", headers={"Accept": "application/xml"}
    )
    assert response.status_code == 406


@pytest.mark.parametrize("role", ["liaison", "viewer"])
async def test_bound_users_see_only_their_partner(client_for: Any, world: World, role: str) -> None:
    w = world
    bound = await client_for(role, w.bhr.id)
    # own partner and programmes: the same figures as anyone
    body = await get(bound, f"/api/v1/partners/{w.bhr.id}/report", PartnerReport, as_of=AS_OF)
    assert body["summary"] == BHR_FIG
    response = await bound.get(f"/api/v1/programmes/{w.x.id}/report", params={"as_of": AS_OF})
    assert response.status_code == 200
    # anything else is 404, exactly as if it did not exist (CSV too)
    for url in (
        f"/api/v1/programmes/{w.q.id}/report",
        f"/api/v1/programmes/{w.m.id}/report",
        f"/api/v1/partners/{w.qat.id}/report",
        f"/api/v1/partners/{w.jor.id}/report",
    ):
        for accept in ("application/json", "text/csv"):
            response = await bound.get(url, headers={"Accept": accept})
            assert response.status_code == 404, url
            assert response.json()["detail"].endswith("does not exist")
    # the portfolio holds only its partner
    body = await get(bound, "/api/v1/reports/portfolio", PortfolioReport, as_of=AS_OF)
    assert body["partners"] == [partner_row(w.bhr, 4, BHR_FIG)]
    assert body["summary"] == BHR_FIG
    body = await get(
        bound, "/api/v1/reports/portfolio", PortfolioReport, as_of=AS_OF, framework_id=w.md
    )
    assert body["partners"] == []


@pytest.mark.parametrize("role", ["staff", "viewer"])
async def test_staff_and_unbound_viewers_see_everything(
    client_for: Any, world: World, role: str
) -> None:
    w = world
    reader = await client_for(role, None)
    body = await get(reader, "/api/v1/reports/portfolio", PortfolioReport, as_of=AS_OF)
    assert [row["partner"]["code"] for row in body["partners"]] == ["BHR", "MAR", "QAT"]
    for url in (f"/api/v1/programmes/{w.q.id}/report", f"/api/v1/partners/{w.qat.id}/report"):
        assert (await reader.get(url)).status_code == 200, url
