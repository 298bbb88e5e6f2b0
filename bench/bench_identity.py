"""Identity benchmark: ListUsers keyset paging from 1k to 100k users, and the cost of the
per-call session (authorization) check on GetMe against the foundation code.

Run with `.venv/bin/python bench/bench_identity.py` (h2load from nghttp2-client must be
installed). See bench/IDENTITY.md for the method and the last results.

Targets from the identity issue:

1. ListUsers p50 at 100k users within 1.3x of the p50 at 1k users (keyset + indexes).
   One server with a fresh DATA_DIR; a company + department (and a second "other tenant"
   company) are created through the API, users are bulk-inserted straight into the embedded
   PostgreSQL (Unix socket under DATA_DIR/postgres), then VACUUM ANALYZE. Variants, each at 1k
   and at 100k users in the company: company admin first page, company admin deep page (a
   next_page_token from the middle), company admin with an email_prefix filter, department
   user first page, super admin first page across all companies. Load: h2load with the framed
   ListUsersRequest as the body. EXPLAIN (ANALYZE, BUFFERS) of the server's own query (built
   with SqlUserRepository.list) shows the plans, custom and generic.
2. The authorization check adds <= 10 % to GetMe throughput compared with the foundation.
   The foundation commit ("Chain in one interceptor ...") runs from a temporary git worktree
   with this venv's python (PYTHONPATH=WORKTREE:WORKTREE/generated, checked: it serves no
   CompanyService). GetMe is driven exactly as bench_foundation does (-c 4 -m 16, 20000
   requests after 1000 warm-up, 2 interleaved rounds) on: foundation, current, and current
   with SESSION_CHECK_SECONDS=0 (a database query on every call, for information).

Every answer is checked (real gRPC client first, then the DATA byte count of every h2load
run). Everything runs on 127.0.0.1 with temporary data folders and is stopped at the end,
including the embedded PostgreSQL servers and the git worktree, also on error and SIGTERM.
Results: a table on stdout and var/bench/identity.json; logs in var/bench/identity-logs/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import math
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _load_foundation() -> Any:
    """bench_foundation.py as a module, whatever the working directory or how we were run."""
    spec = importlib.util.spec_from_file_location("bench_foundation",
                                                  HERE / "bench_foundation.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_foundation"] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


bf = _load_foundation()

ROOT: Path = bf.ROOT
OUT_DIR: Path = bf.OUT_DIR
OUT_JSON = OUT_DIR / "identity.json"
LOG_DIR = OUT_DIR / "identity-logs"
GRPCURL = bf.BIN / "grpcurl"

LIST_PATH = "/interviewplatform.v1.UserService/ListUsers"
GETME_PATH = bf.GETME_PATH
FOUNDATION_SUBJECT = "Chain in one interceptor"
FOUNDATION_README_GETME_RPS = 7681.0  # bench/README.md, "GetMe direct (chain + JWT)"

# Targets from the issue.
MAX_LIST_P50_RATIO = 1.3
MAX_AUTH_OVERHEAD = 0.10

DB_NAME = "interview_platform"
EMAIL_PREFIX = "user0001"  # matches user000100..user000199: 100 users at every scale
PAGE_SIZE = 50
WALK_PAGE_SIZE = 500
FAKE_HASH = "$argon2id$v=19$m=65536,t=3,p=4$YmVuY2htYXJr$bm90LWEtcmVhbC1wYXNzd29yZC1oYXNo"


# --------------------------------------------------------------------------- PostgreSQL

def pg_socket(data_dir: Path) -> tuple[str, int]:
    """postmaster.pid lines: pid, data dir, start time, port, socket dir, listen address, ..."""
    lines = (data_dir / "postgres" / "postmaster.pid").read_text().splitlines()
    socket_dir = lines[4].strip() if len(lines) > 4 and lines[4].strip() else str(
        (data_dir / "postgres").resolve())
    return socket_dir, int(lines[3])


async def pg_connect(data_dir: Path) -> Any:
    import asyncpg

    host, port = pg_socket(data_dir)
    return await asyncpg.connect(host=host, port=port, user="postgres", database=DB_NAME,
                                 timeout=30, command_timeout=600)


def pg_tree_cpu(data_dir: Path) -> float:
    """CPU seconds (user + sys) of the embedded PostgreSQL: the postmaster, the backends it has
    reaped (its children_* times: pooled connections that were closed) and the live ones."""
    import psutil

    pid = bf.postmaster_pid(data_dir)
    if pid is None:
        return math.nan
    try:
        root = psutil.Process(pid)
        t = root.cpu_times()
        total: float = t.user + t.system + t.children_user + t.children_system
        for p in root.children(recursive=True):
            with contextlib.suppress(psutil.Error):
                c = p.cpu_times()
                total += c.user + c.system
    except psutil.Error:
        return math.nan
    return total


BULK_INSERT = """
INSERT INTO users (email, full_name, role, company_id, department_id, password_hash, status,
                   created_at, updated_at)
SELECT $1 || lpad(i::text, 6, '0') || $2, 'Bench User ' || i, 'department_user', $3, $4, $5,
       'Active', t, t
FROM (SELECT i, $6::timestamptz - random() * interval '730 days' AS t
      FROM generate_series($7::int, $8::int) AS i) AS s
