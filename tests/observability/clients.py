"""Producing and committing with confluent-kafka, the way the observability tests need."""

from __future__ import annotations

from confluent_kafka import Consumer, Producer, TopicPartition


def produce(bootstrap: str, topic: str, count: int, timestamps: list[int] | None = None,
            partition: int = 0) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 5})
    for i in range(count):
        if timestamps:
            producer.produce(topic, value=b"value-%d" % i, partition=partition,
                             timestamp=timestamps[i])
        else:
            producer.produce(topic, value=b"value-%d" % i, partition=partition)
    assert producer.flush(30) == 0, "records were not delivered"


def consume_and_commit(bootstrap: str, group: str, topic: str, upto: int, partition: int = 0) -> None:
    """Read records [0, upto) of one partition as `group` and commit offset `upto`."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        consumer.assign([TopicPartition(topic, partition, 0)])
        read = 0
        while read < upto:
            message = consumer.poll(10)
            assert message is not None, f"only {read} of {upto} records read"
            assert message.error() is None, message.error()
            read += 1
        consumer.commit(offsets=[TopicPartition(topic, partition, upto)], asynchronous=False)
    finally:
        consumer.close()
