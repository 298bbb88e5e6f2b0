"""SystemService: health of the platform and its dependencies."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from grpc import aio
from interviewplatform.v1 import system_service_pb2 as pb
from interviewplatform.v1 import system_service_pb2_grpc

from server.api.errors import to_rpc_status
from server.domain.errors import Unavailable
from server.interceptors.errors import abort_with

Ctx = aio.ServicerContext[Any, Any]
log = structlog.get_logger(__name__)
PROBE_TIMEOUT_SECONDS = 2.0

# name -> (required, probe returning the provider description; raises when down)
Probe = Callable[[], Awaitable[str]]


class SystemService(system_service_pb2_grpc.SystemServiceServicer):
    def __init__(self, version: str, probes: dict[str, tuple[bool, Probe]]) -> None:
        self._version = version
        self._probes = probes

    async def check(self) -> pb.GetHealthResponse:
        names = list(self._probes)
        results = await asyncio.gather(
            *(asyncio.wait_for(self._probes[n][1](), PROBE_TIMEOUT_SECONDS) for n in names),
            return_exceptions=True,
        )
        components: list[pb.ComponentHealth] = []
        overall: pb.ComponentState.ValueType = pb.COMPONENT_STATE_OK
        for name, result in zip(names, results, strict=True):
            required = self._probes[name][0]
            if isinstance(result, BaseException):
                log.warning("health probe failed", component=name, error=repr(result))
                components.append(pb.ComponentHealth(name=name, state=pb.COMPONENT_STATE_DOWN,
                                                     detail="unreachable"))
                worst = pb.COMPONENT_STATE_DOWN if required else pb.COMPONENT_STATE_DEGRADED
                overall = max(overall, worst)
            else:
                components.append(pb.ComponentHealth(name=name, state=pb.COMPONENT_STATE_OK,
                                                     provider=result))
        return pb.GetHealthResponse(state=overall, version=self._version, components=components)

    async def GetHealth(self, request: pb.GetHealthRequest, context: Ctx) -> pb.GetHealthResponse:
        health = await self.check()
        if health.state == pb.COMPONENT_STATE_DOWN:
            # 503 through Envoy; the full report rides along in the status details.
            code, status = to_rpc_status(
                Unavailable("a required component is down", reason="DEGRADED"),
                extra_details=[health],
            )
            await abort_with(context, code, status)
        return health
