"""The procrastinate application: tasks, the outbox sweeper, and helpers to enqueue."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Protocol
from uuid import UUID

import procrastinate
import structlog
from procrastinate.exceptions import AlreadyEnqueued

from server.jobs.email import EmailDelivery
from server.jobs.maintenance import Maintenance


class InterviewTimers(Protocol):
    async def send_reminders(self, lead: timedelta) -> int: ...
    async def expire_overdue(self) -> int: ...


class Evaluations(Protocol):
    async def evaluate(self, interview_id: UUID) -> object: ...
    async def stale(self, older_than: timedelta) -> list[UUID]: ...


EMAIL_QUEUE = "email"
MAINTENANCE_QUEUE = "maintenance"
AI_QUEUE = "ai"
log = structlog.get_logger(__name__)


def conninfo_from(sqlalchemy_url: str) -> str:
    """libpq connection string for procrastinate (psycopg) from our SQLAlchemy URL."""
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


class JobQueue:
    """Owns the procrastinate App and the tasks registered on it."""

    def __init__(self, conninfo: str, delivery: EmailDelivery, *, max_attempts: int,
                 sweep_every_seconds: int = 10, sweep_after: timedelta = timedelta(seconds=5),
                 maintenance: Maintenance | None = None) -> None:
        self.delivery = delivery
        self.app = procrastinate.App(
            connector=procrastinate.PsycopgConnector(conninfo=conninfo, min_size=1,
                                                     max_size=4))
        retry = procrastinate.RetryStrategy(max_attempts=max_attempts, exponential_wait=2,
                                            retry_exceptions={Exception})

        @self.app.task(name="deliver_email", queue=EMAIL_QUEUE, retry=retry)
        async def deliver_email(message_id: str) -> None:
            await delivery.deliver(UUID(message_id))

        @self.app.periodic(cron=f"* * * * * */{sweep_every_seconds}", periodic_id="outbox")
        @self.app.task(name="sweep_outbox", queue=EMAIL_QUEUE)
        async def sweep_outbox(timestamp: int) -> None:
            # A commit followed by a crash before the job was enqueued leaves a message
            # pending with no job: pick those up.
            for message_id in await delivery.stale(sweep_after):
                await self.enqueue_email(message_id)

        self._deliver = deliver_email

        if maintenance is not None:
            @self.app.periodic(cron="17 * * * *", periodic_id="hourly")
            @self.app.task(name="purge_expired", queue=MAINTENANCE_QUEUE)
            async def purge_expired(timestamp: int) -> None:
                removed = await maintenance.purge()
                log.info("purged expired rows", **removed)

    def add_interview_timers(self, interviews: InterviewTimers, *, reminder_lead: timedelta,
                             every_seconds: int) -> None:
        """Reminders before interviews start, and expiry when their window has ended."""

        @self.app.periodic(cron=f"* * * * * */{every_seconds}", periodic_id="interviews")
        @self.app.task(name="interview_timers", queue=MAINTENANCE_QUEUE)
        async def interview_timers(timestamp: int) -> None:
            reminded = await interviews.send_reminders(reminder_lead)
            expired = await interviews.expire_overdue()
            if reminded or expired:
                log.info("interview timers", reminded=reminded, expired=expired)

    def add_evaluations(self, evaluations: Evaluations, *, max_attempts: int,
                        sweep_every_seconds: int, sweep_after: timedelta) -> None:
        """The evaluation job (retried with backoff) and a sweeper for lost enqueues and for
        evaluations a crashed worker left running."""
        retry = procrastinate.RetryStrategy(max_attempts=max_attempts, exponential_wait=2,
                                            retry_exceptions={Exception})

        @self.app.task(name="evaluate_interview", queue=AI_QUEUE, retry=retry)
        async def evaluate_interview(interview_id: str) -> None:
            await evaluations.evaluate(UUID(interview_id))

        @self.app.periodic(cron=f"* * * * * */{sweep_every_seconds}", periodic_id="evaluations")
        @self.app.task(name="sweep_evaluations", queue=AI_QUEUE)
        async def sweep_evaluations(timestamp: int) -> None:
            for interview_id in await evaluations.stale(sweep_after):
                await self.enqueue_evaluation(interview_id)

        self._evaluate = evaluate_interview

    async def enqueue_evaluation(self, interview_id: UUID) -> None:
        """Queue the evaluation of one interview (at most one queued job per interview)."""
        with contextlib.suppress(AlreadyEnqueued):
            await self._evaluate.configure(
                queueing_lock=f"evaluation:{interview_id}").defer_async(
                    interview_id=str(interview_id))

    async def enqueue_email(self, message_id: UUID) -> None:
        """Queue delivery of one outbox message (at most one queued job per message)."""
        with contextlib.suppress(AlreadyEnqueued):
            await self._deliver.configure(
                queueing_lock=f"email:{message_id}").defer_async(message_id=str(message_id))

    async def run_worker(self, *, concurrency: int = 2) -> None:
        await self.app.run_worker_async(queues=[EMAIL_QUEUE, MAINTENANCE_QUEUE, AI_QUEUE],
                                        concurrency=concurrency,
                                        install_signal_handlers=False, wait=True,
                                        name="interview-platform")
