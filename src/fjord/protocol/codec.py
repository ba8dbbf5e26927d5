"""Encoding and decoding of request/response frames around kio's message classes.

kio gives one frozen dataclass per API version. Handlers are written once for all
versions: they read requests by attribute (with getattr defaults for fields a version
lacks) and answer with plain dicts, which `build` turns into the exact class of the
requested version — fields the version lacks are dropped, missing ones get Kafka's
defaults. That keeps version knowledge in kio and out of the broker.
"""

from __future__ import annotations

import datetime
import importlib
import io
import os
import struct
import uuid
from collections.abc import Callable, Mapping
from dataclasses import MISSING, fields, is_dataclass
from functools import cache
from typing import Any

from kio.index import load_request_schema, load_response_schema
from kio.schema.errors import ErrorCode
from kio.serial import entity_reader, entity_writer
from kio.serial._implicit_defaults import get_implicit_default
from kio.serial._introspect import (
    EntityField,
    EntityTupleField,
    PrimitiveField,
    PrimitiveTupleField,
    classify_field,
    is_optional,
)
from kio.serial.readers import tz_aware_from_i64
from kio.static.primitive import (
    TZAware,
    i32Timedelta,
    i64,
    i64Timedelta,
)

from fjord.protocol.bounds import check_request
from fjord.protocol.errors import FrameError

_I16 = struct.Struct(">h")
_HEADER = struct.Struct(">hhi")
_I32 = struct.Struct(">i")


class RequestHeader:
    __slots__ = ("api_key", "api_version", "client_id", "correlation_id", "size")

    def __init__(
        self, api_key: int, api_version: int, correlation_id: int, client_id: str | None, size: int
    ) -> None:
        self.api_key = api_key
        self.api_version = api_version
        self.correlation_id = correlation_id
        self.client_id = client_id
        self.size = size


