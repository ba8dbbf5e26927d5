"""Object formats for backups: JSON Lines and Avro, with optional gzip or zstd.

JSON Lines: one envelope per line; key, value and header values are base64 (binary safe,
null stays null), so any line can be read with nothing but a JSON parser. Compression wraps
the whole object (`.jsonl.gz`, `.jsonl.zst`), which `zcat`/`zstdcat` undo.

Avro: an Avro object container file with the envelope schema below; key, value and header
values are Avro `bytes`, so nothing is re-encoded at all. Compression uses Avro's own block
codecs (`deflate` for gzip, `zstandard` for zstd), so every Avro reader can open the file.
"""

from __future__ import annotations

import binascii
import gzip
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from fjord.connectors.objectstore.envelope import TIMESTAMP_TYPES, BackupRecord

FORMATS = ("jsonl", "avro")
COMPRESSIONS = ("none", "gzip", "zstd")

AVRO_SCHEMA: dict[str, Any] = {
    "type": "record",
    "name": "BackupRecord",
    "namespace": "io.fjord.backup",
    "doc": "One Kafka record, byte-exact, as backed up by Fjord.",
    "fields": [
        {"name": "topic", "type": "string"},
        {"name": "partition", "type": "int"},
        {"name": "offset", "type": "long"},
        {"name": "timestamp", "type": ["null", "long"], "default": None},
        {"name": "timestampType", "type": {"type": "enum", "name": "TimestampType",
                                           "symbols": list(TIMESTAMP_TYPES)}},
        {"name": "key", "type": ["null", "bytes"], "default": None},
        {"name": "value", "type": ["null", "bytes"], "default": None},
        {"name": "headers", "type": {"type": "array", "items": {
            "type": "record", "name": "Header",
            "fields": [{"name": "key", "type": "string"},
                       {"name": "value", "type": ["null", "bytes"], "default": None}]}}},
    ],
}


class FormatError(Exception):
    """An object that is not a valid backup in the format its name claims."""


@dataclass(frozen=True)
class ObjectFormat:
    name: str  # "jsonl" or "avro"
    compression: str = "none"  # "none", "gzip" or "zstd"

    def __post_init__(self) -> None:
        if self.name not in FORMATS:
            raise ValueError(f"unknown format {self.name!r} (use one of {', '.join(FORMATS)})")
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"unknown compression {self.compression!r} "
                             f"(use one of {', '.join(COMPRESSIONS)})")

    @property
    def extension(self) -> str:
        if self.name == "avro":
            return "avro"  # the codec is inside the container, as Avro tools expect
        return {"none": "jsonl", "gzip": "jsonl.gz", "zstd": "jsonl.zst"}[self.compression]

    def encode(self, records: Iterable[BackupRecord]) -> bytes:
        if self.name == "avro":
            return _avro_encode(records, self.compression)
        return _compress(_jsonl_encode(records), self.compression)

    @staticmethod
    def for_extension(extension: str) -> ObjectFormat:
        """The format an object's name says it holds (restore reads whatever was written)."""
        table = {"jsonl": ObjectFormat("jsonl"), "jsonl.gz": ObjectFormat("jsonl", "gzip"),
                 "jsonl.zst": ObjectFormat("jsonl", "zstd"), "avro": ObjectFormat("avro")}
        if extension not in table:
            raise FormatError(f"unknown backup object extension .{extension}")
        return table[extension]

    def decode(self, data: bytes) -> Iterator[BackupRecord]:
        if self.name == "avro":
            return _avro_decode(data)
        return _jsonl_decode(_decompress(data, self.compression))


def decode_object(extension: str, data: bytes) -> list[BackupRecord]:
    try:
        return list(ObjectFormat.for_extension(extension).decode(data))
    except FormatError:
        raise
    except Exception as exc:
        raise FormatError(f"corrupt .{extension} object: {exc}") from exc


# ---------------------------------------------------------------- JSON Lines


def _unb64(text: str | None) -> bytes | None:
    return None if text is None else binascii.a2b_base64(text, strict_mode=True)


