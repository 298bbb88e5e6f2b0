"""Live-session check behind every authenticated call.

An access token stays cryptographically valid until it expires, so on its own it would outlive
a deactivated user or company, a logout or a password change. This checker asks PostgreSQL,
at most once per `ttl` per (user, session), whether the user and its company are still active
and the token's session (refresh-token family) is not revoked. Every replica asks the shared
database, so a deactivation takes effect everywhere within `ttl` seconds.
"""

from __future__ import annotations

import asyncio
import time
import uuid

from sqlalchemy import and_, exists, false, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.domain.errors import Unauthenticated
from server.domain.models import EntityStatus, Principal
from server.storage.orm import CompanyRow, RefreshTokenRow, UserRow

MAX_ENTRIES = 50_000


class SessionGuard:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, ttl: float) -> None:
        self._sessions = sessions
        self._ttl = ttl
        # session (or user, for a token without one) -> (checked at, failure reason or "")
        self._cache: dict[uuid.UUID, tuple[float, str]] = {}
        # One query in flight per session: concurrent calls that miss the cache share it.
        self._pending: dict[uuid.UUID, asyncio.Future[str]] = {}

    def check_cached(self, principal: Principal) -> bool:
        """True when a fresh cached answer says the session is live (no await on this path,
        which every authenticated call takes); raises when it says it is not; False when the
        database must be asked."""
        cached = self._cache.get(principal.session_id or principal.user_id)
        if cached is None or time.monotonic() - cached[0] >= self._ttl:
            return False
        if cached[1]:
            raise Unauthenticated("the session is no longer valid", reason=cached[1])
        return True

    async def check(self, principal: Principal) -> None:
        if self.check_cached(principal):
            return
        key = principal.session_id or principal.user_id
        pending = self._pending.get(key)
        if pending is not None:
            reason = await asyncio.shield(pending)
        else:
            future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
            self._pending[key] = future
            try:
                now = time.monotonic()
                reason = await self._query(principal)
                if len(self._cache) >= MAX_ENTRIES:
                    self._cache.clear()
                self._cache[key] = (now, reason)
                future.set_result(reason)
            except BaseException as exc:
                future.set_exception(exc)
                future.exception()  # retrieved: waiters re-raise it, nobody else must log it
                raise
            finally:
                del self._pending[key]
        if reason:
            raise Unauthenticated("the session is no longer valid", reason=reason)

    async def _query(self, p: Principal) -> str:
        live_session = (
            exists().where(RefreshTokenRow.family_id == p.session_id,
                           RefreshTokenRow.revoked_at.is_(None))
            if p.session_id is not None else false()
        )
        query = (
            select(UserRow.status, CompanyRow.status, live_session)
            .select_from(UserRow)
            .outerjoin(CompanyRow, and_(CompanyRow.id == UserRow.company_id))
            .where(UserRow.id == p.user_id)
        )
        async with self._sessions() as s:
            row = (await s.execute(query)).first()
        if row is None:
            return "USER_NOT_FOUND"
        user_status, company_status, live = row
        if user_status != EntityStatus.ACTIVE.value:
            return "USER_INACTIVE"
        if company_status is not None and company_status != EntityStatus.ACTIVE.value:
            return "COMPANY_INACTIVE"
        if not live:
            return "SESSION_REVOKED"
        return ""



