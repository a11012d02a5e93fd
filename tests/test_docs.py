"""The docs work on a closed network: every asset they load is served by the app itself."""

from __future__ import annotations

import re

import httpx


async def test_docs_pages_load_only_local_assets(anon: httpx.AsyncClient) -> None:
    for page in ("/docs", "/redoc"):
        response = await anon.get(page)
        assert response.status_code == 200
        html = response.text
        urls = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert urls, page
        for url in urls:
            assert not url.startswith(("http://", "https://", "//")), f"{page} loads {url}"
            if url.startswith("/static/"):
                asset = await anon.get(url)
                assert asset.status_code == 200, url
                assert len(asset.content) > 1000, url


async def test_docs_honour_root_path(app) -> None:
    transport = httpx.ASGITransport(app=app, root_path="/ipcp")
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        html = (await client.get("/docs")).text
    assert "/ipcp/static/docs/swagger-ui-bundle.js" in html
    assert "/ipcp/openapi.json" in html


async def test_token_not_persisted_by_default(anon: httpx.AsyncClient) -> None:
    html = (await anon.get("/docs")).text
    assert '"persistAuthorization": false' in html
