"""Domain records. Plain dataclasses: no grpc, sqlalchemy or generated code here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Generic, TypeVar
from uuid import UUID


class Role(StrEnum):
    SUPER_ADMIN = "super_admin"
    COMPANY_ADMIN = "company_admin"
    DEPARTMENT_USER = "department_user"


class EntityStatus(StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling, as proven by an access token."""

    user_id: UUID
    email: str
    role: Role
    company_id: UUID | None
    department_id: UUID | None
    token_id: str
    expires_at: datetime
    session_id: UUID | None = None  # refresh-token family the access token was issued for


@dataclass(frozen=True, slots=True)
class User:
    id: UUID
    email: str
    full_name: str
    role: Role
    company_id: UUID | None
    department_id: UUID | None
    status: EntityStatus
    password_hash: str
    created_at: datetime
    updated_at: datetime
    phone: str | None = None
    version: int = 1


@dataclass(frozen=True, slots=True)
class TokenPair:
    access_token: str
    access_expires_at: datetime
    refresh_token: str
    refresh_expires_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshSession:
    """One stored refresh token (only its hash is kept)."""

    id: UUID
    family_id: UUID
    user_id: UUID
    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True, slots=True)
class Company:
    id: UUID
    name: str
    email: str | None
    phone: str | None
    address: str | None
    status: EntityStatus
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Department:
    id: UUID
    company_id: UUID
    name: str
    description: str | None
    status: EntityStatus
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling and from where: what use-cases need for scoping and the audit log."""

    principal: Principal | None
    request_id: str
    client_address: str


@dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class AuditEvent:
    id: int
    occurred_at: datetime
    actor_id: UUID | None
    actor_email: str | None
    actor_role: Role | None
    company_id: UUID | None
    action: str
    resource: str
    changes: tuple[FieldChange, ...]
    request_id: str | None
    client_address: str | None


T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_page_token: str = ""


@dataclass(frozen=True, slots=True)
class PageRequest:
    size: int
    token: str
    filters: dict[str, object] = field(default_factory=dict)
