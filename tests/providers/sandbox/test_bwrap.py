"""The bubblewrap sandbox, with real bwrap, python and node: correct and wrong programs, and
programs that attack the host (fork bombs, memory and output floods, network, files outside the
sandbox). Limits are small (2 s wall, 1 s CPU) to keep the file fast."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Sequence
from pathlib import Path

import pytest

from server.domain.ai import CodingResult, TestOutcome, TestResult
from server.domain.models import TestCase
from server.providers.sandbox import BubblewrapRunner, SandboxLimits

ROOT = Path(__file__).resolve().parents[3]
BANK = ROOT / "server" / "providers" / "ai" / "bank" / "coding.json"
LIMITS = SandboxLimits(wall_seconds=2.0, cpu_seconds=1, memory_mb=256, max_processes=32,
                       output_bytes=8192, concurrency=2)

SUM_PY = "a, b = map(int, input().split())\nprint(a + b)\n"
SUM_JS = (
    "const [a, b] = require('fs').readFileSync(0, 'utf8').trim().split(/\\s+/).map(Number);\n"
    "console.log(a + b);\n"
)
SUM_TESTS = (TestCase("3 4\n", "7"), TestCase("-5 5", "0\n"), TestCase("1000000 1", "1000001"))


@pytest.fixture(scope="module")
def runner() -> BubblewrapRunner:
    return BubblewrapRunner(LIMITS)


async def one(runner: BubblewrapRunner, language: str, code: str, stdin: str = "",
              expected: str = "", *, hidden: bool = False) -> TestResult:
    result = await runner.run(language, code, [TestCase(stdin, expected)], hidden=hidden)
    assert result.total == 1
    return result.results[0]


def sandbox_processes() -> list[str]:
    """Processes still running a sandboxed program (their command line names /sandbox/main.*)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            data = cmdline.read_bytes()
        except OSError:
            continue
        if b"/sandbox/main." in data and b"pytest" not in data:
            found.append(cmdline.parent.name)
    return found


async def assert_machine_healthy(runner: BubblewrapRunner) -> None:
    """Nothing of earlier sandboxes lingers and a normal run passes."""
    for _ in range(40):
        if not sandbox_processes():
            break
        await asyncio.sleep(0.05)
    assert sandbox_processes() == []
    result = await runner.run("python", SUM_PY, SUM_TESTS[:1], hidden=False)
    assert result.passed == 1, result


# --- correct, wrong, broken ------------------------------------------------------------------

@pytest.mark.timeout(20)
async def test_health_and_languages(runner: BubblewrapRunner) -> None:
    assert runner.languages() == ("python", "javascript")
    python = runner.command("python", "/x/main.py")
    assert python is not None and python[-4:] == ["-I", "-S", "-B", "/x/main.py"]
    assert runner.command("cobol", "/x/main.cob") is None
    ok, reason = await runner.health()
    assert ok, reason


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("language", "code"), [("python", SUM_PY), ("javascript", SUM_JS)])
async def test_correct_solution_passes(runner: BubblewrapRunner, language: str, code: str) -> None:
    result = await runner.run(language, code, SUM_TESTS, hidden=False)
    assert isinstance(result, CodingResult)
    assert (result.language, result.passed, result.total) == (language, 3, 3)
    assert [r.index for r in result.results] == [0, 1, 2]
    assert all(r.outcome is TestOutcome.PASSED and r.time_ms > 0 for r in result.results)
    assert result.results[0].output == "7\n"


@pytest.mark.timeout(20)
async def test_trailing_whitespace_is_ignored_but_content_is_not(runner: BubblewrapRunner) -> None:
    code = "print('1 2   ')\nprint('3\\t')\nprint()\nprint()\n"
    passed = await one(runner, "python", code, expected="1 2\n3")
    assert passed.outcome is TestOutcome.PASSED
    failed = await one(runner, "python", code, expected="1  2\n3")
    assert failed.outcome is TestOutcome.FAILED


