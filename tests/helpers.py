"""Helpers shared by the tests (constants, small factories, error decoding)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import grpc
import grpc.aio
import httpx
import pytest
from interviewplatform.v1 import auth_service_pb2_grpc, system_service_pb2_grpc

from server.domain.models import User
from server.envoy_config import EnvoyParams, render
from server.settings import Environment, Settings

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TEST_SECRET = "test-secret-key-that-is-at-least-32-bytes-long"
DEFAULT_PASSWORD = "correct horse battery staple"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def fast_settings(**overrides: object) -> Settings:
    """Settings for tests: cheap argon2 (the parameters are settings, not code paths)."""
    values: dict[str, object] = {
        "environment": Environment.TEST,
        "grpc_port": 0,
        "secret_key": TEST_SECRET,
        "argon2_time_cost": 1,
        "argon2_memory_cost_kib": 8 * 1024,
        "argon2_parallelism": 1,
        "log_level": "WARNING",
        "shutdown_grace_seconds": 2.0,
        # Every test client is 127.0.0.1: per-address throttling is tested with
        # x-forwarded-for addresses instead of locking out the whole suite.
        "login_max_failures_per_address": 10_000,
        "login_lockout_seconds": 2.0,
        "session_check_seconds": 0.5,
        # The local AI provider unless a test points Gemini at a fake; short sandbox limits.
        "ai_provider": "local",
        "sandbox_wall_seconds": 3.0,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@dataclass
class Stubs:
    auth: auth_service_pb2_grpc.AuthServiceStub
    system: system_service_pb2_grpc.SystemServiceStub


UserFactory = Callable[..., Awaitable[User]]


@dataclass
class EnvoyProcess:
    port: int
    admin_port: int
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def envoy_binary() -> str:
    return shutil.which("envoy") or str(BIN / "envoy")


def error_info(exc: grpc.aio.AioRpcError) -> tuple[str, dict[str, str]]:
    """The google.rpc.ErrorInfo reason and metadata of a failed call."""
    from google.rpc import error_details_pb2, status_pb2

    for key, value in exc.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                info = error_details_pb2.ErrorInfo()
                if detail.Unpack(info):
                    return info.reason, dict(info.metadata)
    raise AssertionError(f"no ErrorInfo in {exc!r}")


@asynccontextmanager
async def start_envoy(upstream_port: int, folder: Path) -> AsyncIterator[EnvoyProcess]:
    """A real Envoy in front of a server on upstream_port, ready once the upstream answers."""
    port, admin = free_port(), free_port()
    config = folder / "envoy.yaml"
    config.write_text(render(EnvoyParams(listen_port=port, admin_port=admin,
                                         upstream_port=upstream_port,
                                         cors_origins=("http://app.test",),
                                         listen_address="127.0.0.1")))
    log = (folder / "envoy.log").open("wb")
    proc = subprocess.Popen([envoy_binary(), "-c", str(config), "--log-level", "warn",
                             "--base-id", str(port)], stdout=log, stderr=log)
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(300):
                assert proc.poll() is None, (folder / "envoy.log").read_text()
                try:
                    r = await client.get(f"http://127.0.0.1:{port}/health", timeout=1)
                    # JSON means the server answered (200, or 503 from a degraded server);
                    # Envoy's own "no healthy upstream" 503 is plain text.
                    if r.headers.get("content-type", "").startswith("application/json"):
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("envoy did not become ready")
        yield EnvoyProcess(port=port, admin_port=admin, process=proc)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()


async def fails(call: Awaitable[object], code: grpc.StatusCode,
                reason: str | None = None) -> grpc.aio.AioRpcError:
    """Await a call that must fail with `code` (and ErrorInfo `reason`)."""
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call
    assert err.value.code() == code, (err.value.code(), err.value.details())
    if reason is not None:
        assert error_info(err.value)[0] == reason, err.value.details()
    return err.value
