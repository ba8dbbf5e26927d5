"""Build v2 record batches by hand, for tests that need exact bytes (storage, bad input)."""

from __future__ import annotations

import time

from fjord.protocol.records import TRANSACTIONAL_BIT, Record, encode_batch


def make_batch(records: list[tuple[bytes | None, bytes | None]], *, timestamp: int | None = None,
               producer_id: int = -1, producer_epoch: int = -1, base_sequence: int = -1,
               base_offset: int = 0, transactional: bool = False,
               headers: list[tuple[str, bytes]] | None = None) -> bytes:
    """An uncompressed batch; record i gets `headers` and timestamp + i ms."""
    stamp = int(time.time() * 1000) if timestamp is None else timestamp
    entries = [
        Record(base_offset + index, stamp + index, key, value, list(headers or []))
        for index, (key, value) in enumerate(records)
    ]
    return encode_batch(entries, attributes=TRANSACTIONAL_BIT if transactional else 0,
                        producer_id=producer_id, producer_epoch=producer_epoch,
                        base_sequence=base_sequence)
