"""The docs as a person uses them, in a real headless Chromium, on a closed network.

The real server (``ipcp-api serve``) runs on a scratch database holding the demo data; the
browser may talk to this machine only: any request to another host is aborted and fails the
test. The one exception, ReDoc's vendor logo, is refused by the page's own
Content-Security-Policy before it reaches the network, and is checked to be the only one.
Also checked as a liaison officer meets them: an untouched "List programmes" returns every
programme the user may see (nothing pre-filled), a wrong password shows the server's message,
a reload keeps the sign-in for the tab, the curl box never shows the token; and a front-end
page on another local port calls the API with ``fetch`` when ``IPCP_CORS_ORIGINS`` lists its
origin, and cannot when it does not.
Skipped when Debian's ``chromium`` or Playwright's Python package is missing (CI installs both;
see .ci/run).
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from ipcp_api.config import load_settings
from ipcp_api.db.session import make_engine

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / ".ci" / "artifacts"
LOOPBACK = frozenset({"127.0.0.1", "localhost"})
# A name that is not "localhost": Swagger UI treats loopback hosts specially (no online
# validator badge), so the docs are also loaded under a name a real deployment would have.
# Chromium resolves it to 127.0.0.1 itself; no traffic leaves the machine.
ALIAS = "ipcp-docs.test"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-proxy-server",
    f"--host-resolver-rules=MAP {ALIAS} 127.0.0.1",
]
TIMEOUT_MS = 30_000
# ReDoc's bundle always shows its vendor's logo from this address (no option turns it off);
# the page's Content-Security-Policy refuses it in the browser, so nothing reaches the network.
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"

try:
    from playwright.sync_api import (
        Browser,
        BrowserContext,
        Locator,
        Page,
        Request,
        Response,
        Route,
        WebSocket,
        sync_playwright,
    )
except ModuleNotFoundError:  # pragma: no cover - depends on the machine
    HAVE_PLAYWRIGHT = False
else:
    HAVE_PLAYWRIGHT = True

# CI sets IPCP_REQUIRE_BROWSER=1 so a missing browser fails the run instead of skipping it.
if os.environ.get("IPCP_REQUIRE_BROWSER") == "1" and not (
    os.access(CHROMIUM, os.X_OK) and HAVE_PLAYWRIGHT
):
    raise RuntimeError(f"IPCP_REQUIRE_BROWSER=1 but Chromium ({CHROMIUM}) or playwright is missing")

pytestmark = [
    pytest.mark.skipif(
        not os.access(CHROMIUM, os.X_OK),
        reason=f"no Chromium at {CHROMIUM} (apt-get install -y chromium)",
    ),
    pytest.mark.skipif(
        not HAVE_PLAYWRIGHT,
        reason="the playwright package is not installed (pip install playwright)",
    ),
]


# --- the real server on a scratch database ------------------------------------------------


async def _admin(url: str, statement: str) -> None:
    engine = make_engine(load_settings(database_url=url), url)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli_env(database_url: str, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPCP_") and k != "DATABASE_URL"}
    env["DATABASE_URL"] = database_url
    env["IPCP_DATA_DIR"] = str(data_dir)
    return env


def _wait_ready(base: str, server: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            break
        try:
            if httpx.get(f"{base}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    server.terminate()
    output, _ = server.communicate(timeout=30)
    pytest.fail(f"the server did not become ready:\n{output}")


class _Page(http.server.BaseHTTPRequestHandler):
    """A front-end app's page: nothing but a title (the test drives ``fetch`` from it)."""

    def do_GET(self) -> None:
        body = b"<!DOCTYPE html><html><head><title>front end</title></head><body></body></html>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def front_ends() -> Iterator[dict[str, str]]:
    """Two static pages on other local ports: one origin the API lists, one it does not."""
    servers = {
        name: http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
        for name in ("listed", "other")
    }
    threads = [
        threading.Thread(target=server.serve_forever, daemon=True) for server in servers.values()
    ]
    for thread in threads:
        thread.start()
    try:
        yield {
            name: f"http://127.0.0.1:{server.server_address[1]}" for name, server in servers.items()
        }
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


