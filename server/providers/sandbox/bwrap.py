"""Candidates' programs run in bubblewrap (bwrap), one fresh sandbox per test case.

Isolation. `bwrap --unshare-all` gives every run new user, pid, network, ipc, uts and cgroup
namespaces: no network at all (only a loopback of its own), no view of host processes, and
`--die-with-parent --new-session`. The filesystem is a new empty root with read-only binds of
/usr (plus /bin, /lib, /lib64 as the host has them: symlinks into /usr on merged-usr systems)
and /etc/alternatives; nothing of /etc, /home, /root or the project is visible. /proc and /dev
are fresh, /tmp is a private size-capped tmpfs (the working directory) and the program itself is
copied in from a memfd (`--ro-bind-data`) as a read-only /sandbox/main.<ext>; no temporary file
exists on the host. The new root itself is remounted read-only, so /tmp is the only writable
place. The environment is cleared to PATH, HOME=/tmp, LANG=C.UTF-8 and Python's
no-bytecode/no-user-site switches.

Interpreters. Python is /usr/bin/python3 when it exists: it lives entirely under /usr, which is
bound anyway, so nothing of the server's own installation (its venv, site-packages, or a pyenv
prefix under a home directory that an unprivileged uid cannot even traverse) becomes visible.
It runs with `-I -S -B` (isolated, no site, no bytecode): candidates get the standard library
only. Without /usr/bin/python3 the server's interpreter (sys.executable resolved to the real
binary) is used and its prefix is bound read-only (it must then be readable by the sandbox's
uid: a pyenv under a root-only home is not, when the server runs as root). Node is found with
shutil.which; a prefix outside /usr is bound the same way.

Limits. `prlimit` (util-linux) runs as the sandbox's first command and sets the rlimits before
it execs the interpreter, so no preexec_fn runs in the server (unsafe with threads):
RLIMIT_CPU (SIGXCPU at the limit, SIGKILL a second later), RLIMIT_FSIZE, RLIMIT_CORE=0,
RLIMIT_NOFILE and RLIMIT_NPROC. Memory: Python gets RLIMIT_AS. Node cannot: V8 reserves
gigabytes of address space it never touches (PROT_NONE), so node gets RLIMIT_DATA (the kernel
counts only writable private mappings) with a fixed headroom for the runtime, and
`--max-old-space-size` so that a heap that grows too far ends in V8's own "heap out of memory".

Processes. RLIMIT_NPROC counts the processes of a user per user namespace, and is never
enforced for the global root user. So (1) when the server runs as root, bwrap itself is started
as an unprivileged uid (nobody by default), and (2) the limit is set inside the sandbox's own
user namespace, where only that sandbox's processes are counted: a fork bomb exhausts its own 32
slots and gets EAGAIN, while the server and concurrent sandboxes (same uid, other namespaces)
are unaffected. The user namespace is therefore required (`--unshare-user`, not bwrap's
"-try" default): a host without unprivileged user namespaces fails the health check instead of
silently counting the limit host-wide. Nested user namespaces are disabled
(`--disable-userns`) where bwrap has it.

Time and output. The wall clock kills bwrap's process group; bwrap's pid 1 in the sandbox dies
with its parent and the kernel kills everything left in the pid namespace. stdout and stderr are
read incrementally and each kept up to the output cap; one byte more kills the sandbox
(OUTPUT_LIMIT), so output is never buffered unbounded. A semaphore bounds how many sandboxes run
at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from server.domain.ai import CodingResult, TestOutcome, TestResult
from server.domain.models import TestCase
from server.providers.sandbox.base import SandboxLimits

NOBODY = 65534
SANDBOX_DIR = "/sandbox"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
SANDBOX_TMP = "/tmp"  # noqa: S108 - the sandbox's own private tmpfs, not the host's /tmp
NODE_HEADROOM_MB = 128       # node's own data (~50 MB) + young generation + code space
STDERR_TAIL = 4000           # characters of stderr kept in an error message
READ_CHUNK = 65536
DRAIN_SECONDS = 2.0          # after the kill, for the pipes to reach their end

_PROCESS_MARKERS = (
    "BlockingIOError", "Resource temporarily unavailable", "EAGAIN", "Cannot fork",
    "fork: retry",
)
_MEMORY_MARKERS = (
    "MemoryError", "heap out of memory", "Array buffer allocation failed",
    "Cannot allocate memory", "std::bad_alloc", "Fatal process out of memory", "ENOMEM",
)


@dataclass(frozen=True, slots=True)
class _Language:
    name: str
    interpreter: str          # resolved path of the interpreter
    file_name: str            # the program's name inside the sandbox
    flags: tuple[str, ...]    # interpreter flags before the program's path
    memory_limit: str         # the prlimit option that caps memory ("as" or "data")
    headroom_mb: int = 0

    def command(self, memory_mb: int) -> list[str]:
        flags = [f.format(memory_mb=memory_mb) for f in self.flags]
        return [self.interpreter, *flags, f"{SANDBOX_DIR}/{self.file_name}"]


@dataclass(slots=True)
class _Capture:
    """One output stream, kept up to `cap` bytes."""

    cap: int
    data: bytearray
    overflow: bool = False

    def add(self, chunk: bytes) -> bool:
        """Keep what fits; False once the stream went past the cap."""
        room = self.cap - len(self.data)
        self.data += chunk[: max(room, 0)]
        if len(chunk) > room:
            self.overflow = True
        return not self.overflow

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class _Raw:
    """What one sandboxed process did."""

    returncode: int
    stdout: _Capture
    stderr: _Capture
    timed_out: bool
    elapsed_ms: float


def _resolved(path: str | None) -> str | None:
    if not path:
        return None
    real = Path(path).resolve()
    return str(real) if real.is_file() and os.access(real, os.X_OK) else None


def _python_interpreter() -> str | None:
    return _resolved("/usr/bin/python3") or _resolved(sys.executable)


def _prefix_bind(interpreter: str) -> list[str]:
    """Bind the installation prefix of an interpreter that lives outside /usr (…/bin/x →
    …). A prefix that is a top-level directory or a home directory is never bound."""
    if interpreter.startswith("/usr/"):
        return []
    prefix = Path(interpreter).parents[1]
    if len(prefix.parts) < 3 or prefix == Path.home():
        raise ValueError(f"refusing to expose {prefix} to the sandbox")
    return ["--ro-bind", str(prefix), str(prefix)]


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for path in ("/bin", "/lib", "/lib64"):
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    if os.path.isdir("/etc/alternatives"):
        args += ["--ro-bind", "/etc/alternatives", "/etc/alternatives"]
    return args


def _bwrap_options(bwrap: str | None) -> frozenset[str]:
    """The options this bwrap knows (`--size` and `--disable-userns` are recent)."""
    if bwrap is None:
        return frozenset()
    try:
        done = subprocess.run(  # noqa: S603 - a fixed argv, no shell
            [bwrap, "--help"], capture_output=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return frozenset()
    words = (done.stdout + done.stderr).decode(errors="replace").split()
    return frozenset(w for w in words if w.startswith("--"))


def normalise(text: str) -> str:
    """Output as compared: trailing whitespace dropped on every line and at the end."""
    return "\n".join(line.rstrip() for line in text.rstrip().splitlines())


class BubblewrapRunner:
    """Runs Python and JavaScript programs in bubblewrap, one sandbox per test case."""

    def __init__(
        self,
        limits: SandboxLimits,
        *,
        bwrap: str | None = None,
        python: str | None = None,
        node: str | None = None,
        unprivileged_uid: int = NOBODY,
    ) -> None:
        self._limits = limits
        self._bwrap = _resolved(bwrap or shutil.which("bwrap"))
        self._prlimit = _resolved(shutil.which("prlimit", path="/usr/bin:/bin"))
        self._slots = asyncio.Semaphore(limits.concurrency)
        # As root, bwrap runs as an unprivileged uid: RLIMIT_NPROC never applies to root.
        self._uid = unprivileged_uid if os.geteuid() == 0 else None
        self._options = _bwrap_options(self._bwrap)
        self._binds = _system_binds()
        self._languages = self._find_languages(python, node)

    # --- public ------------------------------------------------------------------------------

    def languages(self) -> tuple[str, ...]:
        return tuple(self._languages)

    def command(self, language: str, path: str) -> list[str] | None:
        """The interpreter command the sandbox runs for `language` (for a program at `path`),
        without the sandbox: what a direct run would be (benchmarks, diagnostics)."""
        lang = self._languages.get(language)
        if lang is None:
            return None
        return [*lang.command(self._limits.memory_mb)[:-1], path]

    async def run(
        self, language: str, code: str, tests: Sequence[TestCase], *, hidden: bool
    ) -> CodingResult:
        lang = self._languages.get(language)
        if lang is None:
            results = tuple(_unsupported(i, language, hidden) for i in range(len(tests)))
        else:
            source = code.encode("utf-8")
            results = tuple(await asyncio.gather(*(
                self._run_case(lang, source, i, case, hidden) for i, case in enumerate(tests)
            )))
        passed = sum(r.outcome is TestOutcome.PASSED for r in results)
        return CodingResult(language=language, passed=passed, total=len(results),
                            results=results)

    async def health(self) -> tuple[bool, str]:
        if self._bwrap is None:
            return False, "bwrap not found"
        if self._prlimit is None:
            return False, "prlimit not found"
        if "python" not in self._languages:
            return False, "no Python interpreter"
        probe = "import sys\nprint(input())\nprint(open('/proc/self/uid_map').read())"
        raw = await self._execute(self._languages["python"], probe.encode(), b"ok\n")
        lines = raw.stdout.text().split("\n")
        if raw.returncode != 0 or lines[0] != "ok":
            return False, f"sandbox run failed: {_tail(raw.stderr.text(), 300)}"
        if lines[1].split()[-1:] == ["4294967295"]:
            return False, "no user namespace: the process limit would count host-wide"
        return True, f"bwrap ok: {', '.join(self._languages)}"

    # --- one test case -----------------------------------------------------------------------

    async def _run_case(
        self, lang: _Language, source: bytes, index: int, case: TestCase, hidden: bool
    ) -> TestResult:
        async with self._slots:
            raw = await self._execute(lang, source, case.input.encode("utf-8"))
        return classify(index, raw, case.expected_output, hidden, self._limits)

    async def _execute(self, lang: _Language, source: bytes, data: bytes) -> _Raw:
        fd = os.memfd_create("program", os.MFD_CLOEXEC)
        try:
            os.write(fd, source)
            os.lseek(fd, 0, os.SEEK_SET)
            argv = self._argv(lang, fd)
            start = time.perf_counter()
            proc = await asyncio.create_subprocess_exec(
                *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE, pass_fds=(fd,), process_group=0, cwd="/",
                user=self._uid, group=self._uid,
                extra_groups=None if self._uid is None else [],
            )
        finally:
            os.close(fd)
        out = _Capture(self._limits.output_bytes, bytearray())
        err = _Capture(self._limits.output_bytes, bytearray())
        timed_out = await self._supervise(proc, data, out, err)
        elapsed = (time.perf_counter() - start) * 1000
        assert proc.returncode is not None
        return _Raw(proc.returncode, out, err, timed_out, elapsed)

    async def _supervise(
        self, proc: asyncio.subprocess.Process, data: bytes, out: _Capture, err: _Capture
    ) -> bool:
        """Feed stdin, read both streams up to the cap and wait; True if the wall clock ran
        out. The sandbox is always gone when this returns."""
        assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
        kill = functools.partial(_kill, proc)
        try:
            async with asyncio.timeout(self._limits.wall_seconds):
                async with asyncio.TaskGroup() as group:
                    group.create_task(_feed(proc.stdin, data))
                    group.create_task(_pump(proc.stdout, out, kill))
                    group.create_task(_pump(proc.stderr, err, kill))
                await proc.wait()
        except TimeoutError:
            return True
        finally:
            kill()
            await proc.wait()
            await _drain(proc)
        return False

    def _argv(self, lang: _Language, fd: int) -> list[str]:
        assert self._bwrap is not None and self._prlimit is not None
        limits = self._limits
        options = self._options
        dest = f"{SANDBOX_DIR}/{lang.file_name}"
        tmp_size = ["--size", str(limits.file_mb << 20)] if "--size" in options else []
        # The user namespace is required (not "-try"): RLIMIT_NPROC must count per sandbox.
        userns = ["--unshare-user"]
        if "--disable-userns" in options:
            userns.append("--disable-userns")
        memory = (limits.memory_mb + lang.headroom_mb) << 20
        return [
            self._bwrap, "--unshare-all", *userns, "--die-with-parent", "--new-session",
            *self._binds, *_prefix_bind(lang.interpreter),
            "--proc", "/proc", "--dev", "/dev", *tmp_size, "--tmpfs", SANDBOX_TMP,
            "--dir", SANDBOX_DIR, "--perms", "0444", "--ro-bind-data", str(fd), dest,
            "--remount-ro", "/", "--chdir", SANDBOX_TMP, "--clearenv",
            "--setenv", "PATH", SANDBOX_PATH, "--setenv", "HOME", SANDBOX_TMP,
            "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--setenv", "PYTHONNOUSERSITE", "1",
            "--", self._prlimit,
            f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 1}",
            f"--nproc={limits.max_processes}", f"--fsize={limits.file_mb << 20}",
            "--core=0", "--nofile=256", f"--{lang.memory_limit}={memory}",
            *lang.command(limits.memory_mb),
        ]

    def _find_languages(self, python: str | None, node: str | None) -> dict[str, _Language]:
        if self._bwrap is None or self._prlimit is None:
            return {}
        found: dict[str, _Language] = {}
        py = _resolved(python) if python else _python_interpreter()
        if py and _bindable(py):
            found["python"] = _Language("python", py, "main.py", ("-I", "-S", "-B"), "as")
        js = _resolved(node or shutil.which("node"))
        if js and _bindable(js):
            found["javascript"] = _Language(
                "javascript", js, "main.js", ("--max-old-space-size={memory_mb}",), "data",
                NODE_HEADROOM_MB,
            )
        return found


# --- process plumbing ----------------------------------------------------------------------


def _bindable(interpreter: str) -> bool:
    try:
        _prefix_bind(interpreter)
    except ValueError:
        return False
    return True


def _kill(proc: asyncio.subprocess.Process) -> None:
    """SIGKILL bwrap's process group while it is not reaped yet (so the id is still ours);
    the sandbox's pid 1 dies with it and takes every process of the sandbox along."""
    if proc.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)


