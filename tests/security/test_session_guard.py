"""The live-session check against the real database: cached answers, one query per session
for concurrent misses, and revocation seen after the cache interval."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from interviewplatform.v1 import auth_service_pb2 as pb

from server.app import Platform
from server.domain.errors import Unauthenticated
from server.domain.models import Principal, Role
from server.security.session_guard import SessionGuard
from tests.factories import Api, auth


class CountingGuard(SessionGuard):
    """The real guard, counting the database queries it makes."""

    queries = 0

    async def _query(self, p: Principal) -> str:
        self.queries += 1
        return await super()._query(p)


async def test_concurrent_misses_share_one_query_and_revocation_is_seen(
        platform: Platform, api: Api, root_token: str) -> None:
    member = await api.user(root_token, role=Role.SUPER_ADMIN)
    login = await api.login(member.email)
    me = await api.auth.GetMe(pb.GetMeRequest(), metadata=auth(login.tokens.access_token))
    assert me.user_id == member.id

    principal = platform.tokens.verify_access(login.tokens.access_token)
    guard = CountingGuard(platform.db.sessions, ttl=0.3)
    await asyncio.gather(*(guard.check(principal) for _ in range(20)))
    assert guard.queries == 1
    assert guard.check_cached(principal)
    await guard.check(principal)
    assert guard.queries == 1  # answered from the cache

    await api.auth.Logout(pb.LogoutRequest(refresh_token=login.tokens.refresh_token))
    assert guard.check_cached(principal)  # still cached: revocation shows after the interval
    await asyncio.sleep(0.35)
    with pytest.raises(Unauthenticated) as err:
        await guard.check(principal)
    assert err.value.reason == "SESSION_REVOKED"
    assert guard.queries == 2


async def test_unknown_user_is_rejected(platform: Platform) -> None:
    guard = SessionGuard(platform.db.sessions, ttl=1)
    ghost = Principal(user_id=uuid.uuid4(), email="ghost@example.com", role=Role.SUPER_ADMIN,
                      company_id=None, department_id=None, token_id="x",
                      expires_at=datetime.now(UTC), session_id=uuid.uuid4())
    with pytest.raises(Unauthenticated) as err:
        await guard.check(ghost)
    assert err.value.reason == "USER_NOT_FOUND"