@pytest.fixture(scope="module")
def live_server(
    server_url: str, tmp_path_factory: pytest.TempPathFactory, front_ends: dict[str, str]
) -> Iterator[str]:
    """``ipcp-api serve`` on a scratch database of the test server, demo data loaded first;
    pages from the ``listed`` front end may call it (``IPCP_CORS_ORIGINS``)."""
    name = f"ipcp_browser_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    asyncio.run(
        _admin(server_url, f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")
    )
    url = make_url(server_url).set(database=name).render_as_string(hide_password=False)
    env = _cli_env(url, tmp_path_factory.mktemp("browser-data"))
    env["IPCP_CORS_ORIGINS"] = front_ends["listed"]
    try:
        seeded = subprocess.run(
            [sys.executable, "-m", "ipcp_api.cli", "seed", "--demo"],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert seeded.returncode == 0, seeded.stdout + seeded.stderr
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        server = subprocess.Popen(
            [sys.executable, "-m", "ipcp_api.cli", "serve", "--port", str(port), "--no-migrate"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_ready(base, server)
            yield base
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
                server.communicate()
    finally:
        asyncio.run(_admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# --- the browser, fenced to this machine --------------------------------------------------


@dataclass
class Fence:
    """Records every request the page makes; aborts those to a host that is not allowed.

    ``attempted``: every request for another host, seen by the page, including those the
    browser itself refused under the docs pages' Content-Security-Policy (which never reach
    route()). ``escaped``: those that would have gone to the network but for this fence.
    """

    allowed: frozenset[str]
    attempted: list[str] = field(default_factory=list)
    escaped: list[str] = field(default_factory=list)
    local: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def _is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        return parts.scheme in {"data", "blob", "about"} or parts.hostname in self.allowed

    def request(self, request: Request) -> None:
        (self.local if self._is_local(request.url) else self.attempted).append(request.url)

    def websocket(self, socket: WebSocket) -> None:  # not seen by route() either
        if not self._is_local(socket.url):
            self.attempted.append(socket.url)
            self.escaped.append(socket.url)

    def route(self, route: Route) -> None:
        if self._is_local(route.request.url):
            route.continue_()
        else:
            self.escaped.append(route.request.url)
            route.abort("blockedbyclient")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=LAUNCH_ARGS, timeout=TIMEOUT_MS
        )
        try:
            yield chromium
        finally:
            chromium.close()


OpenPage = Callable[..., tuple["Page", Fence]]


@pytest.fixture
def open_page(browser: Browser) -> Iterator[OpenPage]:
    """A fresh browser context (no cookies, no storage) fenced to the allowed hosts."""
    contexts: list[BrowserContext] = []

    def open_(allowed: frozenset[str] = LOOPBACK) -> tuple[Page, Fence]:
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        contexts.append(context)
        context.set_default_timeout(TIMEOUT_MS)
        fence = Fence(allowed)
        context.route("**/*", fence.route)
        page = context.new_page()
        page.on("request", fence.request)
        page.on("websocket", fence.websocket)
        page.on("pageerror", lambda exc: fence.errors.append(str(exc)))
        return page, fence

    yield open_
    for context in contexts:
        context.close()


def _sign_in_dialog(page: Page, username: str, password: str) -> Locator:
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("#oauth_username").fill(username)
    dialog.locator("#oauth_password").fill(password)
    dialog.locator("button.authorize").click()
    return dialog


def _sign_in(page: Page, username: str, password: str) -> None:
    dialog = _sign_in_dialog(page, username, password)
    dialog.locator("button", has_text="Logout").wait_for()
    dialog.locator("button.btn-done").click()
    dialog.wait_for(state="detached")


def _signed_in(page: Page) -> bool:
    button = page.locator(".auth-wrapper > button.authorize")
    return "locked" in (button.get_attribute("class") or "").split()


def _open_docs(page: Page, base: str) -> None:
    page.goto(f"{base}/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="IPCP API").wait_for()


def _execute_untouched(page: Page, operation_id: str, path: str) -> Response:
    """Try it out and Execute with no parameter touched."""
    operation = page.locator(f"#operations-{operation_id}")
    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    with page.expect_response(lambda r: urlsplit(r.url).path == path) as answered:
        operation.locator("button.execute").click()
    return answered.value


def _api_list(base: str, username: str, password: str, path: str) -> dict[str, Any]:
    with httpx.Client(base_url=base, timeout=10) as http:
        token = http.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        ).json()["access_token"]
        listed = http.get(path, params={"limit": 200}, headers={"Authorization": f"Bearer {token}"})
    assert listed.status_code == 200, listed.text
    body: dict[str, Any] = listed.json()
    return body


def _programme_id(base: str, code: str) -> int:
    with httpx.Client(base_url=base, timeout=10) as http:
        token = http.post(
            "/api/v1/auth/token",
            data={"username": "bahrain-liaison", "password": "bahrain-liaison-password"},
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        listed = http.get("/api/v1/programmes", params={"q": code}, headers=headers)
        assert listed.status_code == 200, listed.text
    matches = [item["id"] for item in listed.json()["items"] if item["code"] == code]
    assert len(matches) == 1, listed.json()
    return int(matches[0])


# --- the tests -----------------------------------------------------------------------------


def test_try_the_programme_report_in_swagger_ui(live_server: str, open_page: OpenPage) -> None:
    programme_id = _programme_id(live_server, "BHR-IPCP-2016")
    page, fence = open_page()
    tokens: list[str] = []

    def on_response(response: Response) -> None:
        if response.url.endswith("/api/v1/auth/token") and response.status == 200:
            tokens.append(json.loads(response.body())["access_token"])

    page.on("response", on_response)
    page.goto(f"{live_server}/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="IPCP API").wait_for()

    # Authorize: the OAuth2 password flow, as the Bahrain liaison.
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("#oauth_username").fill("bahrain-liaison")
    dialog.locator("#oauth_password").fill("bahrain-liaison-password")
    dialog.locator("button.authorize").click()
    dialog.locator("button", has_text="Logout").wait_for()
    assert len(tokens) == 1, "the sign-in did not return a token"
    dialog.locator("button.btn-done").click()
    dialog.wait_for(state="detached")
    assert "locked" in (page.locator(".auth-wrapper button.authorize").get_attribute("class") or "")

    # The programme report: Try it out, fill the parameters, execute.
    operation = page.locator("#operations-reports-getProgrammeReport")
    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    operation.locator('tr[data-param-name="programme_id"] input').fill(str(programme_id))
    operation.locator('tr[data-param-name="as_of"] input').fill("2017-06-30")
    with page.expect_response(lambda r: "/report?" in r.url) as answered:
        operation.locator("button.execute").click()
    response = answered.value
    assert response.status == 200
    assert response.url.endswith(f"/api/v1/programmes/{programme_id}/report?as_of=2017-06-30")
    assert response.request.headers.get("authorization") == f"Bearer {tokens[0]}"
    report = response.json()
    assert report["programme"]["code"] == "BHR-IPCP-2016"
    assert report["as_of"] == "2017-06-30"

    live = operation.locator(".live-responses-table .response")
    live.locator(".response-col_status").filter(has_text="200").wait_for()
    assert "BHR-IPCP-2016" in live.locator(".response-col_description").inner_text()

    # The screenshot: from the operation's header down to the server's response.
    top = operation.evaluate("el => el.getBoundingClientRect().top + window.scrollY")
    bottom = page.locator(".live-responses-table").evaluate(
        "el => el.getBoundingClientRect().bottom + window.scrollY"
    )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=ARTIFACTS / "swagger-report.png",
        full_page=True,
        clip={"x": 0, "y": top, "width": 1280, "height": bottom - top + 8},
    )

    # The token is kept for this tab only (sessionStorage), never in localStorage, and the
    # curl box shows a placeholder, not the token (screenshots get shared).
    assert tokens[0] in page.evaluate("() => JSON.stringify({...sessionStorage})")
    assert tokens[0] not in page.evaluate("() => JSON.stringify({...localStorage})")
    curl = operation.locator(".curl-command").inner_text()
    assert "Authorization: Bearer <your token>" in curl
    assert tokens[0] not in curl
    assert tokens[0] not in page.content()
    assert fence.attempted == [], f"the page tried to reach other hosts: {fence.attempted}"
    assert fence.errors == [], fence.errors
    assert any(url.endswith("/static/docs/swagger-ui-bundle.js") for url in fence.local)


def test_download_the_programme_report_as_pdf_in_swagger_ui(
    live_server: str, open_page: OpenPage
) -> None:
    import io

    import pypdf

    programme_id = _programme_id(live_server, "BHR-IPCP-2016")
    page, fence = open_page()
    _open_docs(page, live_server)
    _sign_in(page, "bahrain-liaison", "bahrain-liaison-password")

    operation = page.locator("#operations-reports-getProgrammeReport")
    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    operation.locator('tr[data-param-name="programme_id"] input').fill(str(programme_id))
    operation.locator('tr[data-param-name="as_of"] input').fill("2017-06-30")
    operation.locator('tr[data-param-name="format"] select').select_option("pdf")
    operation.locator('tr[data-param-name="lang"] select').select_option("ar")
    with page.expect_response(lambda r: "/report?" in r.url) as answered:
        operation.locator("button.execute").click()
    response = answered.value
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "format=pdf" in response.url

    # Swagger UI offers the file as a download named by the server
    link = operation.locator(".live-responses-table .response-col_description a[download]")
    link.wait_for()
    with page.expect_download() as downloading:
        link.click()
    download = downloading.value
    assert download.suggested_filename == "programme-BHR-IPCP-2016-2017-06-30.pdf"
    path = download.path()
    content = Path(path).read_bytes()
    assert content.startswith(b"%PDF-")
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(content)).pages)
    assert "BHR-IPCP-2016" in text
    assert "2017-06-30" in text
    assert "البحرين" in text
    assert fence.attempted == [], f"the page tried to reach other hosts: {fence.attempted}"


def test_docs_pages_fetch_nothing_from_other_hosts(live_server: str, open_page: OpenPage) -> None:
    # Under a name that is not loopback, as deployed (the try-it-out test covers 127.0.0.1).
    base = live_server.replace("127.0.0.1", ALIAS)
    page, fence = open_page(LOOPBACK | {ALIAS})

    page.goto(f"{base}/docs")
    page.locator("#operations-reports-getProgrammeReport").wait_for()
    page.wait_for_load_state("networkidle")
    assert fence.attempted == [], f"Swagger UI tried to reach other hosts: {fence.attempted}"

    page.goto(f"{base}/redoc")
    page.locator("h1", has_text="IPCP API").wait_for()
    page.locator("h2", has_text="Progress report of a programme").wait_for()
    page.wait_for_load_state("networkidle")
    assert set(fence.attempted) <= {REDOC_LOGO}, f"ReDoc tried to reach: {fence.attempted}"

    # Nothing got past the browser's own policy: the fence had nothing to stop.
    assert fence.escaped == [], f"requests for other hosts left the page: {fence.escaped}"
    assert fence.errors == [], fence.errors
    assert any(url.endswith("/static/docs/redoc.standalone.js") for url in fence.local)


@pytest.mark.parametrize(
    ("username", "password"),
    [("bahrain-liaison", "bahrain-liaison-password"), ("demo-staff", "demo-staff-password")],
)
def test_an_untouched_list_returns_everything_the_user_may_see(
    live_server: str, open_page: OpenPage, username: str, password: str
) -> None:
    """No optional parameter is pre-filled: an untouched form never filters."""
    page, fence = open_page()
    _open_docs(page, live_server)
    _sign_in(page, username, password)
    for operation_id, path in (
        ("programmes-listProgrammes", "/api/v1/programmes"),
        ("milestones-listMilestones", "/api/v1/milestones"),
    ):
        response = _execute_untouched(page, operation_id, path)
        assert response.status == 200, response.text()
        assert urlsplit(response.url).query == "", f"the form sent {response.url}"
        expected = _api_list(live_server, username, password, path)
        shown = response.json()
        assert shown["total"] == expected["total"] > 0
        assert [item["id"] for item in shown["items"]] == [
            item["id"] for item in expected["items"]
        ][: shown["limit"]]
    assert fence.errors == [], fence.errors


def test_a_wrong_password_shows_the_servers_message(live_server: str, open_page: OpenPage) -> None:
    page, fence = open_page()
    _open_docs(page, live_server)
    dialog = _sign_in_dialog(page, "bahrain-liaison", "not-the-password")
    error = dialog.locator(".errors")
    error.filter(has_text="wrong username or password").wait_for()
    assert "Unauthorized" not in error.inner_text()
    assert not _signed_in(page)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    dialog.screenshot(path=ARTIFACTS / "swagger-wrong-password.png")
    # the dialog speaks plainly
    text = dialog.inner_text()
    assert "IPCP username and password" in text
    assert "Scopes are used" not in text
    assert fence.errors == [], fence.errors


def test_a_reload_keeps_the_session_and_a_new_tab_starts_signed_out(
    live_server: str, open_page: OpenPage
) -> None:
    page, fence = open_page()
    _open_docs(page, live_server)
    _sign_in(page, "bahrain-liaison", "bahrain-liaison-password")
    page.reload()
    page.locator(".swagger-ui .info .title").wait_for()
    page.locator(".auth-wrapper > button.authorize.locked").wait_for()
    response = _execute_untouched(page, "users-getCurrentUser", "/api/v1/users/me")
    assert response.status == 200, response.text()
    assert response.json()["username"] == "bahrain-liaison"
    assert page.evaluate("() => Object.keys(localStorage).length") == 0

    # Logout forgets it for this tab too.
    page.locator(".auth-wrapper button.authorize").click()
    dialog = page.locator(".modal-ux")
    dialog.locator("button", has_text="Logout").click()
    dialog.locator("button.btn-done").click()
    assert page.evaluate("() => Object.keys(sessionStorage).length") == 0

    # Another tab (a fresh browsing context: closing the tab drops sessionStorage) is signed out.
    other, _ = open_page()
    _open_docs(other, live_server)
    other.wait_for_timeout(500)
    assert not _signed_in(other)
    assert fence.errors == [], fence.errors


# What a front-end app does from its own origin: sign in, list with the token, read an ETag
# and PATCH with If-Match (a preflighted request), then meet a 412 it can read.
FRONT_END_SCRIPT = """
async (api) => {
  const steps = [];
  try {
    const signIn = await fetch(api + "/api/v1/auth/token", {
      method: "POST",
      body: new URLSearchParams({username: "demo-staff", password: "demo-staff-password"}),
    });
    const token = (await signIn.json()).access_token;
    steps.push(["token", signIn.status]);
    const auth = {Authorization: "Bearer " + token};
    const listed = await fetch(api + "/api/v1/frameworks?limit=1", {headers: auth});
    const id = (await listed.json()).items[0].id;
    steps.push(["list", listed.status]);
    const one = await fetch(api + "/api/v1/frameworks/" + id, {headers: auth});
    const etag = one.headers.get("ETag");
    steps.push(["get", one.status, etag, one.headers.get("X-Request-ID") !== null]);
    const patched = await fetch(api + "/api/v1/frameworks/" + id, {
      method: "PATCH",
      headers: Object.assign({"Content-Type": "application/json", "If-Match": etag}, auth),
      body: JSON.stringify({description: "Changed from a front end on another origin"}),
    });
    steps.push(["patch", patched.status, patched.headers.get("ETag")]);
    const stale = await fetch(api + "/api/v1/frameworks/" + id, {
      method: "PATCH",
      headers: Object.assign({"Content-Type": "application/json", "If-Match": etag}, auth),
      body: JSON.stringify({description: "Again"}),
    });
    steps.push(["stale", stale.status, (await stale.json()).type]);
    return {ok: true, steps: steps};
  } catch (error) {
    return {ok: false, steps: steps, error: String(error)};
  }
}
"""


def test_a_front_end_on_a_listed_origin_calls_the_api_and_others_cannot(
    live_server: str, open_page: OpenPage, front_ends: dict[str, str]
) -> None:
    page, fence = open_page()
    page.goto(f"{front_ends['listed']}/")
    result = page.evaluate(FRONT_END_SCRIPT, live_server)
    assert result["ok"], result
    steps = {step[0]: step[1:] for step in result["steps"]}
    assert steps["token"] == [200]
    assert steps["list"] == [200]
    status, etag, has_request_id = steps["get"]
    assert status == 200
    assert has_request_id
    assert etag is not None
    assert etag.startswith('"'), etag
    version = int(etag.strip('"'))
    assert steps["patch"] == [200, f'"{version + 1}"']
    assert steps["stale"] == [412, "/problems/stale-version"]

    other, _ = open_page()
    other.goto(f"{front_ends['other']}/")
    refused = other.evaluate(FRONT_END_SCRIPT, live_server)
    assert not refused["ok"], refused
    assert refused["steps"] == []  # not even the sign-in answer is readable
    assert "Failed to fetch" in refused["error"]
    assert fence.errors == [], fence.errors
