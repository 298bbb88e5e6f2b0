"""AI: evaluations, decision records, questions asked in DYNAMIC interviews, the languages a
job requires and the reviewers' language of an interview.

Revision ID: 0008_ai
Revises: 0007_answers
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID

revision = "0008_ai"
down_revision = "0007_answers"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("jobs", sa.Column("required_languages", ARRAY(sa.Text()), nullable=False,
                                    server_default=sa.text("'{}'::text[]")))
    op.add_column("interviews", sa.Column("reviewer_language", sa.String(8), nullable=False,
                                          server_default="en"))
    op.create_table(
        "evaluations",
        sa.Column("interview_id", UUID(as_uuid=True),
                  sa.ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("company_id", UUID(as_uuid=True), nullable=False),
        sa.Column("department_id", UUID(as_uuid=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("failure_reason", sa.Text()),
        sa.Column("ai", JSONB()),
        sa.Column("review", JSONB()),
        sa.Column("version", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('queued', 'running', 'done', 'failed')",
                           name="evaluations_state_check"),
    )
    op.create_index("evaluations_state_idx", "evaluations", ["state", "updated_at"])
    op.create_table(
        "ai_decisions",
        sa.Column("id", UUID(as_uuid=True), primary_key=True,
                  server_default=sa.text("gen_random_uuid()")),
        sa.Column("company_id", UUID(as_uuid=True), nullable=False),
        sa.Column("department_id", UUID(as_uuid=True), nullable=False),
        sa.Column("interview_id", UUID(as_uuid=True),
                  sa.ForeignKey("interviews.id", ondelete="CASCADE")),
        sa.Column("job_id", UUID(as_uuid=True), sa.ForeignKey("jobs.id", ondelete="CASCADE"),
                  nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("model", sa.String(128), nullable=False),
        sa.Column("template_id", sa.String(128), nullable=False),
        sa.Column("template_hash", sa.String(64), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=False),
        sa.Column("output", JSONB(), nullable=False),
        sa.Column("latency_ms", sa.Float(), nullable=False),
        sa.Column("prompt_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("output_tokens", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="1"),
        sa.Column("fallback_reason", sa.String(64)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
    )
    op.create_index("ai_decisions_created_idx", "ai_decisions", ["created_at", "id"])
    op.create_index("ai_decisions_company_created_idx", "ai_decisions",
                    ["company_id", "created_at", "id"])
    op.create_index("ai_decisions_interview_idx", "ai_decisions", ["interview_id"])
    op.create_index("ai_decisions_job_idx", "ai_decisions", ["job_id"])
    op.create_table(
        "interview_questions",
        sa.Column("interview_id", UUID(as_uuid=True),
                  sa.ForeignKey("interviews.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("question_id", sa.String(64), primary_key=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("question", JSONB(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rationale", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False,
                  server_default=sa.func.now()),
        sa.UniqueConstraint("interview_id", "position", name="interview_questions_position_key"),
    )


def downgrade() -> None:
    op.drop_table("interview_questions")
    op.drop_table("ai_decisions")
    op.drop_table("evaluations")
    op.drop_column("interviews", "reviewer_language")
    op.drop_column("jobs", "required_languages")
