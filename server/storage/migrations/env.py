"""Alembic environment. Runs on the connection handed over by server.storage.db.migrate()
(config.attributes["connection"]), or on DATABASE_URL when invoked by the alembic CLI."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from server.storage.db import owned_by_migrations
from server.storage.orm import Base

target_metadata = Base.metadata


def run_with(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata,
                      compare_type=True, transaction_per_migration=True,
                      include_name=owned_by_migrations)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = context.config.get_main_option("sqlalchemy.url")
    if not url:
        raise SystemExit("set DATABASE_URL or use `interview-platform migrate`")

    async def go() -> None:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            await conn.run_sync(run_with)
            await conn.commit()
        await engine.dispose()

    asyncio.run(go())


if context.is_offline_mode():
    raise SystemExit("offline (SQL script) mode is not supported; run against a database")
run_online()
