"""What a mail provider sends, and the protocol every provider implements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One message from the outbox. `message_id` is stable across retries, so a message sent
    twice after a crash carries the same Message-ID and receivers can tell."""

    message_id: str
    sender: str
    to: str
    subject: str
    text: str
    html: str
    created_at: datetime

    def mime(self) -> EmailMessage:
        msg = EmailMessage()
        msg["Message-ID"] = f"<{self.message_id}>"
        msg["From"] = self.sender
        msg["To"] = self.to
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(self.created_at)
        msg.set_content(self.text)
        msg.add_alternative(self.html, subtype="html")
        return msg


class DeliveryError(Exception):
    """Delivery failed; `permanent` failures are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    name: str

    async def send(self, email: OutgoingEmail) -> None: ...
