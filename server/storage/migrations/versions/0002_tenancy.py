"""Tenancy: row versions (etags), session revocation, login throttling, idempotency keys,
password reset tokens and the append-only audit log.

Revision ID: 0002_tenancy
Revises: 0001_identity
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, UUID

revision = "0002_tenancy"
down_revision = "0001_identity"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("companies", "departments", "users"):
        op.add_column(table, sa.Column("version", sa.Integer(), nullable=False,
                                       server_default="1"))
    # Keyset pages: (created_at, id) within a tenant, and for super admins across tenants.
    op.create_index("users_created_idx", "users", ["created_at", "id"])
    op.create_index("users_company_created_idx", "users", ["company_id", "created_at", "id"])
    op.create_index("users_department_created_idx", "users",
                    ["department_id", "created_at", "id"])
    op.create_index("users_email_prefix_idx", "users",
                    [sa.func.lower(sa.column("email")).label("lower_email")],
                    postgresql_ops={"lower_email": "text_pattern_ops"})
    op.drop_index("users_company_id_idx", table_name="users")
    op.create_index("companies_created_idx", "companies", ["created_at", "id"])
    op.create_index("departments_company_created_idx", "departments",
                    ["company_id", "created_at", "id"])

    op.create_table(
        "login_attempts",
        sa.Column("scope", sa.String(16), primary_key=True),
        sa.Column("key", sa.String(320), primary_key=True),
        sa.Column("failures", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.CheckConstraint("scope IN ('account', 'address')", name="login_attempts_scope_check"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("actor_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("operation", sa.String(100), primary_key=True),
        sa.Column("request_id", UUID(as_uuid=True), primary_key=True),
        sa.Column("request_hash", sa.LargeBinary(), nullable=False),
        sa.Column("resource_id", UUID(as_uuid=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_table(
        "password_reset_tokens",
        sa.Column("id", UUID(as_uuid=True), primary_key=True,
                  server_default=sa.text("gen_random_uuid()")),
        sa.Column("user_id", UUID(as_uuid=True),
                  sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("created_by", UUID(as_uuid=True),
                  sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("actor_id", UUID(as_uuid=True)),
        sa.Column("actor_email", sa.String(254)),
        sa.Column("actor_role", sa.String(32)),
        sa.Column("company_id", UUID(as_uuid=True)),
        sa.Column("action", sa.String(100), nullable=False),
        sa.Column("resource", sa.String(200), nullable=False),
        sa.Column("changes", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("request_id", sa.String(128)),
        sa.Column("client_address", sa.String(64)),
    )
    op.create_index("audit_events_time_idx", "audit_events", ["occurred_at", "id"])
    op.create_index("audit_events_company_time_idx", "audit_events",
                    ["company_id", "occurred_at", "id"])
    # Append-only: the database itself refuses to change or remove an event.
    op.execute("""
        CREATE FUNCTION audit_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'audit_events is append-only' USING ERRCODE = 'insufficient_privilege';
        END $$;
    """)
    op.execute("""
        CREATE TRIGGER audit_events_no_change BEFORE UPDATE OR DELETE OR TRUNCATE
        ON audit_events FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
    """)


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_events_no_change ON audit_events")
    op.execute("DROP FUNCTION audit_events_append_only()")
    op.drop_table("audit_events")
    op.drop_table("password_reset_tokens")
    op.drop_table("idempotency_keys")
    op.drop_table("login_attempts")
    op.drop_index("departments_company_created_idx", table_name="departments")
    op.drop_index("companies_created_idx", table_name="companies")
    op.create_index("users_company_id_idx", "users", ["company_id", "id"])
    op.drop_index("users_email_prefix_idx", table_name="users")
    op.drop_index("users_department_created_idx", table_name="users")
    op.drop_index("users_company_created_idx", table_name="users")
    op.drop_index("users_created_idx", table_name="users")
    for table in ("companies", "departments", "users"):
        op.drop_column(table, "version")
