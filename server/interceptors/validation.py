"""protovalidate request validation: rule violations become INVALID_ARGUMENT with a
google.rpc.BadRequest listing each field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import protovalidate
from buf.validate import validate_pb2
from google.protobuf.message import Message
from grpc import aio
from grpc_interceptor import AsyncServerInterceptor

from server.api.errors import FieldViolation, ValidationFailed
from server.interceptors.chain import Handler


def _violation(violation: Any) -> validate_pb2.Violation:
    # protovalidate reports in its own protobuf runtime; re-read it as our generated message.
    return validate_pb2.Violation.FromString(violation.proto.to_binary())


def _field_path(violation: validate_pb2.Violation) -> str:
    parts: list[str] = []
    for element in violation.field.elements:
        name = element.field_name
        if element.HasField("index"):
            name += f"[{element.index}]"
        elif element.HasField("string_key"):
            name += f"[{element.string_key!r}]"
        parts.append(name)
    return ".".join(parts)


class ValidationInterceptor(AsyncServerInterceptor):
    def __init__(self) -> None:
        self._validator = protovalidate.Validator()

    def check(self, message: Message) -> None:
        violations = self._validator.collect_violations(message)
        if violations:
            found = [_violation(v) for v in violations]
            raise ValidationFailed([
                FieldViolation(field=_field_path(v), description=v.message,
                               reason=v.rule_id.upper().replace(".", "_"))
                for v in found
            ])

    async def intercept(self, method: Handler, request_or_iterator: Any,
                        context: aio.ServicerContext[Any, Any], method_name: str) -> Any:
        if isinstance(request_or_iterator, Message):
            self.check(request_or_iterator)
        elif hasattr(request_or_iterator, "__aiter__"):
            request_or_iterator = self._checked(request_or_iterator)
        result = method(request_or_iterator, context)
        return result if hasattr(result, "__aiter__") else await result

    async def _checked(self, requests: AsyncIterator[Message]) -> AsyncIterator[Message]:
        async for message in requests:
            self.check(message)
            yield message
