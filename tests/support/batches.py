"""Build v2 record batches by hand, for tests that need exact bytes (storage, bad input)."""

from __future__ import annotations

import struct
import time

import crc32c

from fjord.protocol.records import TRANSACTIONAL_BIT


def _zigzag(value: int) -> bytes:
    value = (value << 1) ^ (value >> 63)
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _blob(data: bytes | None) -> bytes:
    return _zigzag(-1) if data is None else _zigzag(len(data)) + data


def make_batch(records: list[tuple[bytes | None, bytes | None]], *, timestamp: int | None = None,
               producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1,
               base_offset: int = 0, transactional: bool = False,
               headers: list[tuple[str, bytes]] | None = None) -> bytes:
    """An uncompressed batch; every record gets `headers` and timestamp+index ms."""
    stamp = int(time.time() * 1000) if timestamp is None else timestamp
    body = bytearray()
    for index, (key, value) in enumerate(records):
        rec = bytearray(b"\0")  # attributes
        rec += _zigzag(index) + _zigzag(index)  # timestamp delta, offset delta
        rec += _blob(key) + _blob(value)
        rec += _zigzag(len(headers or []))
        for name, hvalue in headers or []:
            rec += _blob(name.encode()) + _blob(hvalue)
        body += _zigzag(len(rec)) + rec
    count = len(records)
    attributes = TRANSACTIONAL_BIT if transactional else 0
    after_crc = struct.pack(">hiqqqhii", attributes, count - 1, stamp, stamp + count - 1,
                            producer_id, producer_epoch, base_sequence, count) + bytes(body)
    crc = crc32c.crc32c(after_crc)
    length = 4 + 1 + 4 + len(after_crc)  # leader epoch, magic, crc, rest
    return struct.pack(">qiibI", base_offset, length, 0, 2, crc) + after_crc
