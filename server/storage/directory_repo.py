"""Companies and departments, scoped to the principal in every read."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.errors import AlreadyExists
from server.domain.models import Company, Department, EntityStatus, Principal
from server.domain.paging import Cursor, uuid_key
from server.storage import scope
from server.storage.orm import CompanyRow, DepartmentRow
from server.storage.sql import like_prefix, plain_values, unique_violations


def _name_taken() -> dict[str, AlreadyExists]:
    return {"departments_company_name_key": AlreadyExists(
        "a department with this name exists in the company", reason="DEPARTMENT_NAME_TAKEN")}


def _company(row: CompanyRow) -> Company:
    return Company(id=row.id, name=row.name, email=row.email, phone=row.phone,
                   address=row.address, status=EntityStatus(row.status), version=row.version,
                   created_at=row.created_at, updated_at=row.updated_at)


def _department(row: DepartmentRow) -> Department:
    return Department(id=row.id, company_id=row.company_id, name=row.name,
                      description=row.description, status=EntityStatus(row.status),
                      version=row.version, created_at=row.created_at, updated_at=row.updated_at)


class SqlCompanyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, name: str, email: str | None, phone: str | None,
                     address: str | None, actor_id: uuid.UUID | None) -> Company:
        row = CompanyRow(name=name, email=email or None, phone=phone or None,
                         address=address or None, created_by=actor_id, updated_by=actor_id)
        self._s.add(row)
        await self._s.flush()
        await self._s.refresh(row)
        return _company(row)

    async def get(self, scope_of: Principal, company_id: uuid.UUID, *,
                  for_update: bool = False) -> Company | None:
        query = select(CompanyRow).where(CompanyRow.id == company_id, scope.companies(scope_of))
        if for_update:
            query = query.with_for_update()
        row = await self._s.scalar(query)
        return _company(row) if row else None

    async def status_of(self, company_id: uuid.UUID) -> EntityStatus | None:
        status = await self._s.scalar(select(CompanyRow.status).where(CompanyRow.id == company_id))
        return EntityStatus(status) if status else None

    async def update(self, company_id: uuid.UUID, values: dict[str, object],
                     actor_id: uuid.UUID | None) -> Company:
        row = (await self._s.execute(
            update(CompanyRow).where(CompanyRow.id == company_id)
            .values(**plain_values(values), version=CompanyRow.version + 1,
                    updated_at=func.now(), updated_by=actor_id)
            .returning(CompanyRow))).scalar_one()
        return _company(row)

    async def list(self, scope_of: Principal, *, status: EntityStatus | None,
                   name_prefix: str | None, after: Cursor | None,
                   limit: int) -> list[Company]:
        query = select(CompanyRow).where(scope.companies(scope_of))
        if status is not None:
            query = query.where(CompanyRow.status == status.value)
        if name_prefix:
            query = query.where(func.lower(CompanyRow.name).like(like_prefix(name_prefix)))
        key = uuid_key(after)
        if key is not None:
            query = query.where(tuple_(CompanyRow.created_at, CompanyRow.id) > key)
        query = query.order_by(CompanyRow.created_at, CompanyRow.id).limit(limit)
        return [_company(r) for r in (await self._s.scalars(query)).all()]


class SqlDepartmentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def create(self, *, company_id: uuid.UUID, name: str, description: str | None,
                     actor_id: uuid.UUID | None) -> Department:
        row = DepartmentRow(company_id=company_id, name=name, description=description or None,
                            created_by=actor_id, updated_by=actor_id)
        self._s.add(row)
        with unique_violations(_name_taken()):
            await self._s.flush()
        await self._s.refresh(row)
        return _department(row)

    async def get(self, scope_of: Principal, company_id: uuid.UUID, department_id: uuid.UUID,
                  *, for_update: bool = False) -> Department | None:
        query = select(DepartmentRow).where(DepartmentRow.id == department_id,
                                            DepartmentRow.company_id == company_id,
                                            scope.departments(scope_of))
        if for_update:
            query = query.with_for_update()
        row = await self._s.scalar(query)
        return _department(row) if row else None

    async def find(self, scope_of: Principal, department_id: uuid.UUID) -> Department | None:
        """A department by its id alone (its company comes with it)."""
        row = await self._s.scalar(select(DepartmentRow).where(
            DepartmentRow.id == department_id, scope.departments(scope_of)))
        return _department(row) if row else None

    async def name_taken(self, company_id: uuid.UUID, name: str, *,
                         except_id: uuid.UUID | None = None) -> bool:
        query = select(DepartmentRow.id).where(
            DepartmentRow.company_id == company_id,
            func.lower(DepartmentRow.name) == name.strip().lower())
        if except_id is not None:
            query = query.where(DepartmentRow.id != except_id)
        return await self._s.scalar(query.limit(1)) is not None

    async def update(self, department_id: uuid.UUID, values: dict[str, object],
                     actor_id: uuid.UUID | None) -> Department:
        with unique_violations(_name_taken()):
            row = (await self._s.execute(
                update(DepartmentRow).where(DepartmentRow.id == department_id)
                .values(**plain_values(values), version=DepartmentRow.version + 1,
                        updated_at=func.now(), updated_by=actor_id)
                .returning(DepartmentRow))).scalar_one()
        return _department(row)

    async def list(self, scope_of: Principal, company_id: uuid.UUID, *,
                   status: EntityStatus | None, after: Cursor | None,
                   limit: int) -> list[Department]:
        query = select(DepartmentRow).where(DepartmentRow.company_id == company_id,
                                            scope.departments(scope_of))
        if status is not None:
            query = query.where(DepartmentRow.status == status.value)
        key = uuid_key(after)
        if key is not None:
            query = query.where(tuple_(DepartmentRow.created_at, DepartmentRow.id) > key)
        query = query.order_by(DepartmentRow.created_at, DepartmentRow.id).limit(limit)
        return [_department(r) for r in (await self._s.scalars(query)).all()]
