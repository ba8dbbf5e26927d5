"""Fuzzing where bytes come from outside: record batches (from clients and from disk), the
request of every served API version, the __consumer_offsets record layouts and the
transaction state file. A malformed input must give the parser's one clean error type —
never another exception, never a hang (hypothesis' deadline catches a slow path).

Bounded for CI; FJORD_FUZZ_EXAMPLES raises the count for a longer local run.
bench/fuzz_broker.py throws frames at a real broker process.
"""

from __future__ import annotations

import contextlib
import json
import os
import struct

import crc32c
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fjord.coordinator import offsets
from fjord.coordinator.transactions import Transaction, TxnState
from fjord.protocol.codec import (
    FrameError,
    build,
    decode_request,
    encode_request,
    parse_header,
    peek_header,
    request_class,
)
from fjord.protocol.records import (
    ATTRIBUTES_OFFSET,
    CRC_OFFSET,
    CorruptBatch,
    Record,
    control_type,
    encode_batch,
    iter_records,
    recompress,
    split_batches,
)
from tests.support.fuzz import SERVED, filled, with_body

EXAMPLES = int(os.environ.get("FJORD_FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=2000,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _valid_batch(codec: int, count: int) -> bytes:
    records = [Record(i, 1_700_000_000_000 + i, b"key-%d" % i, b"value-%d" % i * 3,
                      [("h", b"v")]) for i in range(count)]
    return encode_batch(records, producer_id=7, producer_epoch=1, base_sequence=0,
                        compression=codec)


def _fix_crc(data: bytearray) -> bytes:
    """Recompute the CRC so mutations reach the record decoder instead of the CRC check."""
    if len(data) > ATTRIBUTES_OFFSET:
        struct.pack_into(">I", data, CRC_OFFSET, crc32c.crc32c(bytes(data[ATTRIBUTES_OFFSET:])))
    return bytes(data)


def _parse_batches(data: bytes) -> None:
    """Everything the broker does with a produce payload before it stores it."""
    try:
        headers = split_batches(data)
    except CorruptBatch:
        return
    pos = 0
    for header in headers:
        try:
            for _record in iter_records(data, pos):
                pass
            recompress(data, pos, header, 4)
        except CorruptBatch:
            pass
        control_type(data[pos : pos + header.length])  # never raises: None if unreadable
        pos += header.length


@FUZZ
@given(st.binary(max_size=512))
def test_random_bytes_as_record_batches(data: bytes) -> None:
    _parse_batches(data)


@FUZZ
@given(codec=st.integers(0, 4), count=st.integers(1, 20), data=st.data())
def test_mutated_record_batches(codec: int, count: int, data: st.DataObject) -> None:
    batch = bytearray(_valid_batch(codec, count))
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(batch) - 1))
        batch[position] = data.draw(st.integers(0, 255))
    if data.draw(st.booleans()):
        batch = batch[: data.draw(st.integers(0, len(batch)))]
    _parse_batches(_fix_crc(batch))



@pytest.mark.parametrize(("key", "version"), SERVED, ids=[f"{k}v{v}" for k, v in SERVED])
@settings(max_examples=max(5, EXAMPLES // 10), deadline=2000,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(body=st.binary(max_size=256))
def test_every_served_request_version_decodes_or_refuses(key: int, version: int, body: bytes) -> None:
    frame = with_body(key, version, body)
    cls = request_class(key, version)
    assert peek_header(frame)[:2] == (key, version)
    try:
        header = parse_header(frame, cls.__flexible__)
        decode_request(cls, frame, header.size)
    except FrameError:
        pass


@FUZZ
@given(st.binary(max_size=128))
def test_consumer_offsets_keys_and_values(data: bytes) -> None:
    for parse in (offsets.parse_key, offsets.parse_offset_value, offsets.parse_group_value):
        with contextlib.suppress(ValueError):
            parse(data)


@FUZZ
@given(data=st.data())
def test_mutated_consumer_offsets_records(data: st.DataObject) -> None:
    valid = [offsets.offset_key("group", "topic", 3), offsets.group_key("group"),
             offsets.offset_value(offsets.CommittedOffset(42, 1, "meta", 1_700_000_000_000)),
             offsets.group_value(offsets.GroupRecord("consumer", 3, "range", "m-1", 1))]
    raw = bytearray(data.draw(st.sampled_from(valid)))
    for _ in range(data.draw(st.integers(1, 4))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(0, len(raw)))]
    for parse in (offsets.parse_key, offsets.parse_offset_value, offsets.parse_group_value):
        with contextlib.suppress(ValueError):
            parse(bytes(raw))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
TXN_FIELDS = ["id", "pid", "epoch", "timeout_ms", "state", "partitions", "groups", "offsets",
              "started_ms", "updated_ms"]


@FUZZ
@given(st.dictionaries(st.sampled_from(TXN_FIELDS), json_values, min_size=3))
def test_transaction_state_entries(raw: dict[str, object]) -> None:
    with contextlib.suppress(ValueError):
        Transaction.from_json(raw)


def test_a_valid_transaction_entry_round_trips() -> None:
    txn = Transaction("tx", 5, 2, 60000, TxnState.ONGOING, {("t", 0)}, {"g"},
                      {"g": {("t", 0): (10, -1, "")}}, 1, 2)
    assert Transaction.from_json(json.loads(json.dumps(txn.to_json()))) == txn


@pytest.mark.parametrize(("key", "version"), SERVED, ids=[f"{k}v{v}" for k, v in SERVED])
def test_the_length_check_passes_well_formed_requests(key: int, version: int) -> None:
    """The walk of bounds.py must agree with kio on every served version's layout: a request
    with arrays, strings and tagged sections filled decodes to what was encoded."""
    cls = request_class(key, version)
    request = build(cls, filled(cls))
    frame = encode_request(cls, 7, "fuzz", request)[4:]
    header = parse_header(frame, cls.__flexible__)
    assert decode_request(cls, frame, header.size) == request


def test_a_huge_declared_array_is_refused_not_allocated() -> None:
    """The frame that aborted the broker: Metadata v9 declaring a 2^35-element topic array."""
    frame = bytes.fromhex("000300090000000100046675 7a7a 00 91d8cdc310411e7ec27378a661c935187c"
                          .replace(" ", ""))
    cls = request_class(3, 9)
    header = parse_header(frame, True)
    with pytest.raises(FrameError, match="claims more"):
        decode_request(cls, frame, header.size)


def test_null_for_a_non_nullable_array_is_refused() -> None:
    """Kafka refuses it; kio would hand the handler None (TxnOffsetCommit raised TypeError)."""
    cls = request_class(28, 2)  # not flexible: the topics array, last, is an int32 count
    frame = encode_request(cls, 7, "fuzz", build(cls, {**filled(cls), "topics": []}))[4:]
    assert frame.endswith(b"\x00\x00\x00\x00")
    frame = frame[:-4] + b"\xff\xff\xff\xff"
    header = parse_header(frame, cls.__flexible__)
    with pytest.raises(FrameError, match="non-nullable array"):
        decode_request(cls, frame, header.size)
