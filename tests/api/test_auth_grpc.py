"""AuthService through the generated stubs against a real server and PostgreSQL."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import jwt
import pytest
from grpc import aio
from interviewplatform.v1 import auth_service_pb2 as pb
from interviewplatform.v1 import user_pb2

from server.app import Platform
from server.domain.errors import Unauthenticated
from server.domain.models import Role
from server.security.tokens import JwtTokenService
from tests.helpers import DEFAULT_PASSWORD, TEST_SECRET, Stubs, UserFactory, error_info


async def login(stubs: Stubs, email: str, password: str = DEFAULT_PASSWORD) -> pb.LoginResponse:
    response: pb.LoginResponse = await stubs.auth.Login(
        pb.LoginRequest(email=email, password=password))
    return response


def bearer(token: str) -> tuple[tuple[str, str]]:
    return (("authorization", f"Bearer {token}"),)


async def test_login_returns_tokens_and_user(stubs: Stubs, make_user: UserFactory) -> None:
    user = await make_user(full_name="Ada Admin")
    response = await login(stubs, user.email.upper())  # email is case-insensitive
    assert response.user.id == str(user.id)
    assert response.user.role == user_pb2.ROLE_SUPER_ADMIN
    assert response.user.status == user_pb2.ENTITY_STATUS_ACTIVE
    assert response.tokens.token_type == "Bearer"
    assert len(response.tokens.refresh_token) >= 32
    claims = jwt.decode(response.tokens.access_token, TEST_SECRET, algorithms=["HS256"],
                        audience="interview-platform-api")
    assert claims["sub"] == str(user.id)
    assert claims["role"] == "super_admin"
    assert claims["iss"] == "interview-platform"
    assert {"iat", "exp", "jti", "company_id", "department_id"} <= claims.keys()
    assert claims["exp"] - claims["iat"] == 30 * 60
    expire = response.tokens.access_token_expire_time.ToDatetime(tzinfo=UTC)
    assert abs((expire - datetime.now(UTC)) - timedelta(minutes=30)) < timedelta(seconds=30)


@pytest.mark.parametrize("case", ["wrong_password", "unknown_email"])
async def test_login_failure_is_unauthenticated_without_revealing_accounts(
        stubs: Stubs, make_user: UserFactory, case: str) -> None:
    user = await make_user()
    email = user.email if case == "wrong_password" else f"nobody-{uuid.uuid4().hex}@example.com"
    with pytest.raises(aio.AioRpcError) as err:
        await login(stubs, email, "not the password")
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert err.value.details() == "invalid email or password"
    assert error_info(err.value)[0] == "INVALID_CREDENTIALS"


async def test_get_me_with_token(stubs: Stubs, make_user: UserFactory) -> None:
    user = await make_user()
    tokens = (await login(stubs, user.email)).tokens
    me = await stubs.auth.GetMe(pb.GetMeRequest(), metadata=bearer(tokens.access_token))
    assert me.user_id == str(user.id)
    assert me.email == user.email
    assert me.role == user_pb2.ROLE_SUPER_ADMIN


def _forge(claims: dict[str, object], secret: str = TEST_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _claims(**overrides: object) -> dict[str, object]:
    now = int(time.time())
    claims: dict[str, object] = {
        "iss": "interview-platform", "aud": "interview-platform-api",
        "sub": str(uuid.uuid4()), "role": "super_admin", "company_id": None,
        "department_id": None, "iat": now, "exp": now + 600, "jti": uuid.uuid4().hex,
    }
    claims.update(overrides)
    return claims


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ((), "TOKEN_MISSING"),
        ((("authorization", "Basic Zm9vOmJhcg=="),), "TOKEN_MALFORMED"),
        (bearer("not-a-jwt"), "TOKEN_INVALID"),
        (bearer(_forge(_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600))),
         "TOKEN_EXPIRED"),
        (bearer(_forge(_claims(), secret="another-secret-that-is-also-32-bytes-long!")),
         "TOKEN_INVALID"),
        (bearer(_forge(_claims(aud="some-other-api"))), "TOKEN_INVALID"),
        (bearer(_forge(_claims(iss="someone-else"))), "TOKEN_INVALID"),
        (bearer(_forge({k: v for k, v in _claims().items() if k != "jti"})), "TOKEN_INVALID"),
        (bearer(_forge(_claims(role="emperor"))), "TOKEN_INVALID"),
        (bearer(jwt.encode(_claims(), key="", algorithm="none")), "TOKEN_INVALID"),
    ],
    ids=["missing", "not-bearer", "garbage", "expired", "forged", "wrong-audience",
         "wrong-issuer", "no-jti", "bad-role", "alg-none"],
)
async def test_bad_tokens_are_unauthenticated(stubs: Stubs, metadata: tuple[tuple[str, str]],
                                              reason: str) -> None:
    with pytest.raises(aio.AioRpcError) as err:
        await stubs.auth.GetMe(pb.GetMeRequest(), metadata=metadata)
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(err.value)[0] == reason


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (pb.LoginRequest(email="not-an-email", password="x"), ["email"]),
        (pb.LoginRequest(email="a@example.com", password=""), ["password"]),
        (pb.LoginRequest(email="", password="x" * 129), ["email", "password"]),
    ],
    ids=["bad-email", "empty-password", "both"],
)
async def test_invalid_input_is_invalid_argument_with_field_violations(
        stubs: Stubs, request_: pb.LoginRequest, fields: list[str]) -> None:
    from google.rpc import error_details_pb2, status_pb2

    with pytest.raises(aio.AioRpcError) as err:
        await stubs.auth.Login(request_)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error_info(err.value)[0] == "VALIDATION_FAILED"
    raw = dict(err.value.trailing_metadata() or ())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(raw)
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    assert sorted(v.field for v in bad.field_violations) == fields
    assert all(v.description and v.reason for v in bad.field_violations)


async def test_refresh_rotates_and_reuse_revokes_the_family(stubs: Stubs,
                                                          make_user: UserFactory) -> None:
    user = await make_user()
    first = (await login(stubs, user.email)).tokens
    second = (await stubs.auth.Refresh(pb.RefreshRequest(refresh_token=first.refresh_token))).tokens
    assert second.refresh_token != first.refresh_token
    me = await stubs.auth.GetMe(pb.GetMeRequest(), metadata=bearer(second.access_token))
    assert me.user_id == str(user.id)
    # The first token again: reuse detected, and the whole family is gone.
    with pytest.raises(aio.AioRpcError) as err:
        await stubs.auth.Refresh(pb.RefreshRequest(refresh_token=first.refresh_token))
    assert error_info(err.value)[0] == "REFRESH_TOKEN_REUSED"
    with pytest.raises(aio.AioRpcError) as err:
        await stubs.auth.Refresh(pb.RefreshRequest(refresh_token=second.refresh_token))
    assert error_info(err.value)[0] == "INVALID_REFRESH_TOKEN"


async def test_logout_revokes_the_refresh_token(stubs: Stubs, make_user: UserFactory) -> None:
    user = await make_user()
    tokens = (await login(stubs, user.email)).tokens
    await stubs.auth.Logout(pb.LogoutRequest(refresh_token=tokens.refresh_token))
    with pytest.raises(aio.AioRpcError) as err:
        await stubs.auth.Refresh(pb.RefreshRequest(refresh_token=tokens.refresh_token))
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(err.value)[0] == "INVALID_REFRESH_TOKEN"


async def test_token_service_rejects_tokens_of_another_role_shape() -> None:
    service = JwtTokenService(secret=TEST_SECRET.encode(), issuer="interview-platform",
                              audience="interview-platform-api", access_ttl=timedelta(minutes=5))
    token = _forge(_claims(role=Role.DEPARTMENT_USER.value, company_id=str(uuid.uuid4()),
                           department_id=str(uuid.uuid4())))
    principal = service.verify_access(token)
    assert principal.role is Role.DEPARTMENT_USER
    assert principal.department_id is not None


async def test_health(stubs: Stubs, platform: Platform) -> None:
    from interviewplatform.v1 import system_service_pb2 as spb

    health = await stubs.system.GetHealth(spb.GetHealthRequest())
    assert health.state == spb.COMPONENT_STATE_OK
    database = {c.name: c for c in health.components}["database"]
    assert database.state == spb.COMPONENT_STATE_OK
    assert database.provider.startswith("postgresql ")


def test_verified_token_cache_still_checks_expiry_and_is_bounded(monkeypatch: pytest.MonkeyPatch
                                                                 ) -> None:
    from server.security import tokens as tokens_module

    service = JwtTokenService(secret=TEST_SECRET.encode(), issuer="interview-platform",
                              audience="interview-platform-api", access_ttl=timedelta(minutes=5))
    now = int(time.time())
    token = _forge(_claims(iat=now, exp=now + 60))
    assert service.verify_access(token) == service.verify_access(token)
    # Time passes beyond expiry + leeway: the cached entry must not be accepted.
    monkeypatch.setattr(tokens_module.time, "time", lambda: now + 60 + 11)
    with pytest.raises(Unauthenticated) as err:
        service.verify_access(token)
    assert err.value.reason == "TOKEN_EXPIRED"
    monkeypatch.undo()
    monkeypatch.setattr(tokens_module, "VERIFIED_CACHE_SIZE", 3)
    for _ in range(5):
        service.verify_access(_forge(_claims()))
    assert len(service._verified) == 3
