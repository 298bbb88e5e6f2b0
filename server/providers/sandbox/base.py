"""What running a candidate's code needs: the limits of one sandboxed run and the protocol every
runner implements.

A runner executes one program per test case, feeds the case's input on stdin and compares the
program's stdout with the expected output (trailing whitespace ignored on each line and at the
end). It never raises for anything the program does: a crash, a timeout or a fork bomb is an
outcome of that test case (`TestOutcome`), not an exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from server.domain.ai import CodingResult
from server.domain.models import TestCase


@dataclass(frozen=True, slots=True)
class SandboxLimits:
    """Limits of one sandboxed process (one test case).

    wall_seconds: wall clock, after which the whole sandbox is killed (TIMEOUT).
    cpu_seconds: CPU time (RLIMIT_CPU); SIGXCPU at the limit, SIGKILL one second later.
    memory_mb: memory the program may use (address space for Python, heap + data for node).
    max_processes: processes and threads inside one sandbox (RLIMIT_NPROC in its user namespace).
    output_bytes: stdout and stderr are each read up to this many bytes; more is OUTPUT_LIMIT.
    concurrency: sandboxed processes running at the same time, across all runs of a runner.
    file_mb: largest file the program may write (RLIMIT_FSIZE) and size of its private /tmp.
    """

    wall_seconds: float = 5.0
    cpu_seconds: int = 3
    memory_mb: int = 256
    max_processes: int = 32
    output_bytes: int = 65536
    concurrency: int = 2
    file_mb: int = 16


class CodeRunner(Protocol):
    """Runs candidates' programs against test cases, isolated from the host."""

    def languages(self) -> tuple[str, ...]:
        """The languages this runner can execute (e.g. "python", "javascript")."""
        ...

    async def run(
        self, language: str, code: str, tests: Sequence[TestCase], *, hidden: bool
    ) -> CodingResult:
        """Run `code` once per test case. `hidden` marks the results of hidden tests: their
        input and expected output never appear in a result (only what the program printed)."""
        ...

    async def health(self) -> tuple[bool, str]:
        """Whether sandboxed runs work here, with a short reason."""
        ...
