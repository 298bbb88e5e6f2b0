"""Interview timers on the job queue: one reminder before the start (in the candidate's
language, with a working link token), and expiry through the state machine when the window
ends."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from grpc import aio
from interviewplatform.v1 import interview_pb2

from server.app import Platform, start_platform
from tests.api.test_interviews import get, outbox, sha, tokens
from tests.factories import Api, Tenant, make_tenant
from tests.helpers import fast_settings

ROOT_EMAIL, ROOT_PASSWORD = "timers-root@example.com", "lantern orchard 77 quietly"


@pytest.fixture
async def timed(new_database: Callable[[], Awaitable[str]], data_dir: Path
                ) -> AsyncIterator[tuple[Platform, Api, Tenant]]:
    settings = fast_settings(data_dir=data_dir, interview_timer_seconds=1,
                             reminder_lead_minutes=60, bootstrap_admin_email=ROOT_EMAIL,
                             bootstrap_admin_password=ROOT_PASSWORD)
    platform = await start_platform(settings, await new_database())
    try:
        async with aio.insecure_channel(f"127.0.0.1:{platform.port}") as channel:
            api = Api(channel)
            tenant = await make_tenant(api, await api.token(ROOT_EMAIL, ROOT_PASSWORD))
            yield platform, api, tenant
    finally:
        await platform.stop(grace=0)


async def until(check: Callable[[], Awaitable[bool]], within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not await check():
        assert time.monotonic() < deadline, "not in time"
        await asyncio.sleep(0.2)


async def test_one_reminder_in_the_candidates_language(
        timed: tuple[Platform, Api, Tenant]) -> None:
    platform, api, tenant = timed
    token = tenant.admin.token
    job = await api.job_with_questions(token, tenant.departments[0].id)
    soon = await api.interview(token, job.id, language="de",
                               start=datetime.now(UTC) + timedelta(minutes=30))
    later = await api.interview(token, job.id,
                                start=datetime.now(UTC) + timedelta(hours=5))

    async def reminded() -> bool:
        return any(r.kind == "reminder" for r in await outbox(platform, soon.id))

    await until(reminded)
    await asyncio.sleep(2.5)  # more timer runs: still one reminder
    rows = await outbox(platform, soon.id)
    reminders = [r for r in rows if r.kind == "reminder"]
    assert len(reminders) == 1
    assert reminders[0].subject.startswith("Erinnerung")
    # The reminder's link token is a new, live token of this interview.
    hashes = {t.token_hash for t in await tokens(platform, soon.id) if t.revoked_at is None}
    link = reminders[0].text_body.split("token=")[1].split()[0]
    assert sha(link) in hashes
    assert not any(r.kind == "reminder" for r in await outbox(platform, later.id))


async def test_interviews_expire_when_their_window_ends(
        timed: tuple[Platform, Api, Tenant]) -> None:
    platform, api, tenant = timed
    token = tenant.admin.token
    job = await api.job_with_questions(token, tenant.departments[0].id)
    now = datetime.now(UTC)
    interview = await api.interview(token, job.id, start=now + timedelta(seconds=1),
                                    end=now + timedelta(seconds=3))

    async def expired() -> bool:
        found = await get(api, token, interview.id)
        return found.status == interview_pb2.INTERVIEW_STATUS_EXPIRED

    await until(expired)
    assert all(t.revoked_at is not None for t in await tokens(platform, interview.id))
