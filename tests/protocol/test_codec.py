"""Every version the broker advertises can be decoded and answered."""

from __future__ import annotations

import io

import pytest
from kio.serial import entity_writer

import fjord.broker.apis  # noqa: F401  (registers every API)
from fjord.broker.registry import APIS
from fjord.protocol.codec import (
    FrameError,
    UnknownFieldError,
    build,
    decode_request,
    decode_response,
    encode_request,
    encode_response,
    encode_response_chunks,
    parse_header,
    request_class,
    response_class,
    set_strict,
)

SERVED = [(api.key, version) for api in APIS.values()
          for version in range(api.min_version, api.max_version + 1)]


@pytest.mark.parametrize(("key", "version"), SERVED)
def test_default_response_of_every_served_version_round_trips(key: int, version: int) -> None:
    cls = response_class(key, version)
    body = build(cls, {})
    raw = encode_response(cls, 42, body, header_v0=key == 18)
    correlation, decoded = decode_response(cls, raw[4:], header_v0=key == 18)
    assert correlation == 42
    assert decoded == body


@pytest.mark.parametrize(("key", "version"), SERVED)
def test_default_request_of_every_served_version_parses(key: int, version: int) -> None:
    cls = request_class(key, version)
    frame = encode_request(cls, 7, "client-\u00e9", build(cls, {}))[4:]
    header = parse_header(frame, cls.__flexible__)
    assert (header.api_key, header.api_version, header.correlation_id) == (key, version, 7)
    assert header.client_id == "client-\u00e9"
    assert decode_request(cls, frame, header.size) == build(cls, {})


def test_build_drops_fields_a_version_lacks_and_nests_dicts() -> None:
    old, new = response_class(3, 0), response_class(3, 12)
    data = {"brokers": [{"node_id": 1, "host": "h", "port": 9, "rack": None}],
            "cluster_id": "c", "topics": [{"name": "t", "partitions": [{"partition_index": 0}]}]}
    assert build(old, data).brokers[0].host == "h"
    assert build(new, data).cluster_id == "c"
    assert not hasattr(build(old, data), "cluster_id")


def test_truncated_request_is_a_frame_error() -> None:
    cls = request_class(3, 12)
    frame = encode_request(cls, 1, "c", build(cls, {"topics": [{"name": "x"}]}))[4:]
    header = parse_header(frame, True)
    with pytest.raises(FrameError):
        decode_request(cls, frame[:-3], header.size)
    with pytest.raises(FrameError):
        parse_header(frame[:9], True)


def test_chunked_encoding_keeps_large_values_by_reference() -> None:
    cls = response_class(1, 12)
    records = b"x" * 10_000
    body = build(cls, {"responses": [{"topic": "t", "partitions": [
        {"partition_index": 0, "records": records}]}]})
    chunks = encode_response_chunks(cls, 5, body)
    assert any(chunk is records for chunk in chunks)
    joined = b"".join(chunks)
    assert int.from_bytes(joined[:4], "big") == len(joined) - 4
    buffer = io.BytesIO()
    entity_writer(cls)(buffer, body)
    assert joined[9:] == buffer.getvalue()  # size, correlation id, empty header tags


def test_build_under_test_refuses_a_key_no_version_has() -> None:
    """conftest turns strict mode on: a typo in a handler's answer fails loudly, while a key
    only newer versions have (handlers answer every version from one dict) is dropped."""
    old = response_class(12, 0)  # Heartbeat v0 has no throttle_time
    assert build(old, {"error_code": 0, "throttle_time": 5}).error_code == 0
    with pytest.raises(UnknownFieldError, match="errror_code"):
        build(old, {"errror_code": 0})
    set_strict(False)
    try:
        assert build(old, {"errror_code": 0}).error_code == 0
    finally:
        set_strict(True)