def _b64_json(data: bytes | None) -> str:
    """A JSON string of the base64 text (base64 needs no escaping), or null."""
    if data is None:
        return "null"
    return '"' + binascii.b2a_base64(data, newline=False).decode("ascii") + '"'


def _jsonl_encode(records: Iterable[BackupRecord]) -> bytes:
    # Lines are assembled directly: the only free-form strings (topic, header names) go
    # through json.dumps, the rest is numbers and base64. ~3x faster than one json.dumps a line,
    # and what json.loads reads back is identical (the round-trip tests hold it to that).
    names: dict[str, str] = {}

    def name(text: str) -> str:
        quoted = names.get(text)
        if quoted is None:
            quoted = names[text] = json.dumps(text, ensure_ascii=True)
        return quoted

    lines = []
    for r in records:
        headers = ",".join(f"[{name(h)},{_b64_json(v)}]" for h, v in r.headers)
        timestamp = "null" if r.timestamp is None else str(int(r.timestamp))
        lines.append(
            f'{{"topic":{name(r.topic)},"partition":{int(r.partition)},"offset":{int(r.offset)},'
            f'"timestamp":{timestamp},"timestampType":{name(r.timestamp_type)},'
            f'"key":{_b64_json(r.key)},"value":{_b64_json(r.value)},"headers":[{headers}]}}\n')
    return "".join(lines).encode("ascii")


def _jsonl_decode(data: bytes) -> Iterator[BackupRecord]:
    for number, line in enumerate(data.split(b"\n"), 1):
        if not line.strip():
            continue
        try:
            doc = json.loads(line)
            yield BackupRecord(
                topic=doc["topic"], partition=int(doc["partition"]), offset=int(doc["offset"]),
                timestamp=doc["timestamp"], timestamp_type=doc.get("timestampType", "CreateTime"),
                key=_unb64(doc["key"]), value=_unb64(doc["value"]),
                headers=[(str(name), _unb64(value)) for name, value in doc.get("headers", [])])
        except (ValueError, KeyError, TypeError) as exc:
            raise FormatError(f"line {number}: {exc}") from exc


def _compress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if compression == "zstd":
        return _zstd().compress(data, level=3)  # type: ignore[no-any-return]
    return data


def _decompress(data: bytes, compression: str) -> bytes:
    if compression == "gzip":
        return gzip.decompress(data)
    if compression == "zstd":
        return _zstd().decompress(data)  # type: ignore[no-any-return]
    return data


def _zstd() -> Any:
    """Python 3.14's compression.zstd, or its backport: the module fastavro's codec uses too."""
    try:
        from compression import zstd  # type: ignore[import-not-found]
    except ImportError:
        from backports import zstd  # type: ignore[no-redef]
    return zstd


# ---------------------------------------------------------------- Avro

_PARSED_SCHEMA: Any = None


def _schema() -> Any:
    global _PARSED_SCHEMA
    if _PARSED_SCHEMA is None:
        import fastavro

        _PARSED_SCHEMA = fastavro.parse_schema(AVRO_SCHEMA)
    return _PARSED_SCHEMA


def _avro_encode(records: Iterable[BackupRecord], compression: str) -> bytes:
    import fastavro

    codec = {"none": "null", "gzip": "deflate", "zstd": "zstandard"}[compression]
    out = io.BytesIO()
    fastavro.writer(out, _schema(), (
        {"topic": r.topic, "partition": r.partition, "offset": r.offset, "timestamp": r.timestamp,
         "timestampType": r.timestamp_type, "key": r.key, "value": r.value,
         "headers": [{"key": name, "value": data} for name, data in r.headers]}
        for r in records), codec=codec, sync_interval=1 << 20)
    return out.getvalue()


def _avro_decode(data: bytes) -> Iterator[BackupRecord]:
    import fastavro

    for doc in fastavro.reader(io.BytesIO(data)):
        assert isinstance(doc, dict)
        yield BackupRecord(
            topic=doc["topic"], partition=doc["partition"], offset=doc["offset"],
            timestamp=doc["timestamp"], timestamp_type=doc["timestampType"],
            key=doc["key"], value=doc["value"],
            headers=[(h["key"], h["value"]) for h in doc["headers"]])
