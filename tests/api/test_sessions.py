"""Hardened sessions: lockout after failed sign-ins (per account and per client address, kept in
PostgreSQL), revocation reaching live access tokens within seconds, password changes."""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from interviewplatform.v1 import auth_service_pb2 as pb

from server.app import start_platform
from server.domain.models import Role
from tests.factories import Api, Tenant, auth
from tests.helpers import DEFAULT_PASSWORD, UserFactory, error_info, fast_settings

NEW_PASSWORD = "a brand new long passphrase 42"


def retry_after(exc: aio.AioRpcError) -> float:
    raw = dict(exc.trailing_metadata() or ())["grpc-status-details-bin"]
    for detail in status_pb2.Status.FromString(raw).details:
        info = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            return info.retry_delay.ToTimedelta().total_seconds()
    raise AssertionError("no RetryInfo")


async def expect_code(call: Awaitable[object], code: grpc.StatusCode) -> aio.AioRpcError:
    with pytest.raises(aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, err.value.details()
    return err.value


async def until_rejected(check: Callable[[], Awaitable[object]], within: float = 5.0
                         ) -> aio.AioRpcError:
    """Call until UNAUTHENTICATED (revocation reaches live tokens within seconds)."""
    deadline = time.monotonic() + within
    while True:
        try:
            await check()
        except aio.AioRpcError as exc:
            assert exc.code() == grpc.StatusCode.UNAUTHENTICATED, exc.details()
            return exc
        assert time.monotonic() < deadline, "still accepted after the deadline"
        await asyncio.sleep(0.1)


async def test_sixth_attempt_is_refused_even_with_the_right_password_until_lockout_passes(
        api: Api, make_user: UserFactory) -> None:
    user = await make_user(role=Role.SUPER_ADMIN)
    for _ in range(5):
        err = await expect_code(api.login(user.email, "wrong password!!"),
                                grpc.StatusCode.UNAUTHENTICATED)
        assert error_info(err)[0] == "INVALID_CREDENTIALS"
    err = await expect_code(api.login(user.email), grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert error_info(err)[0] == "LOGIN_LOCKED"
    first_lock = retry_after(err)
    assert 0 < first_lock <= 2.0
    await asyncio.sleep(first_lock + 0.2)
    # The lock has passed; one more failure locks again, for twice as long (growing lockout).
    await expect_code(api.login(user.email, "wrong password!!"), grpc.StatusCode.UNAUTHENTICATED)
    err = await expect_code(api.login(user.email), grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert retry_after(err) > first_lock + 0.5
    await asyncio.sleep(retry_after(err) + 0.2)
    assert (await api.login(user.email)).user.id == str(user.id)
    # Success resets the account's count: a single failure does not lock any more.
    await expect_code(api.login(user.email, "wrong password!!"), grpc.StatusCode.UNAUTHENTICATED)
    assert (await api.login(user.email)).user.id == str(user.id)


async def test_lockout_through_rest_is_429_with_retry_info(http: httpx.AsyncClient,
                                                           make_user: UserFactory) -> None:
    user = await make_user()
    for _ in range(5):
        r = await http.post("/v1/auth/login", json={"email": user.email, "password": "nope"})
        assert r.status_code == 401
    r = await http.post("/v1/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert r.status_code == 429
    types = {d["@type"]: d for d in r.json()["details"]}
    assert types["type.googleapis.com/google.rpc.ErrorInfo"]["reason"] == "LOGIN_LOCKED"
    assert types["type.googleapis.com/google.rpc.RetryInfo"]["retryDelay"].endswith("s")


async def test_unknown_accounts_are_throttled_and_counted_in_postgres(api: Api) -> None:
    email = f"ghost-{uuid.uuid4().hex}@example.com"
    for _ in range(5):
        await expect_code(api.login(email, "whatever password"), grpc.StatusCode.UNAUTHENTICATED)
    err = await expect_code(api.login(email, "whatever password"),
                            grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert error_info(err)[0] == "LOGIN_LOCKED"


async def test_per_address_throttling_uses_the_forwarded_client_address(
        new_database: Callable[[], Awaitable[str]], data_dir: object) -> None:
    settings = fast_settings(data_dir=data_dir, login_max_failures_per_address=3)
    platform = await start_platform(settings, await new_database())
    try:
        async with aio.insecure_channel(f"127.0.0.1:{platform.port}") as channel:
            api = Api(channel)

            def login(email: str, address: str) -> Awaitable[object]:
                return api.auth.Login(pb.LoginRequest(email=email, password="bad password"),
                                      metadata=(("x-forwarded-for", f"198.51.100.1, {address}"),))

            for i in range(3):
                await expect_code(login(f"a{i}-{uuid.uuid4().hex}@example.com", "203.0.113.7"),
                                  grpc.StatusCode.UNAUTHENTICATED)
            # Any account from that address is now refused ...
            err = await expect_code(login(f"b-{uuid.uuid4().hex}@example.com", "203.0.113.7"),
                                    grpc.StatusCode.RESOURCE_EXHAUSTED)
            assert error_info(err)[0] == "LOGIN_LOCKED"
            # ... while another address is not.
            err = await expect_code(login(f"c-{uuid.uuid4().hex}@example.com", "203.0.113.8"),
                                    grpc.StatusCode.UNAUTHENTICATED)
            assert error_info(err)[0] == "INVALID_CREDENTIALS"
    finally:
        await platform.stop(grace=0)


async def test_unknown_email_costs_as_much_as_a_wrong_password(api: Api,
                                                               make_user: UserFactory) -> None:
    """No account enumeration by timing: both paths verify one argon2 hash."""
    async def timed(email: str) -> float:
        started = time.perf_counter()
        with pytest.raises(aio.AioRpcError):
            await api.login(email, "not the password")
        return time.perf_counter() - started

    known, unknown = [], []
    for _ in range(4):  # under the lockout threshold for the known account
        user = await make_user()
        known.append(await timed(user.email))
        unknown.append(await timed(f"nobody-{uuid.uuid4().hex}@example.com"))
    ratio = statistics.median(unknown) / statistics.median(known)
    assert 0.4 < ratio < 2.5, (known, unknown)


async def test_logout_and_refresh_reuse_end_live_access_tokens(api: Api,
                                                               make_user: UserFactory) -> None:
    user = await make_user()
    first = (await api.login(user.email)).tokens
    await api.auth.Logout(pb.LogoutRequest(refresh_token=first.refresh_token))
    err = await until_rejected(lambda: api.auth.GetMe(pb.GetMeRequest(),
                                                      metadata=auth(first.access_token)))
    assert error_info(err)[0] == "SESSION_REVOKED"

    second = (await api.login(user.email)).tokens
    rotated = (await api.auth.Refresh(pb.RefreshRequest(refresh_token=second.refresh_token))).tokens
    await api.auth.GetMe(pb.GetMeRequest(), metadata=auth(rotated.access_token))
    err = await expect_code(api.auth.Refresh(pb.RefreshRequest(
        refresh_token=second.refresh_token)), grpc.StatusCode.UNAUTHENTICATED)
    assert error_info(err)[0] == "REFRESH_TOKEN_REUSED"
    err = await until_rejected(lambda: api.auth.GetMe(pb.GetMeRequest(),
                                                      metadata=auth(rotated.access_token)))
    assert error_info(err)[0] == "SESSION_REVOKED"


async def test_change_password_keeps_this_session_and_ends_the_others(
        api: Api, tenant: Tenant) -> None:
    member = tenant.members[0]
    mine = (await api.login(member.user.email)).tokens
    other = (await api.login(member.user.email)).tokens

    err = await expect_code(api.auth.ChangePassword(
        pb.ChangePasswordRequest(current_password="wrong current pw", new_password=NEW_PASSWORD),
        metadata=auth(mine.access_token)), grpc.StatusCode.UNAUTHENTICATED)
    assert error_info(err)[0] == "INVALID_CREDENTIALS"
    err = await expect_code(api.auth.ChangePassword(
        pb.ChangePasswordRequest(current_password=DEFAULT_PASSWORD,
                                 new_password="password123456"),
        metadata=auth(mine.access_token)), grpc.StatusCode.INVALID_ARGUMENT)
    assert error_info(err)[0] == "PASSWORD_TOO_COMMON"

    await api.auth.ChangePassword(
        pb.ChangePasswordRequest(current_password=DEFAULT_PASSWORD, new_password=NEW_PASSWORD),
        metadata=auth(mine.access_token))
    err = await until_rejected(lambda: api.auth.GetMe(pb.GetMeRequest(),
                                                      metadata=auth(other.access_token)))
    assert error_info(err)[0] == "SESSION_REVOKED"
    err = await expect_code(api.auth.Refresh(pb.RefreshRequest(refresh_token=other.refresh_token)),
                            grpc.StatusCode.UNAUTHENTICATED)
    assert error_info(err)[0] == "INVALID_REFRESH_TOKEN"
    me = await api.auth.GetMe(pb.GetMeRequest(), metadata=auth(mine.access_token))
    assert me.user_id == member.user.id
    await expect_code(api.login(member.user.email), grpc.StatusCode.UNAUTHENTICATED)
    assert (await api.login(member.user.email, NEW_PASSWORD)).user.id == member.user.id
