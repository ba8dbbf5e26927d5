"""Object formats for backups: JSON Lines, Avro and Parquet, with optional gzip or zstd.

JSON Lines: one envelope per line; key, value and header values are base64 (binary safe,
null stays null), so any line can be read with nothing but a JSON parser. Compression wraps
the whole object (`.jsonl.gz`, `.jsonl.zst`), which `zcat`/`zstdcat` undo.

Avro: an Avro object container file with the envelope schema below; key, value and header
values are Avro `bytes`, so nothing is re-encoded at all. Compression uses Avro's own block
codecs (`deflate` for gzip, `zstandard` for zstd), so every Avro reader can open the file.

Parquet: a standard Parquet file, one column per envelope field; key, value and header values
are `BYTE_ARRAY` (binary, optional), so payloads are stored as they are, like Avro. It is the
format to choose when a backup should also be queryable where it lies (DuckDB, Spark, Athena
read it directly; offsets and timestamps carry statistics to filter on); a restore reads it
like the others. Compression uses Parquet's own column codecs (`GZIP`, `ZSTD`), so every
Parquet reader can open the file, and the name stays `.parquet` whatever the codec.
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

FORMATS = ("jsonl", "avro", "parquet")
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
    name: str  # "jsonl", "avro" or "parquet"
    compression: str = "none"  # "none", "gzip" or "zstd"

    def __post_init__(self) -> None:
        if self.name not in FORMATS:
            raise ValueError(f"unknown format {self.name!r} (use one of {', '.join(FORMATS)})")
        if self.compression not in COMPRESSIONS:
            raise ValueError(f"unknown compression {self.compression!r} "
                             f"(use one of {', '.join(COMPRESSIONS)})")

    @property
    def extension(self) -> str:
        if self.name in ("avro", "parquet"):
            return self.name  # the codec is inside the file, as Avro and Parquet tools expect
        return {"none": "jsonl", "gzip": "jsonl.gz", "zstd": "jsonl.zst"}[self.compression]

    def encode(self, records: Iterable[BackupRecord]) -> bytes:
        if self.name == "avro":
            return _avro_encode(records, self.compression)
        if self.name == "parquet":
            return _parquet_encode(records, self.compression)
        return _compress(_jsonl_encode(records), self.compression)

    @staticmethod
    def for_extension(extension: str) -> ObjectFormat:
        """The format an object's name says it holds (restore reads whatever was written)."""
        table = {"jsonl": ObjectFormat("jsonl"), "jsonl.gz": ObjectFormat("jsonl", "gzip"),
                 "jsonl.zst": ObjectFormat("jsonl", "zstd"), "avro": ObjectFormat("avro"),
                 "parquet": ObjectFormat("parquet")}
        if extension not in table:
            raise FormatError(f"unknown backup object extension .{extension}")
        return table[extension]

    def decode(self, data: bytes) -> Iterator[BackupRecord]:
        if self.name == "avro":
            return _avro_decode(data)
        if self.name == "parquet":
            return _parquet_decode(data)
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


# ---------------------------------------------------------------- Parquet

# Parquet's own codec names for the `compression` option, as Avro's are above.
PARQUET_CODECS = {"none": "NONE", "gzip": "GZIP", "zstd": "ZSTD"}
# A row group is what a reader decompresses at once, and this writer builds one Arrow table
# per row group; bounding it by payload bounds both whatever flush.bytes is, and keeps each
# binary column chunk well under Arrow's 2 GiB limit for one array. flush.bytes (64 MiB by
# default) usually makes an object a single row group.
PARQUET_ROW_GROUP_BYTES = 128 * 1024 * 1024
# Rows turned into Python objects at once when reading: the Arrow copy of a batch lives only
# while its records are built.
PARQUET_READ_BATCH = 64 * 1024
# Columns worth min/max statistics: the ones a query filters a backup by. Statistics of keys
# and values would only copy payload bytes into the footer.
_PARQUET_STATISTICS = ["topic", "partition", "offset", "timestamp"]
# Columns whose values repeat: everything else is payload, where a dictionary only costs time.
_PARQUET_DICTIONARY = ["topic", "timestampType", "headers.list.element.key"]

_PARQUET_SCHEMA: Any = None