@pytest.mark.timeout(20)
@pytest.mark.parametrize("language", ["python", "javascript"])
async def test_wrong_answer_fails(runner: BubblewrapRunner, language: str) -> None:
    code = "print(42)" if language == "python" else "console.log(42)"
    result = await runner.run(language, code, SUM_TESTS, hidden=False)
    assert result.passed == 0
    assert {r.outcome for r in result.results} == {TestOutcome.FAILED}
    assert result.results[0].output == "42\n"


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("language", "code", "marker"), [
    ("python", "def f(:\n  pass\n", "SyntaxError"),
    ("javascript", "function f( {\n", "SyntaxError"),
    ("python", "raise ValueError('boom')", "ValueError: boom"),
])
async def test_broken_program_is_error_with_stderr(
    runner: BubblewrapRunner, language: str, code: str, marker: str
) -> None:
    result = await one(runner, language, code, expected="x")
    assert result.outcome is TestOutcome.ERROR
    assert marker in result.error
    assert "exit status 1" in result.error


@pytest.mark.timeout(20)
async def test_unknown_language_is_unsupported_without_a_process(
    runner: BubblewrapRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []

    async def spy(*args: object, **kwargs: object) -> None:
        started.append(args)
        raise AssertionError("no process may start")

    monkeypatch.setattr(asyncio, "create_subprocess_exec", spy)
    result = await runner.run("cobol", "DISPLAY 'HI'.", SUM_TESTS, hidden=True)
    assert started == []
    assert (result.passed, result.total) == (0, 3)
    assert {r.outcome for r in result.results} == {TestOutcome.UNSUPPORTED}
    assert all(r.hidden and "cobol" in r.error for r in result.results)


@pytest.mark.timeout(20)
async def test_hidden_tests_do_not_leak_input_or_expected(runner: BubblewrapRunner) -> None:
    secret_in, secret_out = "SECRET-INPUT-93172", "SECRET-EXPECTED-55120"
    code = "import sys\nsys.stdin.read()\nprint('nope')\nraise SystemExit(0)"
    result = await runner.run("python", code, [TestCase(secret_in, secret_out)], hidden=True)
    item = result.results[0]
    assert item.outcome is TestOutcome.FAILED and item.hidden
    for text in (item.output, item.error):
        assert secret_in not in text and secret_out not in text


@pytest.mark.timeout(20)
async def test_large_input_to_a_program_that_does_not_read_it(runner: BubblewrapRunner) -> None:
    result = await one(runner, "python", "print('ok')", stdin="x" * 2_000_000, expected="ok")
    assert result.outcome is TestOutcome.PASSED


# --- attacks on the host ---------------------------------------------------------------------

FORK_BOMBS = [
    ("python", "import os\nwhile True:\n    os.fork()\n"),
    ("javascript", "const cp = require('child_process');\nfor (;;) {\n"
                   "  cp.spawnSync(process.execPath, [__filename], {stdio: 'inherit'});\n}\n"),
    ("javascript", "require('child_process').execSync('f(){ f | f; }; f', {shell: '/bin/sh'});\n"),
]


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("language", "code"), FORK_BOMBS)
async def test_fork_bomb_is_contained(runner: BubblewrapRunner, language: str, code: str) -> None:
    start = time.monotonic()
    result = await one(runner, language, code)
    assert time.monotonic() - start < LIMITS.wall_seconds + 1
    assert result.outcome in (TestOutcome.PROCESS_LIMIT, TestOutcome.TIMEOUT), result
    await assert_machine_healthy(runner)


@pytest.mark.timeout(20)
async def test_fork_bomb_does_not_starve_a_concurrent_sandbox(runner: BubblewrapRunner) -> None:
    """The process limit counts per sandbox (its own user namespace), not per host uid."""
    slow_bomb = "import os, time\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n" \
                "        time.sleep(0.05)\n"
    spawner = (
        "import subprocess, sys, time\ntime.sleep(0.4)\n"
        "out = [subprocess.run([sys.executable, '-c', 'print(1)'], capture_output=True).stdout"
        " for _ in range(3)]\nprint(len(out))\n"
    )
    bomb, normal = await asyncio.gather(
        one(runner, "python", slow_bomb), one(runner, "python", spawner, expected="3"),
    )
    assert bomb.outcome is TestOutcome.TIMEOUT
    assert normal.outcome is TestOutcome.PASSED, normal
    await assert_machine_healthy(runner)


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("language", "code"), [
    ("python", "while True:\n    pass\n"),
    ("javascript", "for (;;) {}\n"),
    ("python", "import time\ntime.sleep(60)\n"),
])
async def test_endless_program_times_out(
    runner: BubblewrapRunner, language: str, code: str
) -> None:
    start = time.monotonic()
    result = await one(runner, language, code)
    elapsed = time.monotonic() - start
    assert result.outcome is TestOutcome.TIMEOUT, result
    assert elapsed < LIMITS.wall_seconds + 1
    assert "limit exceeded" in result.error


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("language", "code"), [
    ("python", "x = bytearray(2 * 1024 ** 3)\n"),
    ("python", "x = []\nwhile True:\n    x.append(' ' * 10_000_000)\n"),
    ("javascript", "const b = Buffer.alloc(2 * 1024 ** 3);\nconsole.log(b.length);\n"),
    ("javascript", "const a = [];\nfor (;;) a.push(new Array(1e6).fill(1.5));\n"),
])
async def test_memory_bomb_hits_memory_limit(
    runner: BubblewrapRunner, language: str, code: str
) -> None:
    result = await one(runner, language, code)
    assert result.outcome is TestOutcome.MEMORY_LIMIT, result
    assert "memory limit exceeded (256 MB)" in result.error


