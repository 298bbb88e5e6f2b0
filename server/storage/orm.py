"""SQLAlchemy models. The schema itself is owned by the Alembic migrations (reviewed by hand);
these mappings must agree with them (tests/storage/test_migrations.py checks)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True,
                         server_default=text("gen_random_uuid()"))


class AuditColumns:
    """The seed's audit columns, on every business table."""

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    created_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", use_alter=True, ondelete="SET NULL"))
    updated_by: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", use_alter=True, ondelete="SET NULL"))


STATUS_CHECK = "status IN ('Active', 'Inactive')"


class CompanyRow(AuditColumns, Base):
    __tablename__ = "companies"
    __table_args__ = (CheckConstraint(STATUS_CHECK, name="companies_status_check"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(32))
    address: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="Active")


class DepartmentRow(AuditColumns, Base):
    __tablename__ = "departments"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="departments_status_check"),
        UniqueConstraint("company_id", "id", name="departments_company_id_id_key"),
        Index("departments_company_name_key", "company_id", text("lower(name)"), unique=True),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False)
    name: Mapped[str] = mapped_column(String(255), nullable=False)
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="Active")


class UserRow(AuditColumns, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(STATUS_CHECK, name="users_status_check"),
        CheckConstraint(
            "(role = 'super_admin' AND company_id IS NULL AND department_id IS NULL)"
            " OR (role = 'company_admin' AND company_id IS NOT NULL AND department_id IS NULL)"
            " OR (role = 'department_user' AND company_id IS NOT NULL"
            " AND department_id IS NOT NULL)",
            name="users_role_scope_check",
        ),
        ForeignKeyConstraint(["company_id", "department_id"],
                             ["departments.company_id", "departments.id"],
                             name="users_department_in_company_fkey", ondelete="RESTRICT"),
        Index("users_email_lower_key", text("lower(email)"), unique=True),
        Index("users_company_id_idx", "company_id", "id"),
    )

    id: Mapped[uuid.UUID] = _uuid_pk()
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    full_name: Mapped[str] = mapped_column(String(255), nullable=False, server_default="")
    phone: Mapped[str | None] = mapped_column(String(32))
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    company_id: Mapped[uuid.UUID | None] = mapped_column(
        UUID(as_uuid=True), ForeignKey("companies.id", ondelete="RESTRICT"))
    department_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, server_default="Active")


class RefreshTokenRow(Base):
    __tablename__ = "refresh_tokens"
    __table_args__ = (Index("refresh_tokens_family_idx", "family_id"),)

    id: Mapped[uuid.UUID] = _uuid_pk()
    family_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    user_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary, nullable=False, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
