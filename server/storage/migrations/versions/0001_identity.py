"""Identity: companies, departments, users (with the seed's audit columns), refresh tokens.

Revision ID: 0001_identity
Revises:
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0001_identity"
down_revision = None
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('Active', 'Inactive')"


def _audit() -> list[sa.Column[object]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("created_by", UUID(as_uuid=True), nullable=True),
        sa.Column("updated_by", UUID(as_uuid=True), nullable=True),
    ]


def _uuid_pk() -> sa.Column[object]:
    return sa.Column("id", UUID(as_uuid=True), primary_key=True,
                     server_default=sa.text("gen_random_uuid()"))


def upgrade() -> None:
    op.create_table(
        "companies",
        _uuid_pk(),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("email", sa.String(254)),
        sa.Column("phone", sa.String(32)),
        sa.Column("address", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False, server_default="Active"),
        *_audit(),
        sa.CheckConstraint(STATUS_CHECK, name="companies_status_check"),
    )
    op.create_table(
        "departments",
        _uuid_pk(),
        sa.Column("company_id", UUID(as_uuid=True),
                  sa.ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("status", sa.String(16), nullable=False, server_default="Active"),
        *_audit(),
        sa.CheckConstraint(STATUS_CHECK, name="departments_status_check"),
        sa.UniqueConstraint("company_id", "id", name="departments_company_id_id_key"),
    )
    op.create_index("departments_company_name_key", "departments",
                    ["company_id", sa.text("lower(name)")], unique=True)
    op.create_table(
        "users",
        _uuid_pk(),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("full_name", sa.String(255), nullable=False, server_default=""),
        sa.Column("phone", sa.String(32)),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("company_id", UUID(as_uuid=True),
                  sa.ForeignKey("companies.id", ondelete="RESTRICT")),
        sa.Column("department_id", UUID(as_uuid=True)),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="Active"),
        *_audit(),
        sa.CheckConstraint(STATUS_CHECK, name="users_status_check"),
        sa.CheckConstraint(
            "(role = 'super_admin' AND company_id IS NULL AND department_id IS NULL)"
            " OR (role = 'company_admin' AND company_id IS NOT NULL AND department_id IS NULL)"
            " OR (role = 'department_user' AND company_id IS NOT NULL"
            " AND department_id IS NOT NULL)",
            name="users_role_scope_check",
        ),
        sa.ForeignKeyConstraint(["company_id", "department_id"],
                                ["departments.company_id", "departments.id"],
                                name="users_department_in_company_fkey", ondelete="RESTRICT"),
    )
    op.create_index("users_email_lower_key", "users", [sa.text("lower(email)")], unique=True)
    op.create_index("users_company_id_idx", "users", ["company_id", "id"])
    # Audit actor columns point at users, which exist only now.
    for table in ("companies", "departments", "users"):
        for column in ("created_by", "updated_by"):
            op.create_foreign_key(f"{table}_{column}_fkey", table, "users", [column], ["id"],
                                  ondelete="SET NULL")
    op.create_table(
        "refresh_tokens",
        _uuid_pk(),
        sa.Column("family_id", UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", UUID(as_uuid=True),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("refresh_tokens_family_idx", "refresh_tokens", ["family_id"])


def downgrade() -> None:
    op.drop_table("refresh_tokens")
    for table in ("companies", "departments", "users"):
        for column in ("created_by", "updated_by"):
            op.drop_constraint(f"{table}_{column}_fkey", table, type_="foreignkey")
    op.drop_table("users")
    op.drop_table("departments")
    op.drop_table("companies")
