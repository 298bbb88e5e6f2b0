"""Shared fixtures: a real embedded PostgreSQL, a real grpc.aio server on port 0, a real Envoy.

The in-process server runs on the session's event loop, so HTTP calls from tests must be async
(httpx.AsyncClient); a blocking call would stall the server it is calling.
"""

from __future__ import annotations

import os

# grpc logs a line on every fork (subprocess) while its threads run; tests fork a lot.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import asyncio
import subprocess
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import httpx
import pytest
from grpc import aio
from interviewplatform.v1 import auth_service_pb2_grpc, system_service_pb2_grpc

from server.app import Platform, start_platform
from server.domain.models import Role, User
from server.envoy_config import EnvoyParams, render
from server.security.passwords import Argon2PasswordHasher
from server.settings import Settings
from server.storage.embedded import EmbeddedPostgres, to_asyncpg_url
from server.storage.repositories import SqlUnitOfWork
from tests.helpers import (
    DEFAULT_PASSWORD,
    EnvoyProcess,
    Stubs,
    UserFactory,
    envoy_binary,
    fast_settings,
    free_port,
)


@pytest.fixture(scope="session")
def embedded_pg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    pg = EmbeddedPostgres(tmp_path_factory.mktemp("pg"))
    pg.start()
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def admin_dsn(embedded_pg: EmbeddedPostgres) -> str:
    server = embedded_pg._server
    assert server is not None
    uri: str = server.get_uri()
    return uri


@pytest.fixture(scope="session")
def new_database(admin_dsn: str) -> Callable[[], Awaitable[str]]:
    """Create an empty database on the shared server; returns its asyncpg SQLAlchemy URL."""

    async def make() -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(admin_dsn)
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return to_asyncpg_url(admin_dsn, name)

    return make


@pytest.fixture(scope="session")
async def database_url(new_database: Callable[[], Awaitable[str]]) -> str:
    return await new_database()


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return fast_settings(data_dir=tmp_path_factory.mktemp("data"))


@pytest.fixture(scope="session")
async def platform(settings: Settings, database_url: str) -> AsyncIterator[Platform]:
    p = await start_platform(settings, database_url)
    yield p
    await p.stop(grace=1.0)


@pytest.fixture(scope="session")
async def channel(platform: Platform) -> AsyncIterator[aio.Channel]:
    async with aio.insecure_channel(f"127.0.0.1:{platform.port}") as ch:
        yield ch


@pytest.fixture(scope="session")
def stubs(channel: aio.Channel) -> Stubs:
    return Stubs(auth=auth_service_pb2_grpc.AuthServiceStub(channel),
                 system=system_service_pb2_grpc.SystemServiceStub(channel))


@pytest.fixture(scope="session")
def hasher(settings: Settings) -> Argon2PasswordHasher:
    return Argon2PasswordHasher(time_cost=settings.argon2_time_cost,
                                memory_cost_kib=settings.argon2_memory_cost_kib,
                                parallelism=settings.argon2_parallelism)




@pytest.fixture(scope="session")
def make_user(platform: Platform, hasher: Argon2PasswordHasher) -> UserFactory:
    """Insert a user straight through the repository; keyword defaults, unique email."""

    async def make(*, email: str | None = None, password: str = DEFAULT_PASSWORD,
                   role: Role = Role.SUPER_ADMIN, full_name: str = "Test User") -> User:
        email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
        password_hash = await hasher.hash(password)
        async with SqlUnitOfWork(platform.db.sessions) as uow:
            return await uow.users.create(email=email, full_name=full_name, role=role,
                                          password_hash=password_hash)

    return make


@pytest.fixture(scope="session")
async def envoy(platform: Platform, tmp_path_factory: pytest.TempPathFactory
                ) -> AsyncIterator[EnvoyProcess]:
    folder = tmp_path_factory.mktemp("envoy")
    port, admin = free_port(), free_port()
    config = folder / "envoy.yaml"
    config.write_text(render(EnvoyParams(listen_port=port, admin_port=admin,
                                         upstream_port=platform.port,
                                         cors_origins=("http://app.test",),
                                         listen_address="127.0.0.1")))
    log = (folder / "envoy.log").open("wb")
    proc = subprocess.Popen([envoy_binary(), "-c", str(config), "--log-level", "warn",
                             "--base-id", str(port)], stdout=log, stderr=log)
    try:
        async with httpx.AsyncClient() as client:
            for _ in range(200):
                assert proc.poll() is None, (folder / "envoy.log").read_text()
                try:
                    r = await client.get(f"http://127.0.0.1:{port}/health", timeout=1)
                    if r.status_code == 200:
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


@pytest.fixture
async def http(envoy: EnvoyProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=envoy.base_url, timeout=10) as client:
        yield client


