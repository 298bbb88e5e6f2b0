"""Index refresh tokens by user: revoking a user's sessions (deactivation, password change,
role or department change) must not scan the whole table.

Revision ID: 0003_refresh_user_idx
Revises: 0002_tenancy
Create Date: 2026-11-30
"""

from __future__ import annotations

from alembic import op

revision = "0003_refresh_user_idx"
down_revision = "0002_tenancy"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("refresh_tokens_user_idx", "refresh_tokens", ["user_id"])


def downgrade() -> None:
    op.drop_index("refresh_tokens_user_idx", table_name="refresh_tokens")
