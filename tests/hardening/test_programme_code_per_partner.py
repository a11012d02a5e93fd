"""Programme codes are unique per partner, so a 409 tells nobody about another partner's
programmes (issue 14, item 5)."""

from __future__ import annotations

from typing import Any

import httpx


def _body(partner_id: int, code: str) -> dict[str, Any]:
    return {
        "partner_id": partner_id,
        "code": code,
        "title": "A programme",
        "starts_on": "2017-01-01",
        "ends_on": "2019-12-31",
    }


async def test_codes_are_unique_per_partner(
    client: httpx.AsyncClient, client_for: Any, factory: Any
) -> None:
    kuwait, bahrain = await factory.partner(), await factory.partner()
    secret = await client.post("/api/v1/programmes", json=_body(kuwait.id, "KWT-IPCP-2017"))
    assert secret.status_code == 201, secret.text
    liaison = await client_for("liaison", partner_id=bahrain.id)
    # the liaison of another partner may use the same code: it learns nothing
    mine = await liaison.post("/api/v1/programmes", json=_body(bahrain.id, "KWT-IPCP-2017"))
    assert mine.status_code == 201, mine.text
    # within one partner the code is still unique: 409 naming `code`
    again = await liaison.post("/api/v1/programmes", json=_body(bahrain.id, "KWT-IPCP-2017"))
    assert again.status_code == 409, again.text
    assert again.json()["errors"] == [{"loc": ["body", "code"], "msg": again.json()["detail"]}]
    other = await liaison.post("/api/v1/programmes", json=_body(bahrain.id, "BHR-IPCP-2017"))
    assert other.status_code == 201
    renamed = await liaison.patch(
        f"/api/v1/programmes/{other.json()['id']}", json={"code": "KWT-IPCP-2017"}
    )
    assert renamed.status_code == 409
    assert renamed.json()["errors"][0]["loc"] == ["body", "code"]
    # moving a programme to a partner that already uses its code: 409 too
    moved = await client.patch(
        f"/api/v1/programmes/{secret.json()['id']}", json={"partner_id": bahrain.id}
    )
    assert moved.status_code == 409, moved.text
    assert moved.json()["errors"][0]["loc"] == ["body", "code"]
    codes = sorted(
        (p["partner_id"], p["code"])
        for p in (await client.get("/api/v1/programmes", params={"sort": "code"})).json()["items"]
        if p["code"].startswith(("KWT", "BHR"))
    )
    assert codes == sorted(
        [(kuwait.id, "KWT-IPCP-2017"), (bahrain.id, "KWT-IPCP-2017"), (bahrain.id, "BHR-IPCP-2017")]
    )