async def _feed(stdin: asyncio.StreamWriter, data: bytes) -> None:
    """Write the test input and close stdin; a program that stops reading is its business."""
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.write(data)
        await stdin.drain()
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        stdin.close()


async def _pump(stream: asyncio.StreamReader, capture: _Capture, kill: Callable[[], None]) -> None:
    """Read a stream to its end, keeping up to the cap; past the cap, kill the sandbox."""
    while chunk := await stream.read(READ_CHUNK):
        if not capture.add(chunk):
            kill()
            return


async def _drain(proc: asyncio.subprocess.Process) -> None:
    """Discard what is left in the pipes up to their end, so that their transports close (the
    sandbox is dead by now; its pipes end as soon as the kernel has reaped its last process)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(DRAIN_SECONDS):
            for stream in (proc.stdout, proc.stderr):
                while stream is not None and await stream.read(READ_CHUNK):
                    pass


# --- outcomes ------------------------------------------------------------------------------


def _unsupported(index: int, language: str, hidden: bool) -> TestResult:
    return TestResult(index, TestOutcome.UNSUPPORTED, 0.0, "",
                      f"language {language!r} is not supported", False, hidden)


def _tail(text: str, size: int = STDERR_TAIL) -> str:
    return text if len(text) <= size else "…" + text[-size:]


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _says(raw: _Raw, markers: tuple[str, ...]) -> bool:
    stderr = raw.stderr.text()
    return any(marker in stderr for marker in markers)


def _process_limit(limits: SandboxLimits) -> tuple[TestOutcome, str]:
    return TestOutcome.PROCESS_LIMIT, f"process limit exceeded ({limits.max_processes})"


def _limit_outcome(raw: _Raw, limits: SandboxLimits) -> tuple[TestOutcome, str] | None:
    """A limit the sandbox hit, if any."""
    if raw.stderr.overflow and _says(raw, _PROCESS_MARKERS):
        # A fork bomb's thousand "Cannot fork" lines: the process limit is the story.
        return _process_limit(limits)
    if raw.stdout.overflow or raw.stderr.overflow:
        return TestOutcome.OUTPUT_LIMIT, f"output limit exceeded ({limits.output_bytes} bytes)"
    if raw.timed_out:
        return TestOutcome.TIMEOUT, f"time limit exceeded ({limits.wall_seconds:g} s wall clock)"
    return None if raw.returncode == 0 else _exit_limit(raw, limits)


def _exit_limit(raw: _Raw, limits: SandboxLimits) -> tuple[TestOutcome, str] | None:
    """A limit read from a failed exit: what the runtime said, or the signal that ended it."""
    # bwrap reports a child killed by signal N as exit status 128 + N.
    sig = raw.returncode - 128
    found: tuple[TestOutcome, str] | None = None
    if _says(raw, _PROCESS_MARKERS):
        found = _process_limit(limits)
    elif _says(raw, _MEMORY_MARKERS):
        found = TestOutcome.MEMORY_LIMIT, f"memory limit exceeded ({limits.memory_mb} MB)"
    elif sig in (signal.SIGXCPU, signal.SIGKILL):
        found = TestOutcome.TIMEOUT, f"CPU time limit exceeded ({limits.cpu_seconds} s)"
    elif sig == signal.SIGXFSZ:
        found = TestOutcome.ERROR, f"file size limit exceeded ({limits.file_mb} MB)"
    return found


def _outcome(raw: _Raw, expected: str, limits: SandboxLimits) -> tuple[TestOutcome, str]:
    """The outcome and the reason shown with it (never the test's input or expected output)."""
    hit = _limit_outcome(raw, limits)
    if hit is not None:
        return hit
    if raw.returncode > 128:
        return TestOutcome.ERROR, f"killed by {_signal_name(raw.returncode - 128)}"
    if raw.returncode != 0:
        return TestOutcome.ERROR, f"exit status {raw.returncode}"
    if normalise(raw.stdout.text()) == normalise(expected):
        return TestOutcome.PASSED, ""
    return TestOutcome.FAILED, "wrong answer"


def classify(
    index: int, raw: _Raw, expected: str, hidden: bool, limits: SandboxLimits
) -> TestResult:
    outcome, reason = _outcome(raw, expected, limits)
    stderr = _tail(raw.stderr.text())
    error = "\n".join(part for part in (reason, stderr) if part)
    return TestResult(
        index=index, outcome=outcome, time_ms=round(raw.elapsed_ms, 1),
        output=raw.stdout.text(), error=error,
        truncated=raw.stdout.overflow or raw.stderr.overflow, hidden=hidden,
    )
