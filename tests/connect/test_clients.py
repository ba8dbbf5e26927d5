"""Java client settings in worker files do not break librdkafka clients."""

from __future__ import annotations

from confluent_kafka import Producer

from fjord.connect import clients


def test_java_settings_are_translated_or_dropped() -> None:
    settings = {
        "bootstrap.servers": "127.0.0.1:9",
        "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required '
                            'username="alice" password="s3cret";',
        "key.serializer": "org.apache.kafka.common.serialization.ByteArraySerializer",
        "ssl.truststore.location": "/etc/kafka/truststore.jks",
        "no.such.librdkafka.key": "1",
        "linger.ms": "7",
    }
    translated = clients.translate(settings)
    assert translated["sasl.username"] == "alice" and translated["sasl.password"] == "s3cret"
    assert "sasl.jaas.config" not in translated and "key.serializer" not in translated
    producer = clients.make(Producer, settings)  # would raise on any of the Java-only keys
    assert producer is not None
