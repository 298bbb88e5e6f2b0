"""Render envoy/envoy.tmpl.yaml for a given set of ports, paths and CORS origins."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from string import Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "envoy" / "envoy.tmpl.yaml"
DESCRIPTOR = ROOT / "generated" / "interviewplatform.binpb"
SERVICES = tuple(f"interviewplatform.v1.{name}" for name in (
    "AuthService", "SystemService", "CompanyService", "DepartmentService", "UserService",
    "AuditService", "JobService", "InterviewService", "CandidateService",
    "EvaluationService", "ResumeService", "SpeechService"))


@dataclass(frozen=True)
class EnvoyParams:
    listen_port: int = 8080
    admin_port: int = 9901
    upstream_host: str = "127.0.0.1"
    upstream_port: int = 50051
    descriptor_path: str = str(DESCRIPTOR)
    cors_origins: tuple[str, ...] = ("http://localhost:3000",)
    listen_address: str = "0.0.0.0"
    admin_address: str = "127.0.0.1"


def _origin_matchers(origins: tuple[str, ...]) -> str:
    pad = " " * 28
    lines = []
    for origin in origins:
        if origin == "*":
            lines.append(f'{pad}- safe_regex: {{ regex: ".*" }}')
        else:
            lines.append(f"{pad}- exact: {json.dumps(origin)}")
    return "\n".join(lines) or f'{pad}- exact: "http://localhost"'


def render(params: EnvoyParams) -> str:
    is_ip = re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]+", params.upstream_host) is not None
    services = "\n".join(f"{' ' * 24}- {name}" for name in SERVICES)
    return Template(TEMPLATE.read_text()).substitute(
        listen_address=params.listen_address,
        listen_port=params.listen_port,
        admin_address=params.admin_address,
        admin_port=params.admin_port,
        upstream_host=params.upstream_host,
        upstream_port=params.upstream_port,
        upstream_discovery="STATIC" if is_ip else "STRICT_DNS",
        descriptor_path=params.descriptor_path,
        cors_origins=_origin_matchers(params.cors_origins),
        services=services,
    )


# The production (compose) configuration: Envoy's container reaches the server container by
# name and reads the descriptor set from a mounted volume.
PRODUCTION = EnvoyParams(upstream_host="server", upstream_port=50051,
                         descriptor_path="/etc/envoy/interviewplatform.binpb",
                         cors_origins=("https://app.example.com",), admin_address="127.0.0.1")
PRODUCTION_FILE = ROOT / "envoy" / "envoy.production.yaml"
