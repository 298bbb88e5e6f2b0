"""The real `interview-platform` process: start, restart with data kept, graceful shutdown,
production guards. Each test has its own DATA_DIR, hence its own embedded PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import pytest
from grpc import aio
from interviewplatform.v1 import auth_service_pb2 as pb
from interviewplatform.v1 import auth_service_pb2_grpc

from server.app import start_platform
from server.settings import ConfigurationError, Environment, Settings
from server.storage.db import head_revision
from tests.helpers import fast_settings, free_port

CLI = [sys.executable, "-m", "server"]
READY = re.compile(r"interview-platform ready: grpc [\d.]+:(\d+)")


def _env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "SECRET_KEY", "ENVIRONMENT",
                        "BOOTSTRAP_ADMIN_EMAIL", "BOOTSTRAP_ADMIN_PASSWORD"}}
    env.update({"DATA_DIR": str(data_dir), "GRPC_PORT": str(port), "LOG_LEVEL": "WARNING",
                "ARGON2_TIME_COST": "1", "ARGON2_MEMORY_COST_KIB": "8192",
                "ARGON2_PARALLELISM": "1", "SHUTDOWN_GRACE_SECONDS": "3"})
    env.update(extra)
    return env


@asynccontextmanager
async def running_server(env: dict[str, str]) -> AsyncIterator[tuple[int, list[str]]]:
    """Start `python -m server serve`; yield (port, stderr lines so far) once ready."""
    proc = await asyncio.create_subprocess_exec(
        *CLI, "serve", env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    stderr_lines: list[str] = []

    async def pump_stderr() -> None:
        assert proc.stderr is not None
        async for line in proc.stderr:
            stderr_lines.append(line.decode())

    pump = asyncio.create_task(pump_stderr())
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
        match = READY.search(line.decode())
        assert match, f"not ready: {line!r} {''.join(stderr_lines)}"
        yield int(match.group(1)), stderr_lines
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), timeout=30)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        await asyncio.wait_for(pump, timeout=5)
    assert proc.returncode == 0, "".join(stderr_lines)


async def _login(port: int, email: str, password: str) -> pb.LoginResponse:
    async with aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        response: pb.LoginResponse = await auth_service_pb2_grpc.AuthServiceStub(ch).Login(
            pb.LoginRequest(email=email, password=password), timeout=10)
        return response


async def _me(port: int, token: str) -> pb.GetMeResponse:
    async with aio.insecure_channel(f"127.0.0.1:{port}") as ch:
        response: pb.GetMeResponse = await auth_service_pb2_grpc.AuthServiceStub(ch).GetMe(
            pb.GetMeRequest(), metadata=(("authorization", f"Bearer {token}"),), timeout=10)
        return response


def _postgres_running(pgdata: Path) -> bool:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True,
                         check=True).stdout
    return any(str(pgdata) in line and "postgres" in line for line in out.splitlines())


async def test_dev_bootstrap_restart_keeps_data_secret_and_admin(data_dir: Path) -> None:
    data = data_dir / "var"
    port = free_port()
    # First start, development, no bootstrap settings: an admin with a random password,
    # printed once; a secret key generated under DATA_DIR.
    async with running_server(_env(data, port)) as (_, stderr):
        printed = re.search(r"super admin created: (\S+) / (\S+)", "".join(stderr))
        assert printed, "".join(stderr)
        email, password = printed.groups()
        first = await _login(port, email, password)
    assert (data / "secret_key").stat().st_mode & 0o077 == 0
    assert not _postgres_running(data / "postgres"), "embedded PostgreSQL left running"

    # Restart: same data, same key (a token from before still works), no second admin.
    async with running_server(_env(data, port)) as (_, stderr):
        await asyncio.sleep(0.2)
        assert "super admin created" not in "".join(stderr)
        me = await _me(port, first.tokens.access_token)
        assert me.user_id == first.user.id
        again = await _login(port, email, password)
        assert again.user.id == first.user.id


async def test_bootstrap_admin_from_settings_is_idempotent(data_dir: Path) -> None:
    data, port = data_dir / "var", free_port()
    creds = {"BOOTSTRAP_ADMIN_EMAIL": "Root@Example.com",
             "BOOTSTRAP_ADMIN_PASSWORD": "a long bootstrap password"}
    async with running_server(_env(data, port, **creds)) as (_, stderr):
        first = await _login(port, "root@example.com", "a long bootstrap password")
        assert "super admin created" not in "".join(stderr)
    creds["BOOTSTRAP_ADMIN_PASSWORD"] = "a different password now"
    async with running_server(_env(data, port, **creds)):
        # Idempotent: the existing admin is kept, its password is not overwritten.
        again = await _login(port, "root@example.com", "a long bootstrap password")
        assert again.user.id == first.user.id
        with pytest.raises(aio.AioRpcError) as err:
            await _login(port, "root@example.com", "a different password now")
        assert err.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize("secret", [None, "too-short"])
def test_production_refuses_to_start_without_a_strong_secret(tmp_path: Path,
                                                             secret: str | None) -> None:
    extra = {"ENVIRONMENT": "production"}
    if secret:
        extra["SECRET_KEY"] = secret
    result = subprocess.run([*CLI, "serve"], env=_env(tmp_path, free_port(), **extra),
                            capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2
    assert "SECRET_KEY" in result.stderr
    assert not (tmp_path / "postgres").exists(), "nothing may start before the check"


def test_secret_key_rules(tmp_path: Path) -> None:
    dev = Settings(data_dir=tmp_path)
    key = dev.resolve_secret_key()
    assert len(key) >= 32
    assert dev.resolve_secret_key() == key  # kept, not regenerated
    prod = Settings(environment=Environment.PRODUCTION, secret_key="x" * 32,
                    data_dir=tmp_path / "p")
    assert prod.resolve_secret_key() == b"x" * 32
    assert not (tmp_path / "p").exists()
    with pytest.raises(ConfigurationError):
        Settings(environment=Environment.PRODUCTION, data_dir=tmp_path).resolve_secret_key()


async def test_graceful_shutdown_finishes_in_flight_calls(
        tmp_path: Path, new_database: Callable[[], Awaitable[str]]) -> None:
    # Deliberately slow password hashing makes a Login take long enough to be in flight.
    slow = fast_settings(data_dir=tmp_path, argon2_time_cost=12,
                         argon2_memory_cost_kib=64 * 1024, bootstrap_admin_email="slow@example.com",
                         bootstrap_admin_password="tortoise pace 12345")
    platform = await start_platform(slow, await new_database())
    try:
        async with aio.insecure_channel(f"127.0.0.1:{platform.port}") as ch:
            stub = auth_service_pb2_grpc.AuthServiceStub(ch)
            started = time.monotonic()
            in_flight = asyncio.ensure_future(stub.Login(
                pb.LoginRequest(email="slow@example.com", password="tortoise pace 12345"),
                timeout=30))
            await asyncio.sleep(0.05)
            assert not in_flight.done()
            stopping = asyncio.ensure_future(platform.stop(grace=20))
            response = await in_flight
            assert response.user.email == "slow@example.com"
            await stopping
            assert time.monotonic() - started < 20
            # Closed for new calls.
            with pytest.raises(aio.AioRpcError) as err:
                await stub.Login(pb.LoginRequest(email="slow@example.com", password="x"),
                                 timeout=3)
            assert err.value.code() in {grpc.StatusCode.UNAVAILABLE,
                                        grpc.StatusCode.DEADLINE_EXCEEDED}
    finally:
        await platform.stop(grace=0)


def test_migrate_command(data_dir: Path) -> None:
    result = subprocess.run([*CLI, "migrate"], env=_env(data_dir, 0), capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert f"database at revision {head_revision()}" in result.stdout
    assert not _postgres_running(data_dir / "postgres")



def test_bootstrap_refuses_a_weak_password(data_dir: Path) -> None:
    env = _env(data_dir, free_port(), BOOTSTRAP_ADMIN_EMAIL="root@example.com",
               BOOTSTRAP_ADMIN_PASSWORD="password12345")
    result = subprocess.run([*CLI, "serve"], env=env, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode != 0
    assert "BOOTSTRAP_ADMIN_PASSWORD is not acceptable" in result.stderr
    assert not _postgres_running(data_dir / "postgres")
