"""Authentication use-cases: sign in (throttled), rotate refresh tokens, sign out, change and
reset passwords. Every outcome is written to the audit log in the same transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain import access
from server.domain.audit import record
from server.domain.errors import ResourceExhausted, Unauthenticated
from server.domain.models import Caller, EntityStatus, FieldChange, TokenPair, User
from server.domain.password_policy import check_password
from server.domain.ports import Clock, PasswordHasher, TokenService, UnitOfWork, UowFactory
from server.domain.users import reset_token_hash

INVALID_CREDENTIALS = "INVALID_CREDENTIALS"
INVALID_REFRESH_TOKEN = "INVALID_REFRESH_TOKEN"
REFRESH_TOKEN_REUSED = "REFRESH_TOKEN_REUSED"


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    tokens: TokenPair


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    """After `account_failures` failed sign-ins in a row for one email (or `address_failures`
    from one client address) within `window`, sign-in is refused for `base_lockout`, doubling
    with every further failure up to `max_lockout`."""

    account_failures: int = 5
    address_failures: int = 100
    base_lockout: timedelta = timedelta(seconds=60)
    max_lockout: timedelta = timedelta(hours=1)
    window: timedelta = timedelta(minutes=15)


class AuthUseCases:
    def __init__(self, *, uow: UowFactory, hasher: PasswordHasher, tokens: TokenService,
                 clock: Clock, refresh_ttl: timedelta,
                 throttle: ThrottlePolicy | None = None) -> None:
        self._uow = uow
        self._hasher = hasher
        self._tokens = tokens
        self._clock = clock
        self._refresh_ttl = refresh_ttl
        self._throttle = throttle or ThrottlePolicy()

    def _keys(self, caller: Caller, email: str) -> list[tuple[str, str, int]]:
        keys = [("account", email.strip().lower(), self._throttle.account_failures)]
        if caller.client_address:
            keys.append(("address", caller.client_address, self._throttle.address_failures))
        return keys

    async def login(self, caller: Caller, email: str, password: str) -> LoginResult:
        keys = self._keys(caller, email)
        now = self._clock.now()
        async with self._uow() as uow:
            locked_until = await uow.attempts.locked_until([(s, k) for s, k, _ in keys])
        if locked_until is not None and locked_until > now:
            raise ResourceExhausted(
                "too many failed sign-ins; try again later", reason="LOGIN_LOCKED",
                retry_after_seconds=max((locked_until - now).total_seconds(), 1.0))

        result: LoginResult | None = None
        async with self._uow() as uow:
            user = await uow.users.get_by_email(email)
            if user is None:
                # Same work as a wrong password, so that timing does not reveal accounts.
                await self._hasher.verify_dummy(password)
                ok = False
            else:
                ok = await self._hasher.verify(password, user.password_hash)
                ok = ok and await self._may_sign_in(uow, user)
            if ok and user is not None:
                await uow.attempts.reset("account", keys[0][1])
                tokens = await self._issue(uow, user, family_id=uuid.uuid4())
                await uow.audit.append(record(caller, "auth.login.success", f"users/{user.id}",
                                              user.company_id, actor=user))
                result = LoginResult(user=user, tokens=tokens)
            else:
                for scope, key, threshold in keys:
                    await uow.attempts.record_failure(
                        scope, key, now, threshold=threshold,
                        base_seconds=self._throttle.base_lockout.total_seconds(),
                        max_seconds=self._throttle.max_lockout.total_seconds(),
                        window_seconds=self._throttle.window.total_seconds())
                await uow.audit.append(record(
                    caller, "auth.login.failure",
                    f"users/{user.id}" if user else "users/-",
                    user.company_id if user else None,
                    (FieldChange(field="email", before="", after=email.strip().lower()),)))
        # Raised after the unit of work committed, so that the failure is counted and audited.
        if result is None:
            raise Unauthenticated("invalid email or password", reason=INVALID_CREDENTIALS)
        return result

    @staticmethod
    async def _may_sign_in(uow: UnitOfWork, user: User) -> bool:
        if user.status is not EntityStatus.ACTIVE:
            return False
        if user.company_id is None:
            return True
        status = await uow.companies.status_of(user.company_id)
        return status is EntityStatus.ACTIVE

    async def refresh(self, caller: Caller, refresh_token: str) -> TokenPair:
        token_hash = self._tokens.hash_refresh_token(refresh_token)
        now = self._clock.now()
        reused = False
        async with self._uow() as uow:
            session = await uow.sessions.get_for_update(token_hash)
            if session is None or session.revoked_at is not None or session.expires_at <= now:
                raise Unauthenticated("refresh token is invalid or expired",
                                      reason=INVALID_REFRESH_TOKEN)
            user = await uow.users.get_by_id(session.user_id)
            company_id = user.company_id if user else None
            if session.used_at is not None:
                # A used token came back: someone holds a copy. End the whole family.
                await uow.sessions.revoke_family(session.family_id, now)
                await uow.audit.append(record(caller, "auth.refresh.reuse_detected",
                                              f"users/{session.user_id}", company_id,
                                              actor=user))
                reused = True
            else:
                if user is None or not await self._may_sign_in(uow, user):
                    await uow.sessions.revoke_family(session.family_id, now)
                    raise Unauthenticated("refresh token is invalid or expired",
                                          reason=INVALID_REFRESH_TOKEN)
                await uow.sessions.mark_used(session.id, now)
                tokens = await self._issue(uow, user, family_id=session.family_id)
                await uow.audit.append(record(caller, "auth.refresh", f"users/{user.id}",
                                              company_id, actor=user))
        # Raised after the unit of work committed, so that the revocation is kept.
        if reused:
            raise Unauthenticated("refresh token was already used; the session is revoked",
                                  reason=REFRESH_TOKEN_REUSED)
        return tokens

    async def logout(self, caller: Caller, refresh_token: str) -> None:
        token_hash = self._tokens.hash_refresh_token(refresh_token)
        async with self._uow() as uow:
            session = await uow.sessions.get_for_update(token_hash)
            if session is None:
                raise Unauthenticated("refresh token is invalid", reason=INVALID_REFRESH_TOKEN)
            await uow.sessions.revoke_family(session.family_id, self._clock.now())
            user = await uow.users.get_by_id(session.user_id)
            await uow.audit.append(record(caller, "auth.logout", f"users/{session.user_id}",
                                          user.company_id if user else None, actor=user))

    async def change_password(self, caller: Caller, current: str, new: str) -> None:
        p = access.require_principal(caller)
        check_password(new, email=p.email)
        new_hash = await self._hasher.hash(new)
        async with self._uow() as uow:
            user = await uow.users.get_by_id(p.user_id)
            if user is None or not await self._hasher.verify(current, user.password_hash):
                ok = False
            else:
                ok = True
                now = self._clock.now()
                await uow.users.update(user.id, {"password_hash": new_hash}, user.id)
                await uow.sessions.revoke_user(user.id, now, except_family=p.session_id)
            await uow.audit.append(record(
                caller, "auth.password.change" if ok else "auth.password.change_failure",
                f"users/{p.user_id}", p.company_id))
        if not ok:
            raise Unauthenticated("the current password is wrong", reason=INVALID_CREDENTIALS)

    async def reset_password(self, caller: Caller, reset_token: str, new: str) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            user_id = await uow.resets.consume(reset_token_hash(reset_token), now)
            user = await uow.users.get_by_id(user_id) if user_id else None
            if user is None:
                raise Unauthenticated("the reset token is invalid, used or expired",
                                      reason="INVALID_RESET_TOKEN")
            check_password(new, email=user.email)
            new_hash = await self._hasher.hash(new)
            await uow.users.update(user.id, {"password_hash": new_hash}, None)
            await uow.sessions.revoke_user(user.id, now)
            await uow.audit.append(record(caller, "auth.password.reset", f"users/{user.id}",
                                          user.company_id, actor=user))

    async def _issue(self, uow: UnitOfWork, user: User, *, family_id: uuid.UUID) -> TokenPair:
        now = self._clock.now()
        access_token, access_exp = self._tokens.issue_access(user, now, family_id)
        refresh, refresh_hash = self._tokens.new_refresh_token()
        refresh_exp: datetime = now + self._refresh_ttl
        await uow.sessions.create(family_id=family_id, user_id=user.id,
                                  token_hash=refresh_hash, expires_at=refresh_exp)
        return TokenPair(access_token=access_token, access_expires_at=access_exp,
                         refresh_token=refresh, refresh_expires_at=refresh_exp)
