"""The background-work side of the platform: email delivery on the procrastinate queue, run
inside the server (WORKER_IN_PROCESS) and/or as `interview-platform worker` processes."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog

from server.domain.ai_gateway import AIGateway
from server.domain.evaluations import Evaluator
from server.domain.interviews import InterviewUseCases
from server.domain.ports import UowFactory
from server.jobs.email import EmailDelivery
from server.jobs.maintenance import Maintenance
from server.jobs.queue import JobQueue, conninfo_from
from server.providers.ai.local import LocalProvider
from server.providers.documents import DocumentReader
from server.providers.email.base import Mailer
from server.providers.email.maildir import MaildirMailer
from server.providers.email.smtp import SmtpMailer
from server.providers.sandbox.base import SandboxLimits
from server.providers.sandbox.bwrap import BubblewrapRunner
from server.settings import ConfigurationError, Settings
from server.storage.db import Database
from server.storage.repositories import SqlUnitOfWork

log = structlog.get_logger(__name__)


def make_mailer(settings: Settings) -> Mailer:
    """SMTP when SMTP_HOST is set; otherwise the local maildir under DATA_DIR."""
    if settings.smtp_host:
        return SmtpMailer(
            host=settings.smtp_host, port=settings.smtp_port, username=settings.smtp_username,
            password=(settings.smtp_password.get_secret_value()
                      if settings.smtp_password else None),
            use_tls=settings.smtp_tls, start_tls=settings.smtp_starttls and not settings.smtp_tls,
            timeout=settings.smtp_timeout_seconds)
    return MaildirMailer(settings.data_dir / "maildir")


def describe_mailer(settings: Settings) -> str:
    if settings.smtp_host:
        return f"smtp {settings.smtp_host}:{settings.smtp_port}"
    return f"maildir {settings.data_dir / 'maildir'}"


class _Clock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def make_gateway(settings: Settings) -> AIGateway:
    """Gemini when AI_PROVIDER=gemini, or auto with GEMINI_API_KEY; the local provider always
    (default, and the fallback)."""
    local = LocalProvider()
    key = settings.gemini_api_key.get_secret_value() if settings.gemini_api_key else ""
    wanted = settings.ai_provider
    if wanted == "gemini" and not key:
        raise ConfigurationError("AI_PROVIDER=gemini needs GEMINI_API_KEY")
    if wanted == "local" or not key:
        return AIGateway(None, local)
    # Imported only when used: google-genai costs ~28 MB of memory in every process.
    from server.providers.ai.gemini import GeminiProvider

    return AIGateway(GeminiProvider(
        key, settings.gemini_model, settings.gemini_base_url, settings.gemini_timeout_seconds,
        settings.gemini_max_concurrency, settings.gemini_max_attempts), local)


def make_runner(settings: Settings) -> BubblewrapRunner:
    return BubblewrapRunner(SandboxLimits(
        wall_seconds=settings.sandbox_wall_seconds, cpu_seconds=settings.sandbox_cpu_seconds,
        memory_mb=settings.sandbox_memory_mb, max_processes=settings.sandbox_max_processes,
        output_bytes=settings.sandbox_output_bytes, concurrency=settings.sandbox_concurrency))


@dataclass
class Background:
    queue: JobQueue
    gateway: AIGateway
    runner: BubblewrapRunner
    worker: asyncio.Task[None] | None = field(default=None)

    async def stop(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.worker
        await self.queue.app.connector.close_async()
        await self.gateway.aclose()


async def start_background(settings: Settings, database_url: str, uow: UowFactory, *,
                           run_worker: bool, maintenance: Maintenance | None = None
                           ) -> Background:
    delivery = EmailDelivery(uow=uow, mailer=make_mailer(settings), sender=settings.email_from,
                             max_attempts=settings.email_max_attempts)
    queue = JobQueue(conninfo_from(database_url), delivery,
                     max_attempts=settings.email_max_attempts,
                     sweep_every_seconds=settings.outbox_sweep_seconds,
                     sweep_after=timedelta(seconds=settings.outbox_sweep_after_seconds),
                     maintenance=maintenance)
    queue.add_interview_timers(
        InterviewUseCases(uow, DocumentReader(), _Clock(),
                          public_base_url=settings.public_base_url, kick=queue.enqueue_email),
        reminder_lead=timedelta(minutes=settings.reminder_lead_minutes),
        every_seconds=settings.interview_timer_seconds)
    gateway = make_gateway(settings)
    runner = make_runner(settings)
    queue.add_evaluations(
        Evaluator(uow, gateway, runner, _Clock(), stability_runs=settings.ai_stability_runs,
                  max_spread=settings.ai_stability_max_spread,
                  max_attempts=settings.evaluation_max_attempts),
        max_attempts=settings.evaluation_max_attempts,
        sweep_every_seconds=settings.outbox_sweep_seconds,
        sweep_after=timedelta(seconds=settings.outbox_sweep_after_seconds))
    await queue.app.open_async()
    background = Background(queue=queue, gateway=gateway, runner=runner)
    if run_worker:
        background.worker = asyncio.create_task(
            queue.run_worker(concurrency=settings.worker_concurrency))
    return background


async def run_worker_process(settings: Settings, database_url: str) -> None:
    """`interview-platform worker`: only the queue worker, until SIGTERM/SIGINT."""
    db = Database(database_url, pool_size=settings.db_pool_size,
                  max_overflow=settings.db_max_overflow)
    await db.migrate()

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(db.sessions)

    background = await start_background(
        settings, database_url, uow, run_worker=True,
        maintenance=Maintenance(db.engine, settings.ai_decision_retention_days))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"interview-platform worker ready: email via {describe_mailer(settings)}, "
          f"AI via {background.gateway.active.name}", flush=True)
    assert background.worker is not None
    await asyncio.wait({background.worker, asyncio.create_task(stop.wait())},
                       return_when=asyncio.FIRST_COMPLETED)
    log.info("worker stopping")
    await background.stop()
    await db.close()