"""


async def bulk_insert(data_dir: Path, batches: list[dict[str, Any]], base: datetime,
                      seed: float) -> dict[str, Any]:
    """Insert users per batch (email local part prefix + number, company, department, numbers
    [first, last]); created_at spread at random over the two years before `base`. Then VACUUM
    ANALYZE (what autovacuum would do, but not in the middle of a measurement) and CHECKPOINT.
    """
    conn = await pg_connect(data_dir)
    try:
        started = time.monotonic()
        await conn.execute("SELECT setseed($1)", seed)
        inserted = 0
        for b in batches:
            if b["last"] < b["first"]:
                continue
            status = await conn.execute(BULK_INSERT, b["local"], b["domain"], b["company_id"],
                                        b["department_id"], FAKE_HASH, base, b["first"],
                                        b["last"])
            inserted += int(status.split()[-1])
        insert_s = time.monotonic() - started
        started = time.monotonic()
        await conn.execute("VACUUM (ANALYZE) users")
        await conn.execute("CHECKPOINT")
        vacuum_s = time.monotonic() - started
        rows = await conn.fetchval("SELECT count(*) FROM users")
        size = await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size('users'))")
        return {"inserted": inserted, "insert_s": round(insert_s, 2),
                "vacuum_analyze_checkpoint_s": round(vacuum_s, 2), "users_rows": rows,
                "users_total_size": size}
    finally:
        await conn.close()


def plan_summary(lines: list[str]) -> str:
    """'Limit > Index Scan using x on users' + execution time, from EXPLAIN text lines."""
    nodes: list[str] = []
    exec_ms = ""
    for line in lines:
        text = line.strip()
        if text.startswith("Execution Time"):
            exec_ms = text.split(":", 1)[1].strip()
        m = re.match(r"(?:->\s*)?([A-Z][^(]*?)\s+\(cost=", text)
        if m:
            nodes.append(m.group(1))
    return " > ".join(nodes) + (f"  [{exec_ms}]" if exec_ms else "")


def sql_literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, int):
        return str(value)
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    return "'" + text.replace("'", "''") + "'"


async def explain(data_dir: Path, sql: str, params: list[Any]) -> dict[str, Any]:
    """EXPLAIN (ANALYZE, BUFFERS) of the server's query: the custom plan (parameters known to
    the planner, what a first execution gets) and the generic plan (what PostgreSQL may switch
    to after 5 executions of a prepared statement, as asyncpg's statement cache does)."""
    conn = await pg_connect(data_dir)
    try:
        custom: list[str] = []
        for _ in range(2):  # the second run sees warm buffers, as the server does
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *params)
            custom = [r[0] for r in rows]
        await conn.execute("SET plan_cache_mode = force_generic_plan")
        await conn.execute("PREPARE bench_q AS " + sql)
        args = ", ".join(sql_literal(p) for p in params)
        generic: list[str] = []
        for _ in range(2):
            rows = await conn.fetch(f"EXPLAIN (ANALYZE, BUFFERS) EXECUTE bench_q({args})")
            generic = [r[0] for r in rows]
        await conn.execute("DEALLOCATE bench_q")
        await conn.execute("RESET plan_cache_mode")
        return {"custom": custom, "generic": generic, "custom_summary": plan_summary(custom),
                "generic_summary": plan_summary(generic)}
    finally:
        await conn.close()


def server_list_query(principal: Any, *, email_prefix: str | None, cursor: Any,
                      limit: int) -> tuple[str, list[Any]]:
    """The SQL and parameters SqlUserRepository.list sends (captured, not executed)."""
    from sqlalchemy.dialects.postgresql import asyncpg as pg_asyncpg

    from server.storage.repositories import SqlUserRepository

    class Capture:
        query: Any = None

        async def scalars(self, query: Any) -> Any:
            self.query = query

            class Empty:
                def all(self) -> list[Any]:
                    return []

            return Empty()

    cap = Capture()
    asyncio.run(SqlUserRepository(cap).list(  # type: ignore[arg-type]
        principal, company_id=None, department_id=None, status=None, email_prefix=email_prefix,
        after=cursor, limit=limit))
    compiled = cap.query.compile(dialect=pg_asyncpg.dialect())
    params = [compiled.params[name] for name in compiled.positiontup]
    return compiled.string, params


# --------------------------------------------------------------------------- API client

class Api:
    """A plain gRPC client for setup and verification (not for the load)."""

    def __init__(self, port: int) -> None:
        import grpc

        self.grpc = grpc
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}", options=bf.NO_PROXY)

    def close(self) -> None:
        self.channel.close()

    @staticmethod
    def md(token: str) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {token}"),)

    def login(self, email: str, password: str) -> str:
        from interviewplatform.v1 import auth_service_pb2 as pb
        from interviewplatform.v1 import auth_service_pb2_grpc as rpc

        resp = rpc.AuthServiceStub(self.channel).Login(
            pb.LoginRequest(email=email, password=password), timeout=60)
        token: str = resp.tokens.access_token
        return token

    def create_company(self, token: str, name: str) -> str:
        from interviewplatform.v1 import company_pb2
        from interviewplatform.v1 import company_service_pb2 as pb
        from interviewplatform.v1 import company_service_pb2_grpc as rpc

        resp = rpc.CompanyServiceStub(self.channel).CreateCompany(
            pb.CreateCompanyRequest(company=company_pb2.Company(name=name),
                                    request_id=str(uuid.uuid4())),
            metadata=self.md(token), timeout=30)
        return str(resp.company.id)

    def create_department(self, token: str, company_id: str, name: str) -> str:
        from interviewplatform.v1 import company_pb2
        from interviewplatform.v1 import department_service_pb2 as pb
        from interviewplatform.v1 import department_service_pb2_grpc as rpc

        resp = rpc.DepartmentServiceStub(self.channel).CreateDepartment(
            pb.CreateDepartmentRequest(company_id=company_id,
                                       department=company_pb2.Department(name=name),
                                       request_id=str(uuid.uuid4())),
            metadata=self.md(token), timeout=30)
        return str(resp.department.id)

    def create_user(self, token: str, *, email: str, role: int, company_id: str,
                    department_id: str, password: str) -> str:
        from interviewplatform.v1 import user_pb2
        from interviewplatform.v1 import user_service_pb2 as pb
        from interviewplatform.v1 import user_service_pb2_grpc as rpc

        resp = rpc.UserServiceStub(self.channel).CreateUser(
            pb.CreateUserRequest(user=user_pb2.User(email=email, full_name="Bench", role=role,
                                                    company_id=company_id,
                                                    department_id=department_id),
                                 password=password, request_id=str(uuid.uuid4())),
            metadata=self.md(token), timeout=60)
        return str(resp.user.id)

    def list_users(self, token: str, request: Any) -> tuple[Any, float]:
        from interviewplatform.v1 import user_service_pb2_grpc as rpc

        started = time.perf_counter()
        resp = rpc.UserServiceStub(self.channel).ListUsers(request, metadata=self.md(token),
                                                           timeout=60)
        return resp, (time.perf_counter() - started) * 1000


def grpc_services(port: int) -> list[str]:
    done = subprocess.run([str(GRPCURL), "-plaintext", f"127.0.0.1:{port}", "list"],
                          capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"grpcurl list failed: {done.stderr}")
    return sorted(done.stdout.split())


