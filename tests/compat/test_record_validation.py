"""Topic keys that act on every write, through confluent-kafka against a real broker:
compression.type recompresses (or keeps) what the producer sent, checked on disk; the
timestamp bounds refuse out-of-range records with INVALID_TIMESTAMP; record-level refusals
name the bad records (KIP-467), so librdkafka fails exactly those and tells the others a
different record was invalid."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from confluent_kafka import Consumer, KafkaError, Message, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from fjord.protocol.records import Record, encode_batch
from tests.compat.support import stored_codecs
from tests.coordinator.wire import Wire
from tests.support import messages
from tests.support.broker import BrokerProcess


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    proc = BrokerProcess(tmp_path_factory.mktemp("validation") / "data").start()
    yield proc
    assert proc.alive()
    proc.stop()


def _topic(broker: BrokerProcess, name: str, **config: str) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(name, 1, 1, config=config)])[name].result(15)


def _produce(broker: BrokerProcess, topic: str,
             records: Sequence[tuple[bytes | None, bytes, int | None]],
             **settings: object) -> list[KafkaError | None]:
    """Send the records as one batch (a long linger) and return each one's delivery error."""
    errors: list[KafkaError | None] = [None] * len(records)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 200, **settings})
    for number, (key, value, timestamp) in enumerate(records):
        def report(err: KafkaError | None, _msg: Message, number: int = number) -> None:
            errors[number] = err
        if timestamp is not None:
            producer.produce(topic, value=value, key=key, on_delivery=report, timestamp=timestamp)
        else:
            producer.produce(topic, value=value, key=key, on_delivery=report)
    assert producer.flush(30) == 0
    return errors


def _read(broker: BrokerProcess, topic: str, isolation: str = "read_uncommitted") -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": f"read-{topic}",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "isolation.level": isolation})
    consumer.assign([TopicPartition(topic, 0, 0)])
    values: list[bytes] = []
    try:
        while True:
            msg = consumer.poll(10)
            assert msg is not None, "consumer stalled"
            if msg.error():
                assert messages.error_code(msg) == KafkaError._PARTITION_EOF, msg.error()
                return values
            values.append(messages.value(msg))
    finally:
        consumer.close()


def _codes(errors: list[KafkaError | None]) -> list[int]:
    return [0 if err is None else err.code() for err in errors]


def _data_dir(broker: BrokerProcess) -> Path:
    return broker.data_dir


def test_topic_codec_recompresses_uncompressed_batches(broker: BrokerProcess) -> None:
    _topic(broker, "as-zstd", **{"compression.type": "zstd"})
    records = [(b"k%d" % i, b"value-%d" % i * 5, None) for i in range(200)]
    assert _codes(_produce(broker, "as-zstd", records, **{"compression.type": "none",
                                                          "enable.idempotence": True})) == [0] * 200
    assert stored_codecs(_data_dir(broker), "as-zstd", partitions=1) == {"zstd": 200}
    assert _read(broker, "as-zstd") == [value for _k, value, _t in records]


def test_transactional_batches_keep_their_producer_state_when_recompressed(broker: BrokerProcess) -> None:
    _topic(broker, "txn-gzip", **{"compression.type": "gzip"})
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "tx-gzip",
                         "compression.type": "lz4", "linger.ms": 50})
    producer.init_transactions(15)
    for round_, commit in enumerate((True, False, True)):
        producer.begin_transaction()
        for i in range(50):
            producer.produce("txn-gzip", value=b"r%d-%d" % (round_, i) * 4)
        producer.flush(15)
        if commit:
            producer.commit_transaction(15)
        else:
            producer.abort_transaction(15)
    codecs = stored_codecs(_data_dir(broker), "txn-gzip", partitions=1)
    assert codecs == {"gzip": 150, "none": 3}, codecs  # the three markers stay uncompressed
    committed = _read(broker, "txn-gzip", "read_committed")
    assert committed == [b"r%d-%d" % (r, i) * 4 for r in (0, 2) for i in range(50)]


