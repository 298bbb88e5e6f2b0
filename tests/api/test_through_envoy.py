"""The same calls through a real Envoy: REST/JSON (transcoder), gRPC-web, and native gRPC."""

from __future__ import annotations

import asyncio
import base64
import struct
from datetime import timedelta
from pathlib import Path

import grpc
import httpx
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from interviewplatform.v1 import auth_service_pb2 as pb
from interviewplatform.v1 import auth_service_pb2_grpc

from server.api.system_service import SystemService
from server.app import Platform
from server.interceptors.chain import build_chain
from server.security.tokens import JwtTokenService
from tests.helpers import (
    BIN,
    DEFAULT_PASSWORD,
    TEST_SECRET,
    EnvoyProcess,
    UserFactory,
    error_info,
    start_envoy,
)

TOKENS = JwtTokenService(secret=TEST_SECRET.encode(), issuer="interview-platform",
                         audience="interview-platform-api", access_ttl=timedelta(minutes=5))

# --- REST -----------------------------------------------------------------------------------


async def test_rest_health(http: httpx.AsyncClient) -> None:
    r = await http.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["state"] == "COMPONENT_STATE_OK"
    assert body["components"][0]["name"] == "database"


async def test_rest_login_and_me(http: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    r = await http.post("/v1/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    assert r.status_code == 200, r.text
    tokens = r.json()["tokens"]
    assert tokens["tokenType"] == "Bearer"
    me = await http.get("/v1/auth/me", headers={"authorization": f"Bearer {tokens['accessToken']}"})
    assert me.status_code == 200
    assert me.json()["userId"] == str(user.id)
    assert me.json()["role"] == "ROLE_SUPER_ADMIN"
    assert me.headers["x-request-id"]


def _reason(body: dict[str, object]) -> str:
    details = body["details"]
    assert isinstance(details, list)
    for d in details:
        if d["@type"] == "type.googleapis.com/google.rpc.ErrorInfo":
            return str(d["reason"])
    raise AssertionError(f"no ErrorInfo in {body}")


async def test_rest_wrong_password_is_401_json(http: httpx.AsyncClient,
                                              make_user: UserFactory) -> None:
    user = await make_user()
    r = await http.post("/v1/auth/login", json={"email": user.email, "password": "nope"})
    assert r.status_code == 401
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["code"] == 16
    assert _reason(r.json()) == "INVALID_CREDENTIALS"


async def test_rest_missing_token_is_401(http: httpx.AsyncClient) -> None:
    r = await http.get("/v1/auth/me")
    assert r.status_code == 401
    assert _reason(r.json()) == "TOKEN_MISSING"


@pytest.mark.parametrize("payload", [
    {"email": "not-an-email", "password": "x"},
    {"email": "a@example.com", "password": ""},
])
async def test_rest_invalid_input_is_400_with_field_violations(
        http: httpx.AsyncClient, payload: dict[str, str]) -> None:
    r = await http.post("/v1/auth/login", json=payload)
    assert r.status_code == 400
    body = r.json()
    assert _reason(body) == "VALIDATION_FAILED"
    bad = next(d for d in body["details"]
               if d["@type"] == "type.googleapis.com/google.rpc.BadRequest")
    assert bad["fieldViolations"][0]["field"] in payload


async def test_rest_malformed_json_is_400(http: httpx.AsyncClient) -> None:
    r = await http.post("/v1/auth/login", content=b"{not json",
                        headers={"content-type": "application/json"})
    assert r.status_code == 400


async def test_rest_unknown_route_is_404(http: httpx.AsyncClient) -> None:
    r = await http.get("/v1/no-such-thing")
    assert r.status_code == 404


async def test_cors_preflight(http: httpx.AsyncClient) -> None:
    allowed = await http.options("/v1/auth/login", headers={
        "origin": "http://app.test", "access-control-request-method": "POST",
        "access-control-request-headers": "content-type,authorization"})
    assert allowed.headers.get("access-control-allow-origin") == "http://app.test"
    assert "POST" in allowed.headers["access-control-allow-methods"]
    assert "authorization" in allowed.headers["access-control-allow-headers"]
    denied = await http.options("/v1/auth/login", headers={
        "origin": "http://evil.test", "access-control-request-method": "POST"})
    assert "access-control-allow-origin" not in denied.headers


# --- gRPC-web (framed by hand, as a browser library would) ----------------------------------


def grpc_web_frame(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


def parse_grpc_web(body: bytes) -> tuple[list[bytes], dict[str, str]]:
    messages: list[bytes] = []
    trailers: dict[str, str] = {}
    pos = 0
    while pos < len(body):
        flag, length = struct.unpack(">BI", body[pos:pos + 5])
        payload = body[pos + 5:pos + 5 + length]
        pos += 5 + length
        if flag & 0x80:
            for line in payload.decode().split("\r\n"):
                if ":" in line:
                    key, value = line.split(":", 1)
                    trailers[key.strip().lower()] = value.strip()
        else:
            messages.append(payload)
    return messages, trailers


async def grpc_web_call(http: httpx.AsyncClient, method: str, request: bytes,
                        headers: dict[str, str] | None = None
                        ) -> tuple[httpx.Response, list[bytes], dict[str, str]]:
    r = await http.post(f"/interviewplatform.v1.AuthService/{method}",
                        content=grpc_web_frame(request),
                        headers={"content-type": "application/grpc-web+proto",
                                 "x-grpc-web": "1", "origin": "http://app.test",
                                 **(headers or {})})
    messages, trailers = parse_grpc_web(r.content)
    # A trailers-only error puts grpc-status in the HTTP headers instead.
    for key in ("grpc-status", "grpc-message", "grpc-status-details-bin"):
        if key in r.headers and key not in trailers:
            trailers[key] = r.headers[key]
    return r, messages, trailers


async def test_grpc_web_login_and_me(http: httpx.AsyncClient, make_user: UserFactory) -> None:
    user = await make_user()
    r, messages, trailers = await grpc_web_call(
        http, "Login", pb.LoginRequest(email=user.email, password=DEFAULT_PASSWORD)
        .SerializeToString())
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/grpc-web")
    assert r.headers.get("access-control-allow-origin") == "http://app.test"
    assert "grpc-status-details-bin" in r.headers["access-control-expose-headers"]
    assert trailers["grpc-status"] == "0"
    login = pb.LoginResponse.FromString(messages[0])
    assert login.user.id == str(user.id)
    _, messages, trailers = await grpc_web_call(
        http, "GetMe", pb.GetMeRequest().SerializeToString(),
        {"authorization": f"Bearer {login.tokens.access_token}"})
    assert trailers["grpc-status"] == "0"
    assert pb.GetMeResponse.FromString(messages[0]).email == user.email


async def test_grpc_web_wrong_password_carries_status_and_reason(
        http: httpx.AsyncClient, make_user: UserFactory) -> None:
    from google.rpc import error_details_pb2, status_pb2

    user = await make_user()
    _, messages, trailers = await grpc_web_call(
        http, "Login", pb.LoginRequest(email=user.email, password="nope").SerializeToString())
    assert messages == []
    assert trailers["grpc-status"] == str(grpc.StatusCode.UNAUTHENTICATED.value[0])
    raw = trailers["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(base64.b64decode(raw + "=" * (-len(raw) % 4)))
    info = error_details_pb2.ErrorInfo()
    assert status.details[0].Unpack(info)
    assert info.reason == "INVALID_CREDENTIALS"


# --- native gRPC through Envoy ----------------------------------------------------------------


async def test_native_grpc_through_envoy(envoy: EnvoyProcess, make_user: UserFactory) -> None:
    user = await make_user()
    async with aio.insecure_channel(f"127.0.0.1:{envoy.port}") as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        login = await stub.Login(pb.LoginRequest(email=user.email, password=DEFAULT_PASSWORD))
        me = await stub.GetMe(pb.GetMeRequest(), metadata=(
            ("authorization", f"Bearer {login.tokens.access_token}"),))
        assert me.user_id == str(user.id)
        with pytest.raises(aio.AioRpcError) as err:
            await stub.Login(pb.LoginRequest(email=user.email, password="nope"))
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
        assert error_info(err.value)[0] == "INVALID_CREDENTIALS"
        with pytest.raises(aio.AioRpcError) as err:
            await stub.Login(pb.LoginRequest(email="bad", password="x"))
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert error_info(err.value)[0] == "VALIDATION_FAILED"


# --- health when degraded, reflection ----------------------------------------------------------


async def test_health_is_503_with_the_report_when_a_required_component_is_down(
        tmp_path: Path) -> None:
    from interviewplatform.v1 import system_service_pb2 as spb
    from interviewplatform.v1 import system_service_pb2_grpc

    async def database_down() -> str:
        raise ConnectionRefusedError("connection refused")

    async def optional_ok() -> str:
        return "local"

    server = aio.server(interceptors=build_chain(TOKENS))
    system_service_pb2_grpc.add_SystemServiceServicer_to_server(
        SystemService("test", {"database": (True, database_down), "ai": (False, optional_ok)}),
        server)
    health_servicer = HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            with pytest.raises(aio.AioRpcError) as err:
                await system_service_pb2_grpc.SystemServiceStub(channel).GetHealth(
                    spb.GetHealthRequest())
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert error_info(err.value)[0] == "DEGRADED"
        async with start_envoy(port, tmp_path) as proxy, httpx.AsyncClient() as client:
            r = await client.get(f"{proxy.base_url}/health")
        assert r.status_code == 503
        body = r.json()
        assert _reason(body) == "DEGRADED"
        report = next(d for d in body["details"] if d["@type"].endswith("GetHealthResponse"))
        states = {c["name"]: c["state"] for c in report["components"]}
        assert states == {"database": "COMPONENT_STATE_DOWN", "ai": "COMPONENT_STATE_OK"}
        assert "refused" not in r.text  # the probe's error stays in the log
    finally:
        await server.stop(0)


async def _grpcurl(*args: str) -> str:
    proc = await asyncio.create_subprocess_exec(
        str(BIN / "grpcurl"), "-plaintext", *args, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
    assert proc.returncode == 0, err.decode()
    return out.decode()


async def test_reflection_lists_services_direct_and_through_envoy(
        platform: Platform, envoy: EnvoyProcess) -> None:
    expected = {"interviewplatform.v1.AuthService", "interviewplatform.v1.SystemService",
                "grpc.health.v1.Health"}
    for target in (f"127.0.0.1:{platform.port}", f"127.0.0.1:{envoy.port}"):
        listed = set((await _grpcurl(target, "list")).split())
        assert expected <= listed, target
    described = await _grpcurl(f"127.0.0.1:{envoy.port}", "describe",
                               "interviewplatform.v1.AuthService")
    assert "rpc Login" in described and "rpc GetMe" in described
