"""A compacted topic through a real broker: clients read the cleaner's batches correctly."""

from __future__ import annotations

import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from tests.support import messages
from tests.support.broker import BrokerFactory, BrokerProcess
from tests.support.wait import wait_until


def _read_all(bootstrap: str, topic: str) -> list[tuple[int, bytes | None, bytes | None]]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "compaction-check",
                         "enable.auto.commit": False, "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, 0, 0)])
    out = []
    while True:
        msg = consumer.poll(5)
        assert msg is not None, "consumer stalled"
        if msg.error():
            assert messages.error_code(msg) == KafkaError._PARTITION_EOF
            break
        out.append((messages.offset(msg), msg.key(), msg.value()))
    consumer.close()
    return out


def test_compacted_topic_keeps_latest_value_per_key(broker_factory: BrokerFactory) -> None:
    broker = broker_factory({"log.cleaner.backoff.ms": "200"})
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("table", 1, 1, config={
        "cleanup.policy": "compact", "segment.bytes": "2048", "min.cleanable.dirty.ratio": "0.01",
    })])["table"].result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    last: dict[bytes, bytes] = {}
    for i in range(1500):
        key, value = b"key-%d" % (i % 10), b"value-%d" % i
        producer.produce("table", key=key, value=value)
        last[key] = value
        if i % 100 == 0:
            producer.flush(10)
    producer.flush(10)
    errors: list[KafkaError | None] = []
    producer.produce("table", key=None, value=b"no key",
                     on_delivery=lambda err, _m: errors.append(err))
    producer.flush(10)
    assert errors and errors[0] is not None and errors[0].code() == KafkaError.INVALID_RECORD

    deadline = time.monotonic() + 30
    records = _read_all(broker.bootstrap, "table")
    while len(records) > 200 and time.monotonic() < deadline:
        time.sleep(0.5)
        records = _read_all(broker.bootstrap, "table")
    assert len(records) <= 200, f"not compacted: {len(records)} records remain"
    offsets = [offset for offset, _k, _v in records]
    assert offsets == sorted(set(offsets))
    assert {key: value for _o, key, value in records} == last
    assert offsets[-1] == 1499


def _compactions(broker: BrokerProcess, partition_dir: str) -> int:
    return broker.log_path.read_text(errors="replace").count(f"compacted {partition_dir}:")


def test_open_transaction_does_not_displace_committed_value(broker_factory: BrokerFactory) -> None:
    """Issue 8: k=committed at offset 0, filler, an open transaction writes k, the cleaner
    runs, the transaction aborts: a read_committed consumer still sees k=committed.

    The topic starts as cleanup.policy=delete and becomes compact only once the transaction
    is open, so the cleaner's first pass is known to run while it is open."""
    broker = broker_factory({"log.cleaner.backoff.ms": "100"})
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("ledger", 1, 1, config={
        "segment.bytes": "300", "min.cleanable.dirty.ratio": "0.01",
    })])["ledger"].result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "ledger-tx",
                         "linger.ms": 0, "transaction.timeout.ms": 60000})
    producer.init_transactions(10)
    producer.begin_transaction()
    producer.produce("ledger", key=b"k", value=b"committed")
    producer.commit_transaction(10)
    plain = Producer({"bootstrap.servers": broker.bootstrap, "linger.ms": 0})
    for i in range(30):
        plain.produce("ledger", key=b"filler-%d" % i, value=b"x" * 40)
        plain.flush(10)  # one batch each: the small segments roll
    producer.begin_transaction()
    producer.produce("ledger", key=b"k", value=b"aborted")
    producer.flush(10)
    for i in range(5):
        plain.produce("ledger", key=b"after-%d" % i, value=b"y" * 40)
        plain.flush(10)
    assert _compactions(broker, "ledger-0") == 0
    resource = ConfigResource("topic", "ledger", incremental_configs=[
        ConfigEntry("cleanup.policy", "compact", incremental_operation=AlterConfigOpType.SET)])
    for future in admin.incremental_alter_configs([resource]).values():
        future.result(10)
    wait_until(lambda: _compactions(broker, "ledger-0") >= 1, 30, message="a compaction pass")
    producer.abort_transaction(10)

    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "ledger-check",
                         "enable.auto.commit": False, "isolation.level": "read_committed",
                         "enable.partition.eof": True})
    consumer.assign([TopicPartition("ledger", 0, 0)])
    values: dict[bytes | None, bytes | None] = {}
    while True:
        msg = consumer.poll(10)
        assert msg is not None, "consumer stalled"
        if msg.error():
            assert messages.error_code(msg) == KafkaError._PARTITION_EOF
            break
        values[msg.key()] = msg.value()
    consumer.close()
    assert values[b"k"] == b"committed"
    assert len(values) == 36
