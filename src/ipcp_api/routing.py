"""The 405 helpers: the refusing endpoint and the ``Allow`` list of a path."""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException


async def method_not_allowed() -> None:
    """The endpoint of a route that only refuses (405).

    ``/users/me`` also matches ``/users/{user_id}``: a route with this endpoint, declared
    first, keeps ``PATCH /users/me`` a 405 rather than a 422 about the id ``me``.
    """
    raise StarletteHTTPException(405)


def allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first).

    The first route that matches a method is the one that would serve it, as in routing.
    """
    path, root = request.scope["path"], request.scope.get("root_path", "")
    path = path.removeprefix(root) if root and path.startswith(root) else path
    routes = [
        (context, context.methods or set())
        for context in iter_route_contexts(request.app.router.routes)
        if (regex := getattr(context, "path_regex", None)) is not None and regex.match(path)
    ]
    methods = []
    for method in ("DELETE", "GET", "PATCH", "POST", "PUT"):
        first = next((context for context, serves in routes if method in serves), None)
        if first is not None and first.endpoint is not method_not_allowed:
            methods.append(method)
    return methods
