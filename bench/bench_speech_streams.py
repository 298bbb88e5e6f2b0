"""Speech streams benchmark: how many StreamAnswer calls one server holds for 60 s with no error.

Run with `.venv/bin/python bench/bench_speech_streams.py` (see bench/SPEECH_STREAMS.md for the
method and the last results). `--provider deepgram` (default) points the server at the fake
Deepgram (tests/fakes/deepgram.py, the real deepgram-sdk on the server side) running in its own
process; `--provider local` uses faster-whisper on the server (CPU-bound: use small counts).

For each count N in `--streams` (ascending): N interviews are scheduled and started through the
API (link tokens read from the e-mail outbox), then N candidates stream at once, each on its own
interview: the config, then LINEAR16 16 kHz audio (espeak-ng speech, looped) in `--chunk-ms`
chunks paced in real time for `--seconds`, then the half-close; each waits for its saved answer.
A round passes when every stream ends with its answer and no stream saw an error. Measured per
round: errors (by status), answers saved, transcript messages, time from the last chunk to the
answer (p50/p95/max), the server's CPU use and RSS (psutil). Rounds stop at the first failure.

Everything runs on 127.0.0.1 with a temporary DATA_DIR and is stopped at the end (also on error).
Results: a table on stdout and var/bench/speech_streams.json; logs in var/bench/speech-logs/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OUT = ROOT / "var" / "bench"
LOG_DIR = OUT / "speech-logs"
RATE = 16000
FAKE_KEY = "bench-deepgram-key"
SENTENCE = "I have five years of experience with Python and Kubernetes."


def _load(name: str) -> Any:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bi = _load("bench_identity")
bf = bi.bf

FAKE_MAIN = """
import sys, time
sys.path.insert(0, {root!r})
from tests.fakes.deepgram import FakeDeepgram
fake = FakeDeepgram(api_key={key!r}).start()
print("fake-deepgram", fake.port, flush=True)
while True:
    time.sleep(3600)
