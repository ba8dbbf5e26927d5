"""Bad input over a raw socket: each gets the answer a Kafka client expects (an error code,
or the connection closed where the frame cannot be answered), a log line, and the broker
keeps serving every other connection.

Frames are built with fjord.protocol.codec (kio's message classes) so the good parts of
each request are exactly what a client would send, and only the bad part is bad.
"""

from __future__ import annotations

import struct
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from kio.schema.errors import ErrorCode

from fjord.protocol.codec import decode_response, response_class
from fjord.protocol.records import control_batch
from tests.support.batches import make_batch
from tests.support.broker import BrokerFactory, BrokerProcess
from tests.support.raw_client import API_VERSIONS, RawClient

PRODUCE, METADATA, CREATE_TOPICS = 0, 3, 19
MAX_REQUEST = 1 << 20


@pytest.fixture
def strict_broker(broker_factory: BrokerFactory) -> BrokerProcess:
    return broker_factory({"auto.create.topics.enable": "false",
                           "socket.request.max.bytes": str(MAX_REQUEST)})


def create_topic(client: RawClient, name: str, configs: dict[str, str] | None = None) -> Any:
    response = client.call(CREATE_TOPICS, 7, {"topics": [{
        "name": name, "num_partitions": 1, "replication_factor": 1, "assignments": [],
        "configs": [{"name": k, "value": v} for k, v in (configs or {}).items()]}],
        "timeout": 10_000})
    [result] = response.topics
    return result


def produce(client: RawClient, topic: str, records: bytes) -> Any:
    response = client.call(PRODUCE, 9, {"acks": -1, "timeout": 10_000, "topic_data": [
        {"name": topic, "partition_data": [{"index": 0, "records": records}]}]})
    [topic_response] = response.responses
    [partition] = topic_response.partition_responses
    return partition


def assert_serves(broker: BrokerProcess, bystander: RawClient) -> None:
    """The broker is up, an earlier connection still works, and a real client round-trips."""
    assert broker.alive()
    assert bystander.call(API_VERSIONS, 3, {}).error_code == ErrorCode.none
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    producer.produce("good", value=b"still-serving", partition=0)
    assert producer.flush(10) == 0
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "bad-input-unused",
                         "enable.auto.commit": False})
    try:
        _low, high = consumer.get_watermark_offsets(TopicPartition("good", 0), timeout=10)
        consumer.assign([TopicPartition("good", 0, high - 1)])
        msg = consumer.poll(10)
        assert msg is not None and msg.error() is None
        assert msg.value() == b"still-serving"
    finally:
        consumer.close()


@pytest.fixture
def bystander(strict_broker: BrokerProcess) -> Any:
    client = RawClient(strict_broker)
    assert create_topic(client, "good").error_code == ErrorCode.none
    yield client
    client.close()


def test_malformed_frame_closes_only_that_connection(strict_broker: BrokerProcess,
                                                     bystander: RawClient) -> None:
    client = RawClient(strict_broker)
    # A Metadata v12 header followed by bytes that are not a MetadataRequest.
    header = struct.pack(">hhih", METADATA, 12, 1, 3) + b"bad" + b"\0"
    body = b"\xff\xff\xff\xff\xff\xff"
    client.sock.sendall(struct.pack(">i", len(header + body)) + header + body)
    assert client.closed_by_broker()
    # Shorter than a request header.
    client = RawClient(strict_broker)
    client.sock.sendall(struct.pack(">i", 3) + b"abc")
    assert client.closed_by_broker()
    assert "malformed" in strict_broker.log_tail(50)
    assert_serves(strict_broker, bystander)


def test_oversized_and_negative_frames_are_refused(strict_broker: BrokerProcess,
                                                    bystander: RawClient) -> None:
    client = RawClient(strict_broker)
    client.sock.sendall(struct.pack(">i", MAX_REQUEST + 1) + b"\0" * 64)
    assert client.closed_by_broker()
    client = RawClient(strict_broker)
    client.sock.sendall(struct.pack(">i", -5))
    assert client.closed_by_broker()
    assert "socket.request.max.bytes" in strict_broker.log_tail(50)
    assert_serves(strict_broker, bystander)


def test_unknown_api_key_closes_the_connection(strict_broker: BrokerProcess,
                                               bystander: RawClient) -> None:
    client = RawClient(strict_broker)
    header = struct.pack(">hhih", 9999, 0, 1, -1)
    client.sock.sendall(struct.pack(">i", len(header)) + header)
    assert client.closed_by_broker()
    assert "unknown API key 9999" in strict_broker.log_tail(50)
    assert_serves(strict_broker, bystander)


