"""Interviews benchmark: ListInterviews keyset paging from 2k to 200k interviews, and
ScheduleInterview with a 1 MB resume through Envoy.

Run with `.venv/bin/python bench/bench_interviews.py` (h2load from nghttp2-client and envoy
must be installed). See bench/INTERVIEWS.md for the method and the last results.

Targets from the interviews issue:

1. ListInterviews p50 at 200k interviews within 1.3x of the p50 at 2k interviews.
   One server with a fresh DATA_DIR; a company + department + company admin + a job with a
   question set (version 1) are created through the API; interviews are bulk-inserted straight
   into the embedded PostgreSQL (INSERT ... SELECT generate_series; status 'scheduled',
   question_set_version 1, scheduled_at spread at random over the year from tomorrow, so the
   server's expiry sweep touches none, no resume), then
   VACUUM ANALYZE. Load: h2load with the framed ListInterviewsRequest (page_size 50, first
   page) as the company admin; every answer is checked by its DATA byte count.
2. ScheduleInterview with a 1 MB TXT resume >= 50/s through Envoy (native gRPC, h2c).
   h2load sends one fixed body, so every call carries the same request (no request_id: each
   call creates a new interview, for the same candidate e-mail). Answers are checked with
   Envoy's access log (grpc_status OK for every call) and by counting the rows of the
   interviews table before and after.

Everything runs on 127.0.0.1 with temporary data folders and is stopped at the end, also on
error and SIGTERM. Results: a table on stdout and var/bench/interviews.json; logs in
var/bench/interviews-logs/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


bi = _load("bench_identity")  # Api, pg_connect, pg_tree_cpu; it loads bench_foundation
bf = bi.bf

ROOT: Path = bf.ROOT
OUT_DIR: Path = bf.OUT_DIR
OUT_JSON = OUT_DIR / "interviews.json"
LOG_DIR = OUT_DIR / "interviews-logs"

LIST_PATH = "/interviewplatform.v1.InterviewService/ListInterviews"
SCHEDULE_PATH = "/interviewplatform.v1.InterviewService/ScheduleInterview"

MAX_LIST_P50_RATIO = 1.3
MIN_SCHEDULE_RPS = 50.0
PAGE_SIZE = 50
RESUME_BYTES = 1024 * 1024

BULK_INSERT = """
INSERT INTO interviews (company_id, department_id, job_id, question_set_version,
                        candidate_name, candidate_email, language, mode, status,
                        scheduled_at, window_end)
SELECT $1, $2, $3, 1, 'Bench Candidate ' || i, 'cand' || i || '@bench.example', 'en',
       'static', 'scheduled', t, t + interval '2 hours'
FROM (SELECT i, $4::timestamptz + random() * interval '365 days' AS t
      FROM generate_series($5::int, $6::int) AS i) AS s
