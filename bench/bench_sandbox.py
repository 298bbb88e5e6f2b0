"""Sandbox overhead: a trivial program (`print(input())` and its node twin) run through
BubblewrapRunner versus the same interpreter, with the same flags, started directly.

Run with `.venv/bin/python bench/bench_sandbox.py` (bwrap must be installed). See
bench/SANDBOX.md for the method and the last results.

Target: the sandbox adds at most 150 ms to the median run of a trivial program (per test case,
for each language). Each round runs the direct and the sandboxed variant back to back, one at a
time, after a few warm-up runs; the direct one gets the sandbox's minimal environment. The
median and p90 of the wall time of every variant are reported. The sandboxed time is what a
caller of `run()` waits for one test case: memfd, bwrap setup (namespaces, mounts), prlimit,
the interpreter, output capture and classification.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.domain.ai import TestOutcome
from server.domain.models import TestCase
from server.providers.sandbox import BubblewrapRunner, SandboxLimits

TARGET_MS = 150.0
PROGRAMS = {
    "python": ("main.py", "print(input())\n"),
    "javascript": ("main.js", "const fs = require('fs');\n"
                              "console.log(fs.readFileSync(0, 'utf8').split('\\n')[0]);\n"),
}
INPUT = "hello sandbox\n"
# The direct run gets the sandbox's environment: an inherited NODE_EXTRA_CA_CERTS, for one,
# makes node parse a CA bundle at start-up (~30 ms) and would flatter the sandbox.
CLEAN_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": tempfile.gettempdir(),
             "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}


async def direct(command: list[str]) -> float:
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *command, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE, env=CLEAN_ENV,
    )
    out, _ = await proc.communicate(INPUT.encode())
    elapsed = (time.perf_counter() - start) * 1000
    if proc.returncode != 0 or out.decode().strip() != INPUT.strip():
        raise RuntimeError(f"direct run failed: {command}")
    return elapsed


async def sandboxed(runner: BubblewrapRunner, language: str, code: str) -> float:
    start = time.perf_counter()
    result = await runner.run(language, code, [TestCase(INPUT, INPUT)], hidden=False)
    elapsed = (time.perf_counter() - start) * 1000
    if result.results[0].outcome is not TestOutcome.PASSED:
        raise RuntimeError(f"sandboxed run failed: {result}")
    return elapsed


def p90(values: list[float]) -> float:
    return sorted(values)[max(0, round(0.9 * len(values)) - 1)]


async def measure(runner: BubblewrapRunner, language: str, runs: int, warmup: int,
                  folder: Path) -> dict[str, float]:
    name, code = PROGRAMS[language]
    path = folder / name
    path.write_text(code)
    command = runner.command(language, str(path))
    if command is None:
        raise RuntimeError(f"{language} is not available")
    for _ in range(warmup):
        await direct(command)
        await sandboxed(runner, language, code)
    plain: list[float] = []
    boxed: list[float] = []
    for _ in range(runs):
        plain.append(await direct(command))
        boxed.append(await sandboxed(runner, language, code))
    return {
        "direct_median": statistics.median(plain), "direct_p90": p90(plain),
        "sandbox_median": statistics.median(boxed), "sandbox_p90": p90(boxed),
        "overhead": statistics.median(boxed) - statistics.median(plain),
    }


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    runner = BubblewrapRunner(SandboxLimits())
    ok, reason = await runner.health()
    if not ok:
        print(f"sandbox unavailable: {reason}")
        return 2
    print(f"{reason}; {args.runs} runs after {args.warmup} warm-up runs, one at a time\n")
    print(f"{'language':<11} {'direct p50':>11} {'direct p90':>11} {'sandbox p50':>12} "
          f"{'sandbox p90':>12} {'overhead':>9}  target ≤ {TARGET_MS:.0f} ms")
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        for language in runner.languages():
            row = await measure(runner, language, args.runs, args.warmup, Path(tmp))
            verdict = "PASS" if row["overhead"] <= TARGET_MS else "FAIL"
            verdicts.append(verdict)
            print(f"{language:<11} {row['direct_median']:>8.1f} ms {row['direct_p90']:>8.1f} ms "
                  f"{row['sandbox_median']:>9.1f} ms {row['sandbox_p90']:>9.1f} ms "
                  f"{row['overhead']:>6.1f} ms  {verdict}")
    return 0 if all(v == "PASS" for v in verdicts) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
