"""Delivering outbox messages: exactly one successful send per message.

A message is claimed with a row lock (SKIP LOCKED), sent, and marked sent in the same
transaction. Two workers never send the same message at once; a message already sent is never
claimed again. The one window a crash can leave is after the SMTP server accepted the message
and before the commit: the retry then sends it again with the same Message-ID (the maildir
provider replaces the same file, so there it stays exactly one)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import structlog

from server.domain.ports import UowFactory
from server.providers.email.base import DeliveryError, Mailer, OutgoingEmail

log = structlog.get_logger(__name__)


class EmailDelivery:
    def __init__(self, *, uow: UowFactory, mailer: Mailer, sender: str, max_attempts: int,
                 message_domain: str = "interview-platform") -> None:
        self._uow = uow
        self.mailer = mailer
        self._sender = sender
        self._max_attempts = max_attempts
        self._domain = message_domain

    async def deliver(self, message_id: UUID) -> bool:
        """Send one message if it is still pending. Returns whether it was sent now; raises
        DeliveryError (after recording the attempt) when a retry should follow."""
        retry: DeliveryError | None = None
        async with self._uow() as uow:
            message = await uow.outbox.claim(message_id)
            if message is None:
                return False
            email = OutgoingEmail(message_id=f"{message.id}@{self._domain}",
                                  sender=self._sender, to=message.to, subject=message.subject,
                                  text=message.text, html=message.html,
                                  created_at=message.created_at)
            try:
                await self.mailer.send(email)
            except DeliveryError as exc:
                final = exc.permanent or message.attempts + 1 >= self._max_attempts
                await uow.outbox.record_failure(message_id, str(exc), final=final)
                log.warning("email delivery failed", message_id=str(message_id),
                            attempt=message.attempts + 1, final=final, error=str(exc))
                retry = None if final else exc
            else:
                await uow.outbox.mark_sent(message_id, datetime.now(UTC))
                log.info("email sent", message_id=str(message_id), kind=message.kind,
                         provider=self.mailer.name)
        if retry is not None:
            raise retry  # committed first, so the attempt is counted
        return True

    async def stale(self, age: timedelta, limit: int = 100) -> list[UUID]:
        """Pending messages older than `age`: their delivery job may have been lost."""
        async with self._uow() as uow:
            return await uow.outbox.stale_pending(datetime.now(UTC) - age, limit)
