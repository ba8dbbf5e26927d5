"""Tiered storage keys: the broker refuses an unusable remote store at start-up, and topic
settings follow Kafka's rules with Kafka's messages (the broker-level paths are driven end to
end in tests/storage/remote/test_tiered_broker.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from fjord.config.broker import (
    TOPIC_KEYS,
    BrokerConfig,
    topic_config,
    validate_remote_storage,
)
from fjord.config.definitions import ConfigError


def test_remote_store_location_is_checked_at_start_up() -> None:
    with pytest.raises(ConfigError, match=re.escape("needs rsm.config.uri")):
        BrokerConfig({"remote.log.storage.system.enable": "true"})
    with pytest.raises(ConfigError, match="must end with '/'"):
        BrokerConfig({"remote.log.storage.system.enable": "true", "rsm.config.uri": "s3://b/p"})
    config = BrokerConfig({"remote.log.storage.system.enable": "true",
                           "rsm.config.uri": "file:///var/tier/"})
    assert config.get("remote.log.manager.task.interval.ms") == 30000
    assert config.get("rsm.config.s3.path.style.access") is True


def effective(broker: BrokerConfig, overrides: dict[str, str]) -> dict[str, Any]:
    return topic_config(broker, TOPIC_KEYS.parse(overrides, "topic"))


@pytest.mark.parametrize(("overrides", "message"), [
    ({"remote.storage.enable": "true", "cleanup.policy": "compact"},
     "only supports topics with cleanup.policy=delete"),
    ({"remote.storage.enable": "true", "retention.ms": "1000", "local.retention.ms": "2000"},
     "Value must not be more than retention.ms property value: 1000"),
    ({"remote.storage.enable": "true", "retention.bytes": "1000", "local.retention.bytes": "-1"},
     "Value must not be -1 as retention.bytes value is set as 1000"),
    ({"remote.storage.enable": "true", "remote.log.copy.disable": "true",
      "local.retention.ms": "5"}, "must be set to the identical value"),
])
def test_kafka_rules(overrides: dict[str, str], message: str) -> None:
    broker = BrokerConfig({})
    with pytest.raises(ConfigError, match=re.escape(message)):
        validate_remote_storage(True, {}, effective(broker, overrides))


def test_system_switch_and_kip_950_disable() -> None:
    broker = BrokerConfig({})
    with pytest.raises(ConfigError, match="Tiered Storage functionality is disabled in the broker"):
        validate_remote_storage(False, {}, effective(broker, {"remote.storage.enable": "true"}))
    was = {"remote.storage.enable": "true"}
    with pytest.raises(ConfigError, match="It is invalid to disable remote storage without deleting"):
        validate_remote_storage(True, was, effective(broker, {"remote.storage.enable": "false"}))
    validate_remote_storage(True, was, effective(broker, {
        "remote.storage.enable": "false", "remote.log.delete.on.disable": "true"}))
    validate_remote_storage(True, {}, effective(broker, {
        "remote.storage.enable": "true", "local.retention.ms": "-2", "local.retention.bytes": "100"}))
