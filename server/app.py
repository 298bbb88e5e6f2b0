"""Assemble and run the gRPC server."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib.metadata
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from grpc import aio
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection
from interviewplatform.v1 import (
    audit_service_pb2,
    audit_service_pb2_grpc,
    auth_service_pb2,
    auth_service_pb2_grpc,
    candidate_service_pb2,
    candidate_service_pb2_grpc,
    company_service_pb2,
    company_service_pb2_grpc,
    department_service_pb2,
    department_service_pb2_grpc,
    evaluation_service_pb2,
    evaluation_service_pb2_grpc,
    interview_service_pb2,
    interview_service_pb2_grpc,
    job_service_pb2,
    job_service_pb2_grpc,
    resume_service_pb2,
    resume_service_pb2_grpc,
    speech_service_pb2,
    speech_service_pb2_grpc,
    system_service_pb2,
    system_service_pb2_grpc,
    user_service_pb2,
    user_service_pb2_grpc,
)

from server import context
from server.api.auth_service import AuthService
from server.api.candidate_service import CandidateService
from server.api.company_service import CompanyService, DepartmentService
from server.api.evaluation_service import EvaluationService
from server.api.interview_service import InterviewService
from server.api.job_service import JobService
from server.api.resume_service import ResumeService
from server.api.speech_service import SpeechService
from server.api.system_service import SystemService
from server.api.user_service import AuditService, UserService
from server.bootstrap import bootstrap_admin
from server.domain.adaptive import AdaptiveQuestionProvider
from server.domain.audit_log import AuditLogUseCases
from server.domain.auth import AuthUseCases, ThrottlePolicy
from server.domain.candidate import CandidateUseCases, StaffAnswerReads
from server.domain.directory import DirectoryUseCases
from server.domain.evaluations import EvaluationUseCases
from server.domain.generation import QuestionGeneration
from server.domain.interviews import InterviewUseCases
from server.domain.jobs import JobUseCases
from server.domain.ports import UowFactory
from server.domain.resumes import ResumeUseCases
from server.domain.spoken_answers import SpeechLimits, SpokenAnswers
from server.domain.users import UserUseCases
from server.interceptors.chain import build_chain
from server.jobs.maintenance import Maintenance
from server.providers.documents import DocumentReader
from server.providers.resume.matcher import ResumeMatcher
from server.providers.resume.workers import PooledResumeReader
from server.providers.speech.factory import aclose_provider
from server.providers.speech.factory import layered as speech_providers
from server.security.passwords import Argon2PasswordHasher
from server.security.session_guard import SessionGuard
from server.security.tokens import JwtTokenService
from server.settings import Settings
from server.storage.db import Database
from server.storage.embedded import EmbeddedPostgres
from server.storage.repositories import SqlUnitOfWork
from server.worker import Background, describe_mailer, start_background

log = structlog.get_logger(__name__)

SERVICE_NAMES = tuple(
    service.full_name
    for module in (auth_service_pb2, system_service_pb2, company_service_pb2,
                   department_service_pb2, user_service_pb2, audit_service_pb2,
                   job_service_pb2, interview_service_pb2, candidate_service_pb2,
                   evaluation_service_pb2, resume_service_pb2, speech_service_pb2)
    for service in module.DESCRIPTOR.services_by_name.values()
)


SANDBOX_HEALTH_TTL = 30.0


def version() -> str:
    try:
        return importlib.metadata.version("interview-platform")
    except importlib.metadata.PackageNotFoundError:
        return "0.0.0+unknown"


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class Platform:
    """Everything one server process holds."""

    settings: Settings
    db: Database
    server: aio.Server
    port: int
    health: HealthServicer = field(repr=False)
    tokens: JwtTokenService = field(repr=False)
    background: Background = field(repr=False)
    # Released on stop, after the server: resume worker processes, speech providers.
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list, repr=False)

    async def stop(self, grace: float | None = None) -> None:
        grace = self.settings.shutdown_grace_seconds if grace is None else grace
        for name in ("", *SERVICE_NAMES):
            await self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        await self.server.stop(grace)
        for close in self.closers:
            await close()
        await self.background.stop()
        await self.db.close()


def resolve_database(settings: Settings) -> tuple[str, EmbeddedPostgres | None]:
    """DATABASE_URL when set; otherwise start the embedded PostgreSQL under DATA_DIR."""
    if settings.database_url is not None:
        return settings.database_url.get_secret_value(), None
    embedded = EmbeddedPostgres(settings.data_dir)
    return embedded.start(), embedded


def add_resume_service(server: aio.Server, settings: Settings, uow: UowFactory,
                       closers: list[Callable[[], Awaitable[None]]]
                       ) -> tuple[ResumeUseCases, Callable[[], Awaitable[str]]]:
    """ResumeService on the server; its use-cases (scheduling matches resumes too) and the
    health probe of its OCR engine. The reader's worker processes stop with the platform."""
    # Worker processes: pdfium is not thread-safe, and pdfminer holds the GIL.
    reader = PooledResumeReader(max_pages=settings.resume_max_pages,
                                max_chars=settings.resume_max_chars,
                                ocr_languages=settings.ocr_languages)

    async def probe() -> str:
        ok, detail = await reader.health()  # tesseract and its language packs
        if not ok:
            raise RuntimeError(detail)
        return detail

    async def close() -> None:
        await asyncio.to_thread(reader.close)

    closers.append(close)
    resumes = ResumeUseCases(uow, reader, ResumeMatcher())
    resume_service_pb2_grpc.add_ResumeServiceServicer_to_server(ResumeService(resumes), server)
    return resumes, probe


