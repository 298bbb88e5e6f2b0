"""Write proto/buf/validate/validate.proto from the descriptor shipped in the protovalidate wheel.

The Buf Schema Registry is not reachable from our machines, and the protovalidate PyPI wheel
carries the exact compiled ``buf/validate/validate.proto`` descriptor (Apache-2.0, Buf
Technologies). This script renders that descriptor back to ``.proto`` source so that buf lint
and protoc work offline, then checks the round trip: compiling the written file must give the
very same descriptor. Run it again after upgrading protovalidate.
"""

from __future__ import annotations

import sys
from pathlib import Path

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, text_format

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "proto" / "buf" / "validate" / "validate.proto"

LABELS = {1: "optional", 2: "required", 3: "repeated"}
SCALARS = {
    1: "double", 2: "float", 3: "int64", 4: "uint64", 5: "int32", 6: "fixed64", 7: "fixed32",
    8: "bool", 9: "string", 12: "bytes", 13: "uint32", 15: "sfixed32", 16: "sfixed64",
    17: "sint32", 18: "sint64",
}
PREDEFINED_EXT = 1160  # buf.validate.predefined on google.protobuf.FieldOptions


def embedded_descriptor() -> bytes:
    from protovalidate._gen.buf.validate import validate_pb  # type: ignore[import-untyped]

    src = Path(validate_pb.__file__).read_text()
    start = src.index("b'\\n\\x1bbuf/validate/validate.proto")
    end = src.index("\n", start)
    literal = src[start:end].rstrip(",")
    value = eval(literal, {"__builtins__": {}})  # noqa: S307 - a bytes literal from the wheel
    assert isinstance(value, bytes)
    return value


