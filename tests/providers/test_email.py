"""Email providers against a real SMTP server (aiosmtpd) and a real maildir; templates."""

from __future__ import annotations

import email
import email.policy
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from server.domain.email_templates import KINDS, LANGUAGES, render
from server.providers.email.base import DeliveryError, OutgoingEmail
from server.providers.email.maildir import MaildirMailer
from server.providers.email.smtp import SmtpMailer
from tests.helpers import free_port


class Sink:
    """An SMTP server that keeps what it receives; can refuse recipients on demand."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.refuse: set[str] = set()
        self.temporary_failures = 0  # answer "451 try again later" this many times first

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,
                          address: str, rcpt_options: list[str]) -> str:
        if address in self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.temporary_failures > 0:
            self.temporary_failures -= 1
            return "451 4.3.0 try again later"
        assert isinstance(envelope.content, bytes)
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted"


@pytest.fixture
def smtp_sink() -> Iterator[tuple[Sink, int]]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield sink, port
    finally:
        controller.stop()


def outgoing(**overrides: str) -> OutgoingEmail:
    rendered = render("invitation", overrides.pop("language", "es"), name="Ana", job="Backend",
                      company="Acme", when=datetime(2027, 1, 5, 9, 30, tzinfo=UTC),
                      link="http://localhost:8080/interview?token=abc")
    values: dict[str, object] = {
        "message_id": f"{uuid.uuid4()}@interview-platform", "sender": "noreply@example.com",
        "to": "ana@example.com", "subject": rendered.subject, "text": rendered.text,
        "html": rendered.html, "created_at": datetime.now(UTC)}
    values.update(overrides)
    return OutgoingEmail(**values)  # type: ignore[arg-type]


def smtp(port: int) -> SmtpMailer:
    return SmtpMailer(host="127.0.0.1", port=port, username=None, password=None,
                      use_tls=False, start_tls=False, timeout=5)


async def test_smtp_delivers_text_and_html_with_message_id(smtp_sink: tuple[Sink, int]) -> None:
    sink, port = smtp_sink
    message = outgoing()
    await smtp(port).send(message)
    [received] = sink.messages
    assert received["Message-ID"] == f"<{message.message_id}>"
    assert received["Subject"] == "Tu entrevista para Backend en Acme"
    assert received["To"] == "ana@example.com"
    text = received.get_body(("plain",))
    html = received.get_body(("html",))
    assert text is not None and html is not None
    assert "http://localhost:8080/interview?token=abc" in text.get_content()
    assert 'href="http://localhost:8080/interview?token=abc"' in html.get_content()


async def test_smtp_refused_recipient_is_permanent_and_server_down_is_not(
        smtp_sink: tuple[Sink, int]) -> None:
    sink, port = smtp_sink
    sink.refuse.add("nobody@example.com")
    with pytest.raises(DeliveryError) as err:
        await smtp(port).send(outgoing(to="nobody@example.com"))
    assert err.value.permanent
    with pytest.raises(DeliveryError) as err:
        await smtp(free_port()).send(outgoing())
    assert not err.value.permanent


async def test_maildir_delivery_is_idempotent_per_message_id(tmp_path: Path) -> None:
    mailer = MaildirMailer(tmp_path / "maildir")
    message = outgoing(language="ja")
    await mailer.send(message)
    await mailer.send(message)  # a retry after a crash
    files = list((tmp_path / "maildir" / "new").iterdir())
    assert len(files) == 1
    parsed = email.message_from_bytes(files[0].read_bytes(), policy=email.policy.default)
    assert parsed["Subject"] == "Acme の Backend の面接のご案内"
    assert not list((tmp_path / "maildir" / "tmp").iterdir())


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_kind_renders_in_every_language(language: str) -> None:
    when = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)
    subjects = set()
    for kind in KINDS:
        link = None if kind == "cancellation" else "https://x.test/i?t=1&u=2"
        out = render(kind, language, name="Zoë <script>", job="Data & ML", company="Acme",
                     when=when, link=link)
        subjects.add(out.subject)
        assert "Data & ML" in out.subject
        assert "2027-03-01 14:00 UTC" in out.text
        assert "Zoë <script>" in out.text
        assert "<script>" not in out.html and "Zoë &lt;script&gt;" in out.html
        assert f'lang="{language}"' in out.html
        if link:
            assert link in out.text and 'href="https://x.test/i?t=1&amp;u=2"' in out.html
    assert len(subjects) == len(KINDS)  # each kind has its own subject
    if language != "en":
        english = render("invitation", "en", name="A", job="B", company="C", when=when, link="l")
        assert render("invitation", language, name="A", job="B", company="C", when=when,
                      link="l").subject != english.subject


def test_unknown_language_falls_back_to_english() -> None:
    out = render("reminder", "xx", name="A", job="B", company="C",
                 when=datetime(2027, 1, 1, tzinfo=UTC), link="l")
    assert out.subject == "Reminder: your interview for B"
