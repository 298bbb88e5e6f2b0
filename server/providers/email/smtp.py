"""SMTP delivery with aiosmtplib: implicit TLS or STARTTLS and authentication from settings."""

from __future__ import annotations

import aiosmtplib

from server.providers.email.base import DeliveryError, OutgoingEmail


class SmtpMailer:
    name = "smtp"

    def __init__(self, *, host: str, port: int, username: str | None, password: str | None,
                 use_tls: bool, start_tls: bool, timeout: float) -> None:
        self._host = host
        self._port = port
        self._username = username
        self._password = password
        self._use_tls = use_tls
        self._start_tls = start_tls
        self._timeout = timeout

    async def send(self, email: OutgoingEmail) -> None:
        try:
            await aiosmtplib.send(
                email.mime(), hostname=self._host, port=self._port,
                username=self._username or None, password=self._password or None,
                use_tls=self._use_tls, start_tls=self._start_tls, timeout=self._timeout)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError(f"recipient refused: {exc}", permanent=True) from exc
        except aiosmtplib.SMTPResponseException as exc:
            # 5xx answers are final; 4xx (and everything else) are worth retrying.
            raise DeliveryError(f"SMTP {exc.code}: {exc.message}",
                                permanent=500 <= exc.code < 600) from exc
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise DeliveryError(f"SMTP unavailable: {exc!r}") from exc
