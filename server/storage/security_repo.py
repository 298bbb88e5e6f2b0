"""Login throttling counters, idempotency keys and password reset tokens."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.errors import Aborted
from server.storage.orm import IdempotencyKeyRow, LoginAttemptRow, PasswordResetTokenRow


class SqlLoginAttemptRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def locked_until(self, keys: list[tuple[str, str]]) -> datetime | None:
        """The latest lock among these (scope, key) pairs, if any."""
        if not keys:
            return None
        latest: datetime | None = await self._s.scalar(
            select(func.max(LoginAttemptRow.locked_until)).where(
                tuple_(LoginAttemptRow.scope, LoginAttemptRow.key).in_(keys)))
        return latest

    async def record_failure(self, scope: str, key: str, at: datetime, *, threshold: int,
                             base_seconds: float, max_seconds: float,
                             window_seconds: float) -> datetime | None:
        """Count one failure (restarting the count after a quiet window) and lock once the
        count reaches the threshold: base, then doubling per further failure, capped."""
        row = await self._s.scalar(
            select(LoginAttemptRow).where(LoginAttemptRow.scope == scope,
                                          LoginAttemptRow.key == key).with_for_update())
        if row is None:
            await self._s.execute(insert(LoginAttemptRow).values(
                scope=scope, key=key, failures=0, last_failure_at=at)
                .on_conflict_do_nothing())
            row = await self._s.scalar(
                select(LoginAttemptRow).where(LoginAttemptRow.scope == scope,
                                              LoginAttemptRow.key == key).with_for_update())
            assert row is not None
        quiet = row.last_failure_at < at - timedelta(seconds=window_seconds)
        expired_lock = row.locked_until is not None and row.locked_until <= at
        failures = 1 if quiet and not expired_lock else row.failures + 1
        locked_until = None
        if failures >= threshold:
            seconds = min(base_seconds * 2 ** (failures - threshold), max_seconds)
            locked_until = at + timedelta(seconds=seconds)
        row.failures = failures
        row.last_failure_at = at
        row.locked_until = locked_until
        await self._s.flush()
        return locked_until

    async def reset(self, scope: str, key: str) -> None:
        await self._s.execute(
            update(LoginAttemptRow).where(LoginAttemptRow.scope == scope,
                                          LoginAttemptRow.key == key)
            .values(failures=0, locked_until=None))


class SqlIdempotencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get(self, actor_id: uuid.UUID, operation: str,
                  request_id: uuid.UUID) -> tuple[bytes, uuid.UUID] | None:
        row = await self._s.scalar(select(IdempotencyKeyRow).where(
            IdempotencyKeyRow.actor_id == actor_id, IdempotencyKeyRow.operation == operation,
            IdempotencyKeyRow.request_id == request_id))
        return (row.request_hash, row.resource_id) if row else None

    async def put(self, actor_id: uuid.UUID, operation: str, request_id: uuid.UUID,
                  request_hash: bytes, resource_id: uuid.UUID) -> None:
        inserted = await self._s.scalar(
            insert(IdempotencyKeyRow).values(
                actor_id=actor_id, operation=operation, request_id=request_id,
                request_hash=request_hash, resource_id=resource_id)
            .on_conflict_do_nothing().returning(IdempotencyKeyRow.request_id))
        if inserted is None:
            # A concurrent request with the same key committed first; this transaction (and
            # the resource it created) is rolled back, and the caller reads the winner's.
            raise Aborted("concurrent request with the same request_id",
                          reason="CONCURRENT_REQUEST")


class SqlResetTokenRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, user_id: uuid.UUID, token_hash: bytes, expires_at: datetime,
                     created_by: uuid.UUID | None) -> None:
        self._s.add(PasswordResetTokenRow(user_id=user_id, token_hash=token_hash,
                                          expires_at=expires_at, created_by=created_by))
        await self._s.flush()

    async def consume(self, token_hash: bytes, at: datetime) -> uuid.UUID | None:
        """Mark a valid token used and return its user; None when unknown, used or expired."""
        user_id: uuid.UUID | None = await self._s.scalar(
            update(PasswordResetTokenRow)
            .where(PasswordResetTokenRow.token_hash == token_hash,
                   PasswordResetTokenRow.used_at.is_(None),
                   PasswordResetTokenRow.expires_at > at)
            .values(used_at=at).returning(PasswordResetTokenRow.user_id))
        return user_id