def read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    shift = result = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def split_extension(options: bytes, number: int) -> tuple[bytes, list[bytes]]:
    """Split serialized options into (everything else, payloads of the length-delimited extension)."""
    rest, payloads, pos = b"", [], 0
    while pos < len(options):
        start = pos
        key, pos = read_varint(options, pos)
        field, wire = key >> 3, key & 7
        if wire == 0:
            _, pos = read_varint(options, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = read_varint(options, pos)
            if field == number:
                payloads.append(options[pos : pos + length])
            pos += length
        else:
            raise ValueError(f"unexpected wire type {wire}")
        if field != number:
            rest += options[start:pos]
    return rest, payloads


class Renderer:
    def __init__(self, fd: descriptor_pb2.FileDescriptorProto, pool: descriptor_pool.DescriptorPool) -> None:
        self.fd = fd
        self.pkg = "." + fd.package + "."
        self.predefined_cls = message_factory.GetMessageClass(
            pool.FindMessageTypeByName("buf.validate.PredefinedRules")
        )
        self.lines: list[str] = []

    def type_name(self, f: descriptor_pb2.FieldDescriptorProto) -> str:
        if f.type in SCALARS:
            return SCALARS[f.type]
        name = f.type_name
        return name[len(self.pkg):] if name.startswith(self.pkg) else name

    def field_options(self, f: descriptor_pb2.FieldDescriptorProto) -> str:
        opts: list[str] = []
        if f.HasField("default_value"):
            value = f.default_value
            opts.append(f'default = "{value}"' if f.type in (9, 12) else f"default = {value}")
        if f.HasField("options"):
            raw = f.options.SerializeToString()
            rest, payloads = split_extension(raw, PREDEFINED_EXT)
            known = descriptor_pb2.FieldOptions.FromString(rest)
            for fdesc, value in known.ListFields():
                rendered = str(value).lower() if isinstance(value, bool) else str(value)
                if fdesc.enum_type is not None:
                    rendered = fdesc.enum_type.values_by_number[value].name
                opts.append(f"{fdesc.name} = {rendered}")
            for payload in payloads:
                msg = self.predefined_cls.FromString(payload)
                body = text_format.MessageToString(msg, as_utf8=True, indent=4)
                opts.append("(predefined) = {\n" + body + "  }")
        return f" [{', '.join(opts)}]" if opts else ""

    def emit(self, depth: int, text: str) -> None:
        self.lines.append("  " * depth + text if text else "")

    def message(self, m: descriptor_pb2.DescriptorProto, depth: int) -> None:
        self.emit(depth, f"message {m.name} {{")
        if m.options.ByteSize():
            for fdesc, value in m.options.ListFields():
                self.emit(depth + 1, f"option {fdesc.name} = {str(value).lower()};")
        for nested in m.nested_type:
            self.message(nested, depth + 1)
        for enum in m.enum_type:
            self.enum(enum, depth + 1)
        oneof_done: set[int] = set()
        for f in m.field:
            if f.HasField("oneof_index") and not f.proto3_optional:
                idx = f.oneof_index
                if idx in oneof_done:
                    continue
                oneof_done.add(idx)
                self.emit(depth + 1, f"oneof {m.oneof_decl[idx].name} {{")
                for of in m.field:
                    if of.HasField("oneof_index") and of.oneof_index == idx:
                        self.emit(depth + 2, f"{self.type_name(of)} {of.name} = {of.number}{self.field_options(of)};")
                self.emit(depth + 1, "}")
                continue
            self.emit(depth + 1, f"{LABELS[f.label]} {self.type_name(f)} {f.name} = {f.number}{self.field_options(f)};")
        for r in m.extension_range:
            end = "max" if r.end == 536870912 else str(r.end - 1)
            self.emit(depth + 1, f"extensions {r.start} to {end};")
        for rr in m.reserved_range:
            self.emit(depth + 1, f"reserved {rr.start}" + (f" to {rr.end - 1};" if rr.end - 1 != rr.start else ";"))
        for name in m.reserved_name:
            self.emit(depth + 1, f'reserved "{name}";')
        self.emit(depth, "}")

    def enum(self, e: descriptor_pb2.EnumDescriptorProto, depth: int) -> None:
        self.emit(depth, f"enum {e.name} {{")
        for v in e.value:
            self.emit(depth + 1, f"{v.name} = {v.number};")
        for rr in e.reserved_range:
            self.emit(depth + 1, f"reserved {rr.start}" + (f" to {rr.end};" if rr.end != rr.start else ";"))
        for name in e.reserved_name:
            self.emit(depth + 1, f'reserved "{name}";')
        self.emit(depth, "}")

    def render(self) -> str:
        fd = self.fd
        self.emit(0, "// Copyright 2023-2026 Buf Technologies, Inc.")
        self.emit(0, "// Licensed under the Apache License, Version 2.0.")
        self.emit(0, "//")
        self.emit(0, "// Rendered by scripts/vendor_protovalidate.py from the descriptor in the protovalidate")
        self.emit(0, "// wheel; do not edit. Upstream: the bufbuild/protovalidate repository.")
        self.emit(0, "")
        self.emit(0, f'syntax = "{fd.syntax or "proto2"}";')
        self.emit(0, "")
        self.emit(0, f"package {fd.package};")
        self.emit(0, "")
        for dep in fd.dependency:
            self.emit(0, f'import "{dep}";')
        self.emit(0, "")
        for fdesc, value in fd.options.ListFields():
            rendered = str(value).lower() if isinstance(value, bool) else '"' + str(value).replace("\\", "\\\\") + '"'
            self.emit(0, f"option {fdesc.name} = {rendered};")
        self.emit(0, "")
        for ext in fd.extension:
            extendee = ext.extendee.lstrip(".")
            self.emit(0, f"extend {extendee} {{")
            self.emit(1, f"{LABELS[ext.label]} {self.type_name(ext)} {ext.name} = {ext.number};")
            self.emit(0, "}")
            self.emit(0, "")
        for m in fd.message_type:
            self.message(m, 0)
            self.emit(0, "")
        for e in fd.enum_type:
            self.enum(e, 0)
            self.emit(0, "")
        return "\n".join(self.lines).rstrip() + "\n"


def main() -> int:
    raw = embedded_descriptor()
    fd = descriptor_pb2.FileDescriptorProto.FromString(raw)
    pool = descriptor_pool.DescriptorPool()
    for dep in ("descriptor", "duration", "field_mask", "timestamp"):
        mod = __import__(f"google.protobuf.{dep}_pb2", fromlist=["DESCRIPTOR"])
        dep_fd = descriptor_pb2.FileDescriptorProto()
        mod.DESCRIPTOR.CopyToProto(dep_fd)
        pool.Add(dep_fd)
    pool.Add(fd)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(Renderer(fd, pool).render())
    if compiled(OUT) != canonical(fd):
        print(f"round trip failed: {OUT.relative_to(ROOT)} does not compile to the wheel's descriptor")
        return 1
    print(f"wrote {OUT.relative_to(ROOT)} (round trip verified)")
    return 0


def canonical(fd: descriptor_pb2.FileDescriptorProto) -> bytes:
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(fd)
    copy.ClearField("source_code_info")
    return copy.SerializeToString(deterministic=True)


def compiled(path: Path) -> bytes:
    import tempfile

    import grpc_tools
    from grpc_tools import protoc

    include = str(Path(grpc_tools.__file__).parent / "_proto")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "set.binpb"
        rc = protoc.main(["protoc", f"-I{ROOT / 'proto'}", f"-I{include}", f"--descriptor_set_out={out}",
                          "buf/validate/validate.proto"])
        if rc != 0:
            raise SystemExit("protoc failed on the rendered file")
        fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return canonical(fds.file[0])


if __name__ == "__main__":
    sys.exit(main())
