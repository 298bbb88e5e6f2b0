"""Interviews (candidate, optional resume with its extracted text, pinned question set version,
lifecycle status, scheduled window) and the candidates' link tokens (hashed).

Revision ID: 0006_interviews
Revises: 0005_outbox_queue
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import UUID

revision = "0006_interviews"
down_revision = "0005_outbox_queue"
branch_labels = None
depends_on = None

STATUS_CHECK = ("status IN ('pending', 'scheduled', 'in_progress', 'completed', "
                "'cancelled', 'expired')")
MODE_CHECK = "mode IN ('static', 'dynamic')"
DIFFICULTY_CHECK = "difficulty IS NULL OR difficulty IN ('easy', 'medium', 'hard')"
SEX_CHECK = "candidate_sex IS NULL OR candidate_sex IN ('female', 'male', 'other')"
AGE_CHECK = "candidate_age IS NULL OR candidate_age BETWEEN 14 AND 120"
WINDOW_CHECK = "window_end > scheduled_at"


def upgrade() -> None:
    op.create_table(
        "interviews",
        sa.Column("id", UUID(as_uuid=True), primary_key=True,
                  server_default=sa.text("gen_random_uuid()")),
        sa.Column("company_id", UUID(as_uuid=True),
                  sa.ForeignKey("companies.id", ondelete="RESTRICT"), nullable=False),
        sa.Column("department_id", UUID(as_uuid=True), nullable=False),
        sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("jobs.id", ondelete="RESTRICT"),
                  nullable=False),
        sa.Column("question_set_version", sa.Integer(), nullable=False),
        sa.Column("candidate_name", sa.String(255), nullable=False),
        sa.Column("candidate_email", sa.String(254), nullable=False),
        sa.Column("candidate_phone", sa.String(32)),
        sa.Column("candidate_age", sa.Integer()),
        sa.Column("candidate_sex", sa.String(16)),
        sa.Column("resume_file", sa.LargeBinary()),
        sa.Column("resume_file_name", sa.String(255)),
        sa.Column("resume_media_type", sa.String(100)),
        sa.Column("resume_sha256", sa.String(64)),
        sa.Column("resume_size", sa.Integer()),
        sa.Column("resume_text", sa.Text()),
        sa.Column("domain", sa.String(255)),
        sa.Column("difficulty", sa.String(16)),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cancel_reason", sa.Text()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("created_by", UUID(as_uuid=True),
                  sa.ForeignKey("users.id", name="interviews_created_by_fkey",
                                ondelete="SET NULL")),
        sa.Column("updated_by", UUID(as_uuid=True),
                  sa.ForeignKey("users.id", name="interviews_updated_by_fkey",
                                ondelete="SET NULL")),
        sa.CheckConstraint(STATUS_CHECK, name="interviews_status_check"),
        sa.CheckConstraint(MODE_CHECK, name="interviews_mode_check"),
        sa.CheckConstraint(DIFFICULTY_CHECK, name="interviews_difficulty_check"),
        sa.CheckConstraint(SEX_CHECK, name="interviews_candidate_sex_check"),
        sa.CheckConstraint(AGE_CHECK, name="interviews_candidate_age_check"),
        sa.CheckConstraint(WINDOW_CHECK, name="interviews_window_check"),
        # The department must belong to the interview's company.
        sa.ForeignKeyConstraint(["company_id", "department_id"],
                                ["departments.company_id", "departments.id"],
                                name="interviews_department_in_company_fkey",
                                ondelete="RESTRICT"),
        # The pinned question set version must exist (and can never be deleted under it).
        sa.ForeignKeyConstraint(["job_id", "question_set_version"],
                                ["question_sets.job_id", "question_sets.version"],
                                name="interviews_question_set_fkey", ondelete="RESTRICT"),
    )
    # Keyset pages by scheduled time: all (super), per company, per department, per job.
    op.create_index("interviews_scheduled_idx", "interviews", ["scheduled_at", "id"])
    op.create_index("interviews_company_scheduled_idx", "interviews",
                    ["company_id", "scheduled_at", "id"])
    op.create_index("interviews_department_scheduled_idx", "interviews",
                    ["department_id", "scheduled_at", "id"])
    op.create_index("interviews_job_scheduled_idx", "interviews",
                    ["job_id", "scheduled_at", "id"])
    op.create_table(
        "candidate_tokens",
        sa.Column("id", UUID(as_uuid=True), primary_key=True,
                  server_default=sa.text("gen_random_uuid()")),
        sa.Column("interview_id", UUID(as_uuid=True),
                  sa.ForeignKey("interviews.id", ondelete="CASCADE"), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
    )
    op.create_index("candidate_tokens_interview_idx", "candidate_tokens", ["interview_id"])


def downgrade() -> None:
    op.drop_table("candidate_tokens")
    op.drop_table("interviews")
