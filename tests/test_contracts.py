"""The contract is the source of truth: generated/ is fresh, buf lint is clean, every RPC is
reachable over REST, and Envoy accepts the configuration."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from google.api import annotations_pb2
from google.protobuf import descriptor_pb2
from interviewplatform.v1 import (
    audit_service_pb2,
    auth_service_pb2,
    company_service_pb2,
    department_service_pb2,
    system_service_pb2,
    user_service_pb2,
)

from server.app import SERVICE_NAMES
from server.envoy_config import SERVICES, EnvoyParams, render
from server.interceptors.auth import PUBLIC_METHODS
from tests.helpers import envoy_binary

ROOT = Path(__file__).resolve().parent.parent
FILES = tuple(m.DESCRIPTOR for m in (auth_service_pb2, system_service_pb2, company_service_pb2,
                                     department_service_pb2, user_service_pb2,
                                     audit_service_pb2))


def buf_binary() -> str:
    local = ROOT / ".tools" / "node_modules" / ".bin" / "buf"
    found = str(local) if local.exists() else shutil.which("buf")
    assert found, "buf is not installed: run `make install`"
    return found


def test_generated_code_is_up_to_date() -> None:
    result = subprocess.run([sys.executable, "scripts/generate.py", "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_lint_is_clean() -> None:
    result = subprocess.run([buf_binary(), "lint"], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_buf_breaking_config_is_wire_json() -> None:
    text = (ROOT / "buf.yaml").read_text()
    assert "WIRE_JSON" in text
    result = subprocess.run([buf_binary(), "build", "-o", "/dev/null"], cwd=ROOT,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr


def test_every_rpc_has_an_http_route_and_is_served_and_transcoded() -> None:
    served = set(SERVICE_NAMES)
    assert served == set(SERVICES), "Envoy must transcode exactly the services we serve"
    for file in FILES:
        for service in file.services_by_name.values():
            assert service.full_name in served
            for method in service.methods:
                proto = descriptor_pb2.MethodDescriptorProto()
                method.CopyToProto(proto)
                rule = proto.options.Extensions[annotations_pb2.http]
                assert rule.WhichOneof("pattern"), f"{method.full_name} has no google.api.http"


def test_public_methods_are_listed_explicitly_and_exist() -> None:
    ours = {f"/{s.full_name}/{m.name}" for f in FILES for s in f.services_by_name.values()
            for m in s.methods}
    assert {m for m in PUBLIC_METHODS if m.startswith("/interviewplatform.")} <= ours
    assert "/interviewplatform.v1.AuthService/GetMe" not in PUBLIC_METHODS


def test_descriptor_set_has_services_and_error_types() -> None:
    fds = descriptor_pb2.FileDescriptorSet.FromString(
        (ROOT / "generated" / "interviewplatform.binpb").read_bytes())
    names = {f.name for f in fds.file}
    assert {"interviewplatform/v1/auth_service.proto", "interviewplatform/v1/system_service.proto",
            "google/rpc/status.proto", "google/rpc/error_details.proto"} <= names


def test_envoy_accepts_the_rendered_config(tmp_path: Path) -> None:
    config = tmp_path / "envoy.yaml"
    config.write_text(render(EnvoyParams(listen_port=18080, admin_port=19901,
                                         cors_origins=("http://a.test", "*"))))
    result = subprocess.run([envoy_binary(), "--mode", "validate", "-c", str(config)],
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "OK" in result.stdout + result.stderr
