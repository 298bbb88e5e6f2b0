"""Foundation benchmark: the cost of the interceptor chain, Envoy, idle memory, time to ready.

Run with `make bench` (installs h2load from nghttp2-client first) or
`.venv/bin/python bench/bench_foundation.py`. See bench/README.md for what each figure means.

Everything runs on loopback, with temporary data folders, and is stopped at the end (also on
error). The load generator is h2load (C, HTTP/2): a unary gRPC call is an HTTP/2 POST of a
5-byte frame prefix + the serialized request, so h2load can drive the gRPC server directly.

Targets, each measured `--rounds` times (interleaved, pooled), `--requests` requests per round
after `--warmup` requests; every target is first checked with a real client (gRPC / httpx):

1. bare echo: a separate grpc.aio server with NO interceptors serving grpc.health.v1 Check;
2. Health/Check on the real server (the whole interceptor chain, public method, no JWT);
3. GetMe on the real server (chain + JWT check, no database);
4. GetMe through Envoy, native gRPC (h2c);
5. GetMe through Envoy, REST `GET /v1/auth/me` (HTTP/1.1, JSON transcoding);
6. GetMe on the real server again, restarted with LOG_LEVEL=INFO (one access-log line per call).

Then: idle RSS of the server process (and of the embedded PostgreSQL and Envoy), and the time
from `interview-platform run` / `make run` to "Interview Platform is up", fresh and warm.

Results: a table on stdout and var/bench/foundation.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import queue
import re
import resource
import secrets
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
OUT_DIR = ROOT / "var" / "bench"
OUT_JSON = OUT_DIR / "foundation.json"

GETME_PATH = "/interviewplatform.v1.AuthService/GetMe"
HEALTH_PATH = "/grpc.health.v1.Health/Check"
REST_ME_PATH = "/v1/auth/me"

# Targets from the issue.
MAX_CHAIN_COST = 0.30
MAX_IDLE_RSS_MB = 200.0
MAX_READY_SECONDS = 15.0

READY_TIMEOUT = 120.0  # a fresh start runs initdb + migrations; generous but bounded
STOP_TIMEOUT = 30.0
H2LOAD_TIMEOUT = 300.0

ADMIN_EMAIL = "bench-admin@example.com"
NO_PROXY = [("grpc.enable_http_proxy", 0)]  # loopback only, whatever http_proxy says


# --------------------------------------------------------------------------- bare echo server

def echo_server_main(port: int) -> int:
    """The baseline: grpc.aio + the standard Health servicer, no interceptors, same options
    as the real server."""
    from grpc import aio
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    async def main() -> None:
        server = aio.server(options=[("grpc.so_reuseport", 0),
                                     ("grpc.max_receive_message_length", 16 * 1024 * 1024)])
        servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        bound = server.add_insecure_port(f"127.0.0.1:{port}")
        if bound == 0:
            raise SystemExit(f"cannot bind 127.0.0.1:{port}")
        await server.start()
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        print(f"echo ready on {bound}", flush=True)
        await stop.wait()
        await server.stop(0.5)

    asyncio.run(main())
    return 0


# --------------------------------------------------------------------------- helpers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def grpc_frame(message: bytes) -> bytes:
    return struct.pack(">BI", 0, len(message)) + message


def vm_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def proc_tree_memory_mb(pid: int) -> dict[str, float] | None:
    """RSS and USS (memory unique to the processes) of a process and its children, in MB.
    RSS double-counts shared memory (PostgreSQL's shared buffers) across processes."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        rss = uss = 0
        for p in procs:
            with contextlib.suppress(psutil.Error):
                info = p.memory_full_info()
                rss += info.rss
                uss += info.uss
        return {"processes": len(procs), "rss_mb": rss / 2**20, "uss_mb": uss / 2**20}
    except psutil.Error:
        return None


def cpu_seconds(pid: int) -> float:
    import psutil

    try:
        t = psutil.Process(pid).cpu_times()
        return float(t.user + t.system)
    except psutil.Error:
        return math.nan


def postmaster_pid(data_dir: Path) -> int | None:
    pidfile = data_dir / "postgres" / "postmaster.pid"
    try:
        return int(pidfile.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


def stop_leftover_postgres(data_dir: Path) -> bool:
    """If the embedded PostgreSQL of this data folder still runs (its owner was killed), stop
    it by its pid (fast shutdown). Returns True when one had to be stopped."""
    import psutil

    pid = postmaster_pid(data_dir)
    if pid is None:
        return False
    pgdata = str((data_dir / "postgres").resolve())
    try:
        proc = psutil.Process(pid)
        if proc.name() != "postgres" or pgdata not in " ".join(proc.cmdline()):
            return False
        proc.send_signal(signal.SIGINT)
        proc.wait(15)
    except psutil.TimeoutExpired:
        with contextlib.suppress(psutil.Error):
            psutil.Process(pid).kill()
    except psutil.Error:
        return False
    return True


def machine_info() -> dict[str, Any]:
    import psutil

    cpu_model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    h2load = shutil.which("h2load")
    version = ""
    if h2load:
        version = subprocess.run([h2load, "--version"], capture_output=True, text=True,
                                 timeout=10, check=False).stdout.strip()
    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_total_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "h2load": version,
    }


class Proc:
    """A child process with its output in a log file; stopped by its own pid."""

    def __init__(self, name: str, args: list[str], log_dir: Path, *,
                 env: dict[str, str] | None = None, new_session: bool = False,
                 stdout_pipe: bool = False, stdout_file: Path | None = None) -> None:
        self.name = name
        self.log_path = log_dir / (re.sub(r"[^A-Za-z0-9.-]+", "-", name).strip("-") + ".log")
        self._log: IO[bytes] = self.log_path.open("wb")
        self._out: IO[bytes] | None = stdout_file.open("ab") if stdout_file else None
        self.new_session = new_session
        self.lines: queue.Queue[str] = queue.Queue()
        stdout: int | IO[bytes] = self._out or self._log
        self.popen = subprocess.Popen(
            args, cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if stdout_pipe else stdout, stderr=self._log,
            start_new_session=new_session)
        if stdout_pipe:
            threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self) -> None:
        assert self.popen.stdout is not None
        for raw in self.popen.stdout:
            self._log.write(raw)
            self._log.flush()
            self.lines.put(raw.decode(errors="replace"))

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def wait_line(self, needle: str, timeout: float) -> str | None:
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                if not self.alive() and self.lines.empty():
                    return None
                continue
            if needle in line:
                return line
        return None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> float:
        """Signal, wait (bounded), kill if needed; returns the seconds it took."""
        started = time.monotonic()
        if self.alive():
            self._signal(sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                print(f"  ! {self.name} did not stop within {timeout:.0f} s, killing it",
                      file=sys.stderr)
                self._signal(signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.popen.wait(timeout=10)
        self._log.close()
        if self._out is not None:
            self._out.close()
        return time.monotonic() - started

    def _signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if self.new_session:
                os.killpg(self.popen.pid, sig)  # the group we created: make, run, server, envoy
            else:
                self.popen.send_signal(sig)

    def tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return ""


# --------------------------------------------------------------------------- load (h2load)

@dataclass
class LoadResult:
    name: str
    target: str
    requests: int
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    succeeded: int
    failed: int
    errored: int
    status_2xx: int
    data_bytes: int
    expected_data_bytes: int | None
    grpc_ok_checked: str
    ok: bool
    server_cpu_us_per_req: float | None = None
    envoy_cpu_us_per_req: float | None = None
    h2load_cpu_us_per_req: float | None = None
    concurrency: str = ""
    rounds_rps: list[float] = field(default_factory=list)
    loadavg_1m: float | None = None
    foreign_cpu_cores: float | None = None
    steal_cores: float | None = None
    notes: list[str] = field(default_factory=list)


H2_REQUESTS = re.compile(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                         r"(\d+) failed, (\d+) errored, (\d+) timeout")
H2_STATUS = re.compile(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx")
H2_TRAFFIC = re.compile(r"traffic: .*?\((\d+)\) total, .*?\((\d+)\) headers.*?, .*?\((\d+)\) data")
H2_FINISHED = re.compile(r"finished in [\d.]+\w+, ([\d.]+) req/s")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


@dataclass
class LoadSpec:
    name: str
    url: str
    headers: list[str]
    body: Path | None
    h1: bool
    clients: int
    streams: int
    expected_frame_len: int | None  # bytes of DATA per OK gRPC response (None for REST)


def run_h2load(spec: LoadSpec, requests: int, log_file: Path | None) -> str:
    h2load = shutil.which("h2load")
    if h2load is None:
        raise SystemExit("h2load not found: apt-get install nghttp2-client (make bench does it)")
    args = [h2load, "-n", str(requests), "-c", str(spec.clients), "-m", str(spec.streams),
            "-t", "1"]
    for header in spec.headers:
        args += ["-H", header]
    if spec.body is not None:
        args += ["-d", str(spec.body)]
    if spec.h1:
        args.append("--h1")
    if log_file is not None:
        args += ["--log-file", str(log_file)]
    args.append(spec.url)
    done = subprocess.run(args, capture_output=True, text=True, timeout=H2LOAD_TIMEOUT,
                          check=False)
    if done.returncode != 0 or "finished in" not in done.stdout:
        raise RuntimeError(f"h2load failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def read_latencies_ms(log_file: Path) -> list[float]:
    """h2load --log-file rows: start (us since epoch), HTTP status, response time (us)."""
    times: list[float] = []
    for line in log_file.read_text().splitlines():
        cols = line.split("\t")
        if len(cols) >= 3:
            times.append(int(cols[2]) / 1000.0)
    times.sort()
    return times


def check_envoy_log(envoy_log: Path, offset: int, since: float, url: str, want: int
                    ) -> tuple[str, bool, str | None]:
    """Count grpc_status of the Envoy access-log lines for this path, written after offset, of
    requests started at or after `since` (epoch seconds). Envoy flushes its access log in the
    background: wait (bounded) for all lines."""
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]
    counts: dict[str, int] = {}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        counts = envoy_grpc_status_counts(envoy_log, offset, path, since)
        if sum(counts.values()) >= want:
            break
        time.sleep(0.25)
    grpc_ok = counts.get("OK", 0)
    if grpc_ok != want:
        return (f"+envoy-log {grpc_ok}/{want} OK", False,
                f"Envoy access log for {path}: grpc_status counts {counts}, expected {want} OK")
    return f"+envoy-log {grpc_ok}/{want} OK", True, None


def system_cpu_seconds() -> tuple[float, float]:
    """Busy and steal CPU-seconds of the whole machine since boot (all CPUs, /proc/stat)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    tick = os.sysconf("SC_CLK_TCK")
    return (user + nice + system + irq + softirq) / tick, steal / tick


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def measure(spec: LoadSpec, *, requests: int, warmup: int, work: Path,
            cpu_pids: dict[str, int], envoy_log: Path | None = None,
            round_no: int = 1) -> tuple[LoadResult, list[float]]:
    """One measured h2load run (after a warm-up run); returns the result and the sorted
    per-request latencies in ms."""
    envoy_offset = envoy_log.stat().st_size if envoy_log is not None else 0
    since = time.time() - 0.001  # Envoy logs start times in ms
    if warmup:
        run_h2load(spec, warmup, None)
    log_file = work / f"h2load-{spec.name}-{round_no}.tsv"
    cpu_before = {k: cpu_seconds(pid) for k, pid in cpu_pids.items()}
    client_before = children_cpu_seconds()
    busy_before, steal_before = system_cpu_seconds()
    wall_before = time.monotonic()
    out = run_h2load(spec, requests, log_file)
    wall = time.monotonic() - wall_before
    busy_after, steal_after = system_cpu_seconds()
    client_cpu = children_cpu_seconds() - client_before
    cpu_after = {k: cpu_seconds(pid) for k, pid in cpu_pids.items()}
    ours = client_cpu + sum(cpu_after[k] - cpu_before[k] for k in cpu_pids)
    # CPU used meanwhile by anything else on the machine (other jobs, kernel, our bench
    # process), in cores; and time stolen by the hypervisor.
    foreign_cores = max(0.0, (busy_after - busy_before) - ours) / wall
    steal_cores = (steal_after - steal_before) / wall

    req = H2_REQUESTS.search(out)
    status = H2_STATUS.search(out)
    traffic = H2_TRAFFIC.search(out)
    finished = H2_FINISHED.search(out)
    if not (req and status and traffic and finished):
        raise RuntimeError(f"cannot parse h2load output:\n{out}")
    done, succeeded, failed, errored = (int(req.group(i)) for i in (3, 4, 5, 6))
    s2xx = int(status.group(1))
    data_bytes = int(traffic.group(3))

    times = read_latencies_ms(log_file)
    notes: list[str] = []
    expected: int | None = None
    ok = done == requests and s2xx == requests and failed == 0 and errored == 0
    if spec.expected_frame_len is not None:
        # A gRPC error is "trailers-only" (HTTP 200, no DATA): if every one of the N responses
        # carried exactly the OK message, the DATA byte count is N x the OK frame length.
        expected = requests * spec.expected_frame_len
        grpc_check = "data-bytes" if data_bytes == expected else "MISMATCH"
        ok = ok and data_bytes == expected
        if data_bytes != expected:
            notes.append(f"DATA bytes {data_bytes} != {expected}: some calls were not gRPC OK")
    else:
        grpc_check = "http-2xx"
    if envoy_log is not None:
        summary, envoy_ok, note = check_envoy_log(envoy_log, envoy_offset, since, spec.url,
                                                  requests + warmup)
        grpc_check += summary
        ok = ok and envoy_ok
        notes += [note] if note else []
    if len(times) != requests:
        notes.append(f"log file has {len(times)} rows for {requests} requests")

    per_req = {k: (cpu_after[k] - cpu_before[k]) * 1e6 / requests for k in cpu_pids}
    rps = float(finished.group(1))
    result = LoadResult(
        name=spec.name, target=spec.url, requests=requests, rps=rps,
        p50_ms=percentile(times, 0.50), p90_ms=percentile(times, 0.90),
        p99_ms=percentile(times, 0.99), max_ms=times[-1] if times else math.nan,
        mean_ms=sum(times) / len(times) if times else math.nan,
        succeeded=succeeded, failed=failed, errored=errored, status_2xx=s2xx,
        data_bytes=data_bytes, expected_data_bytes=expected, grpc_ok_checked=grpc_check, ok=ok,
        server_cpu_us_per_req=per_req.get("server"), envoy_cpu_us_per_req=per_req.get("envoy"),
        h2load_cpu_us_per_req=client_cpu * 1e6 / requests,
        concurrency=f"{'h1 ' if spec.h1 else 'h2 '}c={spec.clients} m={spec.streams}",
        rounds_rps=[rps], loadavg_1m=os.getloadavg()[0], foreign_cpu_cores=foreign_cores,
        steal_cores=steal_cores, notes=notes)
    return result, times


def pool(results: list[tuple[LoadResult, list[float]]]) -> LoadResult:
    """Several rounds of one target as one result: throughput = all requests / all time,
    percentiles over all latencies."""
    if len(results) == 1:
        return results[0][0]
    rs = [r for r, _ in results]
    times = sorted(t for _, ts in results for t in ts)
    total = sum(r.requests for r in rs)
    seconds = sum(r.requests / r.rps for r in rs)

    def avg(attr: str) -> float | None:
        values = [getattr(r, attr) for r in rs]
        if any(v is None for v in values):
            return None
        return sum(v * r.requests for v, r in zip(values, rs, strict=True)) / total

    first = rs[0]
    return LoadResult(
        name=first.name, target=first.target, requests=total, rps=total / seconds,
        p50_ms=percentile(times, 0.50), p90_ms=percentile(times, 0.90),
        p99_ms=percentile(times, 0.99), max_ms=times[-1], mean_ms=sum(times) / len(times),
        succeeded=sum(r.succeeded for r in rs), failed=sum(r.failed for r in rs),
        errored=sum(r.errored for r in rs), status_2xx=sum(r.status_2xx for r in rs),
        data_bytes=sum(r.data_bytes for r in rs),
        expected_data_bytes=None if first.expected_data_bytes is None
        else sum(r.expected_data_bytes or 0 for r in rs),
        grpc_ok_checked=" ".join(sorted({r.grpc_ok_checked for r in rs})),
        ok=all(r.ok for r in rs), server_cpu_us_per_req=avg("server_cpu_us_per_req"),
        envoy_cpu_us_per_req=avg("envoy_cpu_us_per_req"),
        h2load_cpu_us_per_req=avg("h2load_cpu_us_per_req"), concurrency=first.concurrency,
        rounds_rps=[r.rps for r in rs], loadavg_1m=max(r.loadavg_1m or 0 for r in rs),
        foreign_cpu_cores=avg("foreign_cpu_cores"), steal_cores=avg("steal_cores"),
        notes=[n for r in rs for n in r.notes])


def envoy_grpc_status_counts(path: Path, offset: int, request_path: str,
                             since: float) -> dict[str, int]:
    counts: dict[str, int] = {}
    with path.open("rb") as f:
        f.seek(offset)
        for raw in f:
            try:
                entry = json.loads(raw)
            except ValueError:
                continue
            if entry.get("path") != request_path:
                continue
            with contextlib.suppress(ValueError, TypeError):
                if datetime.fromisoformat(entry["time"]).timestamp() < since:
                    continue
            key = str(entry.get("grpc_status"))
            counts[key] = counts.get(key, 0) + 1
    return counts


# --------------------------------------------------------------------------- the real stack

@dataclass
class Stack:
    data_dir: Path
    grpc_port: int
    server: Proc
    envoy: Proc | None = None
    envoy_port: int = 0
    envoy_log: Path | None = None


def server_env(data_dir: Path, grpc_port: int, secret: str, password: str,
               log_level: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update({
        "DATA_DIR": str(data_dir), "GRPC_HOST": "127.0.0.1", "GRPC_PORT": str(grpc_port),
        "SECRET_KEY": secret, "BOOTSTRAP_ADMIN_EMAIL": ADMIN_EMAIL,
        "BOOTSTRAP_ADMIN_PASSWORD": password, "LOG_LEVEL": log_level,
        "ACCESS_TOKEN_EXPIRE_MINUTES": "120", "SHUTDOWN_GRACE_SECONDS": "2",
        "ENVIRONMENT": "development", "PYTHONUNBUFFERED": "1",
    })
    return env


def wait_grpc_serving(port: int, proc: Proc, timeout: float) -> float:
    """Poll Health/Check until SERVING; returns seconds waited."""
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    started = time.monotonic()
    deadline = started + timeout
    with grpc.insecure_channel(f"127.0.0.1:{port}", options=NO_PROXY) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            if not proc.alive():
                raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
            try:
                resp = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if resp.status == health_pb2.HealthCheckResponse.SERVING:
                    return time.monotonic() - started
            except grpc.RpcError:
                pass
            time.sleep(0.1)
    raise RuntimeError(f"{proc.name} not serving after {timeout:.0f} s:\n{proc.tail()}")


def wait_http_200(url: str, proc: Proc, timeout: float) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not proc.alive():
            raise RuntimeError(f"{proc.name} exited:\n{proc.tail()}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1, trust_env=False).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not 200 after {timeout:.0f} s:\n{proc.tail()}")


def start_server(name: str, data_dir: Path, *, secret: str, password: str, log_level: str,
                 work: Path) -> Stack:
    port = free_port()
    env = server_env(data_dir, port, secret, password, log_level)
    proc = Proc(name, [str(BIN / "interview-platform"), "serve"], work, env=env)
    wait_grpc_serving(port, proc, READY_TIMEOUT)
    return Stack(data_dir=data_dir, grpc_port=port, server=proc)


def start_envoy(stack: Stack, work: Path) -> None:
    from server.envoy_config import EnvoyParams, render

    port, admin = free_port(), free_port()
    config = work / "envoy.yaml"
    config.write_text(render(EnvoyParams(listen_port=port, admin_port=admin,
                                         upstream_port=stack.grpc_port,
                                         listen_address="127.0.0.1")))
    envoy_bin = shutil.which("envoy") or str(BIN / "envoy")
    access_log = work / "envoy-access.log"
    # Like `make run` (server/stack.py): the access log goes to stdout, into a file.
    proc = Proc("envoy", [envoy_bin, "-c", str(config), "--log-level", "warn",
                          "--base-id", str(admin)], work, stdout_file=access_log)
    stack.envoy, stack.envoy_port, stack.envoy_log = proc, port, access_log
    wait_http_200(f"http://127.0.0.1:{port}/health", proc, 30)


def stop_stack(stack: Stack) -> None:
    if stack.envoy is not None:
        stack.envoy.stop(signal.SIGTERM, 10)
    stack.server.stop(signal.SIGTERM, STOP_TIMEOUT)
    if stop_leftover_postgres(stack.data_dir):
        print(f"  ! embedded PostgreSQL of {stack.data_dir} was left running; stopped it",
              file=sys.stderr)


def login(port: int, password: str) -> str:
    import grpc
    from interviewplatform.v1 import auth_service_pb2, auth_service_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}", options=NO_PROXY) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        resp = stub.Login(auth_service_pb2.LoginRequest(email=ADMIN_EMAIL, password=password),
                          timeout=30)
        token: str = resp.tokens.access_token
        return token


def verify_getme_grpc(port: int, token: str) -> int:
    """One GetMe with a real gRPC client; returns the OK response frame length."""
    import grpc
    from interviewplatform.v1 import auth_service_pb2, auth_service_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}", options=NO_PROXY) as channel:
        stub = auth_service_pb2_grpc.AuthServiceStub(channel)
        resp = stub.GetMe(auth_service_pb2.GetMeRequest(),
                          metadata=(("authorization", f"Bearer {token}"),), timeout=10)
        if resp.email != ADMIN_EMAIL:
            raise RuntimeError(f"GetMe on :{port} returned {resp!r}")
        # A missing token must fail, or the load would measure the wrong thing.
        try:
            stub.GetMe(auth_service_pb2.GetMeRequest(), timeout=10)
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.UNAUTHENTICATED:
                raise
        else:
            raise RuntimeError("GetMe without a token succeeded")
        return len(grpc_frame(resp.SerializeToString()))


def verify_health_grpc(port: int) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(f"127.0.0.1:{port}", options=NO_PROXY) as channel:
        resp = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(),
                                                         timeout=10)
        if resp.status != health_pb2.HealthCheckResponse.SERVING:
            raise RuntimeError(f"Health/Check on :{port}: {resp!r}")
        return len(grpc_frame(resp.SerializeToString()))


def verify_getme_rest(port: int, token: str) -> None:
    import httpx

    r = httpx.get(f"http://127.0.0.1:{port}{REST_ME_PATH}",
                  headers={"authorization": f"Bearer {token}"}, timeout=10, trust_env=False)
    if r.status_code != 200 or r.json().get("email") != ADMIN_EMAIL:
        raise RuntimeError(f"REST GetMe: {r.status_code} {r.text[:300]}")
    r = httpx.get(f"http://127.0.0.1:{port}{REST_ME_PATH}", timeout=10, trust_env=False)
    if r.status_code != 401:
        raise RuntimeError(f"REST GetMe without token answered {r.status_code}, expected 401")


# --------------------------------------------------------------------------- time to ready

@dataclass
class StartupResult:
    name: str
    command: str
    data_dir_state: str
    ready_s: float | None
    self_reported_s: float | None
    stop_s: float
    ok: bool
    note: str = ""


def time_run_to_ready(name: str, command: list[str], data_dir: Path, state: str,
                      work: Path) -> StartupResult:
    env = {k: v for k, v in os.environ.items()
           if k not in {"DATABASE_URL", "SECRET_KEY", "LOG_LEVEL", "BOOTSTRAP_ADMIN_EMAIL",
                        "BOOTSTRAP_ADMIN_PASSWORD", "GRPC_HOST", "ENVIRONMENT"}}
    env.update({"DATA_DIR": str(data_dir), "HTTP_PORT": str(free_port()),
                "GRPC_PORT": str(free_port()), "ENVOY_ADMIN_PORT": str(free_port()),
                "PYTHONUNBUFFERED": "1"})
    started = time.monotonic()
    proc = Proc(name, command, work, env=env, new_session=True, stdout_pipe=True)
    line: str | None = None
    try:
        line = proc.wait_line("Interview Platform is up", READY_TIMEOUT)
        ready = time.monotonic() - started
    finally:
        # Ctrl-C in a terminal: SIGINT to the whole foreground group.
        stop_s = proc.stop(signal.SIGINT, STOP_TIMEOUT)
        if stop_leftover_postgres(data_dir):
            print(f"  ! embedded PostgreSQL of {data_dir} was left running; stopped it",
                  file=sys.stderr)
    if line is None:
        return StartupResult(name, " ".join(command), state, None, None, stop_s, False,
                             f"not ready; log tail:\n{proc.tail()}")
    reported = re.search(r"\(([\d.]+) s\)", line)
    return StartupResult(name, " ".join(Path(c).name if i == 0 else c
                                        for i, c in enumerate(command)),
                         state, ready, float(reported.group(1)) if reported else None,
                         stop_s, True)


# --------------------------------------------------------------------------- report

def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    cfg = report["config"]
    print()
    print("=" * 118)
    print(f"Foundation benchmark  ({m['nproc']} CPUs, {m['cpu_model']}, "
          f"{m['memory_total_gb']} GB RAM, {m['h2load']})")
    print(f"{cfg['requests']} requests per round after {cfg['warmup']} warm-up requests; "
          f"h2load -t 1; {cfg['rounds']} interleaved rounds pooled")
    print("=" * 118)
    head = (f"{'target':<44} {'load':<13} {'req/s':>7} {'rounds':>13} {'p50 ms':>7} "
            f"{'p99 ms':>7} {'srv us/req':>10} {'other CPU':>9} {'check':>5}")
    print(head)
    print("-" * len(head))
    for r in report["load"]:
        rounds = "/".join(f"{x / 1000:.1f}k" for x in r["rounds_rps"])
        print(f"{r['label']:<44} {r['concurrency']:<13} {fmt(r['rps'], 0):>7} {rounds:>13} "
              f"{fmt(r['p50_ms'], 2):>7} {fmt(r['p99_ms'], 2):>7} "
              f"{fmt(r['server_cpu_us_per_req'], 0):>10} {fmt(r['foreign_cpu_cores'], 2):>9} "
              f"{'OK' if r['ok'] else 'BAD':>5}")
        for note in r["notes"]:
            print(f"    ! {note}")
    print("  srv us/req: CPU time of the server process per request (Envoy rows: server only;"
          " Envoy adds its own).")
    print("  other CPU: cores busy with anything but the server, Envoy and h2load during the run"
          " (noise).")
    print()
    d = report["derived"]
    print("Derived")
    for row in d["rows"]:
        print(f"  {row}")
    print()
    mem = report["memory"]
    print("Idle memory (after start + login, before load)")
    print(f"  server process VmRSS           {fmt(mem['server_idle_rss_mb'])} MB")
    print(f"  server process VmRSS after load {fmt(mem['server_after_load_rss_mb'])} MB")
    if mem.get("postgres"):
        pg = mem["postgres"]
        print(f"  embedded PostgreSQL ({pg['processes']} procs)  RSS {fmt(pg['rss_mb'])} MB, "
              f"USS {fmt(pg['uss_mb'])} MB")
    if mem.get("envoy_rss_mb") is not None:
        print(f"  Envoy VmRSS                    {fmt(mem['envoy_rss_mb'])} MB")
    if mem.get("echo_rss_mb") is not None:
        print(f"  bare echo server VmRSS         {fmt(mem['echo_rss_mb'])} MB")
    print()
    print("Time to ready (until 'Interview Platform is up')")
    for s in report["startup"]:
        print(f"  {s['name']:<40} {s['data_dir_state']:<26} "
              f"{fmt(s['ready_s'], 2):>6} s  (self-reported {fmt(s['self_reported_s'])} s, "
              f"stop {fmt(s['stop_s'])} s)")
        if s["note"]:
            print(f"    ! {s['note']}")
    print()
    print("Targets")
    for t in report["targets"]:
        print(f"  {verdict(t['pass']):<5} {t['name']}: {t['value']} (target {t['target']})")
    print()
    print(f"JSON: {OUT_JSON.relative_to(ROOT)}   logs: {report['logs']}")


# --------------------------------------------------------------------------- main

@dataclass
class Target:
    label: str
    spec: LoadSpec
    pids: dict[str, int]  # processes whose CPU time is charged per request
    envoy_log: Path | None = None


class Bench:
    """One run: the processes it started (stopped in close()) and the results so far."""

    def __init__(self, args: argparse.Namespace, tmp: Path, log_dir: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.log_dir = log_dir
        self.procs: list[Proc] = []
        self.stacks: list[Stack] = []
        self.load: list[tuple[str, LoadResult]] = []
        self.memory: dict[str, Any] = {}
        self.startup: list[StartupResult] = []
        self.secret = secrets.token_urlsafe(48)
        self.password = secrets.token_urlsafe(18)
        self.body = tmp / "empty-request.bin"
        self.body.write_bytes(grpc_frame(b""))  # HealthCheckRequest(), GetMeRequest(): empty
        self.grpc_headers = ["content-type: application/grpc", "te: trailers"]

    def close(self) -> None:
        for stack in reversed(self.stacks):
            with contextlib.suppress(Exception):
                stop_stack(stack)
        self.stacks.clear()
        for p in self.procs:
            with contextlib.suppress(Exception):
                p.stop(signal.SIGTERM, 10)
        self.procs.clear()

    def grpc_spec(self, name: str, port: int, path: str, expected: int,
                  auth: str | None = None) -> LoadSpec:
        headers = [*self.grpc_headers, *([auth] if auth else [])]
        return LoadSpec(name, f"http://127.0.0.1:{port}{path}", headers, self.body, False,
                        self.args.clients, self.args.streams, expected)

    def measure(self, targets: list[Target]) -> list[LoadResult]:
        """Each target `--rounds` times, interleaved (A B C A B C) so that a slow period of
        the machine does not land on one target only; rounds are pooled."""
        runs: dict[str, list[tuple[LoadResult, list[float]]]] = {t.spec.name: [] for t in targets}
        for round_no in range(1, self.args.rounds + 1):
            for t in targets:
                print(f"  load [{round_no}/{self.args.rounds}]: {t.label} ...", flush=True)
                res, times = measure(t.spec, requests=self.args.requests,
                                     warmup=self.args.warmup, work=self.log_dir,
                                     cpu_pids=t.pids, envoy_log=t.envoy_log, round_no=round_no)
                runs[t.spec.name].append((res, times))
                print(f"    {res.rps:,.0f} req/s  p50 {res.p50_ms:.2f} ms  p99 {res.p99_ms:.2f} ms"
                      f"  server {fmt(res.server_cpu_us_per_req, 0)} us/req"
                      f"  [{res.grpc_ok_checked}]{'' if res.ok else '  NOT OK'}", flush=True)
        pooled = []
        for t in targets:
            res = pool(runs[t.spec.name])
            self.load.append((t.label, res))
            pooled.append(res)
        return pooled

    def start_targets(self, data_dir: Path) -> tuple[Proc, int, Stack]:
        print("starting the bare echo server, the server (LOG_LEVEL=WARNING) and Envoy ...",
              flush=True)
        echo_port = free_port()
        echo = Proc("echo-server", [sys.executable, str(Path(__file__).resolve()),
                                    "--echo-server", str(echo_port)], self.log_dir)
        self.procs.append(echo)
        t0 = time.monotonic()
        stack = start_server("server-warning", data_dir, secret=self.secret,
                             password=self.password, log_level="WARNING", work=self.log_dir)
        self.stacks.append(stack)
        print(f"  server serving after {time.monotonic() - t0:.1f} s (fresh DATA_DIR)",
              flush=True)
        start_envoy(stack, self.log_dir)
        wait_grpc_serving(echo_port, echo, 30)
        return echo, echo_port, stack

    def verify(self, echo_port: int, stack: Stack) -> tuple[str, int, int]:
        """Real clients first: each target must answer OK (h2load only sees HTTP 200)."""
        token = login(stack.grpc_port, self.password)
        health_len = verify_health_grpc(echo_port)
        if verify_health_grpc(stack.grpc_port) != health_len:
            raise RuntimeError("Health/Check responses differ between echo and server")
        getme_len = verify_getme_grpc(stack.grpc_port, token)
        if verify_getme_grpc(stack.envoy_port, token) != getme_len:
            raise RuntimeError("GetMe through Envoy differs from direct")
        verify_getme_rest(stack.envoy_port, token)
        print("  verified: Health/Check (echo, server), GetMe (direct, Envoy gRPC, Envoy REST) "
              "answer OK; GetMe without a token answers UNAUTHENTICATED / 401", flush=True)
        return token, health_len, getme_len

    def read_idle_memory(self, echo: Proc, stack: Stack) -> None:
        time.sleep(self.args.settle)
        assert stack.envoy is not None
        self.memory["server_idle_rss_mb"] = vm_rss_mb(stack.server.pid)
        self.memory["envoy_rss_mb"] = vm_rss_mb(stack.envoy.pid)
        self.memory["echo_rss_mb"] = vm_rss_mb(echo.pid)
        pm = postmaster_pid(stack.data_dir)
        self.memory["postgres"] = proc_tree_memory_mb(pm) if pm else None

    def load_phase(self) -> None:
        data_dir = self.tmp / "data"
        echo, echo_port, stack = self.start_targets(data_dir)
        token, health_len, getme_len = self.verify(echo_port, stack)
        self.read_idle_memory(echo, stack)
        assert stack.envoy is not None
        auth = f"authorization: Bearer {token}"
        direct = {"server": stack.server.pid}
        via_envoy = {"server": stack.server.pid, "envoy": stack.envoy.pid}
        port, eport = stack.grpc_port, stack.envoy_port
        rest = LoadSpec("getme-envoy-rest", f"http://127.0.0.1:{eport}{REST_ME_PATH}", [auth],
                        None, True, self.args.clients * self.args.streams, 1, None)
        self.measure([
            # The baseline carries the same authorization header as GetMe: decoding ~430
            # header bytes is transport cost, not interceptor cost.
            Target("bare echo: Health/Check, no interceptors, same headers",
                   self.grpc_spec("echo", echo_port, HEALTH_PATH, health_len, auth),
                   {"server": echo.pid}),
            Target("bare echo, without the authorization header",
                   self.grpc_spec("echo-noauth", echo_port, HEALTH_PATH, health_len),
                   {"server": echo.pid}),
            Target("server Health/Check direct (full chain)",
                   self.grpc_spec("health-direct", port, HEALTH_PATH, health_len), direct),
            Target("GetMe direct (chain + JWT)",
                   self.grpc_spec("getme-direct", port, GETME_PATH, getme_len, auth), direct),
            Target("GetMe via Envoy, gRPC (h2c)",
                   self.grpc_spec("getme-envoy-grpc", eport, GETME_PATH, getme_len, auth),
                   via_envoy, stack.envoy_log),
            Target("GetMe via Envoy, REST GET /v1/auth/me (h1)", rest, via_envoy,
                   stack.envoy_log),
        ])
        self.memory["server_after_load_rss_mb"] = vm_rss_mb(stack.server.pid)
        stop_stack(stack)
        self.stacks.remove(stack)
        echo.stop()
        self.info_phase(data_dir, token, getme_len)

    def info_phase(self, data_dir: Path, token: str, getme_len: int) -> None:
        """The same GetMe with production logging: one access-log line per call."""
        print("restarting the server with LOG_LEVEL=INFO ...", flush=True)
        info = start_server("server-info", data_dir, secret=self.secret, password=self.password,
                            log_level="INFO", work=self.log_dir)
        self.stacks.append(info)
        if verify_getme_grpc(info.grpc_port, token) != getme_len:
            raise RuntimeError("GetMe (INFO server) differs")
        [res] = self.measure([Target(
            "GetMe direct, LOG_LEVEL=INFO",
            self.grpc_spec("getme-direct-info", info.grpc_port, GETME_PATH, getme_len,
                           f"authorization: Bearer {token}"),
            {"server": info.server.pid})])
        stop_stack(info)
        self.stacks.remove(info)
        text = info.server.log_path.read_text(errors="replace")
        access_ok = sum(1 for line in text.splitlines()
                        if GETME_PATH in line and re.search(r'"code":\s*"OK"', line))
        expected = self.args.rounds * (self.args.requests + self.args.warmup) + 1
        res.notes.append(f"server access log: {access_ok} GetMe lines with code OK "
                         f"(expected {expected} = load + warm-up + 1 check)")
        self.memory["server_info_log_bytes"] = len(text.encode())

    def startup_phase(self) -> None:
        run_dir = self.tmp / "run-data"
        cli = [str(BIN / "interview-platform"), "run"]
        runs = [("interview-platform run (first start)", cli, "fresh DATA_DIR"),
                ("interview-platform run (second start)", cli, "initialised DATA_DIR")]
        if shutil.which("make"):
            runs.append(("make run", ["make", "--no-print-directory", "run"],
                         "initialised DATA_DIR"))
        for name, command, state in runs:
            print(f"timing {name}, {state} ...", flush=True)
            res = time_run_to_ready(name, command, run_dir, state, self.log_dir)
            self.startup.append(res)
            print(f"    ready after {fmt(res.ready_s, 2)} s", flush=True)


def run(args: argparse.Namespace) -> int:
    if shutil.which("h2load") is None:
        print("h2load not found: apt-get install nghttp2-client (make bench does it)",
              file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    log_dir = OUT_DIR / "logs"
    shutil.rmtree(log_dir, ignore_errors=True)
    log_dir.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-foundation-"))
    started = time.monotonic()

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # run the finally blocks: stop what we started

    signal.signal(signal.SIGTERM, terminated)
    bench = Bench(args, tmp, log_dir)
    try:
        bench.load_phase()
        if not args.skip_startup:
            bench.startup_phase()
    finally:
        bench.close()
        shutil.rmtree(tmp, ignore_errors=True)

    report = build_report(args, load=bench.load, memory=bench.memory, startup=bench.startup,
                          logs=str(log_dir.relative_to(ROOT)),
                          elapsed=time.monotonic() - started)
    OUT_JSON.write_text(json.dumps(report, indent=2) + "\n")
    print_report(report)
    return 0 if all(r.ok for _, r in bench.load) else 1


def build_report(args: argparse.Namespace, *, load: list[tuple[str, LoadResult]],
                 memory: dict[str, Any], startup: list[StartupResult], logs: str,
                 elapsed: float) -> dict[str, Any]:
    by_name = {r.name: r for _, r in load}
    echo = by_name["echo"].rps
    health = by_name["health-direct"].rps
    getme = by_name["getme-direct"].rps
    chain_cost = 1 - getme / echo
    rows = [
        f"interceptor chain cost, GetMe direct vs bare echo: {chain_cost:.1%} of the echo's "
        f"throughput ({getme:,.0f} vs {echo:,.0f} req/s)",
        f"authorization header (transport) on the bare echo: "
        f"{1 - echo / by_name['echo-noauth'].rps:.1%} of its throughput"
        if "echo-noauth" in by_name else "",
        f"interceptor chain cost, server Health/Check vs bare echo (same handler): "
        f"{1 - health / echo:.1%} ({health:,.0f} vs {echo:,.0f} req/s)",
        f"GetMe handler + JWT on top of the chain (GetMe vs server Health/Check): "
        f"{1 - getme / health:.1%}",
    ]
    cpu = {k: v.server_cpu_us_per_req for k, v in by_name.items()}
    if cpu.get("echo") and cpu.get("health-direct") and cpu.get("getme-direct"):
        rows.append(
            f"server CPU per request: echo {cpu['echo']:.0f} us, Health/Check + chain "
            f"{cpu['health-direct']:.0f} us, GetMe {cpu['getme-direct']:.0f} us -> chain cost "
            f"by CPU {1 - cpu['echo'] / cpu['getme-direct']:.1%} (noise-robust cross-check)")
    if "getme-direct-info" in by_name:
        info = by_name["getme-direct-info"].rps
        rows.append(f"LOG_LEVEL=INFO vs WARNING on GetMe direct: {info:,.0f} vs {getme:,.0f} "
                    f"req/s ({1 - info / getme:.1%} lower); chain cost vs echo at INFO: "
                    f"{1 - info / echo:.1%}")
    if "getme-envoy-grpc" in by_name:
        eg = by_name["getme-envoy-grpc"]
        rows.append(f"Envoy gRPC vs direct GetMe: {eg.rps:,.0f} vs {getme:,.0f} req/s "
                    f"({1 - eg.rps / getme:.1%} lower), p50 {eg.p50_ms:.2f} vs "
                    f"{by_name['getme-direct'].p50_ms:.2f} ms; Envoy CPU "
                    f"{fmt(eg.envoy_cpu_us_per_req, 0)} us/req, server CPU "
                    f"{fmt(eg.server_cpu_us_per_req, 0)} us/req")
    if "getme-envoy-rest" in by_name:
        er = by_name["getme-envoy-rest"]
        rows.append(f"Envoy REST vs direct GetMe: {er.rps:,.0f} vs {getme:,.0f} req/s "
                    f"({1 - er.rps / getme:.1%} lower); Envoy CPU "
                    f"{fmt(er.envoy_cpu_us_per_req, 0)} us/req (JSON transcoding)")

    rows = [r for r in rows if r]
    targets = [{"name": "interceptor chain cost (1 - GetMe direct / bare echo req/s)",
                "value": f"{chain_cost:.1%}", "target": f"<= {MAX_CHAIN_COST:.0%}",
                "pass": chain_cost <= MAX_CHAIN_COST}]
    rss = memory.get("server_idle_rss_mb")
    targets.append({"name": "idle RSS of the server process", "value": f"{fmt(rss)} MB",
                    "target": f"<= {MAX_IDLE_RSS_MB:.0f} MB",
                    "pass": rss is not None and rss <= MAX_IDLE_RSS_MB})
    make_run = next((s for s in startup if s.name == "make run"), None) or next(
        (s for s in startup if s.data_dir_state.startswith("initialised")), None)
    if make_run is not None:
        targets.append({"name": f"time to ready, {make_run.name} on an installed checkout "
                                f"({make_run.data_dir_state})",
                        "value": f"{fmt(make_run.ready_s, 2)} s",
                        "target": f"<= {MAX_READY_SECONDS:.0f} s",
                        "pass": make_run.ready_s is not None
                        and make_run.ready_s <= MAX_READY_SECONDS})
    return {
        "benchmark": "foundation",
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "elapsed_s": round(elapsed, 1),
        "machine": machine_info(),
        "config": {"requests": args.requests, "warmup": args.warmup, "rounds": args.rounds,
                   "clients": args.clients,
                   "streams": args.streams, "h2load_threads": 1},
        "load": [{"label": label, **asdict(r)} for label, r in load],
        "derived": {"chain_cost": chain_cost, "health_chain_cost": 1 - health / echo,
                    "rows": rows},
        "memory": memory,
        "startup": [asdict(s) for s in startup],
        "targets": targets,
        "logs": logs,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20000, help="measured requests/target")
    parser.add_argument("--warmup", type=int, default=1000,
                        help="warm-up requests before each measured run")
    parser.add_argument("--rounds", type=int, default=2,
                        help="measured runs per target, interleaved and pooled")
    parser.add_argument("--clients", "-c", type=int, default=4, help="h2load connections")
    parser.add_argument("--streams", "-m", type=int, default=16,
                        help="h2load concurrent streams per connection (REST: c*m connections)")
    parser.add_argument("--settle", type=float, default=3.0,
                        help="seconds idle before reading RSS")
    parser.add_argument("--skip-startup", action="store_true", help="skip the run-time timing")
    parser.add_argument("--echo-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.echo_server is not None:
        return echo_server_main(args.echo_server)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
