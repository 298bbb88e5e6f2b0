"""Authentication use-cases: sign in, rotate refresh tokens, sign out."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from server.domain.errors import Unauthenticated
from server.domain.models import EntityStatus, TokenPair, User
from server.domain.ports import Clock, PasswordHasher, TokenService, UnitOfWork, UowFactory

INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    tokens: TokenPair


class AuthUseCases:
    def __init__(self, *, uow: UowFactory, hasher: PasswordHasher, tokens: TokenService,
                 clock: Clock, refresh_ttl: timedelta) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._refresh_ttl = refresh_ttl

    async def login(self, email: str, password: str) -> LoginResult:
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                # Same work as a wrong password, so that timing does not reveal accounts.
                await self._hasher.verify_dummy(password)
                raise Unauthenticated("invalid email or password", reason=INVALID_CREDENTIALS)
            ok = await self._hasher.verify(password, user.password_hash)
            if not ok or user.status is not EntityStatus.ACTIVE:
                raise Unauthenticated("invalid email or password", reason=INVALID_CREDENTIALS)
            tokens = await self._issue(uow, user, family_id=uuid.uuid4())
        return LoginResult(user=user, tokens=tokens)

    async def refresh(self, refresh_token: str) -> TokenPair:
        token_hash = self._tokens.hash_refresh_token(refresh_token)
        now = self._clock.now()
        async with self._uow() as uow:
            session = await uow.sessions.get_for_update(token_hash)
            if session is None or session.revoked_at is not None or session.expires_at <= now:
                raise Unauthenticated("refresh token is invalid or expired",
                                      reason=INVALID_REFRESH_TOKEN)
            if session.used_at is not None:
                # A used token came back: someone holds a copy. End the whole family.
                await uow.sessions.revoke_family(session.family_id, now)
                reused = True
            else:
                reused = False
                user = await uow.users.get_by_id(session.user_id)
                if user is None or user.status is not EntityStatus.ACTIVE:
                    await uow.sessions.revoke_family(session.family_id, now)
                    raise Unauthenticated("refresh token is invalid or expired",
                                          reason=INVALID_REFRESH_TOKEN)
                await uow.sessions.mark_used(session.id, now)
                tokens = await self._issue(uow, user, family_id=session.family_id)
        # Raised after the unit of work committed, so that the revocation is kept.
        if reused:
            raise Unauthenticated("refresh token was already used; the session is revoked",
                                  reason=REFRESH_TOKEN_REUSED)
        return tokens

    async def logout(self, refresh_token: str) -> None:
        token_hash = self._tokens.hash_refresh_token(refresh_token)
        async with self._uow() as uow:
            session = await uow.sessions.get_for_update(token_hash)
            if session is None:
                raise Unauthenticated("refresh token is invalid", reason=INVALID_REFRESH_TOKEN)
            await uow.sessions.revoke_family(session.family_id, self._clock.now())

    async def _issue(self, uow: UnitOfWork, user: User, *, family_id: uuid.UUID) -> TokenPair:
        now = self._clock.now()
        access, access_exp = self._tokens.issue_access(user, now)
        refresh, refresh_hash = self._tokens.new_refresh_token()
        refresh_exp = now + self._refresh_ttl
        await uow.sessions.create(family_id=family_id, user_id=user.id,
                                  token_hash=refresh_hash, expires_at=refresh_exp)
        return TokenPair(access_token=access, access_expires_at=access_exp,
                         refresh_token=refresh, refresh_expires_at=refresh_exp)
