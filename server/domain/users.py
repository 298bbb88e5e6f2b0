"""Users: create, read, list, update, deactivate, reactivate, admin-initiated password reset."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from uuid import UUID

from server.domain import access, paging
from server.domain.audit import changes, record
from server.domain.errors import (
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
)
from server.domain.models import Caller, EntityStatus, Page, Principal, Role, User
from server.domain.password_policy import check_password
from server.domain.ports import Clock, PasswordHasher, UnitOfWork, UowFactory
from server.domain.support import (
    check_etag,
    check_mask,
    fields_of,
    idempotent,
    keyset_page,
)

USER_FIELDS = frozenset({"email", "full_name", "phone", "role", "department_id"})
SELF_EDITABLE = frozenset({"full_name", "phone"})
AUDITED = USER_FIELDS | {"company_id", "status"}
RESET_TOKEN_TTL = timedelta(hours=24)


def reset_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


class UserUseCases:
    def __init__(self, *, uow: UowFactory, hasher: PasswordHasher, clock: Clock) -> None:
        self._uow = uow
        self._hasher = hasher
        self._clock = clock

    async def _check_placement(self, uow: UnitOfWork, p: Principal, role: Role,
                               company_id: UUID | None, department_id: UUID | None) -> None:
        """The company and department must be visible to the caller, fit the role, be active."""
        if role not in access.assignable_roles(p):
            raise PermissionDenied(f"you may not give the role {role.value}",
                                   reason="ROLE_TOO_WEAK")
        if role is Role.SUPER_ADMIN:
            if company_id or department_id:
                raise InvalidArgument("a super admin belongs to no company",
                                      reason="INVALID_ROLE_SCOPE")
            return
        if company_id is None:
            raise InvalidArgument("company_id is required for this role",
                                  reason="INVALID_ROLE_SCOPE")
        company = await uow.companies.get(p, company_id)
        if company is None:
            raise NotFound("company not found", reason="COMPANY_NOT_FOUND")
        access.require_company_admin(p, company_id)
        if company.status is not EntityStatus.ACTIVE:
            raise FailedPrecondition("the company is inactive", reason="COMPANY_INACTIVE")
        if role is Role.COMPANY_ADMIN:
            if department_id:
                raise InvalidArgument("a company admin belongs to no department",
                                      reason="INVALID_ROLE_SCOPE")
            return
        if department_id is None:
            raise InvalidArgument("department_id is required for a department user",
                                  reason="INVALID_ROLE_SCOPE")
        dept = await uow.departments.get(p, company_id, department_id)
        if dept is None:
            raise NotFound("department not found in this company",
                           reason="DEPARTMENT_NOT_FOUND")
        if dept.status is not EntityStatus.ACTIVE:
            raise FailedPrecondition("the department is inactive",
                                     reason="DEPARTMENT_INACTIVE")

    async def create_user(self, caller: Caller, *, email: str, full_name: str, role: Role,
                          company_id: UUID | None, department_id: UUID | None,
                          phone: str | None, password: str, request_id: UUID | None,
                          fingerprint: bytes) -> User:
        p = access.require_principal(caller)
        if not email:
            raise InvalidArgument("email is required", reason="EMAIL_REQUIRED")
        check_password(password, email=email)
        password_hash = await self._hasher.hash(password)

        async def create(uow: UnitOfWork) -> User:
            await self._check_placement(uow, p, role, company_id, department_id)
            if await uow.users.email_taken(email):
                raise AlreadyExists("a user with this email exists", reason="EMAIL_TAKEN")
            user = await uow.users.create(email=email, full_name=full_name, role=role,
                                          password_hash=password_hash, company_id=company_id,
                                          department_id=department_id, phone=phone,
                                          created_by=p.user_id)
            await uow.audit.append(record(caller, "user.create", f"users/{user.id}",
                                          user.company_id,
                                          changes(None, fields_of(user, AUDITED))))
            return user

        async def load(uow: UnitOfWork, user_id: UUID) -> User | None:
            return await uow.users.get(p, user_id)

        return await idempotent(self._uow, caller, operation="CreateUser",
                                request_id=request_id, fingerprint=fingerprint,
                                create=create, load=load, ident=lambda u: u.id)

    async def get_user(self, caller: Caller, user_id: UUID) -> User:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            user = await uow.users.get(p, user_id)
        if user is None:
            raise NotFound("user not found", reason="USER_NOT_FOUND")
        return user

    async def list_users(self, caller: Caller, *, company_id: UUID | None,
                         department_id: UUID | None, status: EntityStatus | None,
                         email_prefix: str | None, size: int, token: str) -> Page[User]:
        p = access.require_principal(caller)
        filters: dict[str, object] = {"company_id": company_id, "department_id": department_id,
                                      "status": status, "email_prefix": email_prefix}

        async def fetch(uow: UnitOfWork, after: paging.Cursor | None, limit: int) -> list[User]:
            return await uow.users.list(p, company_id=company_id, department_id=department_id,
                                        status=status, email_prefix=email_prefix, after=after,
                                        limit=limit)

        return await keyset_page(self._uow, filters, size, token, fetch=fetch,
                                 cursor=lambda u: paging.Cursor(u.created_at, str(u.id)))

    def _require_manager(self, p: Principal, user: User) -> None:
        if user.company_id is None:
            access.require_super_admin(p)
        else:
            access.require_company_admin(p, user.company_id)

    async def update_user(self, caller: Caller, user_id: UUID, values: dict[str, object],
                          etag: str) -> User:
        p = access.require_principal(caller)
        check_mask(values, USER_FIELDS)
        async with self._uow() as uow:
            before = await uow.users.get(p, user_id, for_update=True)
            if before is None:
                raise NotFound("user not found", reason="USER_NOT_FOUND")
            is_self = before.id == p.user_id
            if not (is_self and set(values) <= SELF_EDITABLE):
                self._require_manager(p, before)
                if is_self and ({"role", "department_id"} & set(values)):
                    raise FailedPrecondition("you cannot change your own role or department",
                                             reason="SELF_CHANGE_FORBIDDEN")
            check_etag(etag, before.version)
            role = values.get("role", before.role)
            assert isinstance(role, Role)
            dept = values.get("department_id", before.department_id)
            if "role" in values or "department_id" in values:
                if role is Role.COMPANY_ADMIN:
                    dept = None
                    values["department_id"] = None
                await self._check_placement(uow, p, role, before.company_id,
                                            dept if isinstance(dept, UUID) else None)
            if "email" in values:
                email = str(values["email"] or "")
                if not email:
                    raise InvalidArgument("email must not be empty", reason="EMAIL_REQUIRED")
                if await uow.users.email_taken(email, except_id=user_id):
                    raise AlreadyExists("a user with this email exists", reason="EMAIL_TAKEN")
            after = await uow.users.update(user_id, values, p.user_id)
            if after.role is not before.role or after.department_id != before.department_id:
                # Access tokens carry role and department: end the sessions that hold the old.
                await uow.sessions.revoke_user(user_id, after.updated_at)
            await uow.audit.append(record(caller, "user.update", f"users/{user_id}",
                                          after.company_id,
                                          changes(fields_of(before, AUDITED),
                                                  fields_of(after, AUDITED))))
            return after

    async def set_user_status(self, caller: Caller, user_id: UUID, status: EntityStatus,
                              etag: str) -> User:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            before = await uow.users.get(p, user_id, for_update=True)
            if before is None:
                raise NotFound("user not found", reason="USER_NOT_FOUND")
            self._require_manager(p, before)
            if before.id == p.user_id:
                raise FailedPrecondition("you cannot change your own status",
                                         reason="SELF_CHANGE_FORBIDDEN")
            check_etag(etag, before.version)
            if before.status is status:
                return before
            after = await uow.users.update(user_id, {"status": status}, p.user_id)
            if status is EntityStatus.INACTIVE:
                await uow.sessions.revoke_user(user_id, after.updated_at)
            action = "user.deactivate" if status is EntityStatus.INACTIVE else "user.reactivate"
            await uow.audit.append(record(caller, action, f"users/{user_id}", after.company_id,
                                          changes({"status": before.status},
                                                  {"status": after.status})))
            return after

    async def reset_user_password(self, caller: Caller, user_id: UUID) -> tuple[str, datetime]:
        """A one-time reset token for the user; returned to the admin (emailed later)."""
        p = access.require_principal(caller)
        token = secrets.token_urlsafe(32)
        expires = self._clock.now() + RESET_TOKEN_TTL
        async with self._uow() as uow:
            user = await uow.users.get(p, user_id, for_update=True)
            if user is None:
                raise NotFound("user not found", reason="USER_NOT_FOUND")
            self._require_manager(p, user)
            if user.id == p.user_id:
                raise FailedPrecondition("use ChangePassword for your own password",
                                         reason="SELF_CHANGE_FORBIDDEN")
            await uow.resets.create(user_id=user_id, token_hash=reset_token_hash(token),
                                    expires_at=expires, created_by=p.user_id)
            await uow.audit.append(record(caller, "user.reset_password.issue",
                                          f"users/{user_id}", user.company_id))
        return token, expires
