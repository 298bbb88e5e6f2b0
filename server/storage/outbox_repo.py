"""The email outbox table."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from server.domain.outbox import NewEmail, OutboxMessage, OutboxStatus
from server.storage.orm import EmailOutboxRow


def _message(row: EmailOutboxRow) -> OutboxMessage:
    return OutboxMessage(
        id=row.id, kind=row.kind, to=row.to_address, language=row.language,
        subject=row.subject, text=row.text_body, html=row.html_body, company_id=row.company_id,
        resource=row.resource, status=OutboxStatus(row.status), attempts=row.attempts,
        last_error=row.last_error, created_at=row.created_at, sent_at=row.sent_at)


class SqlOutboxRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._s = session

    async def add(self, message: NewEmail) -> OutboxMessage:
        row = EmailOutboxRow(kind=message.kind, to_address=message.to,
                             language=message.language, subject=message.subject,
                             text_body=message.text, html_body=message.html,
                             company_id=message.company_id, resource=message.resource)
        self._s.add(row)
        await self._s.flush()
        await self._s.refresh(row)
        return _message(row)

    async def claim(self, message_id: uuid.UUID) -> OutboxMessage | None:
        """Lock a pending message for delivery; None when it is sent, failed, or being
        delivered by another worker right now."""
        row = await self._s.scalar(
            select(EmailOutboxRow)
            .where(EmailOutboxRow.id == message_id,
                   EmailOutboxRow.status == OutboxStatus.PENDING.value)
            .with_for_update(skip_locked=True))
        return _message(row) if row else None

    async def mark_sent(self, message_id: uuid.UUID, at: datetime) -> None:
        await self._s.execute(update(EmailOutboxRow).where(EmailOutboxRow.id == message_id)
                              .values(status=OutboxStatus.SENT.value, sent_at=at,
                                      attempts=EmailOutboxRow.attempts + 1, last_error=None))

    async def record_failure(self, message_id: uuid.UUID, error: str, *, final: bool) -> int:
        attempts: int = (await self._s.execute(
            update(EmailOutboxRow).where(EmailOutboxRow.id == message_id)
            .values(attempts=EmailOutboxRow.attempts + 1, last_error=error[:1000],
                    status=(OutboxStatus.FAILED if final else OutboxStatus.PENDING).value)
            .returning(EmailOutboxRow.attempts))).scalar_one()
        return attempts

    async def stale_pending(self, older_than: datetime, limit: int) -> list[uuid.UUID]:
        rows = await self._s.scalars(
            select(EmailOutboxRow.id)
            .where(EmailOutboxRow.status == OutboxStatus.PENDING.value,
                   EmailOutboxRow.created_at < older_than)
            .order_by(EmailOutboxRow.created_at).limit(limit))
        return list(rows.all())