def test_producer_codec_is_kept_and_uncompressed_decompresses(broker: BrokerProcess) -> None:
    _topic(broker, "as-sent", **{"compression.type": "producer"})
    _topic(broker, "plain", **{"compression.type": "uncompressed"})
    records = [(b"k%d" % i, b"payload-%d" % i * 8, None) for i in range(100)]
    for codec in ("gzip", "lz4", "snappy"):
        for topic in ("as-sent", "plain"):
            assert _codes(_produce(broker, topic, records, **{"compression.type": codec})) == [0] * 100
    assert stored_codecs(_data_dir(broker), "as-sent", partitions=1) == \
        {"gzip": 100, "lz4": 100, "snappy": 100}
    assert stored_codecs(_data_dir(broker), "plain", partitions=1) == {"none": 300}
    assert _read(broker, "plain") == [value for _k, value, _t in records] * 3


def test_timestamps_out_of_bounds_are_refused(broker: BrokerProcess) -> None:
    _topic(broker, "bounded", **{"message.timestamp.before.max.ms": "3600000",
                                 "message.timestamp.after.max.ms": "600000"})
    now = int(time.time() * 1000)
    ok = _produce(broker, "bounded", [(b"k", b"now", now), (b"k", b"recent", now - 1_800_000)])
    assert _codes(ok) == [0, 0]
    # librdkafka splits per record only for INVALID_RECORD; for INVALID_TIMESTAMP it fails
    # the whole batch (the wire check below shows the broker names the record).
    old = _produce(broker, "bounded", [(b"k", b"ok", now), (b"k", b"too old", now - 7_200_000)])
    assert _codes(old) == [KafkaError.INVALID_TIMESTAMP] * 2
    future = _produce(broker, "bounded", [(b"k", b"too new", now + 3_600_000)])
    assert _codes(future) == [KafkaError.INVALID_TIMESTAMP]
    assert _read(broker, "bounded") == [b"now", b"recent"]

    wire = Wire(broker.bootstrap)
    records = [Record(i, ts, b"k", v, []) for i, (ts, v) in
               enumerate([(now, b"fine"), (now - 7_200_000, b"ancient"), (now, b"fine")])]
    batch = encode_batch(records)
    response = wire.call(0, 8, {"transactional_id": None, "acks": -1, "timeout": 10000,
                                "topic_data": [{"name": "bounded", "partition_data": [
                                    {"index": 0, "records": batch}]}]})
    wire.close()
    part = response.responses[0].partition_responses[0]
    assert part.error_code.value == KafkaError.INVALID_TIMESTAMP
    assert [e.batch_index for e in part.record_errors] == [1]
    assert "out of range" in part.record_errors[0].batch_index_error_message
    assert part.error_message


def test_log_append_time_topics_skip_the_bounds(broker: BrokerProcess) -> None:
    _topic(broker, "stamped", **{"message.timestamp.type": "LogAppendTime",
                                 "message.timestamp.before.max.ms": "1000"})
    old = int(time.time() * 1000) - 86_400_000
    assert _codes(_produce(broker, "stamped", [(b"k", b"old", old)])) == [0]


def test_keyless_records_in_a_batch_fail_alone(broker: BrokerProcess) -> None:
    """KIP-467: the compacted topic refuses the batch naming records 1 and 3; librdkafka
    fails those with INVALID_RECORD and the others with _INVALID_DIFFERENT_RECORD (as its own
    test 0011 expects from Kafka; with a single record error librdkafka 2.x reports the
    partition error for every record of the batch)."""
    _topic(broker, "keyed", **{"cleanup.policy": "compact"})
    records: list[tuple[bytes | None, bytes, int | None]] = [
        (b"a", b"1", None), (None, b"keyless", None), (b"b", b"2", None), (None, b"keyless", None),
        (b"c", b"3", None)]
    errors = _produce(broker, "keyed", records)
    other, bad = KafkaError._INVALID_DIFFERENT_RECORD, KafkaError.INVALID_RECORD
    assert _codes(errors) == [other, bad, other, bad, other]
    assert _read(broker, "keyed") == []
