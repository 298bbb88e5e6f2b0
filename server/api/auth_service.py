"""AuthService: proto -> use-case -> proto."""

from __future__ import annotations

from typing import Any

from grpc import aio
from interviewplatform.v1 import auth_service_pb2 as pb
from interviewplatform.v1 import auth_service_pb2_grpc

from server.api import convert
from server.context import caller, current_principal
from server.domain.auth import AuthUseCases

Ctx = aio.ServicerContext[Any, Any]


class AuthService(auth_service_pb2_grpc.AuthServiceServicer):
    def __init__(self, auth: AuthUseCases) -> None:
        self._auth = auth

    async def Login(self, request: pb.LoginRequest, context: Ctx) -> pb.LoginResponse:
        result = await self._auth.login(caller(), request.email, request.password)
        return pb.LoginResponse(tokens=convert.token_pair(result.tokens),
                                user=convert.user(result.user))

    async def Refresh(self, request: pb.RefreshRequest, context: Ctx) -> pb.RefreshResponse:
        tokens = await self._auth.refresh(caller(), request.refresh_token)
        return pb.RefreshResponse(tokens=convert.token_pair(tokens))

    async def Logout(self, request: pb.LogoutRequest, context: Ctx) -> pb.LogoutResponse:
        await self._auth.logout(caller(), request.refresh_token)
        return pb.LogoutResponse()

    async def GetMe(self, request: pb.GetMeRequest, context: Ctx) -> pb.GetMeResponse:
        p = current_principal()
        return pb.GetMeResponse(
            user_id=str(p.user_id), email=p.email, role=convert.ROLE_TO_PROTO[p.role],
            company_id=convert.id_str(p.company_id),
            department_id=convert.id_str(p.department_id),
            expire_time=convert.timestamp(p.expires_at),
        )

    async def ChangePassword(self, request: pb.ChangePasswordRequest,
                             context: Ctx) -> pb.ChangePasswordResponse:
        await self._auth.change_password(caller(), request.current_password,
                                         request.new_password)
        return pb.ChangePasswordResponse()

    async def ResetPassword(self, request: pb.ResetPasswordRequest,
                            context: Ctx) -> pb.ResetPasswordResponse:
        await self._auth.reset_password(caller(), request.reset_token, request.new_password)
        return pb.ResetPasswordResponse()
