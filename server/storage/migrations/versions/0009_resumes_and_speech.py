"""Resume profiles and matches on interviews; recordings of spoken answers.

Revision ID: 0009_resumes_and_speech
Revises: 0008_ai
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009_resumes_and_speech"
down_revision = "0008_ai"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("interviews", sa.Column("resume_profile", JSONB()))
    op.add_column("interviews", sa.Column("resume_match", JSONB()))
    op.add_column("answers", sa.Column("audio", sa.LargeBinary()))
    op.add_column("answers", sa.Column("audio_media_type", sa.String(100)))
    op.add_column("answers", sa.Column("audio_size", sa.BigInteger()))
    op.add_column("answers", sa.Column("audio_duration_ms", sa.Integer()))
    op.add_column("answers", sa.Column("audio_truncated", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.add_column("answers", sa.Column("transcript_partial", sa.Boolean(), nullable=False,
                                       server_default=sa.false()))
    op.add_column("answers", sa.Column("speech_provider", sa.String(32)))


def downgrade() -> None:
    for column in ("speech_provider", "transcript_partial", "audio_truncated",
                   "audio_duration_ms", "audio_size", "audio_media_type", "audio"):
        op.drop_column("answers", column)
    op.drop_column("interviews", "resume_match")
    op.drop_column("interviews", "resume_profile")