def add_speech_service(server: aio.Server, settings: Settings, candidates: CandidateUseCases,
                       closers: list[Callable[[], Awaitable[None]]]
                       ) -> Callable[[], Awaitable[str]]:
    """SpeechService with its providers (built once, shared by every call; closed with the
    platform); returns the health probe naming the active speech-to-text and text-to-speech."""
    stt, tts = speech_providers(settings)
    closers.extend((lambda: aclose_provider(stt), lambda: aclose_provider(tts)))
    speech_service_pb2_grpc.add_SpeechServiceServicer_to_server(SpeechService(SpokenAnswers(
        candidates, stt, tts, SpeechLimits(
            max_seconds=settings.speech_max_seconds, max_bytes=settings.speech_max_bytes,
            keep_bytes=settings.answer_audio_keep_bytes,
            tts_cache_entries=settings.tts_cache_entries))), server)

    async def probe() -> str:
        (stt_ok, stt_detail), (tts_ok, tts_detail) = await asyncio.gather(stt.health(),
                                                                          tts.health())
        detail = f"stt {stt.name}: {stt_detail}; tts {tts.name}: {tts_detail}"
        if not (stt_ok and tts_ok):
            raise RuntimeError(detail)
        return detail

    return probe


def checked(probe: Callable[[], Awaitable[tuple[bool, str]]],
            ttl: float = 0.0) -> Callable[[], Awaitable[str]]:
    """A health probe from a provider's health(): raises when it is down; with `ttl`, a result
    is reused that long (for probes that do real work, like a sandboxed run)."""
    seen: list[tuple[float, bool, str]] = []

    async def run() -> str:
        if not seen or time.monotonic() - seen[0][0] > ttl:
            ok, detail = await probe()
            seen[:] = [(time.monotonic(), ok, detail)]
        _, ok, detail = seen[0]
        if not ok:
            raise RuntimeError(detail)
        return detail

    return run


