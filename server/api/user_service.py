"""UserService and AuditService: proto -> use-case -> proto."""

from __future__ import annotations

from typing import Any

from grpc import aio
from interviewplatform.v1 import audit_service_pb2 as apb
from interviewplatform.v1 import audit_service_pb2_grpc, user_service_pb2_grpc
from interviewplatform.v1 import user_service_pb2 as upb

from server.api import convert
from server.context import caller
from server.domain.audit_log import AuditLogUseCases
from server.domain.errors import InvalidArgument
from server.domain.models import EntityStatus, Role
from server.domain.users import UserUseCases

Ctx = aio.ServicerContext[Any, Any]


def _role(value: int) -> Role:
    role = convert.ROLE_FROM_PROTO.get(value)  # type: ignore[call-overload]
    if role is None:
        raise InvalidArgument("role is required", reason="ROLE_REQUIRED")
    assert isinstance(role, Role)
    return role


class UserService(user_service_pb2_grpc.UserServiceServicer):
    def __init__(self, users: UserUseCases) -> None:
        self._u = users

    async def CreateUser(self, request: upb.CreateUserRequest,
                         context: Ctx) -> upb.CreateUserResponse:
        u = request.user
        user = await self._u.create_user(
            caller(), email=u.email, full_name=u.full_name, role=_role(u.role),
            company_id=convert.opt_uuid(u.company_id),
            department_id=convert.opt_uuid(u.department_id), phone=u.phone,
            password=request.password, request_id=convert.opt_uuid(request.request_id),
            fingerprint=convert.fingerprint(request))
        return upb.CreateUserResponse(user=convert.user(user))

    async def GetUser(self, request: upb.GetUserRequest, context: Ctx) -> upb.GetUserResponse:
        user = await self._u.get_user(caller(), convert.req_uuid(request.id))
        return upb.GetUserResponse(user=convert.user(user))

    async def ListUsers(self, request: upb.ListUsersRequest,
                        context: Ctx) -> upb.ListUsersResponse:
        page = await self._u.list_users(
            caller(), company_id=convert.opt_uuid(request.company_id),
            department_id=convert.opt_uuid(request.department_id),
            status=convert.status_filter(request.status),
            email_prefix=request.email_prefix or None, size=request.page_size,
            token=request.page_token)
        return upb.ListUsersResponse(users=[convert.user(u) for u in page.items],
                                     next_page_token=page.next_page_token)

    async def UpdateUser(self, request: upb.UpdateUserRequest,
                         context: Ctx) -> upb.UpdateUserResponse:
        values = convert.masked(request.user, request.update_mask)
        if "role" in values:
            values["role"] = _role(request.user.role)
        if "department_id" in values:
            values["department_id"] = convert.opt_uuid(request.user.department_id)
        user = await self._u.update_user(caller(), convert.req_uuid(request.user.id, "user.id"),
                                         values, request.user.etag)
        return upb.UpdateUserResponse(user=convert.user(user))

    async def DeactivateUser(self, request: upb.DeactivateUserRequest,
                             context: Ctx) -> upb.DeactivateUserResponse:
        user = await self._u.set_user_status(caller(), convert.req_uuid(request.id),
                                             EntityStatus.INACTIVE, request.etag)
        return upb.DeactivateUserResponse(user=convert.user(user))

    async def ReactivateUser(self, request: upb.ReactivateUserRequest,
                             context: Ctx) -> upb.ReactivateUserResponse:
        user = await self._u.set_user_status(caller(), convert.req_uuid(request.id),
                                             EntityStatus.ACTIVE, request.etag)
        return upb.ReactivateUserResponse(user=convert.user(user))

    async def ResetUserPassword(self, request: upb.ResetUserPasswordRequest,
                                context: Ctx) -> upb.ResetUserPasswordResponse:
        token, expires = await self._u.reset_user_password(caller(),
                                                           convert.req_uuid(request.id))
        return upb.ResetUserPasswordResponse(reset_token=token,
                                             expire_time=convert.timestamp(expires))


class AuditService(audit_service_pb2_grpc.AuditServiceServicer):
    def __init__(self, audit: AuditLogUseCases) -> None:
        self._a = audit

    async def ListAuditEvents(self, request: apb.ListAuditEventsRequest,
                              context: Ctx) -> apb.ListAuditEventsResponse:
        page = await self._a.list_events(
            caller(), company_id=convert.opt_uuid(request.company_id),
            actor_id=convert.opt_uuid(request.actor_id),
            action_prefix=request.action_prefix or None, resource=request.resource or None,
            start=convert.opt_time(request.start_time, request.HasField("start_time")),
            end=convert.opt_time(request.end_time, request.HasField("end_time")),
            size=request.page_size, token=request.page_token)
        return apb.ListAuditEventsResponse(
            audit_events=[convert.audit_event(e) for e in page.items],
            next_page_token=page.next_page_token)
