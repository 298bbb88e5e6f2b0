"""Repositories over one AsyncSession, and the unit of work that commits them together."""

from __future__ import annotations

import uuid
from datetime import datetime
from types import TracebackType

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from server.domain.models import EntityStatus, RefreshSession, Role, User
from server.storage.orm import RefreshTokenRow, UserRow


def _user(row: UserRow) -> User:
    return User(
        id=row.id, email=row.email, full_name=row.full_name, role=Role(row.role),
        company_id=row.company_id, department_id=row.department_id,
        status=EntityStatus(row.status), password_hash=row.password_hash,
        created_at=row.created_at, updated_at=row.updated_at,
    )


def _session(row: RefreshTokenRow) -> RefreshSession:
    return RefreshSession(id=row.id, family_id=row.family_id, user_id=row.user_id,
                          expires_at=row.expires_at, used_at=row.used_at,
                          revoked_at=row.revoked_at)


class SqlUserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def get_by_email(self, email: str) -> User | None:
        row = await self._s.scalar(
            select(UserRow).where(func.lower(UserRow.email) == email.strip().lower())
        )
        return _user(row) if row else None

    async def get_by_id(self, user_id: uuid.UUID) -> User | None:
        row = await self._s.get(UserRow, user_id)
        return _user(row) if row else None

    async def create(self, *, email: str, full_name: str, role: Role, password_hash: str,
                     company_id: uuid.UUID | None = None,
                     department_id: uuid.UUID | None = None,
                     created_by: uuid.UUID | None = None) -> User:
        row = UserRow(email=email.strip(), full_name=full_name, role=role.value,
                      password_hash=password_hash, company_id=company_id,
                      department_id=department_id, created_by=created_by,
                      updated_by=created_by)
        self._s.add(row)
        await self._s.flush()
        await self._s.refresh(row)
        return _user(row)

    async def exists_with_role(self, role: Role) -> bool:
        found = await self._s.scalar(select(UserRow.id).where(UserRow.role == role.value).limit(1))
        return found is not None


class SqlSessionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, family_id: uuid.UUID, user_id: uuid.UUID, token_hash: bytes,
                     expires_at: datetime) -> RefreshSession:
        row = RefreshTokenRow(family_id=family_id, user_id=user_id, token_hash=token_hash,
                              expires_at=expires_at)
        self._s.add(row)
        await self._s.flush()
        return _session(row)

    async def get_for_update(self, token_hash: bytes) -> RefreshSession | None:
        row = await self._s.scalar(
            select(RefreshTokenRow).where(RefreshTokenRow.token_hash == token_hash)
            .with_for_update()
        )
        return _session(row) if row else None

    async def mark_used(self, session_id: uuid.UUID, at: datetime) -> None:
        await self._s.execute(
            update(RefreshTokenRow).where(RefreshTokenRow.id == session_id).values(used_at=at)
        )

    async def revoke_family(self, family_id: uuid.UUID, at: datetime) -> int:
        result = await self._s.execute(
            update(RefreshTokenRow)
            .where(RefreshTokenRow.family_id == family_id, RefreshTokenRow.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class SqlUnitOfWork:
    """One transaction per use-case call: commit on clean exit, roll back on any error."""

    users: SqlUserRepository
    sessions: SqlSessionRepository

    def __init__(self, factory: async_sessionmaker[AsyncSession]) -> None:
        self._factory = factory
        self._session: AsyncSession | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        self._session = self._factory()
        await self._session.begin()
        self.users = SqlUserRepository(self._session)
        self.sessions = SqlSessionRepository(self._session)
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        assert self._session is not None
        try:
            if exc_type is None:
                await self._session.commit()
            else:
                await self._session.rollback()
        finally:
            await self._session.close()
            self._session = None