"""


async def bulk_insert(data_dir: Path, *, company_id: str, department_id: str, job_id: str,
                      base: datetime, first: int, last: int) -> dict[str, Any]:
    conn = await bi.pg_connect(data_dir)
    try:
        started = time.monotonic()
        await conn.execute("SELECT setseed(0.42)")
        status = await conn.execute(BULK_INSERT, uuid.UUID(company_id),
                                    uuid.UUID(department_id), uuid.UUID(job_id), base,
                                    first, last)
        insert_s = time.monotonic() - started
        started = time.monotonic()
        await conn.execute("VACUUM (ANALYZE) interviews")
        await conn.execute("CHECKPOINT")
        vacuum_s = time.monotonic() - started
        rows = await conn.fetchval("SELECT count(*) FROM interviews")
        size = await conn.fetchval(
            "SELECT pg_size_pretty(pg_total_relation_size('interviews'))")
        return {"inserted": int(status.split()[-1]), "insert_s": round(insert_s, 2),
                "vacuum_analyze_checkpoint_s": round(vacuum_s, 2), "interviews_rows": rows,
                "interviews_total_size": size}
    finally:
        await conn.close()


async def count_interviews(data_dir: Path) -> int:
    conn = await bi.pg_connect(data_dir)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM interviews"))
    finally:
        await conn.close()


def resume_text(size: int) -> bytes:
    """A plain-text resume of exactly `size` bytes (valid UTF-8, ASCII)."""
    lines = [
        "Jane Bench - Senior Backend Engineer\n",
        "Experience: built gRPC services in Python and Go, PostgreSQL, Envoy, Kubernetes.\n",
        "Led a team of five; reduced p99 latency of the payments API by 40 percent.\n",
        "Education: MSc Computer Science. Languages: English, French, German.\n",
    ]
    block = "".join(lines).encode()
    data = (block * (size // len(block) + 1))[:size - 1] + b"\n"
    assert len(data) == size
    return data


class InterviewApi:
    """Setup and verification calls on top of bench_identity.Api's channel."""

    def __init__(self, api: Any) -> None:
        self.api = api

    def create_job(self, token: str, department_id: str) -> str:
        from interviewplatform.v1 import job_pb2
        from interviewplatform.v1 import job_service_pb2 as pb
        from interviewplatform.v1 import job_service_pb2_grpc as rpc

        stub = rpc.JobServiceStub(self.api.channel)
        job = stub.CreateJob(pb.CreateJobRequest(job=job_pb2.Job(
            department_id=department_id, title="Backend Engineer",
            description="Builds and runs the platform.")), metadata=self.api.md(token),
            timeout=60).job
        stub.CreateQuestionSet(pb.CreateQuestionSetRequest(job_id=job.id, questions=[
            job_pb2.Question(type=job_pb2.QUESTION_TYPE_TECHNICAL,
                             difficulty=job_pb2.DIFFICULTY_EASY,
                             texts=[job_pb2.LocalizedText(language="en", text="Why?")])]),
            metadata=self.api.md(token), timeout=60)
        return str(job.id)

    def list(self, token: str, request: Any) -> Any:
        from interviewplatform.v1 import interview_service_pb2_grpc as rpc

        return rpc.InterviewServiceStub(self.api.channel).ListInterviews(
            request, metadata=self.api.md(token), timeout=60)

    def schedule(self, token: str, request: Any) -> Any:
        from interviewplatform.v1 import interview_service_pb2_grpc as rpc

        return rpc.InterviewServiceStub(self.api.channel).ScheduleInterview(
            request, metadata=self.api.md(token), timeout=60)