def _read_uvarint(data: bytes | bytearray | memoryview, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise FrameError("truncated varint")
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 35:
            raise FrameError("varint too long")


def peek_header(frame: bytes | bytearray) -> tuple[int, int, int]:
    """api_key, api_version, correlation_id: enough to answer even an unparseable request."""
    if len(frame) < 8:
        raise FrameError(f"request of {len(frame)} bytes is shorter than a request header")
    api_key, api_version, correlation_id = _HEADER.unpack_from(frame, 0)
    return api_key, api_version, correlation_id


def parse_header(frame: bytes | bytearray, flexible: bool) -> RequestHeader:
    """Request header v1 (or v2 with tagged fields); client_id is always a legacy string."""
    api_key, api_version, correlation_id = peek_header(frame)
    pos = 8
    if len(frame) < pos + 2:
        raise FrameError("truncated client id")
    (length,) = _I16.unpack_from(frame, pos)
    pos += 2
    client_id: str | None = None
    if length >= 0:
        if len(frame) < pos + length:
            raise FrameError("truncated client id")
        client_id = frame[pos : pos + length].decode("utf-8", "replace")
        pos += length
    if flexible:
        count, pos = _read_uvarint(frame, pos)
        for _ in range(count):
            _tag, pos = _read_uvarint(frame, pos)
            size, pos = _read_uvarint(frame, pos)
            pos += size
        if pos > len(frame):
            raise FrameError("truncated tagged fields in header")
    return RequestHeader(api_key, api_version, correlation_id, client_id, pos)


@cache
def request_class(api_key: int, version: int) -> Any:
    return load_request_schema(api_key, version)


@cache
def response_class(api_key: int, version: int) -> Any:
    return load_response_schema(api_key, version)


@cache
def _reader(cls: Any) -> Callable[[Any, int], tuple[Any, int]]:
    return entity_reader(cls)  # type: ignore[no-any-return]


@cache
def _writer(cls: Any) -> Callable[[Any, Any], None]:
    return entity_writer(cls)  # type: ignore[no-any-return]


def decode_request(cls: Any, frame: bytes | bytearray, offset: int) -> Any:
    """kio reads only read-only buffers; a read-only view of a bytearray costs no copy.
    Lengths are checked first (bounds.py): kio aborts the process on absurd ones."""
    check_request(cls, frame, offset)
    source = memoryview(frame).toreadonly() if isinstance(frame, bytearray) else frame
    try:
        entity, _size = _reader(cls)(source, offset)
    except FrameError:
        raise
    except Exception as exc:  # kio raises several types for malformed input
        raise FrameError(f"malformed {cls.__name__}: {exc}") from None
    return entity


class ChunkWriter:
    """A write target that keeps large values by reference instead of copying them.

    kio's writers call `write` once per field; record data (often megabytes) arrives as
    one write and is kept as the caller's buffer, small fields are coalesced. The chunks
    go to the socket with one writelines call, so a Fetch response is never copied whole
    in Python.
    """

    __slots__ = ("_small", "chunks", "size")

    def __init__(self) -> None:
        self.chunks: list[bytes | bytearray | memoryview] = []
        self._small = bytearray()
        self.size = 0

    def write(self, data: bytes | bytearray | memoryview) -> int:
        length = len(data)
        self.size += length
        if length >= 4096:
            if self._small:
                self.chunks.append(bytes(self._small))
                self._small.clear()
            self.chunks.append(data)
        else:
            self._small += data
        return length

    def finish(self) -> list[bytes | bytearray | memoryview]:
        if self._small:
            self.chunks.append(bytes(self._small))
            self._small.clear()
        return self.chunks


def encode_response_chunks(cls: Any, correlation_id: int, body: Any,
                           header_v0: bool = False) -> list[bytes | bytearray | memoryview]:
    """Size-prefixed response as buffers: header v0, or v1 (flexible: an empty tag section)."""
    out = ChunkWriter()
    out.write(b"\0\0\0\0")
    out.write(_I32.pack(correlation_id))
    if cls.__flexible__ and not header_v0:
        out.write(b"\0")
    _writer(cls)(out, body)
    chunks = out.finish()
    first = bytearray(chunks[0])
    _I32.pack_into(first, 0, out.size - 4)
    chunks[0] = first
    return chunks


def encode_response(cls: Any, correlation_id: int, body: Any, header_v0: bool = False) -> bytes:
    return b"".join(encode_response_chunks(cls, correlation_id, body, header_v0))


def encode_request(cls: Any, correlation_id: int, client_id: str | None, body: Any) -> bytes:
    """Used by tests and tools to speak to a broker with raw frames."""
    buffer = io.BytesIO()
    buffer.write(_HEADER.pack(cls.__api_key__, cls.__version__, correlation_id))
    if client_id is None:
        buffer.write(_I16.pack(-1))
    else:
        raw = client_id.encode()
        buffer.write(_I16.pack(len(raw)) + raw)
    if cls.__flexible__:
        buffer.write(b"\0")
    _writer(cls)(buffer, body)
    payload = buffer.getvalue()
    return _I32.pack(len(payload)) + payload


def decode_response(cls: Any, payload: bytes, header_v0: bool = False) -> tuple[int, Any]:
    (correlation_id,) = _I32.unpack_from(payload, 0)
    pos = 4
    if cls.__flexible__ and not header_v0:
        _count, pos = _read_uvarint(payload, pos)
    entity, _ = _reader(cls)(payload, pos)
    return correlation_id, entity


# --- building version-specific entities from plain data -------------------------------

_Converter = Callable[[Any], Any]


def _primitive_converter(kind: type) -> _Converter:
    if kind is ErrorCode:
        return lambda value: value if isinstance(value, ErrorCode) else ErrorCode(int(value))
    if issubclass(kind, i32Timedelta) or issubclass(kind, i64Timedelta):
        return lambda value: kind.parse(
            value if isinstance(value, datetime.timedelta) else datetime.timedelta(milliseconds=value)
        )
    if kind is TZAware:
        return lambda value: tz_aware_from_i64(i64(value)) if isinstance(value, int) else value
    if kind is uuid.UUID:
        return lambda value: value
    if kind is bool:
        return bool
    if issubclass(kind, int):
        return lambda value: kind(value) if type(value) is not kind else value
    return lambda value: value


def _implicit(field: Any) -> Callable[[], Any]:
    if field.default is not MISSING:
        default = field.default
        return lambda: default
    if field.default_factory is not MISSING:
        return field.default_factory  # type: ignore[no-any-return]
    field_class = classify_field(field)
    if field_class.is_array:
        return tuple
    if is_optional(field):
        return lambda: None
    if isinstance(field_class, EntityField):
        nested = field_class.type_
        return lambda: build(nested, {})
    assert isinstance(field_class, PrimitiveField)
    kind = field_class.type_
    if kind is ErrorCode:
        return lambda: ErrorCode.none
    if kind is bool:
        return lambda: False
    implicit: Any = get_implicit_default(kind)
    return lambda: implicit


@cache
def _plan(cls: Any) -> list[tuple[str, Callable[[Any], Any], Callable[[], Any]]]:
    plan = []
    for field in fields(cls):
        field_class = classify_field(field)
        optional = is_optional(field)
        convert: Callable[[Any], Any]
        if isinstance(field_class, EntityTupleField):
            nested = field_class.type_
            convert = _tuple_of_entities(nested)
        elif isinstance(field_class, EntityField):
            nested = field_class.type_
            convert = _entity(nested)
        elif isinstance(field_class, PrimitiveTupleField):
            inner = _primitive_converter(field_class.type_)
            convert = _tuple_of(inner)
        else:
            convert = _primitive_converter(field_class.type_)
        if optional:
            convert = _nullable(convert)
        plan.append((field.name, convert, _implicit(field)))
    return plan


def _nullable(convert: _Converter) -> _Converter:
    return lambda value: None if value is None else convert(value)


def _tuple_of(inner: _Converter) -> _Converter:
    return lambda values: tuple(inner(item) for item in values)


def _entity(nested: Any) -> _Converter:
    return lambda value: build(nested, value) if isinstance(value, Mapping) else value


def _tuple_of_entities(nested: Any) -> _Converter:
    return lambda values: tuple(
        build(nested, item) if isinstance(item, Mapping) else item for item in values
    )


STRICT_ENV = "FJORD_STRICT_CODEC"
"""Set (to 1) by the test suite: `build` then refuses a key no version of the message has."""
_strict = os.environ.get(STRICT_ENV, "") not in ("", "0")


def set_strict(strict: bool) -> None:
    """Refuse keys no version of a message knows (tests), or drop them silently (production)."""
    global _strict
    _strict = strict


class UnknownFieldError(KeyError):
    """A handler answered with a key that no version of the message has: a typo, not a version gap."""


@cache
def _known_names(cls: Any) -> frozenset[str]:
    """Every field name of every entity in any version of `cls`'s message (request or response).

    Handlers are written once for all versions, so a key the *requested* version lacks is
    normal; a key that *no* version has is a bug that would otherwise vanish silently.
    """
    module = cls.__module__  # kio.schema.<api>.v<N>.<request|response>
    parts = module.split(".")
    names: set[str] = set()
    if len(parts) < 5 or not parts[-2].startswith("v"):
        return frozenset(f.name for f in fields(cls))
    prefix, kind = ".".join(parts[:-2]), parts[-1]
    for version in range(64):
        try:
            sibling = importlib.import_module(f"{prefix}.v{version}.{kind}")
        except ImportError:
            continue
        for value in vars(sibling).values():
            if isinstance(value, type) and is_dataclass(value):
                names.update(f.name for f in fields(value))
    return frozenset(names)


def build(cls: Any, data: Mapping[str, Any]) -> Any:
    """An instance of `cls` from a dict. Keys this version lacks are dropped; under strict mode
    (the test suite) a key no version of the message has raises UnknownFieldError."""
    if _strict:
        unknown = [key for key in data if key not in _known_names(cls)]
        if unknown:
            raise UnknownFieldError(f"{cls.__module__}.{cls.__qualname__} has no field "
                                    f"{', '.join(map(repr, unknown))} in any version")
    kwargs = {}
    for name, convert, default in _plan(cls):
        value = data.get(name, MISSING)
        kwargs[name] = default() if value is MISSING else convert(value)
    return cls(**kwargs)
