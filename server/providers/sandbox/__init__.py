"""Sandboxes for candidates' code: the `CodeRunner` protocol, its limits, and the bubblewrap
implementation (one fresh, unprivileged, network-less sandbox per test case)."""

from server.providers.sandbox.base import CodeRunner, SandboxLimits
from server.providers.sandbox.bwrap import BubblewrapRunner

__all__ = ["BubblewrapRunner", "CodeRunner", "SandboxLimits"]
