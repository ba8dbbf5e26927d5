"""Record batch v2 (magic 2): the header fields the broker needs, without decoding records.

The broker stores batches as received. It validates the header and CRC, patches the base
offset, and only decodes records on rare paths (timestamp lookups, control records),
where `iter_records` decompresses with cramjam.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import crc32c

# Offsets inside a batch header.
LENGTH_OFFSET = 8
EPOCH_OFFSET = 12
MAGIC_OFFSET = 16
CRC_OFFSET = 17
ATTRIBUTES_OFFSET = 21
LAST_OFFSET_DELTA_OFFSET = 23
MAX_TIMESTAMP_OFFSET = 35
HEADER_SIZE = 61  # through recordsCount
LOG_OVERHEAD = 12  # baseOffset + batchLength
MIN_RECORD_SIZE = 7  # length, attributes, two deltas, key, value, header count: 1 byte each

_HEADER = struct.Struct(">qiibIhiqqqhii")
_Q = struct.Struct(">q")
_I = struct.Struct(">I")
_LENGTH = struct.Struct(">qi")

COMPRESSION_MASK = 0x07
TIMESTAMP_TYPE_BIT = 0x08
TRANSACTIONAL_BIT = 0x10
CONTROL_BIT = 0x20
NO_PRODUCER_ID = -1
CODECS = {0: "none", 1: "gzip", 2: "snappy", 3: "lz4", 4: "zstd"}
# compression.type values that name a codec ("producer" keeps each batch's own).
TARGET_CODECS = {"uncompressed": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}


class CorruptBatch(ValueError):
    """Input that is not a valid v2 record batch."""


class UnsupportedMagic(CorruptBatch):
    pass


@dataclass(slots=True)
class BatchHeader:
    base_offset: int
    length: int  # whole batch including the 12-byte log overhead
    leader_epoch: int
    magic: int
    crc: int
    attributes: int
    last_offset_delta: int
    base_timestamp: int
    max_timestamp: int
    producer_id: int
    producer_epoch: int
    base_sequence: int
    count: int

    @property
    def last_offset(self) -> int:
        return self.base_offset + self.last_offset_delta

    @property
    def is_transactional(self) -> bool:
        return bool(self.attributes & TRANSACTIONAL_BIT)

    @property
    def is_control(self) -> bool:
        return bool(self.attributes & CONTROL_BIT)

    @property
    def compression(self) -> int:
        return self.attributes & COMPRESSION_MASK


def read_header(data: bytes | bytearray | memoryview, pos: int = 0) -> BatchHeader:
    if len(data) - pos < HEADER_SIZE:
        raise CorruptBatch("record batch shorter than its header")
    (base, length, epoch, magic, crc, attrs, delta, base_ts, max_ts, pid, pepoch, seq, count) = (
        _HEADER.unpack_from(data, pos)
    )
    if magic != 2:
        raise UnsupportedMagic(f"record batch magic {magic} (only v2 is supported)")
    return BatchHeader(
        base, length + LOG_OVERHEAD, epoch, magic, crc, attrs, delta, base_ts, max_ts, pid,
        pepoch, seq, count,
    )


def batch_length_at(data: bytes | bytearray | memoryview, pos: int) -> int:
    """Whole size of the batch at pos, or -1 if not even its length is present."""
    if len(data) - pos < LOG_OVERHEAD:
        return -1
    _base, length = _LENGTH.unpack_from(data, pos)
    return int(length) + LOG_OVERHEAD


def split_batches(data: bytes | bytearray | memoryview) -> list[BatchHeader]:
    """Validate every batch in a produce payload (framing, magic, CRC, count)."""
    headers = []
    pos = 0
    view = memoryview(data)
    while pos < len(data):
        header = read_header(view, pos)
        if header.length < HEADER_SIZE or pos + header.length > len(data):
            raise CorruptBatch("record batch length does not match the data sent")
        if crc32c.crc32c(view[pos + ATTRIBUTES_OFFSET : pos + header.length]) != header.crc:
            raise CorruptBatch("record batch CRC mismatch")
        if header.count != header.last_offset_delta + 1 or header.count <= 0:
            raise CorruptBatch("record count does not match lastOffsetDelta")
        if header.compression == 0 and header.count * MIN_RECORD_SIZE > header.length - HEADER_SIZE:
            raise CorruptBatch(f"{header.count} records cannot fit in {header.length} bytes")
        headers.append(header)
        pos += header.length
    if not headers:
        raise CorruptBatch("no record batch in produce data")
    return headers


def set_base_offset(buffer: bytearray, pos: int, base_offset: int) -> None:
    _Q.pack_into(buffer, pos, base_offset)


def set_log_append_time(buffer: bytearray, pos: int, length: int, timestamp: int) -> None:
    """Stamp LogAppendTime: the type bit and max timestamp, then a fresh CRC."""
    (attrs,) = struct.unpack_from(">h", buffer, pos + ATTRIBUTES_OFFSET)
    struct.pack_into(">h", buffer, pos + ATTRIBUTES_OFFSET, attrs | TIMESTAMP_TYPE_BIT)
    _Q.pack_into(buffer, pos + MAX_TIMESTAMP_OFFSET, timestamp)
    crc = crc32c.crc32c(memoryview(buffer)[pos + ATTRIBUTES_OFFSET : pos + length])
    _I.pack_into(buffer, pos + CRC_OFFSET, crc)


def verify_crc(data: bytes | memoryview, pos: int, header: BatchHeader) -> bool:
    view = memoryview(data)
    return bool(crc32c.crc32c(view[pos + ATTRIBUTES_OFFSET : pos + header.length]) == header.crc)


# --- decoding records (rare paths) ------------------------------------------------------


@dataclass(slots=True)
class Record:
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]


def decompress(codec: int, payload: bytes) -> bytes:
    import cramjam

    if codec == 0:
        return payload
    if codec == 1:
        return bytes(cramjam.gzip.decompress(payload))
    if codec == 2:
        return _snappy(payload)
    if codec == 3:
        return bytes(cramjam.lz4.decompress(payload))
    if codec == 4:
        return bytes(cramjam.zstd.decompress(payload))
    raise CorruptBatch(f"unknown compression codec {codec}")


_XERIAL = b"\x82SNAPPY\x00"


def _snappy(payload: bytes) -> bytes:
    """Java clients frame snappy the xerial way; librdkafka may send raw blocks."""
    import cramjam

    if payload.startswith(_XERIAL):
        out = bytearray()
        pos = 16
        while pos < len(payload):
            (size,) = struct.unpack_from(">i", payload, pos)
            if size < 0 or pos + 4 + size > len(payload):  # never loop on a bad block length
                raise CorruptBatch(f"snappy block of {size} bytes does not fit the batch")
            pos += 4
            out += bytes(cramjam.snappy.decompress_raw(payload[pos : pos + size]))
            pos += size
        return bytes(out)
    return bytes(cramjam.snappy.decompress_raw(payload))


_XERIAL_HEADER = _XERIAL + struct.pack(">ii", 1, 1)
_SNAPPY_BLOCK = 32 * 1024


def compress(codec: int, payload: bytes) -> bytes:
    """The records section of a batch in `codec`, framed the way Kafka's Java producer frames
    it (xerial blocks for snappy, an LZ4 frame of independent blocks), so every client reads it."""
    import cramjam

    if codec == 0:
        return payload
    if codec == 1:
        return bytes(cramjam.gzip.compress(payload))
    if codec == 2:
        out = bytearray(_XERIAL_HEADER)
        for start in range(0, len(payload), _SNAPPY_BLOCK):
            block = bytes(cramjam.snappy.compress_raw(payload[start : start + _SNAPPY_BLOCK]))
            out += struct.pack(">i", len(block)) + block
        return bytes(out)
    if codec == 3:
        compressor = cramjam.lz4.Compressor(content_checksum=False, block_linked=False)
        compressor.compress(payload)
        return bytes(compressor.finish())
    if codec == 4:
        return bytes(cramjam.zstd.compress(payload, level=3))
    raise CorruptBatch(f"unknown compression codec {codec}")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            break
        shift += 7
    return (result >> 1) ^ -(result & 1), pos


def _bytes(data: bytes, pos: int) -> tuple[bytes | None, int]:
    length, pos = _varint(data, pos)
    if length < 0:
        return None, pos
    return data[pos : pos + length], pos + length


def iter_records(data: bytes | bytearray | memoryview, pos: int = 0) -> Iterator[Record]:
    """Decode every record of the batch at pos (only that batch's bytes are copied);
    CorruptBatch for anything that does not decode (bytes come from clients and from disk:
    never another exception, never a hang)."""
    try:
        yield from _iter_records(data, pos)
    except CorruptBatch:
        raise
    except Exception as exc:  # truncated varints, bad codecs, invalid UTF-8 header keys, ...
        raise CorruptBatch(f"records do not decode: {type(exc).__name__}: {exc}") from None


def _iter_records(data: bytes | bytearray | memoryview, pos: int) -> Iterator[Record]:
    header = read_header(data, pos)
    payload = decompress(header.compression, bytes(data[pos + HEADER_SIZE : pos + header.length]))
    cursor = 0
    for _ in range(header.count):
        _length, cursor = _varint(payload, cursor)
        cursor += 1  # attributes
        ts_delta, cursor = _varint(payload, cursor)
        off_delta, cursor = _varint(payload, cursor)
        key, cursor = _bytes(payload, cursor)
        value, cursor = _bytes(payload, cursor)
        count, cursor = _varint(payload, cursor)
        headers = []
        for _h in range(count):
            name, cursor = _bytes(payload, cursor)
            hvalue, cursor = _bytes(payload, cursor)
            headers.append(((name or b"").decode("utf-8", "replace"), hvalue))
        timestamp = header.base_timestamp + ts_delta
        if header.attributes & TIMESTAMP_TYPE_BIT:
            timestamp = header.max_timestamp
        yield Record(header.base_offset + off_delta, timestamp, key, value, headers)


# --- encoding records (compaction rewrites batches) -------------------------------------


def _zigzag(value: int) -> bytes:
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if not value:
            out.append(byte)
            return bytes(out)
        out.append(byte | 0x80)


def _blob(data: bytes | None) -> bytes:
    return _zigzag(-1) if data is None else _zigzag(len(data)) + data


def encode_batch(records: list[Record], *, attributes: int = 0, producer_id: int = NO_PRODUCER_ID,
                 producer_epoch: int = -1, base_sequence: int = -1, compression: int = 0,
                 base_offset: int | None = None, last_offset_delta: int | None = None) -> bytes:
    """A v2 batch holding `records` at their own offsets and timestamps, in `compression`.

    Offsets need not be contiguous (compaction leaves gaps), so the record count can be
    smaller than lastOffsetDelta + 1, exactly as in a batch Kafka's cleaner wrote.
    """
    base = records[0].offset if base_offset is None else base_offset
    base_ts = min(r.timestamp for r in records)
    body = bytearray()
    for record in records:
        rec = bytearray(b"\0")
        rec += _zigzag(record.timestamp - base_ts) + _zigzag(record.offset - base)
        rec += _blob(record.key) + _blob(record.value) + _zigzag(len(record.headers))
        for name, value in record.headers:
            rec += _blob(name.encode()) + _blob(value)
        body += _zigzag(len(rec)) + rec
    attrs = (attributes & ~COMPRESSION_MASK) | compression
    max_ts = max(r.timestamp for r in records)
    delta = records[-1].offset - base if last_offset_delta is None else last_offset_delta
    after_crc = struct.pack(
        ">hiqqqhii", attrs, delta, base_ts, max_ts, producer_id,
        producer_epoch, base_sequence, len(records),
    ) + compress(compression, bytes(body))
    length = 4 + 1 + 4 + len(after_crc)
    return struct.pack(">qiibI", base, length, 0, 2, crc32c.crc32c(after_crc)) + after_crc


def recompress(data: bytes | memoryview, pos: int, header: BatchHeader, codec: int) -> bytes:
    """The batch at pos re-encoded in `codec` (compression.type differs from the producer's):
    the same records, offsets deltas, timestamps, producer id, epoch, base sequence and
    transactional flag, so idempotence and transactions see the batch the client sent."""
    records = list(iter_records(bytes(data[pos : pos + header.length])))
    return encode_batch(records, attributes=header.attributes, producer_id=header.producer_id,
                        producer_epoch=header.producer_epoch, base_sequence=header.base_sequence,
                        compression=codec, base_offset=header.base_offset,
                        last_offset_delta=header.last_offset_delta)


CONTROL_ABORT, CONTROL_COMMIT = 0, 1


def control_type(data: bytes | memoryview) -> int | None:
    """The marker type (0 abort, 1 commit) of a control batch: its record key's second i16.

    None for a control batch that cannot be read: recovery must never stop on one.
    """
    try:
        for record in iter_records(bytes(data)):
            if record.key is not None and len(record.key) >= 4:
                return int(struct.unpack_from(">h", record.key, 2)[0])
    except Exception:
        return None
    return None


def control_batch(producer_id: int, producer_epoch: int, commit: bool, timestamp: int,
                  coordinator_epoch: int = 0) -> bytes:
    """A transaction marker as Kafka's coordinator writes it: one control record."""
    marker = Record(0, timestamp, struct.pack(">hh", 0, CONTROL_COMMIT if commit else CONTROL_ABORT),
                    struct.pack(">hi", 0, coordinator_epoch), [])
    return encode_batch([marker], attributes=TRANSACTIONAL_BIT | CONTROL_BIT,
                        producer_id=producer_id, producer_epoch=producer_epoch)