# --------------------------------------------------------------------------- load

@dataclass
class Pooled:
    label: str
    result: Any  # bench_foundation.LoadResult
    pg_cpu_us_per_req: float | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class LoadTarget:
    label: str
    spec: Any  # bench_foundation.LoadSpec
    stack: Any  # bench_foundation.Stack


def measure_target(t: LoadTarget, *, requests: int, warmup: int, round_no: int,
                   log_dir: Path) -> tuple[Any, list[float], float]:
    """Warm-up, then one measured h2load run (bench_foundation.measure: DATA-byte check,
    latencies from --log-file, server CPU); plus the embedded PostgreSQL's CPU."""
    if warmup:
        bf.run_h2load(t.spec, warmup, None)
    pg_before = pg_tree_cpu(t.stack.data_dir)
    res, times = bf.measure(t.spec, requests=requests, warmup=0, work=log_dir,
                            cpu_pids={"server": t.stack.server.pid}, round_no=round_no)
    pg_used = pg_tree_cpu(t.stack.data_dir) - pg_before
    # bench_foundation counts every process but the server and h2load as "other CPU"; the
    # embedded PostgreSQL serving these calls is ours.
    if res.foreign_cpu_cores is not None and not math.isnan(pg_used) and res.rps > 0:
        res.foreign_cpu_cores = max(0.0, res.foreign_cpu_cores - pg_used * res.rps / requests)
    return res, times, pg_used


def run_interleaved(targets: list[LoadTarget], *, requests: int, warmup: int, rounds: int,
                    log_dir: Path, alternate: bool) -> list[Pooled]:
    """Each target `rounds` times, interleaved (A B C, then C B A when `alternate`), pooled."""
    runs: dict[str, list[tuple[Any, list[float], float]]] = {t.spec.name: [] for t in targets}
    for round_no in range(1, rounds + 1):
        order = targets if not (alternate and round_no % 2 == 0) else list(reversed(targets))
        for t in order:
            res, times, pg_cpu = measure_target(t, requests=requests, warmup=warmup,
                                                round_no=round_no, log_dir=log_dir)
            runs[t.spec.name].append((res, times, pg_cpu))
            print(f"    [{round_no}/{rounds}] {t.label:<46} {res.rps:>8,.0f} req/s  "
                  f"p50 {res.p50_ms:6.2f} ms  p99 {res.p99_ms:6.2f} ms  "
                  f"srv {bf.fmt(res.server_cpu_us_per_req, 0)} us/req  "
                  f"pg {pg_cpu * 1e6 / requests:.0f} us/req  [{res.grpc_ok_checked}]"
                  f"{'' if res.ok else '  NOT OK'}", flush=True)
    pooled = []
    for t in targets:
        rs = runs[t.spec.name]
        res = bf.pool([(r, ts) for r, ts, _ in rs])
        pg_total = sum(pg for _, _, pg in rs)
        pooled.append(Pooled(t.label, res, pg_total * 1e6 / res.requests
                             if not math.isnan(pg_total) else None))
    return pooled


# --------------------------------------------------------------------------- the bench

def stage_name(users: int) -> str:
    """1000 -> "1k", 100000 -> "100k"."""
    return f"{users // 1000}k" if users % 1000 == 0 else str(users)


@dataclass
class Tenant:
    company_id: str
    department_id: str


@dataclass
class ListVariant:
    key: str
    label: str
    who: str  # "company_admin" | "department_user" | "super_admin"
    email_prefix: str | None = None
    deep: bool = False


