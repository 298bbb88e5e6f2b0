"""JWT authentication. Public methods are listed explicitly; every other call needs a valid
bearer token, and the principal is put in a ContextVar for the handlers."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from grpc import aio

from server.context import candidate_token_var, principal_var
from server.domain.errors import Unauthenticated
from server.domain.ports import SessionChecker, TokenService

PUBLIC_METHODS: frozenset[str] = frozenset({
    "/interviewplatform.v1.AuthService/Login",
    "/interviewplatform.v1.AuthService/Refresh",
    "/interviewplatform.v1.AuthService/Logout",
    "/interviewplatform.v1.AuthService/ResetPassword",
    "/interviewplatform.v1.SystemService/GetHealth",
    "/grpc.health.v1.Health/Check",
    "/grpc.health.v1.Health/Watch",
    "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
    "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
})

# Candidate methods take the candidate's link token as the bearer token instead of a staff JWT:
# it is handed to the use-case (server/domain/candidate.py), which checks it against
# candidate_tokens. A staff JWT is no candidate token, and a candidate token no staff JWT.
CANDIDATE_METHODS: frozenset[str] = frozenset((
    *(f"/interviewplatform.v1.CandidateService/{name}" for name in (
        "GetPublicInterview", "StartInterview", "GetNextQuestion", "SubmitAnswer",
        "CompleteInterview", "RunCode")),
    *(f"/interviewplatform.v1.SpeechService/{name}" for name in (
        "StreamAnswer", "UploadAnswerAudio", "SpeakQuestion"))))

BEARER = "bearer "


def bearer_token(context: aio.ServicerContext[Any, Any]) -> str | None:
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str):
            if value[: len(BEARER)].lower() == BEARER:
                return value[len(BEARER):].strip()
            raise Unauthenticated("authorization header must be 'Bearer <token>'",
                                  reason="TOKEN_MALFORMED")
    return None


class Authenticator:
    def __init__(self, tokens: TokenService, public_methods: frozenset[str] = PUBLIC_METHODS,
                 sessions: SessionChecker | None = None):
        self._tokens = tokens
        self._public = public_methods
        self._sessions = sessions

    def authenticate(self, method_name: str, context: aio.ServicerContext[Any, Any]
                     ) -> Awaitable[None] | None:
        """Set the principal. Returns the session check to await when the cached answer is
        stale, None otherwise: the common path creates no coroutine."""
        if method_name in self._public:
            return None
        token = bearer_token(context)
        if not token:
            raise Unauthenticated("missing bearer token", reason="TOKEN_MISSING")
        if method_name in CANDIDATE_METHODS:
            principal_var.set(None)
            candidate_token_var.set(token)
            return None
        principal = self._tokens.verify_access(token)
        principal_var.set(principal)
        if self._sessions is not None and not self._sessions.check_cached(principal):
            return self._sessions.check(principal)
        return None
