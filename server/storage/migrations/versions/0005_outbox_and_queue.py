"""Email outbox, and the schema of the procrastinate job queue.

Revision ID: 0005_outbox_queue
Revises: 0004_jobs
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.util import await_only

revision = "0005_outbox_queue"
down_revision = "0004_jobs"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "email_outbox",
        sa.Column("id", UUID(as_uuid=True), primary_key=True,
                  server_default=sa.text("gen_random_uuid()")),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("to_address", sa.String(254), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("text_body", sa.Text(), nullable=False),
        sa.Column("html_body", sa.Text(), nullable=False),
        sa.Column("company_id", UUID(as_uuid=True)),
        sa.Column("resource", sa.String(200), nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_error", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')",
                           name="email_outbox_status_check"),
    )
    op.create_index("email_outbox_pending_idx", "email_outbox", ["created_at"],
                    postgresql_where=sa.text("status = 'pending'"))
    # procrastinate ships its schema as one SQL script (functions with $$ bodies): run it as a
    # simple query on the driver connection, inside this migration's transaction.
    from procrastinate.schema import SchemaManager

    driver = op.get_bind().connection.dbapi_connection.driver_connection  # type: ignore[union-attr]
    await_only(driver.execute(SchemaManager.get_schema()))


def downgrade() -> None:
    raise NotImplementedError("the job-queue schema is not removed by a downgrade")
