"""Round trips of the backup envelope through every format and compression."""

from __future__ import annotations

import gzip
import json
from typing import Any, cast

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fjord.connectors.objectstore.envelope import TIMESTAMP_TYPES, BackupRecord
from fjord.connectors.objectstore.formats import (
    COMPRESSIONS,
    FORMATS,
    FormatError,
    ObjectFormat,
    _parquet_encode,
    decode_object,
)
from fjord.connectors.objectstore.naming import object_key, parse_object_key

ALL_FORMATS = [ObjectFormat(f, c) for f in FORMATS for c in COMPRESSIONS]

nullable_bytes = st.none() | st.binary(max_size=64)
records = st.builds(
    BackupRecord,
    topic=st.from_regex(r"[a-zA-Z0-9._-]{1,20}", fullmatch=True),
    partition=st.integers(0, 2**31 - 1),
    offset=st.integers(0, 2**63 - 1),
    timestamp=st.none() | st.integers(-(2**63), 2**63 - 1),
    timestamp_type=st.sampled_from(TIMESTAMP_TYPES),
    key=nullable_bytes,
    value=nullable_bytes,
    headers=st.lists(st.tuples(st.text(max_size=10), nullable_bytes), max_size=4),
)


@pytest.mark.parametrize("fmt", ALL_FORMATS, ids=lambda f: f.extension + "-" + f.compression)
@settings(max_examples=40, deadline=None)
@given(batch=st.lists(records, max_size=20))
def test_round_trip_is_exact(fmt: ObjectFormat, batch: list[BackupRecord]) -> None:
    data = fmt.encode(batch)
    assert decode_object(fmt.extension, data) == batch


def test_null_and_empty_stay_distinct() -> None:
    batch = [BackupRecord("t", 0, 0, 1, key=None, value=b"", headers=[("h", None), ("h", b"")]),
             BackupRecord("t", 0, 1, 2, key=b"", value=None)]
    for fmt in ALL_FORMATS:
        back = decode_object(fmt.extension, fmt.encode(batch))
        assert back[0].key is None and back[0].value == b""
        assert back[0].headers == [("h", None), ("h", b"")]
        assert back[1].key == b"" and back[1].value is None


def test_jsonl_is_readable_with_plain_tools() -> None:
    fmt = ObjectFormat("jsonl", "gzip")
    data = fmt.encode([BackupRecord("orders", 2, 7, 1700000000000, key=b"k\xff", value=b"v")])
    doc = json.loads(gzip.decompress(data))
    assert doc == {"topic": "orders", "partition": 2, "offset": 7, "timestamp": 1700000000000,
                   "timestampType": "CreateTime", "key": "a/8=", "value": "dg==", "headers": []}


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_avro_is_a_standard_container(compression: str) -> None:
    import io

    data = ObjectFormat("avro", compression).encode([BackupRecord("t", 0, 5, None, value=b"x")])
    reader = fastavro.reader(io.BytesIO(data))
    assert reader.codec == {"none": "null", "gzip": "deflate", "zstd": "zstandard"}[compression]
    assert [cast(dict[str, Any], r)["offset"] for r in reader] == [5]


@pytest.mark.parametrize("compression", COMPRESSIONS)
def test_parquet_is_a_standard_file(compression: str) -> None:
    batch = [BackupRecord("t", 3, 5, None, key=b"\x00k", value=b"x", headers=[("h", None)]),
             BackupRecord("t", 3, 6, 7, "LogAppendTime")]
    data = ObjectFormat("parquet", compression).encode(batch)
    file = pq.ParquetFile(pa.BufferReader(data))
    column = file.metadata.row_group(0).column(file.schema_arrow.get_field_index("key"))
    assert column.compression == {"none": "UNCOMPRESSED", "gzip": "GZIP", "zstd": "ZSTD"}[compression]
    assert column.physical_type == "BYTE_ARRAY"
    # what a plain Parquet reader sees, with no Fjord code involved
    assert file.read().to_pylist() == [
        {"topic": "t", "partition": 3, "offset": 5, "timestamp": None, "timestampType": "CreateTime",
         "key": b"\x00k", "value": b"x", "headers": [{"key": "h", "value": None}]},
        {"topic": "t", "partition": 3, "offset": 6, "timestamp": 7, "timestampType": "LogAppendTime",
         "key": None, "value": None, "headers": []}]
    offsets = file.metadata.row_group(0).column(file.schema_arrow.get_field_index("offset"))
    assert (offsets.statistics.min, offsets.statistics.max) == (5, 6)  # queries skip by offset


