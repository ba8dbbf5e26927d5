"""Decoder of PostgreSQL's `pgoutput` logical replication messages (protocol version 1).

The byte layout is PostgreSQL's "Logical Replication Message Formats": Begin, Commit,
Relation, Insert, Update, Delete, Truncate, Origin and Type messages, tuple data in text
form. Only decoding lives here; what a change means for Kafka is the connector's business.
"""

from __future__ import annotations

import datetime
import struct
from dataclasses import dataclass, field

PG_EPOCH = datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC)
UNCHANGED_TOAST = object()
"""A TOASTed value the update did not change: pgoutput does not send it again."""


@dataclass(frozen=True)
class Column:
    name: str
    type_oid: int
    type_modifier: int
    is_key: bool


@dataclass(frozen=True)
class Relation:
    oid: int
    namespace: str
    name: str
    replica_identity: str  # d default, n nothing, f full, i index
    columns: tuple[Column, ...]


@dataclass(frozen=True)
class Begin:
    final_lsn: int
    commit_time: datetime.datetime
    xid: int


@dataclass(frozen=True)
class Commit:
    commit_lsn: int
    end_lsn: int
    commit_time: datetime.datetime


@dataclass(frozen=True)
class Change:
    """Insert ('c'), update ('u') or delete ('d') of one row; values are text or None."""

    op: str
    relation_oid: int
    new: tuple[object, ...] | None = None
    old: tuple[object, ...] | None = None
    old_kind: str | None = None  # 'K' key columns only, 'O' the full old row


@dataclass(frozen=True)
class Other:
    kind: str
    data: bytes = field(repr=False, default=b"")


Message = Relation | Begin | Commit | Change | Other


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> str:
        value = chr(self.data[self.pos])
        self.pos += 1
        return value

    def int8(self) -> int:
        value = self.data[self.pos]
        self.pos += 1
        return value

    def int16(self) -> int:
        (value,) = struct.unpack_from(">h", self.data, self.pos)
        self.pos += 2
        return int(value)

    def int32(self) -> int:
        (value,) = struct.unpack_from(">i", self.data, self.pos)
        self.pos += 4
        return int(value)

    def uint32(self) -> int:
        (value,) = struct.unpack_from(">I", self.data, self.pos)
        self.pos += 4
        return int(value)

    def int64(self) -> int:
        (value,) = struct.unpack_from(">q", self.data, self.pos)
        self.pos += 8
        return int(value)

    def string(self) -> str:
        end = self.data.index(b"\0", self.pos)
        value = self.data[self.pos:end].decode("utf-8")
        self.pos = end + 1
        return value

    def timestamp(self) -> datetime.datetime:
        return PG_EPOCH + datetime.timedelta(microseconds=self.int64())

    def tuple(self) -> tuple[object, ...]:
        values: list[object] = []
        for _ in range(self.int16()):
            kind = self.byte()
            if kind == "n":
                values.append(None)
            elif kind == "u":
                values.append(UNCHANGED_TOAST)
            elif kind in ("t", "b"):
                length = self.int32()
                raw = self.data[self.pos:self.pos + length]
                self.pos += length
                values.append(raw.decode("utf-8") if kind == "t" else raw)
            else:
                raise ValueError(f"unknown tuple data kind {kind!r}")
        return tuple(values)


def decode(data: bytes) -> Message:
    reader = _Reader(bytes(data))
    kind = reader.byte()
    if kind == "B":
        return Begin(reader.int64(), reader.timestamp(), reader.uint32())
    if kind == "C":
        reader.int8()  # flags, unused
        return Commit(reader.int64(), reader.int64(), reader.timestamp())
    if kind == "R":
        oid = reader.uint32()
        namespace, name = reader.string(), reader.string()
        identity = reader.byte()
        columns = []
        for _ in range(reader.int16()):
            flags = reader.int8()
            columns.append(Column(reader.string(), reader.uint32(), reader.int32(), bool(flags & 1)))
        return Relation(oid, namespace or "pg_catalog", name, identity, tuple(columns))
    if kind == "I":
        oid = reader.uint32()
        reader.byte()  # 'N'
        return Change("c", oid, new=reader.tuple())
    if kind == "U":
        oid = reader.uint32()
        marker = reader.byte()
        old = None
        old_kind = None
        if marker in ("K", "O"):
            old_kind = marker
            old = reader.tuple()
            marker = reader.byte()
        return Change("u", oid, new=reader.tuple(), old=old, old_kind=old_kind)
    if kind == "D":
        oid = reader.uint32()
        marker = reader.byte()
        return Change("d", oid, old=reader.tuple(), old_kind=marker)
    return Other(kind, bytes(data))


def lsn_to_int(text: str) -> int:
    high, _, low = str(text).partition("/")
    return (int(high, 16) << 32) + int(low, 16)


def lsn_to_text(value: int) -> str:
    return f"{value >> 32:X}/{value & 0xFFFFFFFF:X}"