def _parquet_schema() -> Any:
    """The envelope as an Arrow schema: the Avro schema's fields, names and nullability."""
    global _PARQUET_SCHEMA
    if _PARQUET_SCHEMA is None:
        import pyarrow as pa

        header = pa.struct([pa.field("key", pa.string(), nullable=False),
                            pa.field("value", pa.binary())])
        _PARQUET_SCHEMA = pa.schema([
            pa.field("topic", pa.string(), nullable=False),
            pa.field("partition", pa.int32(), nullable=False),
            pa.field("offset", pa.int64(), nullable=False),
            pa.field("timestamp", pa.int64()),
            pa.field("timestampType", pa.string(), nullable=False),
            pa.field("key", pa.binary()),
            pa.field("value", pa.binary()),
            # "element" is the list item name the Parquet spec prescribes for LIST columns
            pa.field("headers", pa.list_(pa.field("element", header, nullable=False)),
                     nullable=False),
        ], metadata={"fjord.envelope": f"{AVRO_SCHEMA['namespace']}.{AVRO_SCHEMA['name']}"})
    return _PARQUET_SCHEMA


def _parquet_table(batch: list[BackupRecord]) -> Any:
    """Columns built directly from the records; headers as one flat list of names and values
    plus offsets, which is how Arrow stores a list column (no per-record dicts)."""
    import pyarrow as pa

    schema = _parquet_schema()
    names: list[str] = []
    values: list[bytes | None] = []
    offsets = [0]
    for r in batch:
        for name, data in r.headers:
            names.append(name)
            values.append(data)
        offsets.append(len(names))
    headers_type = schema.field("headers").type
    headers = pa.ListArray.from_arrays(
        pa.array(offsets, pa.int32()),
        pa.StructArray.from_arrays([pa.array(names, pa.string()), pa.array(values, pa.binary())],
                                   fields=list(headers_type.value_type)),
        type=headers_type)
    return pa.Table.from_arrays([
        pa.array([r.topic for r in batch], pa.string()),
        pa.array([r.partition for r in batch], pa.int32()),
        pa.array([r.offset for r in batch], pa.int64()),
        pa.array([r.timestamp for r in batch], pa.int64()),
        pa.array([r.timestamp_type for r in batch], pa.string()),
        pa.array([r.key for r in batch], pa.binary()),
        pa.array([r.value for r in batch], pa.binary()),
        headers,
    ], schema=schema)


def _row_groups(records: Iterable[BackupRecord], limit: int) -> Iterator[list[BackupRecord]]:
    group: list[BackupRecord] = []
    size = 0
    for r in records:
        group.append(r)
        size += r.approximate_size()
        if size >= limit:
            yield group
            group, size = [], 0
    if group:
        yield group


def _parquet_encode(records: Iterable[BackupRecord], compression: str,
                    row_group_bytes: int = PARQUET_ROW_GROUP_BYTES) -> bytes:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    out = pa.BufferOutputStream()
    with pq.ParquetWriter(out, schema, compression=PARQUET_CODECS[compression],
                          use_dictionary=_PARQUET_DICTIONARY,
                          write_statistics=_PARQUET_STATISTICS) as writer:
        written = False
        for group in _row_groups(records, row_group_bytes):
            writer.write_table(_parquet_table(group), row_group_size=len(group))
            written = True
        if not written:  # an empty object is still a valid file with the envelope's schema
            writer.write_table(schema.empty_table())
    return bytes(out.getvalue().to_pybytes())


def _parquet_decode(data: bytes) -> Iterator[BackupRecord]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = _parquet_schema()
    file = pq.ParquetFile(pa.BufferReader(data))
    for batch in file.iter_batches(batch_size=PARQUET_READ_BATCH, columns=schema.names):
        # casting to the envelope's types accepts what another writer may have chosen for
        # the same data (large_binary, int64 partitions, another list item name) and refuses
        # what cannot be it
        columns = {f.name: batch.column(f.name).cast(f.type) for f in schema}
        for f in schema:
            if not f.nullable and columns[f.name].null_count:
                raise FormatError(f"column {f.name} has nulls")
        headers = columns["headers"]
        flat = headers.values
        header_names = flat.field("key")
        if flat.null_count or header_names.null_count:
            raise FormatError("column headers has null entries or names")
        bounds = headers.offsets.to_pylist()
        pairs = list(zip(header_names.to_pylist(), flat.field("value").to_pylist(), strict=True))
        for i, (topic, partition, offset, timestamp, timestamp_type, key, value) in enumerate(zip(
                *(columns[name].to_pylist() for name in schema.names[:7]), strict=True)):
            yield BackupRecord(topic=topic, partition=partition, offset=offset, timestamp=timestamp,
                               timestamp_type=timestamp_type, key=key, value=value,
                               headers=pairs[bounds[i]:bounds[i + 1]])
