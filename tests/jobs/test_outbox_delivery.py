"""The email outbox on the real job queue (procrastinate on PostgreSQL) delivering to a real
SMTP server (aiosmtpd): once per message, after lost enqueues, across restarts, with retries."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from uuid import UUID

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from server.app import Platform, start_platform
from server.domain.outbox import NewEmail, OutboxStatus
from server.storage.orm import EmailOutboxRow
from server.storage.repositories import SqlUnitOfWork
from tests.helpers import fast_settings, free_port
from tests.providers.test_email import Sink

NewDb = Callable[[], Awaitable[str]]


@pytest.fixture
def sink() -> Iterator[tuple[Sink, int]]:
    handler, port = Sink(), free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


@asynccontextmanager
async def platform_with(database_url: str, data_dir: Path, smtp_port: int, *,
                        worker: bool = True) -> AsyncIterator[Platform]:
    settings = fast_settings(data_dir=data_dir, smtp_host="127.0.0.1", smtp_port=smtp_port,
                             smtp_starttls=False, worker_in_process=worker,
                             outbox_sweep_seconds=1, outbox_sweep_after_seconds=1.0,
                             email_max_attempts=3)
    platform = await start_platform(settings, database_url)
    try:
        yield platform
    finally:
        await platform.stop(grace=0)


async def queue_email(platform: Platform, to: str = "cand@example.com") -> UUID:
    async with SqlUnitOfWork(platform.db.sessions) as uow:
        message = await uow.outbox.add(NewEmail(
            kind="invitation", to=to, language="en", subject="Your interview",
            text="Hello", html="<p>Hello</p>", resource="interviews/x"))
    return message.id


async def row(platform: Platform, message_id: UUID) -> EmailOutboxRow:
    async with platform.db.sessions() as s:
        found = await s.scalar(select(EmailOutboxRow).where(EmailOutboxRow.id == message_id))
        assert found is not None
        return found


async def wait_for(condition: Callable[[], bool], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.1)


async def test_enqueued_message_is_delivered_once(sink: tuple[Sink, int], new_database: NewDb,
                                                  data_dir: Path) -> None:
    received, port = sink
    async with platform_with(await new_database(), data_dir, port) as platform:
        message_id = await queue_email(platform)
        await platform.background.queue.enqueue_email(message_id)
        await platform.background.queue.enqueue_email(message_id)  # a duplicate kick
        await wait_for(lambda: len(received.messages) >= 1)
        await asyncio.sleep(2.5)  # sweeps and the duplicate kick must not resend
        assert len(received.messages) == 1
        assert received.messages[0]["Message-ID"] == f"<{message_id}@interview-platform>"
        stored = await row(platform, message_id)
        assert stored.status == OutboxStatus.SENT.value
        assert stored.attempts == 1
        assert stored.sent_at is not None


async def test_a_lost_enqueue_is_swept_up(sink: tuple[Sink, int], new_database: NewDb,
                                          data_dir: Path) -> None:
    """Committed, then the process died before enqueueing: the sweeper delivers it."""
    received, port = sink
    async with platform_with(await new_database(), data_dir, port) as platform:
        message_id = await queue_email(platform)  # never enqueued
        await wait_for(lambda: len(received.messages) >= 1)
        await asyncio.sleep(2.5)
        assert len(received.messages) == 1
        assert (await row(platform, message_id)).status == OutboxStatus.SENT.value


async def test_jobs_survive_a_restart(sink: tuple[Sink, int], new_database: NewDb,
                                      data_dir: Path) -> None:
    received, port = sink
    url = await new_database()
    async with platform_with(url, data_dir, port, worker=False) as first:
        message_id = await queue_email(first)
        await first.background.queue.enqueue_email(message_id)
        await asyncio.sleep(0.5)
        assert received.messages == []  # no worker ran
    async with platform_with(url, data_dir, port) as second:
        await wait_for(lambda: len(received.messages) >= 1)
        await asyncio.sleep(1.5)
        assert len(received.messages) == 1
        assert (await row(second, message_id)).status == OutboxStatus.SENT.value


async def test_transient_failure_is_retried_with_backoff(sink: tuple[Sink, int],
                                                         new_database: NewDb,
                                                         data_dir: Path) -> None:
    received, port = sink
    received.temporary_failures = 1  # the server answers 451 once, then accepts
    async with platform_with(await new_database(), data_dir, port) as platform:
        message_id = await queue_email(platform)
        await platform.background.queue.enqueue_email(message_id)
        await wait_for(lambda: len(received.messages) >= 1, within=20)
        await asyncio.sleep(1.5)
        stored = await row(platform, message_id)
        assert stored.status == OutboxStatus.SENT.value
        assert stored.attempts == 2  # one temporary failure, one success
        assert len(received.messages) == 1


async def test_server_down_is_a_transient_failure(new_database: NewDb, data_dir: Path) -> None:
    port = free_port()  # nothing listens: connection refused, recorded and retried later
    async with platform_with(await new_database(), data_dir, port) as platform:
        message_id = await queue_email(platform)
        await platform.background.queue.enqueue_email(message_id)
        deadline = time.monotonic() + 10
        while (await row(platform, message_id)).attempts < 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        first = await row(platform, message_id)
        assert first.last_error and "SMTP unavailable" in first.last_error
        assert first.status == OutboxStatus.PENDING.value  # 3 attempts allowed: retried later


async def test_refused_recipient_fails_permanently(sink: tuple[Sink, int], new_database: NewDb,
                                                   data_dir: Path) -> None:
    received, port = sink
    received.refuse.add("gone@example.com")
    async with platform_with(await new_database(), data_dir, port) as platform:
        message_id = await queue_email(platform, to="gone@example.com")
        await platform.background.queue.enqueue_email(message_id)
        deadline = time.monotonic() + 10
        while (await row(platform, message_id)).status != OutboxStatus.FAILED.value:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # no retry, no sweep of a failed message
        stored = await row(platform, message_id)
        assert stored.attempts == 1
        assert stored.last_error and "refused" in stored.last_error
        assert received.messages == []
