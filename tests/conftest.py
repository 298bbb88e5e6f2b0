"""Shared fixtures: a real embedded PostgreSQL, a real grpc.aio server on port 0, a real Envoy.

The in-process server runs on the session's event loop, so HTTP calls from tests must be async
(httpx.AsyncClient); a blocking call would stall the server it is calling.
"""

from __future__ import annotations

import os

# grpc logs a line on every fork (subprocess) while its threads run; tests fork a lot.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")

import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import asyncpg
import httpx
import pytest
from grpc import aio
from interviewplatform.v1 import auth_service_pb2_grpc, system_service_pb2_grpc

from server.app import Platform, start_platform
from server.domain.models import Role, User
from server.security.passwords import Argon2PasswordHasher
from server.settings import Settings
from server.storage.embedded import EmbeddedPostgres, to_asyncpg_url
from server.storage.repositories import SqlUnitOfWork
from tests.factories import Api, Tenant, make_tenant
from tests.helpers import (
    DEFAULT_PASSWORD,
    EnvoyProcess,
    Stubs,
    UserFactory,
    fast_settings,
    start_envoy,
)


@contextmanager
def private_dir(prefix: str) -> Iterator[Path]:
    """A folder outside pytest's basetemp: PostgreSQL runs as another OS user when we are root,
    and a concurrent pytest session resets the basetemp to mode 0700, which would lock it out."""
    folder = Path(tempfile.mkdtemp(prefix=f"interview-platform-{prefix}-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def embedded_pg() -> Iterator[EmbeddedPostgres]:
    with private_dir("pg") as folder:
        pg = EmbeddedPostgres(folder)
        pg.start()
        yield pg
        pg.stop()


@pytest.fixture
def data_dir() -> Iterator[Path]:
    """A fresh DATA_DIR (secret key, embedded PostgreSQL) for one test."""
    with private_dir("data") as folder:
        yield folder


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
def api(channel: aio.Channel) -> Api:
    return Api(channel)


@pytest.fixture(scope="session")
async def root_token(api: Api, make_user: UserFactory) -> str:
    """A super admin's access token."""
    admin = await make_user(role=Role.SUPER_ADMIN)
    return await api.token(admin.email)


@pytest.fixture
async def tenant(api: Api, root_token: str) -> Tenant:
    """A fresh company (two departments, an admin, a user per department)."""
    return await make_tenant(api, root_token)


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
    async with start_envoy(platform.port, tmp_path_factory.mktemp("envoy")) as proc:
        yield proc


@pytest.fixture
async def http(envoy: EnvoyProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=envoy.base_url, timeout=10) as client:
        yield client


