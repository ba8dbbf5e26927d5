"""kafka-python against every listener and mechanism of a secured broker."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError

from tests.security.support import MECHANISMS, PASSWORD, USER, SecureBroker

CASES = [(p, m) for p in ("SASL_PLAINTEXT", "SASL_SSL") for m in MECHANISMS] + [("SSL", None)]


def settings(broker: SecureBroker, protocol: str, mechanism: str | None, password: str = PASSWORD
             ) -> dict[str, Any]:
    conf: dict[str, Any] = {"bootstrap_servers": broker.address(protocol), "security_protocol": protocol}
    if mechanism:
        conf.update(sasl_mechanism=mechanism, sasl_plain_username=USER, sasl_plain_password=password)
    if protocol.endswith("SSL"):
        conf.update(ssl_cafile=str(broker.tls.ca_file), ssl_check_hostname=True)
    if protocol == "SSL":
        conf.update(ssl_certfile=str(broker.tls.client_cert), ssl_keyfile=str(broker.tls.client_key))
    return conf


@pytest.mark.parametrize(("protocol", "mechanism"), CASES)
def test_produce_consume(secure_broker: SecureBroker, protocol: str, mechanism: str | None) -> None:
    conf = settings(secure_broker, protocol, mechanism)
    topic = f"t-{uuid.uuid4().hex[:8]}"
    producer = KafkaProducer(**conf)
    for i in range(5):
        producer.send(topic, b"v%d" % i).get(timeout=30)
    producer.close()
    consumer = KafkaConsumer(topic, group_id=f"g-{topic}", auto_offset_reset="earliest",
                             consumer_timeout_ms=20000, **conf)
    values = []
    for message in consumer:
        values.append(message.value)
        if len(values) == 5:
            break
    consumer.close()
    assert values == [b"v%d" % i for i in range(5)]


@pytest.mark.parametrize(("protocol", "mechanism"), CASES[:-1])
def test_wrong_password_fails(secure_broker: SecureBroker, protocol: str, mechanism: str,
                              caplog: pytest.LogCaptureFixture) -> None:
    """kafka-python logs SaslAuthenticationFailedError per attempt and gives up bootstrapping."""
    with pytest.raises(KafkaError):
        KafkaProducer(**settings(secure_broker, protocol, mechanism, password="wrong"),
                      bootstrap_timeout_ms=3000, reconnect_backoff_ms=200)
    failures = [r for r in caplog.records if "SaslAuthenticationFailedError" in r.getMessage()]
    assert failures and "Authentication failed" in failures[0].getMessage()