NETWORK_PY = """
import socket, sys
for host, port in [("1.1.1.1", 53), ("127.0.0.1", int(sys.stdin.read()))]:
    try:
        socket.create_connection((host, port), timeout=1).close()
        print("connected", host)
    except OSError as exc:
        print("blocked", host, type(exc).__name__)
"""
NETWORK_JS = """
const net = require('net');
const port = Number(require('fs').readFileSync(0, 'utf8'));
function attempt(host, p) {
  return new Promise((done) => {
    const s = net.connect({host, port: p, timeout: 1000});
    s.on('connect', () => { console.log('connected', host); s.destroy(); done(); });
    s.on('error', (e) => { console.log('blocked', host, e.code); done(); });
    s.on('timeout', () => { console.log('blocked', host, 'timeout'); s.destroy(); done(); });
  });
}
attempt('1.1.1.1', 53).then(() => attempt('127.0.0.1', port));
"""


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("language", "code"), [("python", NETWORK_PY), ("javascript", NETWORK_JS)])
async def test_no_network(runner: BubblewrapRunner, language: str, code: str) -> None:
    accepted: list[str] = []

    async def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append("connection")
        writer.close()

    server = await asyncio.start_server(on_connect, "127.0.0.1", 0, family=socket.AF_INET)
    port = server.sockets[0].getsockname()[1]
    try:
        result = await one(runner, language, code, stdin=str(port))
        await asyncio.sleep(0.1)
    finally:
        server.close()
        await server.wait_closed()
    lines = result.output.splitlines()
    assert [line.split()[:2] for line in lines] == [["blocked", "1.1.1.1"],
                                                     ["blocked", "127.0.0.1"]], result
    assert accepted == []


@pytest.mark.timeout(20)
async def test_files_outside_the_sandbox_are_invisible(runner: BubblewrapRunner) -> None:
    targets = [str(ROOT / "pyproject.toml"), str(Path.home() / ".bashrc"), "/root",
               str(Path.home()), "/etc/shadow", "/etc/passwd", str(ROOT)]
    assert (ROOT / "pyproject.toml").is_file()
    code = (
        "import os, sys\n"
        "for path in sys.stdin.read().split():\n"
        "    try:\n"
        "        found = os.listdir(path) if os.path.isdir(path) else open(path).read(9)\n"
        "        print('READ', path, found)\n"
        "    except OSError as exc:\n"
        "        print('hidden', path, type(exc).__name__)\n"
    )
    result = await one(runner, "python", code, stdin="\n".join(targets))
    assert result.outcome is TestOutcome.FAILED  # it ran to the end; nothing was readable
    assert "READ" not in result.output
    assert result.output.count("hidden") == len(targets)


@pytest.mark.timeout(20)
async def test_only_tmp_is_writable(runner: BubblewrapRunner) -> None:
    code = (
        "import sys\n"
        "for path in ['/usr/evil', '/sandbox/main.py', '/evil', '/etc/evil', '/proc/evil',"
        " '/tmp/ok']:\n"
        "    try:\n"
        "        with open(path, 'w') as f:\n"
        "            f.write('x')\n"
        "        print('wrote', path)\n"
        "    except OSError as exc:\n"
        "        print('denied', path, exc.strerror)\n"
    )
    result = await one(runner, "python", code)
    lines = result.output.splitlines()
    assert lines[-1] == "wrote /tmp/ok"
    assert all(line.startswith("denied") for line in lines[:-1]), lines
    assert sum("Read-only file system" in line for line in lines) >= 3