VARIANTS = [
    ListVariant("ca_first", "company admin, first page", "company_admin"),
    ListVariant("ca_deep", "company admin, deep page (middle token)", "company_admin",
                deep=True),
    ListVariant("ca_prefix", f"company admin, email_prefix={EMAIL_PREFIX!r}", "company_admin",
                email_prefix=EMAIL_PREFIX),
    ListVariant("du_first", "department user, first page", "department_user"),
    ListVariant("sa_first", "super admin, first page (all companies)", "super_admin"),
]
# EXPLAIN only (no load): a prefix that matches nobody, the generic plan's worst case.
RARE_PREFIX = "zzz"
EXPLAIN_ONLY = [ListVariant("ca_prefix_none", f"company admin, email_prefix={RARE_PREFIX!r} "
                            "(matches nobody)", "company_admin", email_prefix=RARE_PREFIX)]


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.stacks: list[Any] = []
        self.worktree: Path | None = None
        self.secret = secrets.token_urlsafe(48)
        self.password = secrets.token_urlsafe(18)
        self.user_password = secrets.token_urlsafe(18)
        self.grpc_headers = ["content-type: application/grpc", "te: trailers"]
        self.report: dict[str, Any] = {"list_users": {}, "getme": {}}
        self.all_ok = True
        self.code: dict[str, Any] = {}

    # ---- processes

    def start(self, name: str, data_dir: Path, *, extra_env: dict[str, str] | None = None,
              command: list[str] | None = None) -> Any:
        port = bf.free_port()
        env = bf.server_env(data_dir, port, self.secret, self.password, "WARNING")
        env.pop("SESSION_CHECK_SECONDS", None)
        env.pop("PYTHONPATH", None)
        env.update(extra_env or {})
        proc = bf.Proc(name, command or [str(bf.BIN / "interview-platform"), "serve"], LOG_DIR,
                       env=env)
        stack = bf.Stack(data_dir=data_dir, grpc_port=port, server=proc)
        self.stacks.append(stack)  # registered first: stopped in close() even if not ready
        bf.wait_grpc_serving(port, proc, bf.READY_TIMEOUT)
        return stack

    def stop(self, stack: Any) -> None:
        bf.stop_stack(stack)
        if stack in self.stacks:
            self.stacks.remove(stack)

    def close(self) -> None:
        for stack in reversed(self.stacks):
            with contextlib.suppress(Exception):
                bf.stop_stack(stack)
        self.stacks.clear()
        if self.worktree is not None:
            subprocess.run(["git", "worktree", "remove", "--force", str(self.worktree)],
                           cwd=ROOT, capture_output=True, timeout=60, check=False)
            subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True,
                           timeout=60, check=False)
            self.worktree = None

    def body(self, name: str, message: bytes) -> Path:
        path = self.tmp / f"{name}.bin"
        path.write_bytes(bf.grpc_frame(message))
        return path

    def spec(self, name: str, port: int, path: str, *, token: str, body: Path, expected: int,
             clients: int, streams: int) -> Any:
        headers = [*self.grpc_headers, f"authorization: Bearer {token}"]
        return bf.LoadSpec(name, f"http://127.0.0.1:{port}{path}", headers, body, False,
                           clients, streams, expected)

    # ---- part 1: ListUsers scaling

    def list_phase(self) -> None:
        from interviewplatform.v1 import user_pb2

        a = self.args
        data_dir = self.tmp / "list-data"
        print("ListUsers: starting the server (fresh DATA_DIR, LOG_LEVEL=WARNING) ...",
              flush=True)
        stack = self.start("server-list", data_dir)
        api = Api(stack.grpc_port)
        try:
            sa_token = api.login(bf.ADMIN_EMAIL, self.password)
            tenants = {}
            for key, name in (("acme", "Acme Bench"), ("other", "Other Tenant")):
                company = api.create_company(sa_token, name)
                tenants[key] = Tenant(company, api.create_department(sa_token, company,
                                                                     "Engineering"))
            acme = tenants["acme"]
            ca_email, du_email = "company-admin@acme.bench.example", "dept-user@acme.bench.example"
            api.create_user(sa_token, email=ca_email, role=user_pb2.ROLE_COMPANY_ADMIN,
                            company_id=acme.company_id, department_id="",
                            password=self.user_password)
            api.create_user(sa_token, email=du_email, role=user_pb2.ROLE_DEPARTMENT_USER,
                            company_id=acme.company_id, department_id=acme.department_id,
                            password=self.user_password)
            tokens = {"super_admin": sa_token,
                      "company_admin": api.login(ca_email, self.user_password),
                      "department_user": api.login(du_email, self.user_password)}
            print("  created through the API: 2 companies with a department each, a company "
                  "admin and a department user of 'Acme Bench'", flush=True)
            base = datetime.now(UTC)
            done = 0  # bulk users per company so far; 2 more (admin + dept user) were created
            stages = [(stage_name(n), n) for n in (a.small, a.large)]
            for stage, size in stages:
                target = size - 2
                batches = [
                    {"local": "user", "domain": "@acme.bench.example",
                     "company_id": uuid.UUID(acme.company_id),
                     "department_id": uuid.UUID(acme.department_id),
                     "first": done, "last": target - 1},
                    {"local": "member", "domain": "@other.bench.example",
                     "company_id": uuid.UUID(tenants["other"].company_id),
                     "department_id": uuid.UUID(tenants["other"].department_id),
                     "first": done, "last": target - 1},
                ]
                print(f"  [{stage}] bulk insert up to {size:,} users per company (2 companies) "
                      "+ VACUUM ANALYZE ...", flush=True)
                info = asyncio.run(bulk_insert(data_dir, batches, base, a.seed))
                done = target
                print(f"    {info}", flush=True)
                self.report["list_users"].setdefault("data", {})[stage] = info
                self.list_stage(stage, size, stack, api=api, tokens=tokens, acme=acme)
        finally:
            api.close()
            self.stop(stack)

    def walk(self, api: Api, token: str, expect: int) -> dict[str, Any]:
        """Every page of the company admin's listing (page_size 500): checks the keyset
        (count, no duplicates, order) and returns the token of the middle page."""
        from interviewplatform.v1 import user_service_pb2 as pb

        seen: set[str] = set()
        last: tuple[int, int, str] | None = None
        page_token, middle_token = "", ""
        latencies: list[float] = []
        for _ in range(expect // WALK_PAGE_SIZE + 2):  # bounded
            resp, ms = api.list_users(token, pb.ListUsersRequest(page_size=WALK_PAGE_SIZE,
                                                                 page_token=page_token))
            latencies.append(ms)
            for u in resp.users:
                key = (u.create_time.seconds, u.create_time.nanos, u.id)
                if u.id in seen or (last is not None and key <= last):
                    raise RuntimeError(f"keyset walk: duplicate or out of order at {u.id}")
                seen.add(u.id)
                last = key
            if not middle_token and len(seen) >= expect // 2:
                middle_token = resp.next_page_token
            page_token = resp.next_page_token
            if not page_token:
                break
        if len(seen) != expect:
            raise RuntimeError(f"keyset walk saw {len(seen)} users, expected {expect}")
        return {"users": len(seen), "pages": len(latencies),
                "first_page_ms": round(latencies[0], 2),
                "last_page_ms": round(latencies[-1], 2),
                "median_page_ms": round(sorted(latencies)[len(latencies) // 2], 2),
                "middle_token": middle_token}

    def list_stage(self, stage: str, size: int, stack: Any, *, api: Api,
                   tokens: dict[str, str], acme: Tenant) -> None:
        from interviewplatform.v1 import user_service_pb2 as pb

        a = self.args
        walk = self.walk(api, tokens["company_admin"], size)
        print(f"  [{stage}] keyset walk as company admin: {walk['users']:,} users in "
              f"{walk['pages']} pages of {WALK_PAGE_SIZE}, no duplicates, ordered; page "
              f"latency first {walk['first_page_ms']} ms, last {walk['last_page_ms']} ms, "
              f"median {walk['median_page_ms']} ms", flush=True)
        targets: list[LoadTarget] = []
        checks: dict[str, Any] = {}
        for v in VARIANTS:
            req = pb.ListUsersRequest(page_size=PAGE_SIZE, email_prefix=v.email_prefix or "",
                                      page_token=walk["middle_token"] if v.deep else "")
            token = tokens[v.who]
            resp, _ = api.list_users(token, req)
            n = len(resp.users)
            if n != PAGE_SIZE or not resp.next_page_token:
                raise RuntimeError(f"{v.key}: {n} users, next token {bool(resp.next_page_token)}")
            if v.who != "super_admin" and any(u.company_id != acme.company_id
                                              for u in resp.users):
                raise RuntimeError(f"{v.key}: a user of another company was listed")
            if v.email_prefix and not all(u.email.lower().startswith(v.email_prefix)
                                          for u in resp.users):
                raise RuntimeError(f"{v.key}: email_prefix not applied")
            frame = len(bf.grpc_frame(resp.SerializeToString()))
            checks[v.key] = {"users": n, "frame_bytes": frame}
            name = f"list-{v.key}-{stage}"
            targets.append(LoadTarget(v.label, self.spec(
                name, stack.grpc_port, LIST_PATH, token=token,
                body=self.body(name, req.SerializeToString()), expected=frame,
                clients=a.list_clients, streams=a.list_streams), stack))
        print(f"  [{stage}] verified with a gRPC client: every variant answers OK with "
              f"{PAGE_SIZE} users and a next_page_token, only its tenant's users", flush=True)
        plans = self.list_explain(stage, stack, tokens, acme, walk["middle_token"])
        print(f"  [{stage}] load: h2load -c {a.list_clients} -m {a.list_streams}, "
              f"{a.list_requests} requests after {a.list_warmup} warm-up, {a.list_rounds} "
              "interleaved rounds", flush=True)
        pooled = run_interleaved(targets, requests=a.list_requests, warmup=a.list_warmup,
                                 rounds=a.list_rounds, log_dir=LOG_DIR, alternate=True)
        plan_cache = self.plan_cache_check(api, tokens["company_admin"])
        out = {}
        for v, p in zip(VARIANTS, pooled, strict=True):
            self.all_ok = self.all_ok and p.result.ok
            out[v.key] = {"label": v.label, "load": asdict(p.result),
                          "pg_cpu_us_per_req": p.pg_cpu_us_per_req, "check": checks[v.key],
                          "explain": plans.get(v.key)}
        self.report["list_users"].setdefault("stages", {})[stage] = {
            "users_per_company": size, "walk": {k: w for k, w in walk.items()
                                                if k != "middle_token"},
            "variants": out, "plan_cache_check": plan_cache,
            "explain_only": {v.key: plans.get(v.key) for v in EXPLAIN_ONLY}}

    def plan_cache_check(self, api: Api, token: str) -> dict[str, Any]:
        """asyncpg prepares every statement (named, cached per connection), so PostgreSQL may
        switch a statement to its generic plan after 5 executions, and for email_prefix the
        generic plan cannot use the prefix index. Sequential median latency of selective and
        empty prefixes, before and after 150 calls with a broad prefix ("user", matches
        everyone) on the server's pooled connections."""
        from interviewplatform.v1 import user_service_pb2 as pb

        def median_ms(prefix: str, n: int = 25) -> float:
            times = sorted(api.list_users(token, pb.ListUsersRequest(
                page_size=PAGE_SIZE, email_prefix=prefix))[1] for _ in range(n))
            return round(times[n // 2], 2)

        before = {p: median_ms(p) for p in (EMAIL_PREFIX, RARE_PREFIX)}
        for _ in range(150):
            api.list_users(token, pb.ListUsersRequest(page_size=PAGE_SIZE, email_prefix="user"))
        after = {p: median_ms(p) for p in (EMAIL_PREFIX, RARE_PREFIX)}
        print(f"    plan-cache check (sequential median ms) before / after 150 x "
              f"email_prefix='user': {before} / {after}", flush=True)
        return {"before_ms": before, "after_broad_ms": after}

    def list_explain(self, stage: str, stack: Any, tokens: dict[str, str], acme: Tenant,
                     middle_token: str) -> dict[str, Any]:
        """EXPLAIN the server's query per variant, with the principals of the tokens."""
        from server.domain import paging
        from server.domain.models import Principal, Role

        now = datetime.now(UTC)
        ids = self.user_ids(stack.data_dir)
        principals = {
            "super_admin": Principal(ids[bf.ADMIN_EMAIL], bf.ADMIN_EMAIL, Role.SUPER_ADMIN,
                                     None, None, "bench", now),
            "company_admin": Principal(ids["company-admin@acme.bench.example"], "",
                                       Role.COMPANY_ADMIN, uuid.UUID(acme.company_id), None,
                                       "bench", now),
            "department_user": Principal(ids["dept-user@acme.bench.example"], "",
                                         Role.DEPARTMENT_USER, uuid.UUID(acme.company_id),
                                         uuid.UUID(acme.department_id), "bench", now),
        }
        filters: dict[str, object] = {"company_id": None, "department_id": None,
                                      "status": None, "email_prefix": None}
        plans: dict[str, Any] = {}
        path = LOG_DIR / f"explain-{stage}.txt"
        with path.open("w") as f:
            for v in [*VARIANTS, *EXPLAIN_ONLY]:
                try:
                    cursor = paging.decode(middle_token, filters) if v.deep else None
                    sql, params = server_list_query(principals[v.who],
                                                    email_prefix=v.email_prefix,
                                                    cursor=cursor, limit=PAGE_SIZE + 1)
                    plan = asyncio.run(explain(stack.data_dir, sql, params))
                    plan["sql"] = sql
                    plan["params"] = [str(p) for p in params]
                except Exception as exc:  # the report says why; the load still runs
                    plan = {"error": repr(exc), "custom_summary": "n/a",
                            "generic_summary": "n/a"}
                plans[v.key] = plan
                f.write(f"=== {stage}: {v.label}\n{plan.get('sql', '')}\n"
                        f"params: {plan.get('params')}\n--- custom plan\n"
                        + "\n".join(plan.get("custom", [plan.get("error", "")]))
                        + "\n--- generic plan (plan_cache_mode = force_generic_plan)\n"
                        + "\n".join(plan.get("generic", [])) + "\n\n")
                print(f"    EXPLAIN {v.key:<10} custom : {plan['custom_summary']}", flush=True)
                print(f"    EXPLAIN {v.key:<10} generic: {plan['generic_summary']}", flush=True)
        return plans

    @staticmethod
    def user_ids(data_dir: Path) -> dict[str, uuid.UUID]:
        async def fetch() -> dict[str, uuid.UUID]:
            conn = await pg_connect(data_dir)
            try:
                rows = await conn.fetch("SELECT email, id FROM users WHERE role <> "
                                        "'department_user' OR email LIKE 'dept-user@%'")
                return {r["email"]: r["id"] for r in rows}
            finally:
                await conn.close()

        return asyncio.run(fetch())

    # ---- part 2: GetMe, current vs foundation

    def foundation_commit(self) -> tuple[str, str]:
        out = subprocess.run(["git", "log", "--format=%H %s"], cwd=ROOT, capture_output=True,
                             text=True, timeout=30, check=True).stdout
        for line in out.splitlines():
            sha, _, subject = line.partition(" ")
            if subject.startswith(FOUNDATION_SUBJECT):
                return sha, subject
        raise RuntimeError(f"no commit whose subject starts with {FOUNDATION_SUBJECT!r}")

    def getme_phase(self) -> None:
        a = self.args
        sha, subject = self.foundation_commit()
        wt = self.tmp / "foundation-worktree"
        print(f"GetMe: git worktree of the foundation commit {sha[:10]} ({subject[:50]}...) "
              f"in {wt}", flush=True)
        subprocess.run(["git", "worktree", "add", "--detach", str(wt), sha], cwd=ROOT,
                       capture_output=True, text=True, timeout=120, check=True)
        self.worktree = wt
        from server.settings import Settings

        default_ttl = Settings.model_fields["session_check_seconds"].default
        print("  starting 3 servers (fresh DATA_DIRs, LOG_LEVEL=WARNING): foundation, current, "
              "current with SESSION_CHECK_SECONDS=0 ...", flush=True)
        # -P: not the working directory on sys.path, so PYTHONPATH decides which `server` and
        # `interviewplatform` are imported (the venv's editable finder comes after it).
        foundation = self.start(
            "server-foundation", self.tmp / "getme-foundation",
            command=[sys.executable, "-P", "-m", "server", "serve"],
            extra_env={"PYTHONPATH": f"{wt}:{wt / 'generated'}"})
        current = self.start("server-current", self.tmp / "getme-current")
        nocache = self.start("server-current-ttl0", self.tmp / "getme-current-ttl0",
                             extra_env={"SESSION_CHECK_SECONDS": "0"})
        services = {"foundation": grpc_services(foundation.grpc_port),
                    "current": grpc_services(current.grpc_port)}
        company_svc = "interviewplatform.v1.CompanyService"
        if company_svc in services["foundation"] or company_svc not in services["current"]:
            raise RuntimeError(f"the foundation server is not the foundation code: {services}")
        print(f"  grpcurl list: foundation serves {len(services['foundation'])} services "
              f"(no CompanyService), current {len(services['current'])}", flush=True)
        body = self.body("empty", b"")
        targets = []
        for label, stack, key in (
                ("foundation GetMe (JWT only)", foundation, "foundation"),
                (f"current GetMe (session check, cached {default_ttl:g} s)", current,
                 "current"),
                ("current GetMe, SESSION_CHECK_SECONDS=0", nocache, "current_ttl0")):
            token = bf.login(stack.grpc_port, self.password)
            frame = bf.verify_getme_grpc(stack.grpc_port, token)
            targets.append(LoadTarget(label, self.spec(
                f"getme-{key}", stack.grpc_port, GETME_PATH, token=token, body=body,
                expected=frame, clients=a.clients, streams=a.streams), stack))
        print("  verified: GetMe answers OK on each (UNAUTHENTICATED without a token)",
              flush=True)
        print(f"  load: h2load -c {a.clients} -m {a.streams}, {a.requests} requests after "
              f"{a.warmup} warm-up, {a.rounds} interleaved rounds (order reversed every other "
              "round)", flush=True)
        pooled = run_interleaved(targets, requests=a.requests, warmup=a.warmup,
                                 rounds=a.rounds, log_dir=LOG_DIR, alternate=True)
        for p in pooled:
            self.all_ok = self.all_ok and p.result.ok
        stampede = self.count_session_queries(targets[1], default_ttl)
        self.report["getme"] = {
            "foundation_commit": sha, "foundation_subject": subject,
            "services": services, "session_check_seconds_default": default_ttl,
            "results": {t.spec.name.removeprefix("getme-"): {"label": p.label,
                                                              "load": asdict(p.result),
                                                              "pg_cpu_us_per_req":
                                                                  p.pg_cpu_us_per_req}
                        for t, p in zip(targets, pooled, strict=True)},
            "session_queries": stampede,
        }
        for stack in (foundation, current, nocache):
            self.stop(stack)

    def count_session_queries(self, t: LoadTarget, ttl: float) -> dict[str, Any]:
        """Diagnostic, not a measurement: with log_statement=all on the current server's
        PostgreSQL, how many session-check queries does one GetMe load make? Ideal: about one
        per `ttl` seconds for the one (user, session) of the token."""
        a = self.args
        pg_log = t.stack.data_dir / "postgres" / "log"

        async def set_logging(value: str | None) -> None:
            conn = await pg_connect(t.stack.data_dir)
            try:
                if value is None:
                    await conn.execute("ALTER SYSTEM RESET log_statement")
                else:
                    await conn.execute(f"ALTER SYSTEM SET log_statement = '{value}'")
                await conn.execute("SELECT pg_reload_conf()")
            finally:
                await conn.close()

        asyncio.run(set_logging("all"))
        try:
            time.sleep(1.0)
            offset = pg_log.stat().st_size
            started = time.monotonic()
            bf.run_h2load(t.spec, a.requests, None)
            wall = time.monotonic() - started
        finally:
            asyncio.run(set_logging(None))
        time.sleep(0.5)
        with pg_log.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        # One log entry per statement (its continuation lines without the timestamp prefix).
        entries = re.split(r"(?m)^(?=\d{4}-\d\d-\d\d )", text)
        queries = sum(1 for e in entries
                      if ("execute" in e or "statement:" in e) and "refresh_tokens" in e)
        ideal = math.ceil(wall / ttl) + 1 if ttl > 0 else a.requests
        print(f"  session-check queries during {a.requests} GetMe ({wall:.1f} s, "
              f"log_statement=all): {queries}, ideal ~{ideal} (one per {ttl:g} s)", flush=True)
        return {"requests": a.requests, "seconds": round(wall, 2), "queries": queries,
                "ideal": ideal, "ttl_s": ttl}


# --------------------------------------------------------------------------- report

def ratio(a: float, b: float) -> float:
    return a / b if b else math.nan


def code_state() -> dict[str, Any]:
    """Which code "current" was: HEAD and the files changed but not committed under server/."""
    def git(*cmd: str) -> str:
        return subprocess.run(["git", *cmd], cwd=ROOT, capture_output=True, text=True,
                              timeout=30, check=False).stdout.strip()

    return {"head": git("rev-parse", "HEAD"),
            "head_subject": git("log", "-1", "--format=%s"),
            "uncommitted_server_files": git("status", "--porcelain", "--", "server",
                                            "generated").splitlines()}


def build_report(bench: Bench, args: argparse.Namespace, elapsed: float) -> dict[str, Any]:
    rep = bench.report
    targets: list[dict[str, Any]] = []
    lu = rep.get("list_users", {}).get("stages", {})
    sk, lk = stage_name(args.small), stage_name(args.large)
    if sk in lu and lk in lu:
        rows = []
        for v in VARIANTS:
            small = lu[sk]["variants"][v.key]["load"]
            large = lu[lk]["variants"][v.key]["load"]
            r = ratio(large["p50_ms"], small["p50_ms"])
            rows.append({"variant": v.key, "label": v.label, "p50_small_ms": small["p50_ms"],
                         "p50_large_ms": large["p50_ms"], "ratio": r,
                         "pass": r <= MAX_LIST_P50_RATIO})
        rep["list_users"]["ratios"] = rows
        worst = max(rows, key=lambda x: x["ratio"])
        targets.append({
            "name": f"ListUsers p50 at {args.large:,} / at {args.small:,} users (every variant;"
                    f" worst: {worst['label']})",
            "value": f"{worst['ratio']:.2f}x", "target": f"<= {MAX_LIST_P50_RATIO}x",
            "pass": all(x["pass"] for x in rows)})
    gm = rep.get("getme", {}).get("results", {})
    if "foundation" in gm and "current" in gm:
        f, c = gm["foundation"]["load"], gm["current"]["load"]
        overhead = 1 - c["rps"] / f["rps"]
        cpu_overhead = (ratio(c["server_cpu_us_per_req"], f["server_cpu_us_per_req"]) - 1
                        if c["server_cpu_us_per_req"] and f["server_cpu_us_per_req"]
                        else math.nan)
        derived = {"overhead": overhead, "cpu_overhead": cpu_overhead,
                   "rounds_overhead": [1 - cr / fr for cr, fr in zip(c["rounds_rps"],
                                                                     f["rounds_rps"],
                                                                     strict=False)],
                   "vs_readme_figure": 1 - c["rps"] / FOUNDATION_README_GETME_RPS,
                   "max_other_cpu_cores": max(gm[k]["load"]["foreign_cpu_cores"] or 0
                                              for k in gm)}
        paired = sorted(derived["rounds_overhead"])
        derived["median_round_overhead"] = paired[len(paired) // 2] if len(paired) % 2 else (
            (paired[len(paired) // 2 - 1] + paired[len(paired) // 2]) / 2)
        if "current_ttl0" in gm:
            derived["overhead_ttl0"] = 1 - gm["current_ttl0"]["load"]["rps"] / f["rps"]
        rep["getme"]["derived"] = derived
        targets.append({
            "name": "authorization check, GetMe throughput: 1 - current / foundation req/s",
            "value": f"{overhead:.1%} ({c['rps']:,.0f} vs {f['rps']:,.0f} req/s, "
                     f"{len(c['rounds_rps'])} rounds; median of paired rounds "
                     f"{derived['median_round_overhead']:.1%}; server CPU/req "
                     f"{cpu_overhead:+.1%})",
            "target": f"<= {MAX_AUTH_OVERHEAD:.0%}", "pass": overhead <= MAX_AUTH_OVERHEAD})
    return {
        "benchmark": "identity",
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "elapsed_s": round(elapsed, 1),
        "machine": bf.machine_info(),
        "code": bench.code,
        "config": {k: v for k, v in vars(args).items()},
        **rep,
        "targets": targets,
        "all_answers_ok": bench.all_ok,
        "logs": str(LOG_DIR.relative_to(ROOT)),
    }


def print_report(report: dict[str, Any]) -> None:
    m = report["machine"]
    print()
    print("=" * 118)
    print(f"Identity benchmark  ({m['nproc']} CPUs, {m['cpu_model']}, {m['memory_total_gb']} GB "
          f"RAM, {m['h2load']})")
    code = report.get("code") or {}
    if code:
        dirty = len(code.get("uncommitted_server_files", []))
        print(f"current code: HEAD {code['head'][:10]} ({code['head_subject'][:60]})"
              + (f" + {dirty} uncommitted file(s) under server/ generated/" if dirty else ""))
    print("=" * 118)
    print_list(report)
    print_getme(report)
    print("Targets")
    for t in report["targets"]:
        print(f"  {bf.verdict(t['pass']):<5} {t['name']}: {t['value']} (target {t['target']})")
    print()
    print(f"JSON: {OUT_JSON.relative_to(ROOT)}   logs: {report['logs']}")


def print_list(report: dict[str, Any]) -> None:
    cfg, fmt = report["config"], bf.fmt
    sk, lk = stage_name(cfg["small"]), stage_name(cfg["large"])
    lu = report.get("list_users", {})
    if lu.get("ratios"):
        print(f"ListUsers, page_size {PAGE_SIZE}: h2load -c {cfg['list_clients']} -m "
              f"{cfg['list_streams']}, {cfg['list_requests']} requests x {cfg['list_rounds']} "
              f"rounds per variant and size; users per company {cfg['small']:,} -> "
              f"{cfg['large']:,} (2 companies)")
        head = (f"{'variant':<42} {'users':>7} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'srv us':>7} {'pg us':>6} {'p50 ratio':>9} {'verdict':>7}")
        print(head)
        print("-" * len(head))
        for row in lu["ratios"]:
            for stage in (sk, lk):
                st = lu["stages"][stage]
                v = st["variants"][row["variant"]]
                ld = v["load"]
                last = stage == lk
                label = "" if last else v["label"]
                ratio_s = f"{row['ratio']:.2f}x" if last else ""
                verdict_s = bf.verdict(row["pass"]) if last else ""
                print(f"{label:<42} {st['users_per_company']:>7,} "
                      f"{fmt(ld['rps'], 0):>7} {fmt(ld['p50_ms'], 2):>7} "
                      f"{fmt(ld['p99_ms'], 2):>7} {fmt(ld['server_cpu_us_per_req'], 0):>7} "
                      f"{fmt(v['pg_cpu_us_per_req'], 0):>6} {ratio_s:>9} {verdict_s:>7}")
        print("  srv/pg us: CPU time per request of the server process / of all embedded "
              "PostgreSQL processes.")
        print()
        print("EXPLAIN (ANALYZE, BUFFERS) of the server's query at the large size "
              "(custom plan | generic plan):")
        for row in lu["ratios"]:
            plan = lu["stages"][lk]["variants"][row["variant"]]["explain"] or {}
            print(f"  {row['variant']:<10} custom : {plan.get('custom_summary', 'n/a')}")
            print(f"  {'':<10} generic: {plan.get('generic_summary', 'n/a')}")
        for key, found in lu["stages"][lk].get("explain_only", {}).items():
            plan = found or {}
            print(f"  {key:<10} custom : {plan.get('custom_summary', 'n/a')}")
            print(f"  {'':<10} generic: {plan.get('generic_summary', 'n/a')}")
        for stage in (sk, lk):
            pc = lu["stages"][stage].get("plan_cache_check")
            if pc:
                print(f"  plan-cache check at {stage}, sequential median ms, before / after 150 "
                      f"calls with email_prefix='user': {pc['before_ms']} / "
                      f"{pc['after_broad_ms']}")
        for stage in (sk, lk):
            w = lu["stages"][stage]["walk"]
            print(f"  keyset walk at {stage}: {w['users']:,} users, {w['pages']} pages of "
                  f"{WALK_PAGE_SIZE}; page latency first {w['first_page_ms']} ms, last "
                  f"{w['last_page_ms']} ms, median {w['median_page_ms']} ms")
        print()


def print_getme(report: dict[str, Any]) -> None:
    cfg, fmt = report["config"], bf.fmt
    gm = report.get("getme", {})
    if gm.get("results"):
        print(f"GetMe: h2load -c {cfg['clients']} -m {cfg['streams']}, {cfg['requests']} "
              f"requests x {cfg['rounds']} interleaved rounds; foundation = "
              f"{gm['foundation_commit'][:10]}")
        head = (f"{'target':<46} {'req/s':>7} {'rounds':>13} {'p50 ms':>7} {'p99 ms':>7} "
                f"{'srv us':>7} {'pg us':>6} {'other CPU':>9} {'check':>5}")
        print(head)
        print("-" * len(head))
        for r in gm["results"].values():
            ld = r["load"]
            rounds = "/".join(f"{x / 1000:.2f}k" for x in ld["rounds_rps"])
            print(f"{r['label']:<46} {fmt(ld['rps'], 0):>7} {rounds:>13} "
                  f"{fmt(ld['p50_ms'], 2):>7} {fmt(ld['p99_ms'], 2):>7} "
                  f"{fmt(ld['server_cpu_us_per_req'], 0):>7} "
                  f"{fmt(r['pg_cpu_us_per_req'], 0):>6} {fmt(ld['foreign_cpu_cores'], 2):>9} "
                  f"{'OK' if ld['ok'] else 'BAD':>5}")
        d = gm.get("derived", {})
        if d:
            print(f"  overhead (1 - current / foundation req/s): {d['overhead']:.1%}; per round "
                  + ", ".join(f"{x:.1%}" for x in d["rounds_overhead"])
                  + f" (median {d['median_round_overhead']:.1%}); server CPU per request "
                  f"{d['cpu_overhead']:+.1%}")
            if d["max_other_cpu_cores"] > 0.1:
                print(f"  ! up to {d['max_other_cpu_cores']:.2f} cores were busy with other "
                      "work during these runs: the throughput ratio is noisy; use more "
                      "--rounds (e.g. --skip-list --rounds 6)")
            if "overhead_ttl0" in d:
                print(f"  SESSION_CHECK_SECONDS=0 (query on every call): "
                      f"{d['overhead_ttl0']:.1%} below the foundation")
            print(f"  current vs the foundation figure in bench/README.md "
                  f"({FOUNDATION_README_GETME_RPS:,.0f} req/s): {-d['vs_readme_figure']:+.1%} "
                  "(another run on another day: information only)")
        sq = gm.get("session_queries")
        if sq:
            print(f"  session-check queries in one GetMe load of {sq['requests']} calls "
                  f"({sq['seconds']} s): {sq['queries']} (ideal ~{sq['ideal']}, one per "
                  f"{sq['ttl_s']:g} s)")
        print()


# --------------------------------------------------------------------------- main

def run(args: argparse.Namespace) -> int:
    if shutil.which("h2load") is None:
        print("h2load not found: apt-get install nghttp2-client", file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-identity-"))
    started = time.monotonic()

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # run the finally blocks: stop what we started

    signal.signal(signal.SIGTERM, terminated)
    bench = Bench(args, tmp)
    bench.code = code_state()  # at the start: others may commit while this runs
    try:
        if not args.skip_list:
            bench.list_phase()
        if not args.skip_getme:
            bench.getme_phase()
    finally:
        bench.close()
        shutil.rmtree(tmp, ignore_errors=True)
    report = build_report(bench, args, time.monotonic() - started)
    OUT_JSON.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report)
    return 0 if bench.all_ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000, help="users per company, first")
    parser.add_argument("--large", type=int, default=100_000, help="users per company, then")
    parser.add_argument("--seed", type=float, default=0.42, help="setseed() for created_at")
    parser.add_argument("--list-requests", type=int, default=2000)
    parser.add_argument("--list-warmup", type=int, default=200)
    parser.add_argument("--list-rounds", type=int, default=2)
    parser.add_argument("--list-clients", type=int, default=2)
    parser.add_argument("--list-streams", type=int, default=4)
    parser.add_argument("--requests", type=int, default=20000, help="GetMe requests per round")
    parser.add_argument("--warmup", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=8,
                        help="GetMe rounds per server, interleaved (2 rounds swing +-5 points)")
    parser.add_argument("--clients", "-c", type=int, default=4)
    parser.add_argument("--streams", "-m", type=int, default=16)
    parser.add_argument("--skip-list", action="store_true")
    parser.add_argument("--skip-getme", action="store_true")
    args = parser.parse_args()
    if not 4 <= args.small < args.large:
        parser.error("need 4 <= --small < --large")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
