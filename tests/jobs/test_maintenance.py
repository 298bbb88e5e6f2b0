"""Scheduled purges remove only rows that can no longer be used."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from server.app import Platform
from server.jobs.maintenance import Maintenance
from tests.helpers import UserFactory


async def test_purge_removes_expired_rows_and_keeps_live_ones(platform: Platform,
                                                              make_user: UserFactory) -> None:
    user = await make_user()
    old, live = uuid.uuid4().bytes, uuid.uuid4().bytes
    key_old, key_live = f"purge-old-{uuid.uuid4()}", f"purge-live-{uuid.uuid4()}"
    async with platform.db.engine.begin() as conn:
        for token_hash, days in ((old, -2), (live, 2)):
            await conn.execute(text(
                "INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) "
                "VALUES (gen_random_uuid(), :u, :h, now() + make_interval(days => :d))"),
                {"u": user.id, "h": token_hash, "d": days})
        await conn.execute(text(
            "INSERT INTO login_attempts (scope, key, failures, last_failure_at, locked_until) "
            "VALUES ('account', :old, 3, now() - interval '2 days', NULL), "
            "('account', :live, 7, now() - interval '2 days', now() + interval '1 hour')"),
            {"old": key_old, "live": key_live})

    removed = await Maintenance(platform.db.engine).purge()
    assert removed["refresh_tokens"] >= 1
    assert removed["login_attempts"] >= 1
    async with platform.db.engine.connect() as conn:
        hashes = set((await conn.execute(text(
            "SELECT token_hash FROM refresh_tokens WHERE user_id = :u"),
            {"u": user.id})).scalars())
        keys = set((await conn.execute(text(
            "SELECT key FROM login_attempts WHERE key IN (:a, :b)"),
            {"a": key_old, "b": key_live})).scalars())
    assert hashes == {live}
    assert keys == {key_live}  # still locked: kept
