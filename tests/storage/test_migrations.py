"""Alembic migrations on an empty database, idempotence, and agreement with the ORM models."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, text
from sqlalchemy.exc import IntegrityError

from server.storage.db import Database, head_revision, owned_by_migrations
from server.storage.orm import Base


async def test_migrate_empty_database_then_again(new_database: Callable[[], Awaitable[str]]
                                                 ) -> None:
    db = Database(await new_database())
    try:
        assert await db.current_revision() is None
        await db.migrate()
        assert await db.current_revision() == head_revision()
        await db.migrate()  # a second run is a no-op
        assert await db.current_revision() == head_revision()
        async with db.engine.connect() as conn:
            tables = set((await conn.execute(text(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))).scalars())
        assert {"companies", "departments", "users", "refresh_tokens",
                "alembic_version"} <= tables
    finally:
        await db.close()


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                 "include_name": owned_by_migrations})
    return list(compare_metadata(ctx, Base.metadata))


async def test_orm_models_match_the_migrated_schema(
        new_database: Callable[[], Awaitable[str]]) -> None:
    db = Database(await new_database())
    try:
        await db.migrate()
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(_diff)
        assert diff == []
    finally:
        await db.close()


async def test_schema_constraints(new_database: Callable[[], Awaitable[str]]) -> None:
    db = Database(await new_database())
    try:
        await db.migrate()
        insert = text("INSERT INTO users (email, role, password_hash, company_id) "
                      "VALUES (:e, :r, 'x', :c)")
        async with db.engine.begin() as conn:
            await conn.execute(insert, {"e": "Admin@Example.com", "r": "super_admin", "c": None})
        # Unique without regard to case.
        with pytest.raises(IntegrityError, match="users_email_lower_key"):
            async with db.engine.begin() as conn:
                await conn.execute(insert, {"e": "admin@example.COM", "r": "super_admin",
                                            "c": None})
        # A company admin needs a company; a super admin must not have one.
        with pytest.raises(IntegrityError, match="users_role_scope_check"):
            async with db.engine.begin() as conn:
                await conn.execute(insert, {"e": "ca@example.com", "r": "company_admin",
                                            "c": None})
        with pytest.raises(IntegrityError, match="users_role_scope_check"):
            async with db.engine.begin() as conn:
                await conn.execute(insert, {"e": "x@example.com", "r": "emperor", "c": None})
        # A department user's department must belong to the user's own company.
        async with db.engine.begin() as conn:
            a = await conn.scalar(text("INSERT INTO companies (name) VALUES ('A') RETURNING id"))
            b = await conn.scalar(text("INSERT INTO companies (name) VALUES ('B') RETURNING id"))
            dept_b = await conn.scalar(text(
                "INSERT INTO departments (company_id, name) VALUES (:c, 'Eng') RETURNING id"),
                {"c": b})
        with pytest.raises(IntegrityError, match="users_department_in_company_fkey"):
            async with db.engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO users (email, role, password_hash, company_id, department_id) "
                    "VALUES ('du@example.com', 'department_user', 'x', :a, :d)"),
                    {"a": a, "d": dept_b})
        # Department names are unique per company, without regard to case.
        with pytest.raises(IntegrityError, match="departments_company_name_key"):
            async with db.engine.begin() as conn:
                await conn.execute(text(
                    "INSERT INTO departments (company_id, name) VALUES (:c, 'ENG')"), {"c": b})
    finally:
        await db.close()
