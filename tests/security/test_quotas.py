"""Client quotas: a 1 MB/s producer_byte_rate makes 5 MB take at least ~4 s, the client is
told (confluent-kafka's throttle callback sees throttle_time_ms), and nothing fails."""

from __future__ import annotations

import time
from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from confluent_kafka import KafkaError, Message, Producer
from kio.schema.errors import ErrorCode

from tests.support.broker import BrokerProcess
from tests.support.raw_client import RawClient

ALTER_QUOTAS, DESCRIBE_QUOTAS = 49, 48
RATE = 1024 * 1024


def _record_failure(failures: list[Any], err: KafkaError | None, _message: Message) -> None:
    if err is not None:
        failures.append(err)


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    proc = BrokerProcess(tmp_path_factory.mktemp("quota") / "data").start()
    yield proc
    proc.stop()


def alter(broker: BrokerProcess, entity: list[dict[str, Any]], ops: list[dict[str, Any]]) -> Any:
    return RawClient(broker).call(ALTER_QUOTAS, 1, {"entries": [{"entity": entity, "ops": ops}],
                                                    "validate_only": False})


def test_quota_apis_round_trip(broker: BrokerProcess) -> None:
    answer = alter(broker, [{"entity_type": "user", "entity_name": None}],
                   [{"key": "consumer_byte_rate", "value": 5e6, "remove": False}])
    assert answer.entries[0].error_code == ErrorCode.none
    bad = alter(broker, [{"entity_type": "user", "entity_name": "x"}],
                [{"key": "no_such_quota", "value": 1.0, "remove": False}])
    assert bad.entries[0].error_code == ErrorCode.invalid_request
    described = RawClient(broker).call(DESCRIBE_QUOTAS, 1, {"components": [
        {"entity_type": "user", "match_type": 1, "match": None}], "strict": False})
    assert [(e.entity[0].entity_name, [(v.key, v.value) for v in e.values]) for e in described.entries] == [
        (None, [("consumer_byte_rate", 5e6)])]
    removed = alter(broker, [{"entity_type": "user", "entity_name": None}],
                    [{"key": "consumer_byte_rate", "value": 0.0, "remove": True}])
    assert removed.entries[0].error_code == ErrorCode.none


def test_producer_byte_rate_throttles(broker: BrokerProcess) -> None:
    answer = alter(broker, [{"entity_type": "client-id", "entity_name": "slow"}],
                   [{"key": "producer_byte_rate", "value": float(RATE), "remove": False}])
    assert answer.entries[0].error_code == ErrorCode.none
    throttles: list[Any] = []
    failures: list[Any] = []
    producer = Producer({"bootstrap.servers": broker.bootstrap, "client.id": "slow", "linger.ms": 5,
                         "throttle_cb": throttles.append})
    value = b"x" * 10_000
    started = time.monotonic()
    for _ in range(500):  # 5 MB
        while True:
            try:
                producer.produce("quota", value, on_delivery=partial(_record_failure, failures))
                break
            except BufferError:
                producer.poll(0.1)
        producer.poll(0)
    assert producer.flush(120) == 0
    elapsed = time.monotonic() - started
    assert not failures
    assert elapsed >= 3.5, f"5 MB at 1 MB/s took only {elapsed:.1f}s"
    assert throttles and max(event.throttle_time for event in throttles) > 0


def test_controller_mutation_rate(broker: BrokerProcess) -> None:
    """KIP-599: over the rate, CreateTopics v6+ answers THROTTLING_QUOTA_EXCEEDED with a throttle."""
    answer = alter(broker, [{"entity_type": "client-id", "entity_name": "mutator"}],
                   [{"key": "controller_mutation_rate", "value": 1.0, "remove": False}])
    assert answer.entries[0].error_code == ErrorCode.none
    client = RawClient(broker, client_id="mutator")
    client.sock.settimeout(30)

    def create(name: str) -> Any:
        client.send(19, 7, {"topics": [{"name": name, "num_partitions": 20, "replication_factor": 1,
                                        "assignments": [], "configs": []}],
                            "timeout": 10000, "validate_only": False})
        return client.receive(19, 7)

    first = create("mutation-a")  # 20 partitions at 1/s: allowed, and now far over the rate
    assert first.topics[0].error_code == ErrorCode.none
    second = create("mutation-b")
    assert second.topics[0].error_code == ErrorCode.throttling_quota_exceeded
    assert second.throttle_time.total_seconds() > 1
