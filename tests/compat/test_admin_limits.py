"""One admin request may add at most 10,000 partitions (Kafka's limit per controller
operation): a CreatePartitions asking for millions is refused with INVALID_PARTITIONS
instead of keeping the broker busy, and the broker goes on serving."""

from __future__ import annotations

import pytest
from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewPartitions, NewTopic

from tests.coordinator.wire import Wire
from tests.support.broker import BrokerProcess


def _code(future) -> int:  # type: ignore[no-untyped-def]
    with pytest.raises(KafkaException) as info:
        future.result(30)
    return int(info.value.args[0].code())


def test_partitions_per_request_are_bounded(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("small", 1, 1)])["small"].result(30)
    grow = admin.create_partitions([NewPartitions("small", 100_000)])["small"]
    assert _code(grow) == KafkaError.INVALID_PARTITIONS
    wire = Wire(broker.bootstrap)  # the fuzzer's frame: librdkafka itself caps at 100,000
    response = wire.call(37, 2, {"topics": [{"name": "small", "count": 12_517_377,
                                              "assignments": None}],
                                 "timeout": 30000, "validate_only": False})
    wire.close()
    assert response.results[0].error_code.value == KafkaError.INVALID_PARTITIONS
    too_big = admin.create_topics([NewTopic("huge", 10_001, 1)])["huge"]
    assert _code(too_big) == KafkaError.INVALID_PARTITIONS
    futures = admin.create_topics([NewTopic("first", 10, 1), NewTopic("second", 9_995, 1)])
    futures["first"].result(30)
    assert _code(futures["second"]) == KafkaError.INVALID_PARTITIONS
    topics = admin.list_topics(timeout=30).topics
    assert len(topics["small"].partitions) == 1 and len(topics["first"].partitions) == 10
    assert "huge" not in topics and "second" not in topics