def test_parquet_many_row_groups_and_read_batches() -> None:
    """Row groups bounded by payload, and read batches that cut across them, keep every
    record's headers with that record."""
    batch = [BackupRecord("t", 0, o, o, key=o.to_bytes(3, "big"), value=bytes(o % 50),
                          headers=[("n", bytes([o % 256]))] * (o % 3))
             for o in range(70_000)]  # more than one read batch (64 Ki rows)
    data = _parquet_encode(batch, "zstd", row_group_bytes=100_000)
    assert pq.ParquetFile(pa.BufferReader(data)).num_row_groups > 10
    assert decode_object("parquet", data) == batch


def test_parquet_from_another_writer_is_read_if_it_is_an_envelope() -> None:
    """Types another writer may choose for the same data are accepted; nulls where the
    envelope has none are refused rather than restored as something else."""
    table = pa.table({"topic": ["x"], "partition": pa.array([3], pa.int64()), "offset": [5],
                      "timestamp": pa.array([None], pa.int64()), "timestampType": ["CreateTime"],
                      "key": pa.array([b"k"], pa.large_binary()), "value": [b""],
                      "headers": [[{"key": "a", "value": b"1"}, {"key": "a", "value": None}]]})
    out = pa.BufferOutputStream()
    pq.write_table(table, out)
    assert decode_object("parquet", out.getvalue().to_pybytes()) == [
        BackupRecord("x", 3, 5, None, key=b"k", value=b"", headers=[("a", b"1"), ("a", None)])]
    out = pa.BufferOutputStream()
    pq.write_table(table.set_column(0, "topic", pa.array([None], pa.string())), out)
    with pytest.raises(FormatError, match="topic"):
        decode_object("parquet", out.getvalue().to_pybytes())


def test_corrupt_objects_are_refused() -> None:
    with pytest.raises(FormatError):
        decode_object("jsonl", b'{"topic": "t"}\n')
    with pytest.raises(FormatError):
        decode_object("avro", b"not avro")
    with pytest.raises(FormatError):
        decode_object("jsonl.gz", b"not gzip")
    with pytest.raises(FormatError):
        decode_object("parquet", b"")
    with pytest.raises(FormatError):
        decode_object("parquet", b"PAR1 not parquet PAR1")
    with pytest.raises(FormatError):
        decode_object("orc", b"")


@settings(max_examples=100, deadline=None)
@given(topic=st.from_regex(r"[a-zA-Z0-9._-]{1,40}", fullmatch=True), partition=st.integers(0, 10**6),
       offset=st.integers(0, 2**63 - 1), prefix=st.sampled_from(["", "a/", "backups/fjord/"]),
       ext=st.sampled_from(["jsonl", "jsonl.gz", "avro", "parquet"]))
def test_object_names_parse_back_and_sort_by_offset(topic: str, partition: int, offset: int,
                                                    prefix: str, ext: str) -> None:
    key = object_key(prefix, topic, partition, offset, ext)
    parsed = parse_object_key(prefix, key)
    assert parsed is not None
    assert (parsed.topic, parsed.partition, parsed.first_offset, parsed.extension) == (
        topic, partition, offset, ext)
    if offset < 2**63 - 1:
        assert key < object_key(prefix, topic, partition, offset + 1, ext)


def test_names_outside_the_layout_are_not_data() -> None:
    assert parse_object_key("p/", "p/_fjord/runs/r/2026-01-01/x.json") is None
    assert parse_object_key("p/", "p/t/partition=0/other+0+00000000000000000000.jsonl") is None
    assert parse_object_key("p/", "q/t/partition=0/t+0+00000000000000000000.jsonl") is None
    assert object_key("", "t", 3, 42, "avro") == "t/partition=3/t+3+00000000000000000042.avro"