def schedule_request(job_id: str, resume: bytes) -> Any:
    from interviewplatform.v1 import interview_pb2
    from interviewplatform.v1 import interview_service_pb2 as pb

    iv = interview_pb2.Interview(
        job_id=job_id, language="en", mode=interview_pb2.INTERVIEW_MODE_STATIC,
        candidate=interview_pb2.Candidate(full_name="Jane Bench",
                                          email="jane.bench@example.com"),
        resume=interview_pb2.Resume(file_name="resume.txt"))
    iv.scheduled_time.FromDatetime(datetime.now(UTC) + timedelta(days=7))
    return pb.ScheduleInterviewRequest(interview=iv, resume_file=resume)


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        import secrets

        self.args = args
        self.tmp = tmp
        self.stacks: list[Any] = []
        self.secret = secrets.token_urlsafe(48)
        self.password = secrets.token_urlsafe(18)
        self.user_password = secrets.token_urlsafe(18)
        self.report: dict[str, Any] = {"list_interviews": {}, "schedule": {}}
        self.all_ok = True

    def start(self, name: str, data_dir: Path) -> Any:
        port = bf.free_port()
        env = bf.server_env(data_dir, port, self.secret, self.password, "WARNING")
        env.pop("SESSION_CHECK_SECONDS", None)
        env.pop("PYTHONPATH", None)
        proc = bf.Proc(name, [str(bf.BIN / "interview-platform"), "serve"], LOG_DIR, env=env)
        stack = bf.Stack(data_dir=data_dir, grpc_port=port, server=proc)
        self.stacks.append(stack)  # registered first: stopped in close() even if not ready
        bf.wait_grpc_serving(port, proc, bf.READY_TIMEOUT)
        return stack

    def close(self) -> None:
        for stack in reversed(self.stacks):
            with contextlib.suppress(Exception):
                bf.stop_stack(stack)
        self.stacks.clear()

    def body(self, name: str, message: bytes) -> Path:
        path = self.tmp / f"{name}.bin"
        path.write_bytes(bf.grpc_frame(message))
        return path

    def spec(self, name: str, port: int, path: str, *, token: str, body: Path,
             expected: int | None, clients: int, streams: int) -> Any:
        headers = ["content-type: application/grpc", "te: trailers",
                   f"authorization: Bearer {token}"]
        return bf.LoadSpec(name, f"http://127.0.0.1:{port}{path}", headers, body, False,
                           clients, streams, expected)

    def run(self) -> None:
        a = self.args
        data_dir = self.tmp / "data"
        print("starting the server (fresh DATA_DIR, LOG_LEVEL=WARNING) ...", flush=True)
        stack = self.start("server", data_dir)
        api = bi.Api(stack.grpc_port)
        iapi = InterviewApi(api)
        try:
            from interviewplatform.v1 import user_pb2

            sa_token = api.login(bf.ADMIN_EMAIL, self.password)
            company = api.create_company(sa_token, "Acme Bench")
            department = api.create_department(sa_token, company, "Engineering")
            ca_email = "company-admin@acme.bench.example"
            api.create_user(sa_token, email=ca_email, role=user_pb2.ROLE_COMPANY_ADMIN,
                            company_id=company, department_id="", password=self.user_password)
            token = api.login(ca_email, self.user_password)
            job_id = iapi.create_job(token, department)
            print("  created through the API: a company, a department, a company admin, a job "
                  "with a question set", flush=True)
            if not a.skip_list:
                self.list_phase(stack, iapi, token, company=company, department=department,
                                job_id=job_id)
            if not a.skip_schedule:
                self.schedule_phase(stack, iapi, token, job_id)
        finally:
            api.close()

    # ---- part 1: ListInterviews scaling

    def list_phase(self, stack: Any, iapi: InterviewApi, token: str, *, company: str,
                   department: str, job_id: str) -> None:
        from interviewplatform.v1 import interview_service_pb2 as pb

        a = self.args
        # All in the future: the server's sweep (server/domain/interviews.py) moves interviews
        # whose window has ended to EXPIRED: an update that would change the answers in the
        # middle of a measurement.
        base = datetime.now(UTC) + timedelta(days=1)
        done = 0
        for size in (a.small, a.large):
            stage = f"{size // 1000}k"
            print(f"  [{stage}] bulk insert up to {size:,} interviews + VACUUM ANALYZE ...",
                  flush=True)
            info = asyncio.run(bulk_insert(stack.data_dir, company_id=company,
                                           department_id=department, job_id=job_id,
                                           base=base, first=done, last=size - 1))
            done = size
            print(f"    {info}", flush=True)
            req = pb.ListInterviewsRequest(page_size=PAGE_SIZE)
            resp = iapi.list(token, req)
            if len(resp.interviews) != PAGE_SIZE or not resp.next_page_token:
                raise RuntimeError(f"ListInterviews: {len(resp.interviews)} interviews, "
                                   f"next token {bool(resp.next_page_token)}")
            frame = len(bf.grpc_frame(resp.SerializeToString()))
            name = f"list-{stage}"
            spec = self.spec(name, stack.grpc_port, LIST_PATH, token=token,
                             body=self.body(name, req.SerializeToString()), expected=frame,
                             clients=a.list_clients, streams=a.list_streams)
            runs = []
            pg_total = 0.0
            for round_no in range(1, a.list_rounds + 1):
                if a.list_warmup:
                    bf.run_h2load(spec, a.list_warmup, None)
                pg_before = bi.pg_tree_cpu(stack.data_dir)
                res, times = bf.measure(spec, requests=a.list_requests, warmup=0,
                                        work=LOG_DIR, cpu_pids={"server": stack.server.pid},
                                        round_no=round_no)
                pg_total += bi.pg_tree_cpu(stack.data_dir) - pg_before
                runs.append((res, times))
                print(f"    [{round_no}/{a.list_rounds}] {res.rps:>7,.0f} req/s  p50 "
                      f"{res.p50_ms:6.2f} ms  p99 {res.p99_ms:6.2f} ms  "
                      f"[{res.grpc_ok_checked}]{'' if res.ok else '  NOT OK'}", flush=True)
            pooled = bf.pool(runs)
            self.all_ok = self.all_ok and pooled.ok
            self.report["list_interviews"][stage] = {
                "interviews": size, "data": info, "frame_bytes": frame,
                "pg_cpu_us_per_req": pg_total * 1e6 / pooled.requests,
                "load": asdict(pooled)}

    # ---- part 2: ScheduleInterview with a 1 MB resume through Envoy

    def schedule_phase(self, stack: Any, iapi: InterviewApi, token: str, job_id: str) -> None:
        a = self.args
        print("  starting Envoy in front of the server ...", flush=True)
        bf.start_envoy(stack, LOG_DIR)
        resume = resume_text(RESUME_BYTES)
        req = schedule_request(job_id, resume)
        message = req.SerializeToString()
        # Verified once directly and once through Envoy with a real gRPC client.
        created = iapi.schedule(token, req).interview
        if created.resume.size_bytes != RESUME_BYTES or created.resume.media_type != "text/plain":
            raise RuntimeError(f"resume not stored as expected: {created.resume}")
        envoy_api = bi.Api(stack.envoy_port)
        try:
            via = InterviewApi(envoy_api).schedule(token, req).interview
            if not via.id or via.id == created.id:
                raise RuntimeError("ScheduleInterview through Envoy: no new interview")
        finally:
            envoy_api.close()
        print(f"    verified: a {len(message):,}-byte request (resume {RESUME_BYTES:,} bytes, "
              f"text/plain) creates a new interview each call, directly and through Envoy",
              flush=True)
        name = "schedule-envoy"
        spec = self.spec(name, stack.envoy_port, SCHEDULE_PATH, token=token,
                         body=self.body(name, message), expected=None,
                         clients=a.schedule_clients, streams=a.schedule_streams)
        assert stack.envoy is not None
        before = asyncio.run(count_interviews(stack.data_dir))
        res, _ = bf.measure(spec, requests=a.schedule_requests, warmup=a.schedule_warmup,
                            work=LOG_DIR, cpu_pids={"server": stack.server.pid,
                                                    "envoy": stack.envoy.pid},
                            envoy_log=stack.envoy_log)
        after = asyncio.run(count_interviews(stack.data_dir))
        want = a.schedule_requests + a.schedule_warmup
        rows_ok = after - before == want
        if not rows_ok:
            res.notes.append(f"interviews rows +{after - before}, expected +{want}")
        res.ok = res.ok and rows_ok
        self.all_ok = self.all_ok and res.ok
        print(f"    {res.rps:,.1f} req/s  p50 {res.p50_ms:.1f} ms  p99 {res.p99_ms:.1f} ms  "
              f"[{res.grpc_ok_checked}; rows +{after - before}/{want}]"
              f"{'' if res.ok else '  NOT OK ' + '; '.join(res.notes)}", flush=True)
        self.report["schedule"] = {"request_bytes": len(message), "resume_bytes": RESUME_BYTES,
                                   "rows_before": before, "rows_after": after,
                                   "rows_expected_added": want, "rows_ok": rows_ok,
                                   "load": asdict(res)}


