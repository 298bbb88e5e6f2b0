"""`interview-platform` command: serve, migrate, run (server + Envoy), envoy-config."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from server.settings import ConfigurationError, Settings


def _settings() -> Settings:
    return Settings()


def cmd_serve(_: argparse.Namespace) -> int:
    from server.app import resolve_database, serve
    from server.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    try:
        settings.resolve_secret_key()
    except ConfigurationError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    url, embedded = resolve_database(settings)
    try:
        asyncio.run(serve(settings, url))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def cmd_migrate(_: argparse.Namespace) -> int:
    from server.app import resolve_database
    from server.logs import configure_logging
    from server.storage.db import Database

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    url, embedded = resolve_database(settings)

    async def go() -> str | None:
        db = Database(url)
        try:
            await db.migrate()
            return await db.current_revision()
        finally:
            await db.close()

    try:
        revision = asyncio.run(go())
    finally:
        if embedded is not None:
            embedded.stop()
    print(f"database at revision {revision}")
    return 0


def cmd_worker(_: argparse.Namespace) -> int:
    from server.app import resolve_database
    from server.logs import configure_logging
    from server.worker import run_worker_process

    settings = _settings()
    configure_logging(settings.log_level, settings.log_format)
    url, embedded = resolve_database(settings)
    try:
        asyncio.run(run_worker_process(settings, url))
    finally:
        if embedded is not None:
            embedded.stop()
    return 0


def cmd_envoy_config(args: argparse.Namespace) -> int:
    from server.envoy_config import PRODUCTION, PRODUCTION_FILE, EnvoyParams, render

    if args.production:
        text = render(PRODUCTION)
        out = Path(args.output) if args.output else PRODUCTION_FILE
    else:
        settings = _settings()
        text = render(EnvoyParams(listen_port=settings.http_port,
                                  admin_port=settings.envoy_admin_port,
                                  upstream_port=settings.grpc_port,
                                  cors_origins=tuple(settings.cors_origins)))
        out = Path(args.output) if args.output else settings.data_dir / "envoy.yaml"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    print(out)
    return 0


def cmd_run(_: argparse.Namespace) -> int:
    from server.stack import run_stack

    return run_stack(_settings())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="interview-platform", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the gRPC server (migrates first)").set_defaults(
        func=cmd_serve)
    sub.add_parser("migrate", help="apply database migrations and exit").set_defaults(
        func=cmd_migrate)
    sub.add_parser("run", help="run the server and Envoy together (make run)").set_defaults(
        func=cmd_run)
    sub.add_parser("worker", help="run only the background-job worker (scale out)").set_defaults(
        func=cmd_worker)
    envoy = sub.add_parser("envoy-config", help="render the Envoy configuration")
    envoy.add_argument("--production", action="store_true",
                       help="render envoy/envoy.production.yaml for the compose deployment")
    envoy.add_argument("--output", help="where to write (default: var/envoy.yaml)")
    envoy.set_defaults(func=cmd_envoy_config)
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
