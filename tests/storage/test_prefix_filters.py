"""Prefix filters are rendered into the SQL text (so PostgreSQL always plans them with the
pattern index): they must stay literal for %, _, backslash and quotes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from server.app import Platform
from server.domain.models import Principal, Role
from server.storage.repositories import SqlUnitOfWork
from tests.helpers import UserFactory

ROOT = Principal(user_id=uuid.uuid4(), email="root@example.com", role=Role.SUPER_ADMIN,
                 company_id=None, department_id=None, token_id="t",
                 expires_at=datetime.now(UTC))


async def test_special_characters_in_prefixes_match_literally(platform: Platform,
                                                              make_user: UserFactory) -> None:
    tag = uuid.uuid4().hex[:8]
    emails = [f"p{tag}%a@example.com", f"p{tag}xa@example.com", f"p{tag}_b@example.com",
              f"p{tag}'q@example.com", f"p{tag}\\r@example.com"]
    for email in emails:
        await make_user(email=email)

    async def listed(prefix: str) -> set[str]:
        async with SqlUnitOfWork(platform.db.sessions) as uow:
            users = await uow.users.list(ROOT, company_id=None, department_id=None, status=None,
                                         email_prefix=prefix, after=None, limit=50)
        return {u.email for u in users}

    assert await listed(f"P{tag}") == set(emails)  # case-insensitive
    assert await listed(f"p{tag}%") == {emails[0]}
    assert await listed(f"p{tag}_") == {emails[2]}
    assert await listed(f"p{tag}'") == {emails[3]}
    assert await listed(f"p{tag}\\") == {emails[4]}
    assert await listed(f"p{tag}'; drop table users; --") == set()
