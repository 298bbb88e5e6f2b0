"""Companies and departments: create, read, list, update, deactivate, reactivate."""

from __future__ import annotations

from uuid import UUID

from server.domain import access, paging
from server.domain.audit import changes, record
from server.domain.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound
from server.domain.models import Caller, Company, Department, EntityStatus, Page
from server.domain.ports import UnitOfWork, UowFactory
from server.domain.support import (
    check_etag,
    check_mask,
    fields_of,
    idempotent,
    keyset_page,
)

COMPANY_FIELDS = frozenset({"name", "email", "phone", "address"})
DEPARTMENT_FIELDS = frozenset({"name", "description"})


def require_name(name: str) -> str:
    """The name without surrounding spaces; it must not be empty."""
    if not name.strip():
        raise InvalidArgument("name is required", reason="NAME_REQUIRED")
    return name.strip()


class DirectoryUseCases:
    def __init__(self, uow: UowFactory) -> None:
        self._uow = uow

    # --- companies ---------------------------------------------------------------------

    async def create_company(self, caller: Caller, *, name: str, email: str | None,
                             phone: str | None, address: str | None,
                             request_id: UUID | None, fingerprint: bytes) -> Company:
        p = access.require_principal(caller)
        access.require_super_admin(p)
        require_name(name)

        async def create(uow: UnitOfWork) -> Company:
            company = await uow.companies.create(name=name.strip(), email=email, phone=phone,
                                                 address=address, actor_id=p.user_id)
            await uow.audit.append(record(caller, "company.create", f"companies/{company.id}",
                                          company.id, changes(None, fields_of(
                                              company, COMPANY_FIELDS | {"status"}))))
            return company

        async def load(uow: UnitOfWork, company_id: UUID) -> Company | None:
            return await uow.companies.get(p, company_id)

        return await idempotent(self._uow, caller, operation="CreateCompany",
                                request_id=request_id, fingerprint=fingerprint,
                                create=create, load=load, ident=lambda c: c.id)

    async def get_company(self, caller: Caller, company_id: UUID) -> Company:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            company = await uow.companies.get(p, company_id)
        if company is None:
            raise NotFound("company not found", reason="COMPANY_NOT_FOUND")
        return company

    async def list_companies(self, caller: Caller, *, status: EntityStatus | None,
                             name_prefix: str | None, size: int,
                             token: str) -> Page[Company]:
        p = access.require_principal(caller)
        filters: dict[str, object] = {"status": status, "name_prefix": name_prefix}

        async def fetch(uow: UnitOfWork, after: paging.Cursor | None,
                        limit: int) -> list[Company]:
            return await uow.companies.list(p, status=status, name_prefix=name_prefix,
                                            after=after, limit=limit)

        return await keyset_page(self._uow, filters, size, token, fetch=fetch,
                                 cursor=lambda c: paging.Cursor(c.created_at, str(c.id)))

    async def update_company(self, caller: Caller, company_id: UUID,
                             values: dict[str, object], etag: str) -> Company:
        p = access.require_principal(caller)
        check_mask(values, COMPANY_FIELDS)
        if "name" in values:
            values["name"] = require_name(str(values["name"] or ""))
        async with self._uow() as uow:
            before = await uow.companies.get(p, company_id, for_update=True)
            if before is None:
                raise NotFound("company not found", reason="COMPANY_NOT_FOUND")
            access.require_super_admin(p)
            check_etag(etag, before.version)
            after = await uow.companies.update(company_id, values, p.user_id)
            await uow.audit.append(record(caller, "company.update", f"companies/{company_id}",
                                          company_id, changes(fields_of(before, COMPANY_FIELDS),
                                                              fields_of(after, COMPANY_FIELDS))))
            return after

    async def set_company_status(self, caller: Caller, company_id: UUID, status: EntityStatus,
                                 etag: str) -> Company:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            before = await uow.companies.get(p, company_id, for_update=True)
            if before is None:
                raise NotFound("company not found", reason="COMPANY_NOT_FOUND")
            access.require_super_admin(p)
            check_etag(etag, before.version)
            if before.status is status:
                return before
            after = await uow.companies.update(company_id, {"status": status}, p.user_id)
            if status is EntityStatus.INACTIVE:
                await uow.sessions.revoke_company(company_id, after.updated_at)
            action = "company.deactivate" if status is EntityStatus.INACTIVE else \
                "company.reactivate"
            await uow.audit.append(record(caller, action, f"companies/{company_id}", company_id,
                                          changes({"status": before.status},
                                                  {"status": after.status})))
            return after

    # --- departments -------------------------------------------------------------------

    async def create_department(self, caller: Caller, company_id: UUID, *, name: str,
                                description: str | None, request_id: UUID | None,
                                fingerprint: bytes) -> Department:
        p = access.require_principal(caller)
        require_name(name)

        async def create(uow: UnitOfWork) -> Department:
            company = await uow.companies.get(p, company_id)
            if company is None:
                raise NotFound("company not found", reason="COMPANY_NOT_FOUND")
            access.require_company_admin(p, company_id)
            if company.status is not EntityStatus.ACTIVE:
                raise FailedPrecondition("the company is inactive", reason="COMPANY_INACTIVE")
            if await uow.departments.name_taken(company_id, name):
                raise AlreadyExists("a department with this name exists in the company",
                                    reason="DEPARTMENT_NAME_TAKEN")
            dept = await uow.departments.create(company_id=company_id, name=name.strip(),
                                                description=description, actor_id=p.user_id)
            await uow.audit.append(record(
                caller, "department.create", f"companies/{company_id}/departments/{dept.id}",
                company_id, changes(None, fields_of(dept, DEPARTMENT_FIELDS | {"status"}))))
            return dept

        async def load(uow: UnitOfWork, dept_id: UUID) -> Department | None:
            return await uow.departments.get(p, company_id, dept_id)

        return await idempotent(self._uow, caller, operation="CreateDepartment",
                                request_id=request_id, fingerprint=fingerprint,
                                create=create, load=load, ident=lambda d: d.id)

    async def get_department(self, caller: Caller, company_id: UUID,
                             department_id: UUID) -> Department:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            dept = await uow.departments.get(p, company_id, department_id)
        if dept is None:
            raise NotFound("department not found", reason="DEPARTMENT_NOT_FOUND")
        return dept

    async def list_departments(self, caller: Caller, company_id: UUID, *,
                               status: EntityStatus | None, size: int,
                               token: str) -> Page[Department]:
        p = access.require_principal(caller)
        filters: dict[str, object] = {"company_id": company_id, "status": status}

        async def fetch(uow: UnitOfWork, after: paging.Cursor | None,
                        limit: int) -> list[Department]:
            if await uow.companies.get(p, company_id) is None:
                raise NotFound("company not found", reason="COMPANY_NOT_FOUND")
            return await uow.departments.list(p, company_id, status=status, after=after,
                                              limit=limit)

        return await keyset_page(self._uow, filters, size, token, fetch=fetch,
                                 cursor=lambda d: paging.Cursor(d.created_at, str(d.id)))

    async def update_department(self, caller: Caller, company_id: UUID, department_id: UUID,
                                values: dict[str, object], etag: str) -> Department:
        p = access.require_principal(caller)
        check_mask(values, DEPARTMENT_FIELDS)
        if "name" in values:
            values["name"] = require_name(str(values["name"] or ""))
        async with self._uow() as uow:
            before = await uow.departments.get(p, company_id, department_id, for_update=True)
            if before is None:
                raise NotFound("department not found", reason="DEPARTMENT_NOT_FOUND")
            access.require_company_admin(p, company_id)
            check_etag(etag, before.version)
            if "name" in values and await uow.departments.name_taken(
                    company_id, str(values["name"]), except_id=department_id):
                raise AlreadyExists("a department with this name exists in the company",
                                    reason="DEPARTMENT_NAME_TAKEN")
            after = await uow.departments.update(department_id, values, p.user_id)
            await uow.audit.append(record(
                caller, "department.update", f"companies/{company_id}/departments/{after.id}",
                company_id, changes(fields_of(before, DEPARTMENT_FIELDS),
                                    fields_of(after, DEPARTMENT_FIELDS))))
            return after

    async def set_department_status(self, caller: Caller, company_id: UUID,
                                    department_id: UUID, status: EntityStatus,
                                    etag: str) -> Department:
        p = access.require_principal(caller)
        async with self._uow() as uow:
            before = await uow.departments.get(p, company_id, department_id, for_update=True)
            if before is None:
                raise NotFound("department not found", reason="DEPARTMENT_NOT_FOUND")
            access.require_company_admin(p, company_id)
            check_etag(etag, before.version)
            if before.status is status:
                return before
            after = await uow.departments.update(department_id, {"status": status}, p.user_id)
            action = "department.deactivate" if status is EntityStatus.INACTIVE else \
                "department.reactivate"
            await uow.audit.append(record(
                caller, action, f"companies/{company_id}/departments/{department_id}",
                company_id, changes({"status": before.status}, {"status": after.status})))
            return after
