"""The typed Python client against the real server (direct and through Envoy)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from interview_platform_client import (
    ERROR_CLASSES,
    FieldViolation,
    InternalError,
    InterviewPlatformClient,
    InvalidArgument,
    PlatformError,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    error_from_rpc,
)
from interviewplatform.v1 import system_service_pb2, user_pb2

from server.app import Platform, version
from tests.helpers import DEFAULT_PASSWORD, EnvoyProcess, UserFactory, free_port


@pytest.fixture
async def client(platform: Platform) -> AsyncIterator[InterviewPlatformClient]:
    async with InterviewPlatformClient(f"127.0.0.1:{platform.port}") as c:
        yield c


async def test_login_stores_tokens_and_me_returns_the_user(
        client: InterviewPlatformClient, make_user: UserFactory, platform: Platform) -> None:
    user = await make_user(full_name="Client Carla")
    assert client.token is None
    response = await client.login(user.email, DEFAULT_PASSWORD)
    assert response.user.id == str(user.id)
    assert response.user.full_name == "Client Carla"
    assert response.tokens.token_type == "Bearer"
    assert client.token == response.tokens.access_token
    assert client.refresh_token == response.tokens.refresh_token
    me = await client.me()
    assert me.user_id == str(user.id)
    assert me.email == user.email
    assert me.role == user_pb2.ROLE_SUPER_ADMIN
    assert me.expire_time.seconds == response.tokens.access_token_expire_time.seconds
    # A token handed to the constructor is used the same way.
    async with InterviewPlatformClient(f"127.0.0.1:{platform.port}",
                                       token=response.tokens.access_token) as other:
        assert (await other.me()).user_id == str(user.id)


async def test_wrong_password_is_unauthenticated(client: InterviewPlatformClient,
                                                 make_user: UserFactory) -> None:
    user = await make_user()
    with pytest.raises(Unauthenticated) as err:
        await client.login(user.email, "not the password")
    error = err.value
    assert error.code == grpc.StatusCode.UNAUTHENTICATED
    assert error.reason == "INVALID_CREDENTIALS"
    assert error.message == "invalid email or password"
    assert str(error) == "UNAUTHENTICATED [INVALID_CREDENTIALS]: invalid email or password"
    assert error.field_violations == []
    assert error.retry_after is None
    assert isinstance(error.__cause__, aio.AioRpcError)
    assert client.token is None
    assert client.refresh_token is None


async def test_bad_email_is_invalid_argument_with_a_field_violation(
        client: InterviewPlatformClient) -> None:
    with pytest.raises(InvalidArgument) as err:
        await client.login("not-an-email", "x")
    error = err.value
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "VALIDATION_FAILED"
    assert error.message == "invalid request: email"
    assert error.field_violations == [
        FieldViolation("email", "must be a valid email address", "STRING_EMAIL")]
    assert error.field_violations[0] == ("email", "must be a valid email address", "STRING_EMAIL")


async def test_me_without_a_token_is_unauthenticated(client: InterviewPlatformClient) -> None:
    with pytest.raises(Unauthenticated) as err:
        await client.me()
    assert err.value.reason == "TOKEN_MISSING"
    assert err.value.message == "missing bearer token"


async def test_refresh_rotates_the_refresh_token(client: InterviewPlatformClient,
                                                 make_user: UserFactory) -> None:
    user = await make_user()
    first = (await client.login(user.email, DEFAULT_PASSWORD)).tokens
    second = (await client.refresh()).tokens
    assert second.refresh_token != first.refresh_token
    assert client.refresh_token == second.refresh_token
    assert client.token == second.access_token
    assert (await client.me()).user_id == str(user.id)
    # The used-up token cannot be replayed.
    with pytest.raises(Unauthenticated) as err:
        await client.refresh(first.refresh_token)
    assert err.value.reason == "REFRESH_TOKEN_REUSED"


async def test_logout_then_refresh_is_unauthenticated(client: InterviewPlatformClient,
                                                      make_user: UserFactory) -> None:
    user = await make_user()
    tokens = (await client.login(user.email, DEFAULT_PASSWORD)).tokens
    await client.logout()
    assert client.token is None
    assert client.refresh_token is None
    # Revoked on the server...
    with pytest.raises(Unauthenticated) as err:
        await client.refresh(tokens.refresh_token)
    assert err.value.reason == "INVALID_REFRESH_TOKEN"
    # ...and forgotten by the client.
    with pytest.raises(Unauthenticated) as err:
        await client.refresh()
    assert err.value.reason is None
    assert err.value.message == "no refresh token: call login() first"
    with pytest.raises(Unauthenticated) as err:
        await client.me()
    assert err.value.reason == "TOKEN_MISSING"


async def test_health_is_ok(client: InterviewPlatformClient) -> None:
    health = await client.health()
    assert health.state == system_service_pb2.COMPONENT_STATE_OK
    assert health.version == version()
    database = {c.name: c for c in health.components}["database"]
    assert database.state == system_service_pb2.COMPONENT_STATE_OK
    assert database.provider.startswith("postgresql ")


async def test_unreachable_server_is_unavailable() -> None:
    async with InterviewPlatformClient(f"127.0.0.1:{free_port()}", timeout=5) as c:
        with pytest.raises(Unavailable) as err:
            await c.health()
    assert err.value.code == grpc.StatusCode.UNAVAILABLE
    assert err.value.reason is None


def _rpc_error(code: grpc.StatusCode, *details: error_details_pb2.ErrorInfo
               | error_details_pb2.RetryInfo) -> aio.AioRpcError:
    status = status_pb2.Status(code=code.value[0], message="slow down")
    for detail in details:
        status.details.add().Pack(detail)
    trailer = aio.Metadata(("grpc-status-details-bin", status.SerializeToString()))
    return aio.AioRpcError(code, aio.Metadata(), trailer, "slow down", None)


def test_retry_info_and_error_metadata_are_decoded() -> None:
    error = error_from_rpc(_rpc_error(
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        error_details_pb2.ErrorInfo(reason="RATE_LIMITED", domain="interviewplatform.v1",
                                    metadata={"limit": "5"}),
        error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=1,
                                                                      nanos=500_000_000)),
    ))
    assert type(error) is ResourceExhausted
    assert error.reason == "RATE_LIMITED"
    assert error.metadata == {"limit": "5"}
    assert error.retry_after == 1.5
    assert error.message == "slow down"


def test_status_table_and_errors_without_details() -> None:
    assert ERROR_CLASSES[grpc.StatusCode.INTERNAL] is InternalError
    assert ERROR_CLASSES[grpc.StatusCode.INVALID_ARGUMENT] is InvalidArgument
    bare = aio.AioRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, aio.Metadata(), aio.Metadata(),
                           "Deadline Exceeded", None)
    error = error_from_rpc(bare)
    assert type(error) is PlatformError
    assert error.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert error.message == "Deadline Exceeded"
    assert (error.reason, error.metadata, error.retry_after) == (None, {}, None)
    assert FieldViolation("email", "bad", "string.email") == ("email", "bad", "string.email")


async def test_login_and_me_through_envoy(envoy: EnvoyProcess, make_user: UserFactory) -> None:
    user = await make_user()
    async with InterviewPlatformClient(f"127.0.0.1:{envoy.port}") as c:
        response = await c.login(user.email, DEFAULT_PASSWORD)
        assert response.user.id == str(user.id)
        me = await c.me()
        assert me.user_id == str(user.id)
        assert me.email == user.email
        with pytest.raises(Unauthenticated) as err:
            await c.login(user.email, "not the password")
        assert err.value.reason == "INVALID_CREDENTIALS"


async def test_typed_stubs_of_every_service_through_call(platform: Platform,
                                                         make_user: UserFactory) -> None:
    from interview_platform_client import NotFound
    from interviewplatform.v1 import company_pb2, company_service_pb2

    admin = await make_user()
    async with InterviewPlatformClient(f"127.0.0.1:{platform.port}") as client:
        await client.login(admin.email, DEFAULT_PASSWORD)
        created = await client.call(client.companies.CreateCompany,
                                    company_service_pb2.CreateCompanyRequest(
                                        company=company_pb2.Company(name="Client Co")))
        assert created.company.name == "Client Co"
        got = await client.call(client.companies.GetCompany,
                                company_service_pb2.GetCompanyRequest(id=created.company.id))
        assert got.company.id == created.company.id
        with pytest.raises(NotFound) as err:
            await client.call(client.companies.GetCompany, company_service_pb2.GetCompanyRequest(
                id="00000000-0000-4000-8000-000000000000"))
        assert err.value.reason == "COMPANY_NOT_FOUND"
        from interviewplatform.v1 import evaluation_service_pb2

        with pytest.raises(NotFound) as err:
            await client.call(client.evaluations.GetEvaluation,
                              evaluation_service_pb2.GetEvaluationRequest(
                                  interview_id="00000000-0000-4000-8000-000000000000"))
        assert err.value.reason == "EVALUATION_NOT_FOUND"
        listed = await client.call(client.evaluations.ListDecisionRecords,
                                   evaluation_service_pb2.ListDecisionRecordsRequest(
                                       interview_id="00000000-0000-4000-8000-000000000000"))
        assert list(listed.records) == []
        from interviewplatform.v1 import resume_service_pb2

        parsed = await client.call(
            client.resumes.ParseResume, resume_service_pb2.ParseResumeRequest(
                resume=resume_service_pb2.ResumeFile(
                    content=b"Ada Lovelace\nada@example.com\nSkills: Python, k8s\n")))
        assert {s.name for s in parsed.profile.skills} >= {"Python", "Kubernetes"}
