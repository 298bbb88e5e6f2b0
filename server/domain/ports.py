"""Protocols the use-cases depend on; storage/ and security/ implement them."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol
from uuid import UUID

from server.domain.models import Principal, RefreshSession, User


class UserRepository(Protocol):
    async def get_by_email(self, email: str) -> User | None: ...
    async def get_by_id(self, user_id: UUID) -> User | None: ...


class SessionRepository(Protocol):
    async def create(self, *, family_id: UUID, user_id: UUID, token_hash: bytes,
                     expires_at: datetime) -> RefreshSession: ...
    async def get_for_update(self, token_hash: bytes) -> RefreshSession | None: ...
    async def mark_used(self, session_id: UUID, at: datetime) -> None: ...
    async def revoke_family(self, family_id: UUID, at: datetime) -> int: ...


class UnitOfWork(Protocol):
    """One transaction: repositories bound to it, committed on clean exit."""

    users: UserRepository
    sessions: SessionRepository


class UowFactory(Protocol):
    def __call__(self) -> AbstractAsyncContextManager[UnitOfWork]: ...


class PasswordHasher(Protocol):
    async def verify(self, password: str, password_hash: str) -> bool: ...
    async def verify_dummy(self, password: str) -> None: ...
    async def hash(self, password: str) -> str: ...


class TokenService(Protocol):
    def issue_access(self, user: User, now: datetime) -> tuple[str, datetime]: ...
    def verify_access(self, token: str) -> Principal: ...
    def new_refresh_token(self) -> tuple[str, bytes]: ...
    def hash_refresh_token(self, token: str) -> bytes: ...


class Clock(Protocol):
    def now(self) -> datetime: ...
