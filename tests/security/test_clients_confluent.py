"""confluent-kafka (librdkafka) against every listener and mechanism of a secured broker."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Consumer, KafkaError, Producer

from tests.security.support import MECHANISMS, SecureBroker
from tests.support import messages

CASES = [(p, m) for p in ("SASL_PLAINTEXT", "SASL_SSL") for m in MECHANISMS] + [("SSL", None)]


def round_trip(conf: dict[str, str], count: int = 5) -> list[bytes]:
    topic = f"t-{uuid.uuid4().hex[:8]}"
    producer = Producer({**conf, "linger.ms": 0})
    for i in range(count):
        producer.produce(topic, value=b"v%d" % i)
    assert producer.flush(30) == 0
    consumer = Consumer({**conf, "group.id": f"g-{topic}", "auto.offset.reset": "earliest"})
    consumer.subscribe([topic])
    values: list[bytes] = []
    try:
        for _ in range(60):
            message = consumer.poll(1.0)
            if message is not None and message.error() is None:
                values.append(messages.value(message))
            if len(values) == count:
                break
    finally:
        consumer.close()
    return values


@pytest.mark.parametrize(("protocol", "mechanism"), CASES)
def test_produce_consume(secure_broker: SecureBroker, protocol: str, mechanism: str | None) -> None:
    assert round_trip(secure_broker.confluent(protocol, mechanism)) == [b"v%d" % i for i in range(5)]


@pytest.mark.parametrize("protocol", ["SASL_PLAINTEXT", "SASL_SSL"])
@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_wrong_password_fails(secure_broker: SecureBroker, protocol: str, mechanism: str) -> None:
    """librdkafka reports an _AUTHENTICATION error to error_cb with the broker's message."""
    errors: list[KafkaError] = []
    conf = {**secure_broker.confluent(protocol, mechanism, password="wrong"),
            "error_cb": errors.append, "reconnect.backoff.ms": 1000}
    producer = Producer(conf)
    for _ in range(30):
        producer.poll(0.5)
        if errors:
            break
    assert errors and errors[0].code() == KafkaError._AUTHENTICATION, errors
    assert "Authentication failed" in errors[0].str()
