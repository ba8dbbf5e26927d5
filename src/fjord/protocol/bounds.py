"""Length prefixes of a request checked against the frame before kio decodes it.

kio's native reader allocates an array's storage from its declared length before reading
a single element, and a failed allocation aborts the process: a 30-byte Metadata v9 frame
declaring a 2^35-element topic array killed the broker (found by tests/protocol/test_fuzz.py).
Every array, string and bytes length is therefore walked here, in the request's own schema,
and refused with FrameError when it claims more than the frame holds (an array element
takes at least one byte). The walk reads only prefixes and skips payloads, so a Produce
request costs a handful of steps whatever its size.
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Callable
from functools import cache
from typing import Any, get_args

from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    PrimitiveTupleField,
    classify_field,
    get_field_tag,
    is_optional,
)

from fjord.protocol.errors import FrameError

Buffer = bytes | bytearray | memoryview
Step = Callable[[Buffer, int, int], int]

_FIXED = {"bool": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8, "float64": 8, "uuid": 16,
          "timedelta_i32": 4, "timedelta_i64": 8, "uint16": 2, "uint32": 4, "uint64": 8}
_I16 = struct.Struct(">h")
_I32 = struct.Struct(">i")


def check_request(cls: Any, frame: Buffer, offset: int) -> None:
    """FrameError if any length in the body of `frame` (from offset) overruns the frame."""
    end = len(frame)
    try:
        _entity_plan(cls)(frame, offset, end)
    except (IndexError, struct.error):
        raise FrameError(f"truncated {cls.__name__}") from None


def _uvarint(data: Buffer, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 35:
            raise FrameError("varint too long")


def _room(length: int, pos: int, end: int, what: str) -> None:
    if length > end - pos:
        raise FrameError(f"{what} of {length} claims more than the {end - pos} bytes left")


def _skip_sized(kind: str, flexible: bool, nullable: bool) -> Step:
    def step(data: Buffer, pos: int, end: int) -> int:
        if flexible:
            raw, pos = _uvarint(data, pos)
            length = raw - 1
        elif kind == "string":
            (length,) = _I16.unpack_from(data, pos)
            pos += 2
        else:
            (length,) = _I32.unpack_from(data, pos)
            pos += 4
        if length < -1 or (length == -1 and not nullable):
            raise FrameError(f"non-nullable {kind} has length {length}")
        if length > 0:
            _room(length, pos, end, kind)
            pos += length
        return pos

    return step


def _fixed(size: int) -> Step:
    def step(data: Buffer, pos: int, end: int) -> int:
        _room(size, pos, end, "field")
        return pos + size

    return step


def _varint_step(data: Buffer, pos: int, end: int) -> int:
    return _uvarint(data, pos)[1]


def _primitive(kind: str, flexible: bool, nullable: bool) -> Step:
    if kind in _FIXED:
        return _fixed(_FIXED[kind])
    if kind in ("string", "bytes", "records"):
        return _skip_sized(kind, flexible, nullable)
    if kind in ("uvarint", "varint", "uvarlong", "varlong"):
        return _varint_step
    raise FrameError(f"no length check for field type {kind}")  # caught by the tests


def _array(element: Step, flexible: bool, nullable: bool) -> Step:
    def step(data: Buffer, pos: int, end: int) -> int:
        if flexible:
            raw, pos = _uvarint(data, pos)
            count = raw - 1
        else:
            (count,) = _I32.unpack_from(data, pos)
            pos += 4
        if count < -1 or (count == -1 and not nullable):
            # Kafka refuses null for a non-nullable array; kio would hand handlers None
            raise FrameError(f"non-nullable array has length {count}")
        _room(count, pos, end, "array")
        for _ in range(count):
            pos = element(data, pos, end)
        return pos

    return step


def _nullable_entity(inner: Step) -> Step:
    def step(data: Buffer, pos: int, end: int) -> int:
        marker = data[pos]
        pos += 1
        return pos if marker == 0xFF else inner(data, pos, end)

    return step


def _tagged_fields(data: Buffer, pos: int, end: int) -> int:
    count, pos = _uvarint(data, pos)
    _room(count, pos, end, "tagged fields")
    for _ in range(count):
        _tag, pos = _uvarint(data, pos)
        size, pos = _uvarint(data, pos)
        _room(size, pos, end, "tagged field")
        pos += size
    return pos


def _nullable(field: dataclasses.Field[Any]) -> bool:
    """Whether the field itself (not its elements) may be null: `X | None`."""
    return type(None) in get_args(field.type)


@cache
def _entity_plan(cls: Any) -> Step:
    flexible = bool(getattr(cls, "__flexible__", False))
    steps: list[Step] = []
    run = 0  # consecutive fixed-width bytes, skipped in one step

    def flush() -> None:
        nonlocal run
        if run:
            steps.append(_fixed(run))
            run = 0

    for field in dataclasses.fields(cls):
        if get_field_tag(field) is not None:
            continue  # lives in the tagged-fields section
        shape = classify_field(field)
        kind = str(field.metadata.get("kafka_type"))
        if not shape.is_array and kind in _FIXED:
            run += _FIXED[kind]
            continue
        flush()
        nullable = _nullable(field)
        if isinstance(shape, EntityTupleField):
            steps.append(_array(_entity_plan(shape.type_), flexible, nullable))
        elif isinstance(shape, EntityField):
            inner = _entity_plan(shape.type_)
            steps.append(_nullable_entity(inner) if is_optional(field) else inner)
        else:
            if isinstance(shape, PrimitiveTupleField):
                steps.append(_array(_primitive(kind, flexible, False), flexible, nullable))
            else:
                steps.append(_primitive(kind, flexible, nullable))
    flush()
    if flexible:
        steps.append(_tagged_fields)
    if len(steps) == 1:
        return steps[0]

    def walk(data: Buffer, pos: int, end: int) -> int:
        for step in steps:
            pos = step(data, pos, end)
        return pos

    return walk