# --------------------------------------------------------------------------- report

def build_report(bench: Bench, args: argparse.Namespace, elapsed: float) -> dict[str, Any]:
    rep = bench.report
    targets: list[dict[str, Any]] = []
    li = rep["list_interviews"]
    sk, lk = f"{args.small // 1000}k", f"{args.large // 1000}k"
    if sk in li and lk in li:
        r = li[lk]["load"]["p50_ms"] / li[sk]["load"]["p50_ms"]
        li["p50_ratio"] = r
        targets.append({"name": f"ListInterviews p50 at {args.large:,} / at {args.small:,} "
                                "interviews (company admin, first page of 50)",
                        "value": f"{r:.2f}x", "target": f"<= {MAX_LIST_P50_RATIO}x",
                        "pass": r <= MAX_LIST_P50_RATIO and li[lk]["load"]["ok"]
                        and li[sk]["load"]["ok"]})
    sc = rep.get("schedule", {})
    if sc.get("load"):
        rps = sc["load"]["rps"]
        targets.append({"name": "ScheduleInterview with a 1 MB TXT resume through Envoy",
                        "value": f"{rps:,.1f} req/s", "target": f">= {MIN_SCHEDULE_RPS:.0f}/s",
                        "pass": rps >= MIN_SCHEDULE_RPS and sc["load"]["ok"]})
    return {"benchmark": "interviews", "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "elapsed_s": round(elapsed, 1), "machine": bf.machine_info(),
            "config": dict(vars(args)), **rep, "targets": targets,
            "all_answers_ok": bench.all_ok, "logs": str(LOG_DIR.relative_to(ROOT))}


