"""Engine, sessions and migrations."""

from __future__ import annotations

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed number: serialises migrations when several replicas start at once.
MIGRATION_LOCK_KEY = 728_310_001


def owned_by_migrations(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's include_name: the procrastinate_* objects belong to the job queue's own
    schema script (applied by migration 0005), not to our models."""
    return not (name or "").startswith("procrastinate_")


def normalise_url(url: str) -> str:
    """Accept postgres://, postgresql:// or postgresql+asyncpg:// and use asyncpg."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix):]
    return url


class Database:
    def __init__(self, url: str, *, pool_size: int = 10, max_overflow: int = 10) -> None:
        self.engine: AsyncEngine = create_async_engine(
            normalise_url(url), pool_size=pool_size, max_overflow=max_overflow,
            pool_pre_ping=True,
        )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    async def migrate(self) -> None:
        """Apply every pending Alembic migration under an advisory lock."""
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            try:
                await conn.run_sync(_upgrade)
                await conn.commit()
            finally:
                await conn.execute(text("SELECT pg_advisory_unlock(:k)"),
                                   {"k": MIGRATION_LOCK_KEY})
                await conn.commit()

    async def current_revision(self) -> str | None:
        async with self.engine.connect() as conn:
            has_table = await conn.scalar(text("SELECT to_regclass('alembic_version')"))
            if has_table is None:
                return None
            rev: str | None = await conn.scalar(text("SELECT version_num FROM alembic_version"))
            return rev

    async def ping(self) -> str:
        async with self.engine.connect() as conn:
            version: str = await conn.scalar(text("SHOW server_version")) or "unknown"
            return version

    async def close(self) -> None:
        await self.engine.dispose()


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _upgrade(connection: Connection) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