"""


@dataclass
class StreamResult:
    ok: bool = False
    error: str = ""
    transcripts: int = 0
    finish_s: float = 0.0     # last chunk written → answer received


@dataclass
class Round:
    streams: int
    seconds: float
    results: list[StreamResult] = field(default_factory=list)
    cpu_s: float = 0.0
    rss_mb: float = 0.0
    wall_s: float = 0.0

    def summary(self) -> dict[str, Any]:
        ok = [r for r in self.results if r.ok]
        finish = sorted(r.finish_s for r in ok)
        return {
            "streams": self.streams, "seconds": self.seconds, "ok": len(ok),
            "errors": dict(Counter(r.error for r in self.results if not r.ok)),
            "transcripts_per_stream": (statistics.mean(r.transcripts for r in ok)
                                       if ok else 0),
            "finish_p50_s": finish[len(finish) // 2] if finish else None,
            "finish_p95_s": finish[min(len(finish) - 1, int(len(finish) * 0.95))]
            if finish else None,
            "finish_max_s": finish[-1] if finish else None,
            "server_cpu_cores": self.cpu_s / self.wall_s if self.wall_s else 0.0,
            "server_rss_mb": self.rss_mb, "wall_s": self.wall_s,
            "passed": len(ok) == self.streams,
        }


def speech_pcm() -> bytes:
    from server.providers.speech.audio import decode_container

    wav = subprocess.run(["espeak-ng", "-v", "en-us", "--stdout"], input=SENTENCE.encode(),
                         capture_output=True, check=True).stdout
    return decode_container(wav) + b"\0" * RATE   # + 0.5 s of silence between sentences


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.secret = secrets.token_urlsafe(48)
        self.password = secrets.token_urlsafe(18)
        self.procs: list[Any] = []
        self.data_dir = tmp / "data"

    def close(self) -> None:
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                proc.stop()
        with contextlib.suppress(Exception):
            bf.stop_leftover_postgres(self.data_dir)

    def start(self) -> int:
        env_extra: dict[str, str] = {"SPEECH_PROVIDER": "local"}
        if self.args.provider == "deepgram":
            fake = bf.Proc("fake-deepgram", [sys.executable, "-c", FAKE_MAIN.format(
                root=str(ROOT), key=FAKE_KEY)], LOG_DIR, stdout_pipe=True)
            self.procs.append(fake)
            line = fake.wait_line("fake-deepgram", 30)
            if line is None:
                raise RuntimeError(f"the fake Deepgram did not start:\n{fake.tail()}")
            port = line.split()[-1]
            env_extra = {"SPEECH_PROVIDER": "deepgram", "DEEPGRAM_API_KEY": FAKE_KEY,
                         "DEEPGRAM_BASE_URL": f"http://127.0.0.1:{port}"}
        grpc_port = bf.free_port()
        env = bf.server_env(self.data_dir, grpc_port, self.secret, self.password, "WARNING")
        env.update(env_extra)
        env["DB_POOL_SIZE"] = str(self.args.db_pool)
        server = bf.Proc("server", [str(bf.BIN / "interview-platform"), "serve"], LOG_DIR,
                         env=env)
        self.procs.append(server)
        bf.wait_grpc_serving(grpc_port, server, bf.READY_TIMEOUT)
        self.server = server
        return grpc_port

    def staff_and_job(self, port: int) -> tuple[str, str]:
        from interviewplatform.v1 import job_pb2, user_pb2
        from interviewplatform.v1 import job_service_pb2 as jpb
        from interviewplatform.v1 import job_service_pb2_grpc as jrpc

        api = bi.Api(port)
        try:
            root = api.login(bf.ADMIN_EMAIL, self.password)
            company = api.create_company(root, "Speech Bench")
            department = api.create_department(root, company, "Engineering")
            email = "speech-admin@bench.example"
            api.create_user(root, email=email, role=user_pb2.ROLE_COMPANY_ADMIN,
                            company_id=company, department_id="", password=self.password)
            token = api.login(email, self.password)
            jobs = jrpc.JobServiceStub(api.channel)
            job = jobs.CreateJob(jpb.CreateJobRequest(job=job_pb2.Job(
                department_id=department, title="Platform Engineer", description="Python.")),
                metadata=api.md(token), timeout=30).job
            jobs.CreateQuestionSet(jpb.CreateQuestionSetRequest(job_id=job.id, questions=[
                job_pb2.Question(id="exp", type=job_pb2.QUESTION_TYPE_TECHNICAL,
                                 difficulty=job_pb2.DIFFICULTY_EASY,
                                 texts=[job_pb2.LocalizedText(language="en",
                                                              text="Your experience?")],
                                 expected_answer="Python.", keywords=["python"])]),
                metadata=api.md(token), timeout=30)
            return token, str(job.id)
        finally:
            api.close()

    async def interviews(self, channel: Any, token: str, job_id: str, n: int
                         ) -> list[tuple[str, str]]:
        """n interviews, started: (interview id, link token)."""
        from google.protobuf import timestamp_pb2
        from interviewplatform.v1 import candidate_service_pb2 as cpb
        from interviewplatform.v1 import candidate_service_pb2_grpc as crpc
        from interviewplatform.v1 import interview_pb2
        from interviewplatform.v1 import interview_service_pb2 as ipb
        from interviewplatform.v1 import interview_service_pb2_grpc as irpc

        stub = irpc.InterviewServiceStub(channel)
        start = timestamp_pb2.Timestamp()
        start.FromDatetime(datetime.now(UTC) - timedelta(minutes=1))
        sem = asyncio.Semaphore(16)

        async def one() -> str:
            async with sem:
                r = await stub.ScheduleInterview(ipb.ScheduleInterviewRequest(
                    interview=interview_pb2.Interview(
                        job_id=job_id, language="en", mode=interview_pb2.INTERVIEW_MODE_STATIC,
                        scheduled_time=start, candidate=interview_pb2.Candidate(
                            full_name="Bench Candidate",
                            email=f"cand-{uuid.uuid4().hex[:10]}@bench.example"))),
                    metadata=(("authorization", f"Bearer {token}"),), timeout=30)
                return str(r.interview.id)

        ids = await asyncio.gather(*(one() for _ in range(n)))
        conn = await bi.pg_connect(self.data_dir)
        try:
            rows = await conn.fetch("SELECT resource, text_body FROM email_outbox "
                                    "WHERE resource = ANY($1::text[])",
                                    [f"interviews/{i}" for i in ids])
        finally:
            await conn.close()
        links = {r["resource"].split("/")[1]: re.search(r"token=([A-Za-z0-9_-]{32,})",
                                                        r["text_body"]).group(1)  # type: ignore[union-attr]
                 for r in rows}
        cand = crpc.CandidateServiceStub(channel)

        async def started(i: str) -> None:
            async with sem:
                await cand.StartInterview(cpb.StartInterviewRequest(id=i), timeout=30,
                                          metadata=(("authorization", f"Bearer {links[i]}"),))

        await asyncio.gather(*(started(i) for i in ids))
        return [(i, links[i]) for i in ids]

    async def one_stream(self, channel: Any, interview_id: str, link: str, pcm: bytes, *,
                         seconds: float, go: asyncio.Event) -> StreamResult:
        from grpc import aio
        from interviewplatform.v1 import speech_service_pb2 as spb
        from interviewplatform.v1 import speech_service_pb2_grpc as srpc

        result = StreamResult()
        chunk = RATE * 2 * self.args.chunk_ms // 1000
        total = int(seconds * 1000 / self.args.chunk_ms)
        await go.wait()
        call = srpc.SpeechServiceStub(channel).StreamAnswer(
            metadata=(("authorization", f"Bearer {link}"),))
        last_write = 0.0

        async def reader() -> None:
            async for r in call:
                if r.HasField("transcript"):
                    result.transcripts += 1
                elif r.HasField("answer"):
                    result.ok = True
                    result.finish_s = time.monotonic() - last_write

        reading = asyncio.create_task(reader())
        try:
            await call.write(spb.StreamAnswerRequest(id=interview_id, config=spb.StreamConfig(
                question_id="exp", encoding=spb.AUDIO_ENCODING_LINEAR16,
                sample_rate_hertz=RATE)))
            t0 = time.monotonic()
            offset = 0
            for n in range(total):
                piece = pcm[offset:offset + chunk]
                if len(piece) < chunk:
                    offset = 0
                    piece = pcm[:chunk]
                offset += chunk
                await call.write(spb.StreamAnswerRequest(id=interview_id, audio=piece))
                delay = t0 + (n + 1) * self.args.chunk_ms / 1000 - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            last_write = time.monotonic()
            await call.done_writing()
            await reading
        except aio.AioRpcError as exc:
            result.ok = False
            result.error = f"{exc.code().name}: {exc.details()}"
        except Exception as exc:  # a client-side failure counts as an error too
            result.ok = False
            result.error = f"{type(exc).__name__}: {exc}"
        finally:
            reading.cancel()
            with contextlib.suppress(BaseException):
                await reading
        if not result.ok and not result.error:
            result.error = "no answer"
        return result

    async def round(self, port: int, token: str, job_id: str, n: int, pcm: bytes) -> Round:
        import psutil
        from grpc import aio

        per_channel = 50
        channels = [aio.insecure_channel(f"127.0.0.1:{port}", options=bf.NO_PROXY)
                    for _ in range((n + per_channel - 1) // per_channel)]
        try:
            taken = await self.interviews(channels[0], token, job_id, n)
            go = asyncio.Event()
            tasks = [asyncio.create_task(self.one_stream(
                channels[k // per_channel], i, link, pcm, seconds=self.args.seconds, go=go))
                for k, (i, link) in enumerate(taken)]
            proc = psutil.Process(self.server.pid)
            cpu0, t0 = sum(proc.cpu_times()[:2]), time.monotonic()
            peak = 0.0

            async def sample() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, proc.memory_info().rss / 2**20)
                    await asyncio.sleep(1)

            sampler = asyncio.create_task(sample())
            go.set()
            results = await asyncio.gather(*tasks)
            sampler.cancel()
            wall = time.monotonic() - t0
            return Round(streams=n, seconds=self.args.seconds, results=list(results),
                         cpu_s=sum(proc.cpu_times()[:2]) - cpu0, rss_mb=peak, wall_s=wall)
        finally:
            for ch in channels:
                await ch.close()

    async def run(self) -> list[dict[str, Any]]:
        port = self.start()
        token, job_id = self.staff_and_job(port)
        pcm = speech_pcm()
        out: list[dict[str, Any]] = []
        for n in self.args.streams:
            print(f"round: {n} streams x {self.args.seconds:g} s ({self.args.provider}) ...",
                  flush=True)
            summary = (await self.round(port, token, job_id, n, pcm)).summary()
            out.append(summary)
            print(f"  ok {summary['ok']}/{n}, errors {summary['errors'] or 0}, finish p50 "
                  f"{summary['finish_p50_s'] or 0:.2f} s p95 {summary['finish_p95_s'] or 0:.2f}"
                  f" s, server {summary['server_cpu_cores']:.2f} cores, "
                  f"{summary['server_rss_mb']:.0f} MB", flush=True)
            if not summary["passed"]:
                break
        return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--provider", choices=("deepgram", "local"), default="deepgram")
    parser.add_argument("--streams", type=lambda s: [int(x) for x in s.split(",")],
                        default=[25, 50, 100, 200])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--chunk-ms", type=int, default=100)
    parser.add_argument("--db-pool", type=int, default=20)
    args = parser.parse_args()
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="speech-bench-") as tmp:
        bench = Bench(args, Path(tmp))
        try:
            rounds = asyncio.run(bench.run())
        finally:
            bench.close()
    report = {"provider": args.provider, "seconds": args.seconds, "chunk_ms": args.chunk_ms,
              "machine": bf.machine_info(), "rounds": rounds,
              "held_without_error": max((r["streams"] for r in rounds if r["passed"]),
                                        default=0)}
    (OUT / "speech_streams.json").write_text(json.dumps(report, indent=2))
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2))
    return 0 if rounds and rounds[0]["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
