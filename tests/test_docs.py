"""The docs work on a closed network: every asset they load is served by the app itself."""

from __future__ import annotations

import re

import httpx
import pytest

from ipcp_api.config import SettingsError, load_settings
from ipcp_api.docs import swagger_ui_html


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


async def test_token_kept_for_the_tab_by_default(anon: httpx.AsyncClient) -> None:
    html = (await anon.get("/docs")).text
    assert '"persistAuthorization": false' in html  # Swagger UI's own: localStorage
    assert 'ipcpPlugin("session")' in html


@pytest.mark.parametrize(
    ("setting", "keep", "local"),
    [
        ("session", "session", "false"),
        ("local", "local", "true"),
        ("off", "off", "false"),
        ("true", "local", "true"),  # the earlier boolean form
        ("false", "off", "false"),
    ],
)
def test_where_the_token_is_kept_follows_the_setting(
    monkeypatch: pytest.MonkeyPatch, setting: str, keep: str, local: str
) -> None:
    monkeypatch.setenv("IPCP_SWAGGER_PERSIST_AUTHORIZATION", setting)
    settings = load_settings(secret_key="docs-" + "x" * 40)
    assert settings.swagger_persist_authorization == keep
    html = swagger_ui_html(
        openapi_url="/openapi.json",
        title="t",
        static="/static/docs",
        oauth2_redirect_url="/docs/oauth2-redirect",
        keep_token=settings.swagger_persist_authorization,
    ).body.decode()
    assert f'ipcpPlugin("{keep}")' in html
    assert f'"persistAuthorization": {local}' in html


def test_a_bad_setting_names_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPCP_SWAGGER_PERSIST_AUTHORIZATION", "forever")
    with pytest.raises(SettingsError, match="IPCP_SWAGGER_PERSIST_AUTHORIZATION"):
        load_settings(secret_key="docs-" + "x" * 40)