@pytest.mark.timeout(20)
@pytest.mark.parametrize(("language", "code"), [
    ("python", "while True:\n    print('flood' * 100)\n"),
    ("javascript", "for (;;) process.stdout.write('flood'.repeat(100) + '\\n');\n"),
    ("python", "import sys\nwhile True:\n    sys.stderr.write('err' * 100)\n"),
])
async def test_output_flood_is_cut(runner: BubblewrapRunner, language: str, code: str) -> None:
    start = time.monotonic()
    result = await one(runner, language, code)
    assert time.monotonic() - start < 1.5
    assert result.outcome is TestOutcome.OUTPUT_LIMIT and result.truncated
    flooded_stdout = "stderr" not in code
    assert len(result.output.encode()) == (LIMITS.output_bytes if flooded_stdout else 0)
    assert "output limit exceeded" in result.error


@pytest.mark.timeout(20)
@pytest.mark.parametrize("code", [
    "with open('/tmp/big', 'wb') as f:\n    while True:\n        f.write(b'x' * 1_000_000)\n",
    "i = 0\nwhile True:\n    i += 1\n    with open(f'/tmp/f{i}', 'wb') as f:\n"
    "        f.write(b'x' * 1_000_000)\n",
])
async def test_file_size_bomb_is_contained(runner: BubblewrapRunner, code: str) -> None:
    start = time.monotonic()
    result = await one(runner, "python", code)
    assert time.monotonic() - start < LIMITS.wall_seconds
    assert result.outcome is TestOutcome.ERROR
    assert "File too large" in result.error or "No space left on device" in result.error
    await assert_machine_healthy(runner)


@pytest.mark.timeout(30)
async def test_concurrency_is_bounded_by_the_semaphore(runner: BubblewrapRunner) -> None:
    code = "import time\nstart = time.time()\ntime.sleep(0.3)\nprint(start, time.time())\n"
    results = await asyncio.gather(*(
        runner.run("python", code, [TestCase("", "")] * 3, hidden=False) for _ in range(3)
    ))
    spans = [tuple(map(float, r.output.split())) for res in results for r in res.results]
    assert len(spans) == 9
    events = sorted([(s, 1) for s, _ in spans] + [(e, -1) for _, e in spans])
    running = peak = 0
    for _, step in events:
        running += step
        peak = max(peak, running)
    assert peak == LIMITS.concurrency


# --- the coding question bank ----------------------------------------------------------------

def _cases(items: Sequence[dict[str, str]]) -> list[TestCase]:
    return [TestCase(item["input"], item["expected_output"]) for item in items]


def _bank() -> list[dict[str, object]]:
    questions: list[dict[str, object]] = json.loads(BANK.read_text("utf-8"))["questions"]
    return questions


@pytest.mark.timeout(60)
@pytest.mark.parametrize("language", ["python", "javascript"])
async def test_bank_reference_solutions_pass_every_test(language: str) -> None:
    """Each reference solution passes its examples and hidden tests in the real sandbox (with the
    server's default limits): the bank's expected outputs are right in both languages."""
    runner = BubblewrapRunner(SandboxLimits())
    questions = _bank()
    assert len(questions) == 9
    for question in questions:
        solutions = question["solutions"]
        examples, hidden = question["examples"], question["hidden_tests"]
        assert isinstance(solutions, dict) and isinstance(examples, list)
        assert isinstance(hidden, list) and 5 <= len(hidden) <= 8
        visible = await runner.run(language, solutions[language], _cases(examples), hidden=False)
        secret = await runner.run(language, solutions[language], _cases(hidden), hidden=True)
        assert (visible.total, secret.total) == (len(examples), len(hidden))
        for result in (visible, secret):
            failures = [(r.index, r.outcome, r.output, r.error) for r in result.results
                        if r.outcome is not TestOutcome.PASSED]
            assert failures == [], (question["id"], language, failures)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("language", ["python", "javascript"])
async def test_bank_starter_code_runs_but_does_not_solve(
    runner: BubblewrapRunner, language: str
) -> None:
    """Starter code is a skeleton: it reads the input and prints, without an error, and fails
    at least one example of every question."""
    for question in _bank():
        starter = question["starter_code"]
        examples = question["examples"]
        assert isinstance(starter, dict) and isinstance(examples, list)
        result = await runner.run(language, starter[language], _cases(examples), hidden=False)
        outcomes = {r.outcome for r in result.results}
        assert outcomes <= {TestOutcome.PASSED, TestOutcome.FAILED}, (question["id"], result)
        assert result.passed < result.total, question["id"]
