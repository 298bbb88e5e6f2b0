"""Domain records. Plain dataclasses: no grpc, sqlalchemy or generated code here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
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
