"""InterviewPlatformClient: a small async client over grpc.aio."""

from __future__ import annotations

from types import TracebackType
from typing import Self, TypeVar

import grpc
from google.protobuf.message import Message
from grpc import aio
from interviewplatform.v1 import (
    audit_service_pb2_grpc,
    auth_service_pb2_grpc,
    candidate_service_pb2_grpc,
    company_service_pb2_grpc,
    department_service_pb2_grpc,
    evaluation_service_pb2_grpc,
    interview_service_pb2_grpc,
    job_service_pb2_grpc,
    resume_service_pb2_grpc,
    speech_service_pb2_grpc,
    system_service_pb2_grpc,
    user_service_pb2_grpc,
)
from interviewplatform.v1 import auth_service_pb2 as auth_pb
from interviewplatform.v1 import system_service_pb2 as system_pb

from interview_platform_client.errors import Unauthenticated, error_from_rpc

Req = TypeVar("Req", bound=Message)
Resp = TypeVar("Resp", bound=Message)

DEFAULT_TIMEOUT_SECONDS = 10.0


class InterviewPlatformClient:
    """Async client for the platform's gRPC API.

    ``target`` is "host:port" of Envoy (e.g. "localhost:8080") or of the server itself
    (e.g. "localhost:50051"). Use it as an async context manager, or call ``close()``.
    After ``login()`` the client keeps the token pair and sends
    ``authorization: Bearer <access token>`` on every call; ``refresh()`` and ``logout()``
    use the stored refresh token. Failed calls raise ``PlatformError`` subclasses.
    """

    def __init__(self, target: str, *, secure: bool = False,
                 credentials: grpc.ChannelCredentials | None = None,
                 token: str | None = None,
                 timeout: float | None = DEFAULT_TIMEOUT_SECONDS) -> None:
        self.target = target
        self.token = token  # access token sent as the bearer
        self.refresh_token: str | None = None
        # Deadline of each call, in seconds (None: no deadline). For one call, set a tighter
        # bound with ``async with asyncio.timeout(...)``.
        self.timeout = timeout
        if credentials is not None or secure:
            self._channel = aio.secure_channel(
                target, credentials or grpc.ssl_channel_credentials())
        else:
            self._channel = aio.insecure_channel(target)
        self._auth = auth_service_pb2_grpc.AuthServiceStub(self._channel)
        self._system = system_service_pb2_grpc.SystemServiceStub(self._channel)
        # Typed stubs of every service, for ``call()``.
        self.companies = company_service_pb2_grpc.CompanyServiceStub(self._channel)
        self.departments = department_service_pb2_grpc.DepartmentServiceStub(self._channel)
        self.users = user_service_pb2_grpc.UserServiceStub(self._channel)
        self.jobs = job_service_pb2_grpc.JobServiceStub(self._channel)
        self.interviews = interview_service_pb2_grpc.InterviewServiceStub(self._channel)
        # For a candidate: construct the client with token=<the link token>.
        self.candidate = candidate_service_pb2_grpc.CandidateServiceStub(self._channel)
        self.audit = audit_service_pb2_grpc.AuditServiceStub(self._channel)
        self.evaluations = evaluation_service_pb2_grpc.EvaluationServiceStub(self._channel)
        self.resumes = resume_service_pb2_grpc.ResumeServiceStub(self._channel)
        # Candidates (link token): spoken answers (StreamAnswer is bidi: use the stub directly).
        self.speech = speech_service_pb2_grpc.SpeechServiceStub(self._channel)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self, grace: float | None = None) -> None:
        await self._channel.close(grace)

    def _metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.token}"),) if self.token else ()

    async def call(self, method: aio.UnaryUnaryMultiCallable[Req, Resp], request: Req) -> Resp:
        """Call any RPC of the typed stubs with the bearer token and the default deadline;
        failures raise PlatformError subclasses. Example:
        ``await client.call(client.companies.GetCompany, GetCompanyRequest(id=...))``."""
        try:
            return await method(request, timeout=self.timeout, metadata=self._metadata())
        except aio.AioRpcError as exc:
            raise error_from_rpc(exc) from exc

    def _stored_refresh_token(self, refresh_token: str | None) -> str:
        token = refresh_token or self.refresh_token
        if not token:
            raise Unauthenticated(grpc.StatusCode.UNAUTHENTICATED,
                                  "no refresh token: call login() first")
        return token

    def _store(self, tokens: auth_pb.TokenPair) -> None:
        self.token = tokens.access_token
        self.refresh_token = tokens.refresh_token

    async def login(self, email: str, password: str) -> auth_pb.LoginResponse:
        """Sign in; stores the access and refresh tokens on the client."""
        response = await self.call(self._auth.Login,
                                    auth_pb.LoginRequest(email=email, password=password))
        self._store(response.tokens)
        return response

    async def refresh(self, refresh_token: str | None = None) -> auth_pb.RefreshResponse:
        """Rotate the token pair (the stored refresh token unless one is given)."""
        request = auth_pb.RefreshRequest(refresh_token=self._stored_refresh_token(refresh_token))
        response = await self.call(self._auth.Refresh, request)
        self._store(response.tokens)
        return response

    async def logout(self, refresh_token: str | None = None) -> auth_pb.LogoutResponse:
        """Revoke the session on the server and forget the stored tokens."""
        request = auth_pb.LogoutRequest(refresh_token=self._stored_refresh_token(refresh_token))
        response = await self.call(self._auth.Logout, request)
        if refresh_token is None or refresh_token == self.refresh_token:
            self.token = self.refresh_token = None
        return response

    async def me(self) -> auth_pb.GetMeResponse:
        """The identity carried by the access token."""
        return await self.call(self._auth.GetMe, auth_pb.GetMeRequest())

    async def health(self) -> system_pb.GetHealthResponse:
        """Platform health; raises Unavailable when a required component is down."""
        return await self.call(self._system.GetHealth, system_pb.GetHealthRequest())