def test_unsupported_version(strict_broker: BrokerProcess, bystander: RawClient) -> None:
    # ApiVersions answers any version it does not serve with a v0 response carrying
    # UNSUPPORTED_VERSION and its ranges, so the client can retry with one it knows.
    client = RawClient(strict_broker)
    header = struct.pack(">hhih", API_VERSIONS, 99, 41, 4) + b"test" + b"\0\0\0\0"
    client.sock.sendall(struct.pack(">i", len(header)) + header)
    payload = client.read_frame()
    assert payload is not None
    correlation, response = decode_response(response_class(API_VERSIONS, 0), payload, header_v0=True)
    assert correlation == 41
    assert response.error_code == ErrorCode.unsupported_version == 35
    ranges = {k.api_key: (k.min_version, k.max_version) for k in response.api_keys}
    assert ranges[API_VERSIONS][1] >= 3 and ranges[METADATA][1] >= 9
    # The same connection goes on with a version from the list.
    client.correlation = 41
    assert client.call(API_VERSIONS, 3, {}).error_code == ErrorCode.none
    # Any other API at a version it does not serve: Kafka closes the connection.
    header = struct.pack(">hhih", METADATA, 99, 1, -1)
    client.sock.sendall(struct.pack(">i", len(header)) + header)
    assert client.closed_by_broker()
    assert "Metadata v99 is not supported" in strict_broker.log_tail(50)
    assert_serves(strict_broker, bystander)


def test_corrupt_batch_is_rejected_and_nothing_is_stored(strict_broker: BrokerProcess,
                                                         bystander: RawClient) -> None:
    client = RawClient(strict_broker)
    batch = bytearray(make_batch([(b"k", b"value")]))
    batch[-1] ^= 0xFF  # flip bits in the last record: the CRC no longer matches
    result = produce(client, "good", bytes(batch))
    assert result.error_code == ErrorCode.corrupt_message == 2
    # A batch whose length field lies about its size.
    truncated = make_batch([(b"k", b"value")])[:-4]
    assert produce(client, "good", truncated).error_code == ErrorCode.corrupt_message
    assert "rejected produce" in strict_broker.log_tail(50)
    # Nothing reached the log: the next good batch gets offset 0.
    good = produce(client, "good", make_batch([(b"k", b"ok")]))
    assert (good.error_code, good.base_offset) == (ErrorCode.none, 0)
    assert_serves(strict_broker, bystander)


def test_client_control_batches_and_internal_topics_are_refused(strict_broker: BrokerProcess,
                                                               bystander: RawClient) -> None:
    """A forged transaction marker could expose another producer's open transaction, and a
    junk one used to stop the broker from restarting; internal topics belong to the broker."""
    client = RawClient(strict_broker)
    forged = bytearray(control_batch(producer_id=77, producer_epoch=0, commit=True, timestamp=0))
    assert produce(client, "good", bytes(forged)).error_code == ErrorCode.invalid_record
    strict_broker.kill()
    strict_broker.start()  # nothing was stored, so nothing can trip recovery
    client = RawClient(strict_broker)
    good = produce(client, "good", make_batch([(b"k", b"ok")]))
    assert (good.error_code, good.base_offset) == (ErrorCode.none, 0)
    made = create_topic(client, "__consumer_offsets")
    assert made.error_code == ErrorCode.invalid_request
    assert "internal topic" in made.error_message
    assert_serves(strict_broker, RawClient(strict_broker))


def test_produce_to_missing_topic_without_auto_create(strict_broker: BrokerProcess,
                                                      bystander: RawClient) -> None:
    client = RawClient(strict_broker)
    result = produce(client, "missing", make_batch([(b"k", b"v")]))
    assert result.error_code == ErrorCode.unknown_topic_or_partition == 3
    metadata = client.call(METADATA, 12, {"topics": [{"name": "missing"}],
                                          "allow_auto_topic_creation": True})
    [topic] = metadata.topics
    assert topic.error_code == ErrorCode.unknown_topic_or_partition
    assert_serves(strict_broker, bystander)
    # ...and it was not created as a side effect.
    metadata = client.call(METADATA, 12, {"topics": None})
    assert "missing" not in [t.name for t in metadata.topics]


@pytest.mark.parametrize("name", ["bad name", "a/b", "..", "", "x" * 250, "caf\u00e9"])
def test_invalid_topic_name(strict_broker: BrokerProcess, bystander: RawClient, name: str) -> None:
    client = RawClient(strict_broker)
    result = create_topic(client, name)
    assert result.error_code == ErrorCode.invalid_topic_exception == 17
    assert result.error_message
    assert_serves(strict_broker, bystander)


@pytest.mark.parametrize(("key", "value"), [("retention.ms", "forever"), ("no.such.config", "1"),
                                            ("cleanup.policy", "sometimes")])
def test_invalid_topic_config(strict_broker: BrokerProcess, bystander: RawClient,
                              key: str, value: str) -> None:
    client = RawClient(strict_broker)
    result = create_topic(client, "configured", {key: value})
    assert result.error_code == ErrorCode.invalid_config == 40
    assert key in (result.error_message or "")
    metadata = client.call(METADATA, 12, {"topics": None})
    assert "configured" not in [t.name for t in metadata.topics]
    assert_serves(strict_broker, bystander)
