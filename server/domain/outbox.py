"""Transactional email outbox: messages are written in the same transaction as the change that
causes them, then delivered by a background job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from uuid import UUID


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class NewEmail:
    """A message to queue: rendered already, in the recipient's language."""

    kind: str
    to: str
    language: str
    subject: str
    text: str
    html: str
    company_id: UUID | None = None
    resource: str = ""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    id: UUID
    kind: str
    to: str
    language: str
    subject: str
    text: str
    html: str
    company_id: UUID | None
    resource: str
    status: OutboxStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
