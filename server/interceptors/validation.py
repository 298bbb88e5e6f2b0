"""protovalidate request validation: rule violations become INVALID_ARGUMENT with a
google.rpc.BadRequest listing each field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import protovalidate
from buf.validate import validate_pb2
from google.protobuf.message import Message

from server.api.errors import FieldViolation, ValidationFailed


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


class RequestValidator:
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

    def apply(self, request_or_iterator: Any) -> Any:
        """Check a unary request now, or each message of a request stream as it arrives."""
        if isinstance(request_or_iterator, Message):
            self.check(request_or_iterator)
            return request_or_iterator
        if hasattr(request_or_iterator, "__aiter__"):
            return self._checked(request_or_iterator)
        return request_or_iterator

    async def _checked(self, requests: AsyncIterator[Message]) -> AsyncIterator[Message]:
        async for message in requests:
            self.check(message)
            yield message
