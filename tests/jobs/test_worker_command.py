"""`interview-platform worker` as its own process: it shares the database with the server and
delivers what the server left in the outbox."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg

from tests.jobs.test_outbox_delivery import sink  # noqa: F401  (fixture)
from tests.providers.test_email import Sink
from tests.test_process import CLI, _env, running_server


@asynccontextmanager
async def worker_process(env: dict[str, str]) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(*CLI, "worker", env=env,
                                                stdout=asyncio.subprocess.PIPE,
                                                stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        assert b"worker ready: email via smtp" in line, line
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), timeout=30)
    assert proc.returncode == 0, (await proc.stderr.read()).decode() if proc.stderr else ""


async def connect(data_dir: Path) -> asyncpg.Connection:
    """Straight to the embedded PostgreSQL the server started (postmaster.pid: port, socket)."""
    lines = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()
    return await asyncpg.connect(host=lines[4], port=int(lines[3]), user="postgres",
                                 database="interview_platform")


async def test_worker_process_delivers_what_the_server_queued(
        sink: tuple[Sink, int], data_dir: Path) -> None:  # noqa: F811
    received, smtp_port = sink
    data = data_dir / "var"
    env = _env(data, 0, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_STARTTLS="false",
               WORKER_IN_PROCESS="false", OUTBOX_SWEEP_SECONDS="1",
               OUTBOX_SWEEP_AFTER_SECONDS="0")
    async with running_server(env):
        conn = await connect(data)
        try:
            message_id = await conn.fetchval(
                "INSERT INTO email_outbox (kind, to_address, language, subject, text_body, "
                "html_body) VALUES ('invitation', 'c@example.com', 'en', 'Hi', 'Hi', '<p>Hi</p>') "
                "RETURNING id")
            await asyncio.sleep(1.5)
            assert received.messages == []  # the server runs no worker
            async with worker_process(env):
                deadline = time.monotonic() + 20
                while not received.messages:
                    assert time.monotonic() < deadline, "not delivered"
                    await asyncio.sleep(0.1)
                await asyncio.sleep(1.5)
            assert len(received.messages) == 1
            assert received.messages[0]["Message-ID"] == f"<{message_id}@interview-platform>"
            status = await conn.fetchval("SELECT status FROM email_outbox WHERE id = $1",
                                         message_id)
            assert status == "sent"
        finally:
            await conn.close()
