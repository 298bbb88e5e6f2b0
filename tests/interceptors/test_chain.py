"""The interceptor chain on a real grpc.aio server hosting small test handlers: unknown
exceptions become INTERNAL with nothing leaked, domain errors keep their reason in unary and
streaming calls alike, and every call gets a request id and one log line."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
import structlog
from google.protobuf import wrappers_pb2
from grpc import aio

from server.context import current_principal, request_id_var
from server.domain.errors import NotFound
from server.domain.models import EntityStatus, Role, User
from server.interceptors.chain import build_chain
from server.security.tokens import JwtTokenService
from tests.helpers import TEST_SECRET, error_info

TOKENS = JwtTokenService(secret=TEST_SECRET.encode(), issuer="interview-platform",
                         audience="interview-platform-api", access_ttl=timedelta(minutes=5))
SEEN: dict[str, str] = {}


async def explode(request: wrappers_pb2.StringValue, context: Any) -> wrappers_pb2.StringValue:
    raise RuntimeError("database password is hunter2")


async def missing(request: wrappers_pb2.StringValue, context: Any) -> wrappers_pb2.StringValue:
    raise NotFound("no such thing", reason="THING_NOT_FOUND", metadata={"thing": request.value})


async def whoami(request: wrappers_pb2.StringValue, context: Any) -> wrappers_pb2.StringValue:
    SEEN["request_id"] = request_id_var.get()
    return wrappers_pb2.StringValue(value=current_principal().email)


async def stream_then_fail(request: wrappers_pb2.StringValue, context: Any
                           ) -> AsyncIterator[wrappers_pb2.StringValue]:
    yield wrappers_pb2.StringValue(value="first")
    if request.value == "domain":
        raise NotFound("gone mid-stream", reason="STREAM_GONE")
    raise ValueError("stream internals")


def _handlers() -> grpc.GenericRpcHandler:
    def unary(fn: Any) -> grpc.RpcMethodHandler:
        return grpc.unary_unary_rpc_method_handler(
            fn, request_deserializer=wrappers_pb2.StringValue.FromString,
            response_serializer=wrappers_pb2.StringValue.SerializeToString)

    return grpc.method_handlers_generic_handler("test.v1.Probe", {
        "Explode": unary(explode),
        "Missing": unary(missing),
        "WhoAmI": unary(whoami),
        "Stream": grpc.unary_stream_rpc_method_handler(
            stream_then_fail, request_deserializer=wrappers_pb2.StringValue.FromString,
            response_serializer=wrappers_pb2.StringValue.SerializeToString),
    })


@pytest.fixture(scope="module")
async def probe_channel() -> AsyncIterator[aio.Channel]:
    server = aio.server(interceptors=build_chain(TOKENS))
    server.add_generic_rpc_handlers((_handlers(),))
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield channel
    await server.stop(0)


def _token() -> str:
    now = datetime.now(UTC)
    user = User(id=uuid.uuid4(), email="probe@example.com", full_name="", role=Role.SUPER_ADMIN,
                company_id=None, department_id=None, status=EntityStatus.ACTIVE,
                password_hash="", created_at=now, updated_at=now)
    return TOKENS.issue_access(user, now)[0]


def _call(channel: aio.Channel, name: str, stream: bool = False) -> Any:
    make = channel.unary_stream if stream else channel.unary_unary
    return make(f"/test.v1.Probe/{name}",
                request_serializer=wrappers_pb2.StringValue.SerializeToString,
                response_deserializer=wrappers_pb2.StringValue.FromString)


AUTH = (("authorization", f"Bearer {_token()}"),)


async def test_unknown_exception_is_internal_and_leaks_nothing(probe_channel: aio.Channel
                                                               ) -> None:
    with structlog.testing.capture_logs() as logs, pytest.raises(aio.AioRpcError) as err:
        await _call(probe_channel, "Explode")(wrappers_pb2.StringValue(value="x"), metadata=AUTH)
    assert err.value.code() == grpc.StatusCode.INTERNAL
    assert err.value.details() == "internal error"
    assert "hunter2" not in str(err.value.trailing_metadata())
    assert error_info(err.value)[0] == "INTERNAL"
    failure = next(e for e in logs if e["event"] == "unhandled exception")
    assert isinstance(failure["exc_info"], RuntimeError)
    assert failure["method"] == "/test.v1.Probe/Explode"
    # Other calls (Envoy's health checks of the session's server) may log meanwhile.
    access = next(e for e in logs
                  if e["event"] == "rpc" and e["method"] == "/test.v1.Probe/Explode")
    assert access["code"] == "INTERNAL"
    assert access["request_id"] == failure["request_id"]


async def test_domain_error_keeps_reason_and_metadata(probe_channel: aio.Channel) -> None:
    with pytest.raises(aio.AioRpcError) as err:
        await _call(probe_channel, "Missing")(wrappers_pb2.StringValue(value="t-1"), metadata=AUTH)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert err.value.details() == "no such thing"
    assert error_info(err.value) == ("THING_NOT_FOUND", {"thing": "t-1"})


async def test_principal_and_request_id_reach_the_handler(probe_channel: aio.Channel) -> None:
    with structlog.testing.capture_logs() as logs:
        reply = await _call(probe_channel, "WhoAmI")(
            wrappers_pb2.StringValue(), metadata=(*AUTH, ("x-request-id", "req-123")))
    assert reply.value == "probe@example.com"
    assert SEEN["request_id"] == "req-123"
    access = next(e for e in logs
                  if e["event"] == "rpc" and e["method"] == "/test.v1.Probe/WhoAmI")
    assert access["request_id"] == "req-123"
    assert access["code"] == "OK"
    assert access["user_id"] is not None


async def test_non_public_methods_need_a_token(probe_channel: aio.Channel) -> None:
    with pytest.raises(aio.AioRpcError) as err:
        await _call(probe_channel, "WhoAmI")(wrappers_pb2.StringValue())
    assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert error_info(err.value)[0] == "TOKEN_MISSING"


@pytest.mark.parametrize(("mode", "code", "reason"), [
    ("domain", grpc.StatusCode.NOT_FOUND, "STREAM_GONE"),
    ("crash", grpc.StatusCode.INTERNAL, "INTERNAL"),
])
async def test_errors_in_server_streams_are_mapped(probe_channel: aio.Channel, mode: str,
                                                   code: grpc.StatusCode, reason: str) -> None:
    call = _call(probe_channel, "Stream", stream=True)(wrappers_pb2.StringValue(value=mode),
                                                       metadata=AUTH)
    received = []
    with pytest.raises(aio.AioRpcError) as err:
        async for item in call:
            received.append(item.value)
    assert received == ["first"]
    assert err.value.code() == code
    assert error_info(err.value)[0] == reason


async def test_unknown_method_is_unimplemented_and_handlers_are_wrapped_once(
        probe_channel: aio.Channel) -> None:
    for _ in range(2):
        with pytest.raises(aio.AioRpcError) as err:
            await _call(probe_channel, "NoSuchMethod")(wrappers_pb2.StringValue(), metadata=AUTH)
        assert err.value.code() == grpc.StatusCode.UNIMPLEMENTED
    # Repeated calls reuse the same wrapped handler and still see their own principal.
    for _ in range(3):
        reply = await _call(probe_channel, "WhoAmI")(wrappers_pb2.StringValue(), metadata=AUTH)
        assert reply.value == "probe@example.com"