def print_report(report: dict[str, Any]) -> None:
    m, cfg, fmt = report["machine"], report["config"], bf.fmt
    print()
    print("=" * 100)
    print(f"Interviews benchmark  ({m['nproc']} CPUs, {m['cpu_model']}, "
          f"{m['memory_total_gb']} GB RAM, {m['h2load']})")
    print("=" * 100)
    head = (f"{'measurement':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'srv us':>8} "
            f"{'check':>6}")
    print(head)
    print("-" * len(head))
    for st in report["list_interviews"].values():
        if not isinstance(st, dict):
            continue
        ld = st["load"]
        print(f"{'ListInterviews first page, ' + format(st['interviews'], ',') + ' rows':<44} "
              f"{fmt(ld['rps'], 0):>8} {fmt(ld['p50_ms'], 2):>8} {fmt(ld['p99_ms'], 2):>8} "
              f"{fmt(ld['server_cpu_us_per_req'], 0):>8} {'OK' if ld['ok'] else 'BAD':>6}")
    sc = report.get("schedule", {})
    if sc.get("load"):
        ld = sc["load"]
        print(f"{'ScheduleInterview 1 MB resume via Envoy':<44} {fmt(ld['rps'], 1):>8} "
              f"{fmt(ld['p50_ms'], 1):>8} {fmt(ld['p99_ms'], 1):>8} "
              f"{fmt(ld['server_cpu_us_per_req'], 0):>8} {'OK' if ld['ok'] else 'BAD':>6}")
    print(f"  list: h2load -c {cfg['list_clients']} -m {cfg['list_streams']}, "
          f"{cfg['list_requests']} requests x {cfg['list_rounds']} rounds; schedule: h2load -c "
          f"{cfg['schedule_clients']} -m {cfg['schedule_streams']}, {cfg['schedule_requests']} "
          f"requests after {cfg['schedule_warmup']} warm-up")
    print()
    print("Targets")
    for t in report["targets"]:
        print(f"  {bf.verdict(t['pass']):<5} {t['name']}: {t['value']} (target {t['target']})")
    print()
    print(f"JSON: {OUT_JSON.relative_to(ROOT)}   logs: {report['logs']}")


def run(args: argparse.Namespace) -> int:
    if shutil.which("h2load") is None:
        print("h2load not found: apt-get install nghttp2-client", file=sys.stderr)
        return 2
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(LOG_DIR, ignore_errors=True)
    LOG_DIR.mkdir(parents=True)
    tmp = Path(tempfile.mkdtemp(prefix="bench-interviews-"))
    started = time.monotonic()

    def terminated(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)  # run the finally blocks: stop what we started

    signal.signal(signal.SIGTERM, terminated)
    bench = Bench(args, tmp)
    try:
        bench.run()
    finally:
        bench.close()
        shutil.rmtree(tmp, ignore_errors=True)
    report = build_report(bench, args, time.monotonic() - started)
    OUT_JSON.write_text(json.dumps(report, indent=2, default=str) + "\n")
    print_report(report)
    return 0 if bench.all_ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=200_000)
    parser.add_argument("--list-requests", type=int, default=2000)
    parser.add_argument("--list-warmup", type=int, default=200)
    parser.add_argument("--list-rounds", type=int, default=2)
    parser.add_argument("--list-clients", type=int, default=2)
    parser.add_argument("--list-streams", type=int, default=4)
    parser.add_argument("--schedule-requests", type=int, default=500)
    parser.add_argument("--schedule-warmup", type=int, default=20)
    parser.add_argument("--schedule-clients", type=int, default=4)
    parser.add_argument("--schedule-streams", type=int, default=4)
    parser.add_argument("--skip-list", action="store_true")
    parser.add_argument("--skip-schedule", action="store_true")
    args = parser.parse_args()
    if not 1000 <= args.small < args.large:
        parser.error("need 1000 <= --small < --large")
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
