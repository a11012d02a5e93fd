"""Swagger UI and ReDoc served entirely by the application (closed networks have no CDN).

The JS/CSS assets come from the `fastapi-offline` package. ReDoc's page is FastAPI's own HTML
helper pointed at them; Swagger UI's page is written here, with a small plugin (``_PLUGIN``)
that makes it fit for people who are not developers of this service:

- the curl box never shows the bearer token (shared screenshots must not leak a live token);
- a failed sign-in shows the server's own message (``error_description`` of the token
  endpoint's problem), not "Auth Error Error: Unauthorized";
- the token is kept for the browser tab (``sessionStorage``: a reload keeps it, closing the tab
  drops it), or in ``localStorage``, or in memory only, as ``IPCP_SWAGGER_PERSIST_AUTHORIZATION``
  says (``session``, ``local``, ``off``).

URLs honour ``root_path`` so the docs work behind a path prefix.
"""

from __future__ import annotations

import json
from html import escape as html_escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_oauth2_redirect_html
from fastapi.staticfiles import StaticFiles
from starlette.responses import HTMLResponse

ASSETS = Path(fastapi_offline.__file__).parent / "static"
STATIC_URL = "/static/docs"

# The docs pages may load nothing from another host: on a closed network such a request hangs
# or leaks the page's address. ReDoc's bundle always shows its vendor's logo from a CDN (no
# option turns it off); the policy makes the browser refuse any such load before it reaches
# the network (tests/browser checks it in a real browser).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "worker-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)

TAGS = [
    {"name": "auth", "description": "Sign in: exchange a username and password for a token."},
    {"name": "reports", "description": "Progress as of any date: programme, partner, portfolio."},
    {"name": "programmes", "description": "Multi-year programmes agreed with a partner (IPCP...)."},
    {"name": "projects", "description": "Projects under a programme, one pillar each."},
    {"name": "milestones", "description": "Dated, weighted milestones of a project."},
    {
        "name": "reviews",
        "description": "Committee reviews of a programme with the partner (the 28+1 meetings).",
    },
    {"name": "decisions", "description": "What a review decided."},
    {"name": "action items", "description": "Follow-up agreed at a review, and who owns it."},
    {"name": "committees", "description": "The committees that review programmes (PCSC, NAC)."},
    {
        "name": "imports",
        "description": "A programme's projects and milestones from a spreadsheet, checked first.",
    },
    {"name": "partners", "description": "Partner countries and organisations."},
    {
        "name": "frameworks",
        "description": "Partnership frameworks such as the Istanbul Cooperation Initiative.",
    },
    {"name": "pillars", "description": "Cooperation pillars shared by all programmes."},
    {
        "name": "baselines",
        "description": "Frozen copies of a programme's plan, to see how far it has slipped.",
    },
    {"name": "users", "description": "Accounts and roles (admin only, except `/users/me`)."},
    {"name": "audit", "description": "Who changed what, and when (admin and staff)."},
    {"name": "health", "description": "Liveness and readiness probes."},
    {
        "name": "problems",
        "description": "What each kind of error means: every error's `type` is `/problems/<slug>`.",
    },
]


# The plugin: plain JavaScript that the bundled Swagger UI 5 understands (no build step).
_PLUGIN = """
function ipcpPlugin(keepToken) {
  var KEY = "ipcp-docs-authorized";
  var MASK = "Bearer <your token>";
  function mask(request) {
    if (!request || !request.get || !request.get("headers")) return request;
    return request.update("headers", function (headers) {
      return headers.map(function (value, name) {
        return String(name).toLowerCase() === "authorization" ? MASK : value;
      });
    });
  }
  function masked(Original, system) {
    return function (props) {
      return system.React.createElement(
        Original, Object.assign({}, props, {request: mask(props.request)})
      );
    };
  }
  return function (system) {
    return {
      wrapComponents: {curl: masked, RequestSnippets: masked},
      statePlugins: {
        err: {
          wrapActions: {
            newAuthErr: function (original) {
              return function (payload) {
                var found = /description: (.*)$/.exec((payload && payload.message) || "");
                return original(found ? Object.assign({}, payload, {message: found[1]}) : payload);
              };
            },
          },
        },
        auth: {
          wrapActions: {
            persistAuthorizationIfNeeded: function (original, sys) {
              return function () {
                var result = original.apply(this, arguments);
                if (keepToken === "session") {
                  var authorized = sys.authSelectors.authorized().toJS();
                  if (Object.keys(authorized).length) {
                    window.sessionStorage.setItem(KEY, JSON.stringify(authorized));
                  } else {
                    window.sessionStorage.removeItem(KEY);
                  }
                }
                return result;
              };
            },
          },
        },
      },
      afterLoad: function (sys) {
        if (keepToken !== "session") return;
        var saved = window.sessionStorage.getItem(KEY);
        if (!saved) return;
        try {
          sys.authActions.restoreAuthorization({authorized: JSON.parse(saved)});
        } catch (e) {
          window.sessionStorage.removeItem(KEY);
        }
      },
    };
  };
}
"""

_SWAGGER_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link type="text/css" rel="stylesheet" href="{static}/swagger-ui.css">
<link rel="shortcut icon" href="{static}/favicon.png">
<title>{title}</title>
<style>
/* OAuth scopes mean nothing here (the service has none): no paragraph about them */
.swagger-ui .scope-def {{ display: none; }}
</style>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{static}/swagger-ui-bundle.js"></script>
<script>
{plugin}
const ui = SwaggerUIBundle(Object.assign({config}, {{
  oauth2RedirectUrl: window.location.origin + {redirect},
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  plugins: [ipcpPlugin({keep})],
}}));
window.ui = ui;
</script>
</body>
</html>
"""


def swagger_ui_html(
    *, openapi_url: str, title: str, static: str, oauth2_redirect_url: str, keep_token: str
) -> HTMLResponse:
    config = {
        "url": openapi_url,
        "dom_id": "#swagger-ui",
        "layout": "BaseLayout",
        "deepLinking": True,
        "showExtensions": True,
        "showCommonExtensions": True,
        # Never the online validator badge (an image from validator.swagger.io).
        "validatorUrl": None,
        # Swagger UI's own persistence is localStorage: only when asked for.
        "persistAuthorization": keep_token == "local",
    }

    def js(value: object) -> str:
        # JSON inside <script>: "</" must not close the element
        return json.dumps(value).replace("</", "<\\/")

    html = _SWAGGER_PAGE.format(
        static=html_escape(static),
        title=html_escape(title),
        plugin=_PLUGIN,
        config=js(config),
        redirect=js(oauth2_redirect_url),
        keep=js(keep_token),
    )
    return HTMLResponse(html)


def install_docs(app: FastAPI) -> None:
    app.mount(STATIC_URL, StaticFiles(directory=ASSETS), name="docs-assets")
    redirect_url = "/docs/oauth2-redirect"

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — Swagger UI",
            static=f"{root}{STATIC_URL}",
            oauth2_redirect_url=f"{root}{redirect_url}",
            keep_token=request.app.state.settings.swagger_persist_authorization,
        )
        page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return page

    @app.get(redirect_url, include_in_schema=False)
    async def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        page = get_redoc_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} — ReDoc",
            redoc_js_url=f"{root}{STATIC_URL}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{STATIC_URL}/favicon.png",
            with_google_fonts=False,
        )
        page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return page
