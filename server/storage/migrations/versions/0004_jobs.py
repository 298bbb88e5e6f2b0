"""Jobs of a department (with an optional uploaded JD file and its extracted text) and their
versioned, immutable question sets.

Revision ID: 0004_jobs
Revises: 0003_refresh_user_idx
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0004_jobs"
down_revision = "0003_refresh_user_idx"
branch_labels = None
depends_on = None

STATUS_CHECK = "status IN ('Active', 'Inactive')"
SENIORITY_CHECK = ("seniority IS NULL OR seniority IN "
                   "('intern', 'junior', 'mid', 'senior', 'lead', 'principal')")


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", UUID(as_uuid=True), primary_key=True,
                  server_default=sa.text("gen_random_uuid()")),
        sa.Column("company_id", UUID(as_uuid=True),
                  sa.ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("department_id", UUID(as_uuid=True), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("description", sa.Text()),
        sa.Column("required_skills", ARRAY(sa.Text()), nullable=False,
                  server_default=sa.text("'{}'::text[]")),
        sa.Column("domain", sa.String(255)),
        sa.Column("seniority", sa.String(16)),
        sa.Column("status", sa.String(16), nullable=False, server_default="Active"),
        sa.Column("question_set_version", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("jd_file", sa.LargeBinary()),
        sa.Column("jd_file_name", sa.String(255)),
        sa.Column("jd_media_type", sa.String(100)),
        sa.Column("jd_sha256", sa.String(64)),
        sa.Column("jd_text", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("created_by", UUID(as_uuid=True),
                  sa.ForeignKey("users.id", name="jobs_created_by_fkey", ondelete="SET NULL")),
        sa.Column("updated_by", UUID(as_uuid=True),
                  sa.ForeignKey("users.id", name="jobs_updated_by_fkey", ondelete="SET NULL")),
        sa.CheckConstraint(STATUS_CHECK, name="jobs_status_check"),
        sa.CheckConstraint(SENIORITY_CHECK, name="jobs_seniority_check"),
        # The department must belong to the job's company.
        sa.ForeignKeyConstraint(["company_id", "department_id"],
                                ["departments.company_id", "departments.id"],
                                name="jobs_department_in_company_fkey", ondelete="RESTRICT"),
    )
    # Keyset pages: per department (department users), per company (admins), all (super).
    op.create_index("jobs_created_idx", "jobs", ["created_at", "id"])
    op.create_index("jobs_company_created_idx", "jobs", ["company_id", "created_at", "id"])
    op.create_index("jobs_department_created_idx", "jobs",
                    ["department_id", "created_at", "id"])
    op.create_table(
        "question_sets",
        sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("jobs.id", ondelete="RESTRICT"),
                  primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("default_language", sa.String(8), nullable=False),
        sa.Column("questions", JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("created_by", UUID(as_uuid=True),
                  sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.CheckConstraint("version >= 1", name="question_sets_version_check"),
    )


def downgrade() -> None:
    op.drop_table("question_sets")
    op.drop_index("jobs_department_created_idx", table_name="jobs")
    op.drop_index("jobs_company_created_idx", table_name="jobs")
    op.drop_index("jobs_created_idx", table_name="jobs")
    op.drop_table("jobs")