async def start_platform(settings: Settings, database_url: str) -> Platform:
    secret = settings.resolve_secret_key()
    db = Database(database_url, pool_size=settings.db_pool_size,
                  max_overflow=settings.db_max_overflow)
    await db.migrate()

    hasher = Argon2PasswordHasher(time_cost=settings.argon2_time_cost,
                                  memory_cost_kib=settings.argon2_memory_cost_kib,
                                  parallelism=settings.argon2_parallelism)
    tokens = JwtTokenService(secret=secret, issuer=settings.jwt_issuer,
                             audience=settings.jwt_audience,
                             access_ttl=timedelta(minutes=settings.access_token_expire_minutes))

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(db.sessions)

    await bootstrap_admin(settings, uow, hasher)
    clock = SystemClock()
    throttle = ThrottlePolicy(
        account_failures=settings.login_max_failures,
        address_failures=settings.login_max_failures_per_address,
        base_lockout=timedelta(seconds=settings.login_lockout_seconds),
        max_lockout=timedelta(seconds=settings.login_lockout_max_seconds),
        window=timedelta(seconds=settings.login_failure_window_seconds))
    auth = AuthUseCases(uow=uow, hasher=hasher, tokens=tokens, clock=clock,
                        refresh_ttl=timedelta(days=settings.refresh_token_expire_days),
                        throttle=throttle)
    directory = DirectoryUseCases(uow)
    users = UserUseCases(uow=uow, hasher=hasher, clock=clock)
    context.set_trusted_proxies(settings.trusted_proxies)

    async def database_probe() -> str:
        return f"postgresql {await db.ping()}"

    background = await start_background(settings, database_url, uow,
                                        run_worker=settings.worker_in_process,
                                        maintenance=Maintenance(
                                            db.engine, settings.ai_decision_retention_days))

    async def email_probe() -> str:
        return describe_mailer(settings)

    server = aio.server(
        interceptors=build_chain(
            tokens, sessions=SessionGuard(db.sessions, ttl=settings.session_check_seconds)),
        options=[("grpc.so_reuseport", 0), ("grpc.max_receive_message_length", 16 * 1024 * 1024)],
    )
    auth_service_pb2_grpc.add_AuthServiceServicer_to_server(AuthService(auth), server)
    company_service_pb2_grpc.add_CompanyServiceServicer_to_server(
        CompanyService(directory), server)
    department_service_pb2_grpc.add_DepartmentServiceServicer_to_server(
        DepartmentService(directory), server)
    user_service_pb2_grpc.add_UserServiceServicer_to_server(UserService(users), server)
    audit_service_pb2_grpc.add_AuditServiceServicer_to_server(
        AuditService(AuditLogUseCases(uow)), server)
    jobs = JobUseCases(uow, DocumentReader())
    gateway, runner = background.gateway, background.runner
    job_service_pb2_grpc.add_JobServiceServicer_to_server(
        JobService(jobs, QuestionGeneration(uow, jobs, gateway)), server)
    closers: list[Callable[[], Awaitable[None]]] = []
    resumes, resumes_probe = add_resume_service(server, settings, uow, closers)
    interview_service_pb2_grpc.add_InterviewServiceServicer_to_server(
        InterviewService(InterviewUseCases(uow, DocumentReader(), clock,
                                           public_base_url=settings.public_base_url,
                                           kick=background.queue.enqueue_email,
                                           resumes=resumes),
                         StaffAnswerReads(uow)), server)
    candidates = CandidateUseCases(uow, clock, AdaptiveQuestionProvider(gateway), runner,
                                   background.queue.enqueue_evaluation)
    candidate_service_pb2_grpc.add_CandidateServiceServicer_to_server(
        CandidateService(candidates), server)
    speech_probe = add_speech_service(server, settings, candidates, closers)
    evaluation_service_pb2_grpc.add_EvaluationServiceServicer_to_server(
        EvaluationService(EvaluationUseCases(uow, clock, background.queue.enqueue_evaluation)),
        server)

    system_service_pb2_grpc.add_SystemServiceServicer_to_server(
        SystemService(version(), {"database": (True, database_probe),
                                  "email": (False, email_probe),
                                  "ai": (False, checked(gateway.health)),
                                  # a real sandboxed run, at most every SANDBOX_HEALTH_TTL s
                                  "sandbox": (False, checked(runner.health,
                                                             SANDBOX_HEALTH_TTL)),
                                  "resumes": (False, resumes_probe),
                                  "speech": (False, speech_probe)}), server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    port = server.add_insecure_port(f"{settings.grpc_host}:{settings.grpc_port}")
    if port == 0:
        raise RuntimeError(f"cannot bind {settings.grpc_host}:{settings.grpc_port}")
    await server.start()
    for name in ("", *SERVICE_NAMES):
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    return Platform(settings=settings, db=db, server=server, port=port, health=health_servicer,
                    background=background, tokens=tokens, closers=closers)


async def serve(settings: Settings, database_url: str) -> None:
    platform = await start_platform(settings, database_url)
    # Everything imported and built at start-up lives as long as the process: move it out of
    # the garbage collector's generations, so that collections during requests do not walk
    # the providers' large import-time heaps again and again.
    gc.freeze()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    log.info("ready", grpc=f"{settings.grpc_host}:{platform.port}", version=version())
    print(f"interview-platform ready: grpc {settings.grpc_host}:{platform.port}", flush=True)
    waiter = asyncio.create_task(platform.server.wait_for_termination())
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({waiter, stopper}, return_when=asyncio.FIRST_COMPLETED)
    log.info("shutting down", grace_seconds=settings.shutdown_grace_seconds)
    await platform.stop()
    for task in (waiter, stopper):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    log.info("stopped")


