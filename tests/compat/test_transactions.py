"""Transactions through real clients: read_committed sees only committed records, aborted
ones are skipped, offsets commit with the transaction, and zombies are fenced."""

from __future__ import annotations

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support import messages
from tests.support.broker import BrokerProcess


def _values(bootstrap: str, topic: str, isolation: str, partitions: int = 2) -> list[bytes]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{isolation}",
                         "enable.auto.commit": False, "isolation.level": isolation,
                         "enable.partition.eof": True})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    seen: list[bytes] = []
    at_end: set[int] = set()
    while len(at_end) < partitions:
        msg = consumer.poll(10)
        assert msg is not None, "consumer stalled"
        if msg.error():
            assert messages.error_code(msg) == KafkaError._PARTITION_EOF
            at_end.add(messages.partition(msg))
            continue
        seen.append(messages.value(msg))
    consumer.close()
    return sorted(seen)


def _producer(bootstrap: str, txn_id: str) -> Producer:
    producer = Producer({"bootstrap.servers": bootstrap, "transactional.id": txn_id,
                         "transaction.timeout.ms": 10000})
    producer.init_transactions(10)
    return producer


def test_committed_and_aborted_transactions(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("txn", 2, 1)])["txn"].result(10)
    producer = _producer(broker.bootstrap, "tx-1")
    for values, commit in (([b"a%d" % i for i in range(10)], True),
                           ([b"x%d" % i for i in range(5)], False),
                           ([b"b%d" % i for i in range(3)], True)):
        producer.begin_transaction()
        for i, value in enumerate(values):
            producer.produce("txn", value, partition=i % 2)
        producer.flush(10)  # on the broker before the outcome (abort purges what is queued)
        if commit:
            producer.commit_transaction(10)
        else:
            producer.abort_transaction(10)
    committed = sorted([b"a%d" % i for i in range(10)] + [b"b%d" % i for i in range(3)])
    assert _values(broker.bootstrap, "txn", "read_committed") == committed
    assert len(_values(broker.bootstrap, "txn", "read_uncommitted")) == 18

    # An open transaction holds read_committed consumers at the last stable offset.
    producer.begin_transaction()
    producer.produce("txn", b"pending", partition=0)
    producer.flush(10)
    assert b"pending" in _values(broker.bootstrap, "txn", "read_uncommitted")
    assert _values(broker.bootstrap, "txn", "read_committed") == committed
    probe = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "probe",
                      "isolation.level": "read_committed"})
    _low, high = probe.get_watermark_offsets(TopicPartition("txn", 0), timeout=10)
    probe.close()
    producer.commit_transaction(10)
    assert b"pending" in _values(broker.bootstrap, "txn", "read_committed")
    # Partition 0 holds 5+3+2 records and 3 markers (offsets 0-12); the open transaction's
    # record is offset 13, so the stable end is 13 while the high watermark is 14.
    assert high == 13


def test_offsets_commit_with_the_transaction_and_zombies_are_fenced(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("src", 1, 1), NewTopic("dst", 1, 1)])["dst"].result(10)
    plain = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(20):
        plain.produce("src", b"m%d" % i)
    plain.flush(10)
    group = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "eos",
                      "enable.auto.commit": False, "isolation.level": "read_committed"})
    group.assign([TopicPartition("src", 0, 0)])
    producer = _producer(broker.bootstrap, "eos-1")

    def move(count: int, commit: bool) -> None:
        producer.begin_transaction()
        last = None
        for _ in range(count):
            msg = group.poll(10)
            assert msg is not None and msg.error() is None
            producer.produce("dst", msg.value())
            last = msg.offset()
        producer.flush(10)
        assert last is not None
        producer.send_offsets_to_transaction([TopicPartition("src", 0, last + 1)],
                                             group.consumer_group_metadata(), 10)
        if commit:
            producer.commit_transaction(10)
        else:
            producer.abort_transaction(10)

    move(5, commit=True)
    assert group.committed([TopicPartition("src", 0)], 10)[0].offset == 5
    move(5, commit=False)
    assert group.committed([TopicPartition("src", 0)], 10)[0].offset == 5
    group.close()

    zombie = producer
    successor = _producer(broker.bootstrap, "eos-1")  # same id: fences the first
    zombie.begin_transaction()
    zombie.produce("dst", b"zombie")
    with pytest.raises(KafkaException) as fenced:
        zombie.commit_transaction(10)
    assert fenced.value.args[0].fatal() or "fenced" in str(fenced.value).lower()
    successor.begin_transaction()
    successor.produce("dst", b"successor")
    successor.commit_transaction(10)
    values = _values(broker.bootstrap, "dst", "read_committed", partitions=1)
    assert b"zombie" not in values and b"successor" in values
    assert len(values) == 6


def test_open_transaction_survives_restart_and_times_out(broker: BrokerProcess) -> None:
    import time

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("crash", 1, 1)])["crash"].result(10)
    producer = Producer({"bootstrap.servers": broker.bootstrap, "transactional.id": "crash-1",
                         "transaction.timeout.ms": 3000})
    producer.init_transactions(10)
    producer.begin_transaction()
    producer.produce("crash", b"left open")
    producer.flush(10)
    broker.kill()
    broker.start()
    assert _values(broker.bootstrap, "crash", "read_committed", partitions=1) == []
    # The coordinator aborts it after transaction.timeout.ms; read_committed moves past it.
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        probe = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "probe2",
                          "isolation.level": "read_committed"})
        _low, high = probe.get_watermark_offsets(TopicPartition("crash", 0), timeout=10)
        probe.close()
        if high == 2:  # the record plus its ABORT marker are stable now
            break
        time.sleep(0.5)
    assert high == 2
    assert _values(broker.bootstrap, "crash", "read_committed", partitions=1) == []
    assert _values(broker.bootstrap, "crash", "read_uncommitted", partitions=1) == [b"left open"]


def test_transaction_tooling_lists_describes_and_aborts_a_hanging_transaction(broker: BrokerProcess) -> None:
    from kafka import TopicPartition as KafkaTopicPartition
    from kafka.admin import AbortTransactionSpec, KafkaAdminClient

    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("hang", 1, 1)])["hang"].result(10)
    producer = _producer(broker.bootstrap, "hanging-1")
    producer.begin_transaction()
    producer.produce("hang", b"stuck", partition=0)
    producer.flush(10)

    tools = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    listed = tools.list_transactions()
    flat = [t for txns in listed.values() for t in txns]
    assert [(t.transactional_id, str(t.state)) for t in flat if t.transactional_id == "hanging-1"]
    described = tools.describe_transactions(["hanging-1"])["hanging-1"]
    assert [(tp.topic, tp.partition) for tp in described.topic_partitions] == [("hang", 0)]
    tp = KafkaTopicPartition("hang", 0)
    active = tools.describe_producers([tp])[tp].active_producers
    open_ones = [p for p in active if p.current_transaction_start_offset == 0]
    assert len(open_ones) == 1
    state = open_ones[0]
    tools.abort_transaction(AbortTransactionSpec(tp, state.producer_id, state.producer_epoch))
    tools.close()
    # The abort marker makes the partition stable again: nothing of the transaction is visible.
    assert _values(broker.bootstrap, "hang", "read_committed", partitions=1) == []
    assert _values(broker.bootstrap, "hang", "read_uncommitted", partitions=1) == [b"stuck"]
