"""Dynamic broker configs on a real broker process: log.retention.ms changed on the BROKER
resource at runtime retains topics without an override (same pid), survives a restart; a
read-only key is refused with Kafka's error; metrics.level switches series on and off;
BROKER_LOGGER (KIP-412) turns the request log on and off; `fjord configs` does the same."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import pytest
from confluent_kafka import KafkaException, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    ConfigSource,
    NewTopic,
    OffsetSpec,
    ResourceType,
)
from kafka.admin import ConfigResource as KpConfigResource
from kafka.admin import ConfigResourceType, KafkaAdminClient

from tests.observability.clients import consume_and_commit, produce
from tests.observability.support import AdminBroker, admin_broker, get, samples
from tests.support.wait import wait_until

HOUR = 3_600_000


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AdminBroker]:
    proc = admin_broker(tmp_path_factory.mktemp("dynamic") / "data",
                        {"log.retention.check.interval.ms": "300"})
    try:
        yield proc
    finally:
        proc.stop()


def _alter(admin: AdminClient, name: str, **ops: tuple[AlterConfigOpType, str | None]) -> None:
    entries = [ConfigEntry(key.replace("_", "."), value, incremental_operation=op)
               for key, (op, value) in ops.items()]
    resource = ConfigResource(ResourceType.BROKER, name, incremental_configs=entries)
    admin.incremental_alter_configs([resource])[resource].result(15)


def _earliest(admin: AdminClient, topic: str) -> int:
    tp = TopicPartition(topic, 0)
    return int(admin.list_offsets({tp: OffsetSpec.earliest()})[tp].result(15).offset)


def _describe(admin: AdminClient, kind: ResourceType, name: str) -> dict[str, Any]:
    resource = ConfigResource(kind, name)
    described: dict[str, Any] = admin.describe_configs([resource])[resource].result(15)
    return described


def _default(broker: AdminBroker, *args: str) -> str:
    """The cluster-wide default resource ("") through `fjord configs` (librdkafka and
    kafka-python cannot name it)."""
    done = _fjord("--bootstrap-server", broker.bootstrap, "--entity-type", "brokers",
                  "--entity-default", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_retention_changed_at_runtime_and_kept_across_restart(broker: AdminBroker) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    for topic, configs in (("plain", {}), ("pinned", {"retention.ms": "-1"})):
        admin.create_topics([NewTopic(topic, 1, 1, config=configs)])[topic].result(15)
        produce(broker.bootstrap, topic, 10, [int(time.time() * 1000) - 2 * HOUR] * 10)
    assert broker.proc is not None
    pid = broker.proc.pid
    assert _earliest(admin, "plain") == 0

    _default(broker, "--alter", "--add-config", f"log.retention.ms={HOUR}")
    wait_until(lambda: _earliest(admin, "plain") == 10, 60, message="retention of 'plain'")
    assert _earliest(admin, "pinned") == 0, "a topic's own retention.ms must win over the broker's"
    assert broker.proc.pid == pid and broker.alive()
    topic_view = _describe(admin, ResourceType.TOPIC, "plain")["retention.ms"]
    assert topic_view.value == str(HOUR)
    assert topic_view.source == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value

    broker.restart()
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    broker_view = _describe(admin, ResourceType.BROKER, "1")["log.retention.ms"]
    assert broker_view.value == str(HOUR) and not broker_view.is_read_only
    assert broker_view.source == ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG.value
    assert f"log.retention.ms={HOUR} sensitive=false" in _default(broker, "--describe")
    _default(broker, "--alter", "--delete-config", "log.retention.ms")
    assert "log.retention.ms" not in _default(broker, "--describe")
    assert _describe(admin, ResourceType.BROKER, "1")["log.retention.ms"].source == \
        ConfigSource.DEFAULT_CONFIG.value


def test_read_only_and_bad_values_are_refused(broker: AdminBroker) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    with pytest.raises(KafkaException) as refused:
        _alter(admin, "1", log_dirs=(AlterConfigOpType.SET, "/tmp/elsewhere"))
    error = refused.value.args[0]
    assert error.name() == "INVALID_REQUEST"
    assert "Cannot update these configs dynamically: [log.dirs]" in error.str()
    assert _describe(admin, ResourceType.BROKER, "1")["log.dirs"].is_read_only
    with pytest.raises(KafkaException) as bad:
        _alter(admin, "1", metrics_level=(AlterConfigOpType.SET, "EVERYTHING"))
    assert "metrics.level" in bad.value.args[0].str()
    per_broker = _fjord("--bootstrap-server", broker.bootstrap, "--entity-type", "brokers",
                        "--entity-default", "--alter", "--add-config",
                        "advertised.listeners=PLAINTEXT://localhost:1")
    assert per_broker.returncode == 1 and "broker id must be specified" in per_broker.stderr
    assert broker.alive()


def test_metrics_level_switches_per_partition_series(broker: AdminBroker) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    produce(broker.bootstrap, "levels", 5)
    consume_and_commit(broker.bootstrap, "lg", "levels", 2)

    def per_partition() -> set[str]:
        text = get(broker.admin_url + "/metrics")[2]
        return {name for name, labels, _v in samples(text) if "partition" in labels}

    assert per_partition() == set()
    _alter(admin, "1", metrics_level=(AlterConfigOpType.SET, "PER_TOPIC_PER_PARTITION"))
    assert {"kafka_log_log_size", "kafka_consumergroup_group_lag"} <= per_partition()
    _alter(admin, "1", metrics_level=(AlterConfigOpType.SET, "DEFAULT"))
    assert per_partition() == set()


def test_broker_logger_turns_the_request_log_on_and_off(broker: AdminBroker) -> None:
    client = KafkaAdminClient(bootstrap_servers=broker.bootstrap)
    try:
        def level() -> str:
            result = client.describe_configs([KpConfigResource(ConfigResourceType.BROKER_LOGGER, "1")])
            return str(result["broker_logger"]["1"]["kafka.request.logger"]["value"])

        def set_level(value: str) -> None:
            resource = KpConfigResource(ConfigResourceType.BROKER_LOGGER, "1",
                                        {"kafka.request.logger": ("SET", value)})
            client.alter_configs([resource], raise_on_unknown=False, incremental=True)

        assert level() == "WARN"
        before = broker.log_path.read_text().count("Completed request")
        assert before == 0
        set_level("DEBUG")
        assert level() == "DEBUG"
        produce(broker.bootstrap, "logged", 1)
        wait_until(lambda: "Completed request: api=Produce" in broker.log_path.read_text(), 30,
                   message="a request log line")
        set_level("WARN")
        assert level() == "WARN"
        seen = broker.log_path.read_text().count("Completed request")
        produce(broker.bootstrap, "logged", 1)
        time.sleep(1)
        # Only the DescribeConfigs/alter answers in flight while switching may follow.
        assert broker.log_path.read_text().count("Completed request") <= seen + 1
    finally:
        client.close()


def _fjord(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fjord.cli.main", "configs", *args],
                          capture_output=True, text=True, timeout=120)


def test_fjord_configs_cli(broker: AdminBroker) -> None:
    done = _fjord("--bootstrap-server", broker.bootstrap, "--entity-type", "brokers",
                  "--entity-default", "--alter", "--add-config", "log.segment.bytes=1048576")
    assert done.returncode == 0, done.stderr
    assert "Completed updating config for default broker." in done.stdout
    shown = _fjord("--bootstrap-server", broker.bootstrap, "--entity-type", "brokers",
                   "--entity-name", "1", "--describe")
    assert shown.returncode == 0, shown.stderr
    assert "log.segment.bytes=1048576 sensitive=false synonyms={DYNAMIC_DEFAULT_BROKER_CONFIG:" \
        "log.segment.bytes=1048576" in shown.stdout
    refused = _fjord("--bootstrap-server", broker.bootstrap, "--entity-type", "brokers",
                     "--entity-name", "1", "--alter", "--add-config", "auto.create.topics.enable=false")
    assert refused.returncode == 1
    assert "Cannot update these configs dynamically" in refused.stderr
    loggers = ["--bootstrap-server", broker.bootstrap, "--entity-type", "broker-loggers",
               "--entity-name", "1"]
    done = _fjord(*loggers, "--alter", "--add-config", "fjord.storage=DEBUG")
    assert done.returncode == 0, done.stderr
    assert "fjord.storage=DEBUG" in _fjord(*loggers, "--describe").stdout
    assert _fjord(*loggers, "--alter", "--delete-config", "fjord.storage").returncode == 0
    assert "fjord.storage=INFO" in _fjord(*loggers, "--describe").stdout
    _fjord("--bootstrap-server", broker.bootstrap, "--entity-type", "brokers", "--entity-default",
           "--alter", "--delete-config", "log.segment.bytes")
