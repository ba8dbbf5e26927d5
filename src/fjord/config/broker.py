"""Broker settings: the Kafka server.properties keys Fjord understands.

Defaults are Kafka's, except where a single self-hosted node needs another one, and those
are documented in docs/configuration.md: listeners bind 127.0.0.1:9092 and log.dirs is a
directory of Fjord's own under the user's data home.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fjord.config.definitions import (
    LONG_MAX,
    ConfigError,
    ConfigKey,
    ConfigTable,
    at_least,
    between,
    one_of,
)
from fjord.config.security import (
    PROTOCOLS,
    SECURITY_KEYS,
    listener_prefixed,
    parse_protocol_map,
)
from fjord.objectstore.location import parse_location
from fjord.objectstore.store import InvalidLocation


def default_data_dir() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "fjord", "kafka-logs")


_CLEANUP = one_of("delete", "compact")
_TIMESTAMP_TYPE = one_of("CreateTime", "LogAppendTime")
_COMPRESSION = one_of("producer", "uncompressed", "gzip", "snappy", "lz4", "zstd")
_METRICS_LEVEL = one_of("DEFAULT", "PER_BROKER", "PER_TOPIC_PER_BROKER", "PER_TOPIC_PER_PARTITION")


def _percentages(value: list[str]) -> str | None:
    ok = value and all(v.isdigit() and 0 < int(v) <= 100 for v in value)
    return None if ok else "must be a list of percentages between 1 and 100"


# Kafka's dynamic broker configs (DynamicBrokerConfig.AllDynamicConfigs) that Fjord has,
# plus its own metrics.level and storage alert keys: changed at runtime with
# IncrementalAlterConfigs/AlterConfigs on the BROKER resource, for one broker or as the
# cluster-wide default (resource name "").
DYNAMIC_KEYS = frozenset({
    "log.segment.bytes", "log.roll.ms", "log.roll.hours", "log.roll.jitter.ms",
    "log.roll.jitter.hours", "log.retention.ms", "log.retention.minutes", "log.retention.hours",
    "log.retention.bytes", "log.cleanup.policy", "log.cleaner.delete.retention.ms",
    "log.cleaner.min.cleanable.ratio", "log.cleaner.min.compaction.lag.ms",
    "log.cleaner.max.compaction.lag.ms", "log.cleaner.backoff.ms", "log.flush.interval.messages",
    "log.flush.interval.ms", "log.index.interval.bytes", "log.index.size.max.bytes",
    "log.segment.delete.delay.ms", "log.message.timestamp.type",
    "log.message.timestamp.before.max.ms", "log.message.timestamp.after.max.ms",
    "log.preallocate", "log.local.retention.ms", "log.local.retention.bytes", "compression.type",
    "message.max.bytes", "min.insync.replicas", "unclean.leader.election.enable",
    "producer.id.expiration.ms", "metrics.level", "storage.alert.thresholds",
    "storage.alert.check.interval.ms", "storage.dynamic.retention.enable",
    "storage.dynamic.retention.threshold.percent", "storage.dynamic.retention.step.percent",
    "storage.dynamic.retention.floor.ms", "num.io.threads", "num.network.threads",
    "num.replica.fetchers", "num.recovery.threads.per.data.dir",
})
PER_BROKER_KEYS = frozenset({"advertised.listeners"})

_BROKER_KEYS = ConfigTable(
    [
        ConfigKey("node.id", "int", 1, "The id of this broker.", at_least(0)),
        ConfigKey("broker.id", "int", None, "Older name of node.id.", at_least(0)),
        ConfigKey("listeners", "list", ["PLAINTEXT://127.0.0.1:9092"], "Where the broker listens."),
        ConfigKey("advertised.listeners", "list", None, "What clients are told to connect to."),
        ConfigKey("listener.security.protocol.map", "string",
                  "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
                  "Listener name to security protocol, NAME:PROTOCOL pairs."),
        *SECURITY_KEYS,
        ConfigKey("log.dirs", "list", None, "Directories holding the partition logs."),
        ConfigKey("log.dir", "string", None, "Used when log.dirs is not set."),
        ConfigKey("num.partitions", "int", 1, "Partitions of auto-created topics.", at_least(1)),
        ConfigKey("default.replication.factor", "int", 1, "Replication factor of auto-created topics."),
        ConfigKey("auto.create.topics.enable", "boolean", True, "Create topics on first use."),
        ConfigKey("delete.topic.enable", "boolean", True, "Allow DeleteTopics."),
        ConfigKey("log.segment.bytes", "int", 1073741824, "Roll a segment at this size.",
                  at_least(14)),
        ConfigKey("log.roll.ms", "long", None, "Roll a segment at this age (ms)."),
        ConfigKey("log.roll.hours", "int", 168, "Roll a segment at this age (hours).", at_least(1)),
        ConfigKey("log.roll.jitter.ms", "long", None),
        ConfigKey("log.roll.jitter.hours", "int", 0),
        ConfigKey("log.retention.ms", "long", None, "Delete segments older than this (ms)."),
        ConfigKey("log.retention.minutes", "int", None, "Retention in minutes."),
        ConfigKey("log.retention.hours", "int", 168, "Retention in hours."),
        ConfigKey("log.retention.bytes", "long", -1, "Delete oldest segments past this size."),
        ConfigKey("log.retention.check.interval.ms", "long", 300000, "How often retention runs.",
                  at_least(1)),
        ConfigKey("log.cleanup.policy", "list", ["delete"], "delete or compact.", _CLEANUP),
        ConfigKey("log.cleaner.delete.retention.ms", "long", 86400000),
        ConfigKey("log.cleaner.min.cleanable.ratio", "double", 0.5, validator=between(0, 1)),
        ConfigKey("log.cleaner.min.compaction.lag.ms", "long", 0),
        ConfigKey("log.cleaner.max.compaction.lag.ms", "long", LONG_MAX),
        ConfigKey("log.cleaner.enable", "boolean", True),
        ConfigKey("log.cleaner.backoff.ms", "long", 15000, "Pause between compaction passes.",
                  at_least(0)),
        ConfigKey("log.flush.interval.messages", "long", LONG_MAX,
                  "fsync after this many messages; 1 makes every acknowledged write durable.",
                  at_least(1)),
        ConfigKey("log.flush.interval.ms", "long", None, "fsync data older than this (ms)."),
        ConfigKey("log.flush.scheduler.interval.ms", "long", LONG_MAX),
        ConfigKey("log.flush.offset.checkpoint.interval.ms", "int", 60000,
                  "How often the recovery point is checkpointed.", at_least(1)),
        ConfigKey("log.index.interval.bytes", "int", 4096, validator=at_least(0)),
        ConfigKey("log.index.size.max.bytes", "int", 10485760, validator=at_least(4)),
        ConfigKey("log.segment.delete.delay.ms", "long", 60000,
                  "How long a deleted topic's directories stay (as <name>.<id>-delete).",
                  at_least(0)),
        ConfigKey("log.message.timestamp.type", "string", "CreateTime", validator=_TIMESTAMP_TYPE),
        ConfigKey("log.message.timestamp.before.max.ms", "long", LONG_MAX),
        ConfigKey("log.message.timestamp.after.max.ms", "long", 3600000),
        ConfigKey("log.preallocate", "boolean", False, "Inert: Fjord never preallocates "
                  "segment files (their size is their data).", inert=True),
        ConfigKey("log.local.retention.ms", "long", -2),
        ConfigKey("log.local.retention.bytes", "long", -2),
        ConfigKey("compression.type", "string", "producer", validator=_COMPRESSION),
        ConfigKey("message.max.bytes", "int", 1048588, "Largest record batch accepted.",
                  at_least(0)),
        ConfigKey("socket.request.max.bytes", "int", 104857600, "Largest request accepted.",
                  at_least(1)),
        ConfigKey("fetch.max.bytes", "int", 57671680, "Largest Fetch response the broker builds.",
                  at_least(1024)),
        ConfigKey("min.insync.replicas", "int", 1, validator=at_least(1)),
        ConfigKey("unclean.leader.election.enable", "boolean", False),
        ConfigKey("producer.id.expiration.ms", "int", 86400000),
        ConfigKey("transactional.id.expiration.ms", "int", 604800000),
        ConfigKey("transaction.max.timeout.ms", "int", 900000),
        ConfigKey("group.initial.rebalance.delay.ms", "int", 3000, validator=at_least(0)),
        ConfigKey("group.min.session.timeout.ms", "int", 6000),
        ConfigKey("group.max.session.timeout.ms", "int", 1800000),
        ConfigKey("group.max.size", "int", 2147483647, validator=at_least(1)),
        ConfigKey("offsets.retention.minutes", "int", 10080, validator=at_least(1)),
        ConfigKey("offsets.retention.check.interval.ms", "long", 600000),
        ConfigKey("offsets.topic.num.partitions", "int", 50, validator=at_least(1)),
        ConfigKey("offset.metadata.max.bytes", "int", 4096),
        ConfigKey("connections.max.idle.ms", "long", 600000),
        ConfigKey("cluster.id", "string", None, "Fixed cluster id (else one is generated)."),
        # Tiered storage (docs/tiered-storage.md): Kafka's KIP-405 keys, and the remote
        # store's own settings under rsm.config.* (the plugin namespace Kafka gives them).
        ConfigKey("remote.log.storage.system.enable", "boolean", False,
                  "Enable tiered storage on this broker (topics opt in with remote.storage.enable)."),
        ConfigKey("remote.log.manager.task.interval.ms", "long", 30000,
                  "How often segments are copied to, and expired from, the remote tier.",
                  at_least(1)),
        ConfigKey("remote.log.manager.task.retry.backoff.ms", "long", 500,
                  "First pause after a failed remote copy or delete.", at_least(1)),
        ConfigKey("remote.log.manager.task.retry.backoff.max.ms", "long", 30000,
                  "Longest pause between retries of a failing remote copy or delete.", at_least(1)),
        ConfigKey("remote.log.manager.thread.pool.size", "int", 2,
                  "Threads copying segments to and deleting them from the remote store.",
                  at_least(1)),
        ConfigKey("remote.log.reader.threads", "int", 10,
                  "Threads serving fetches from the remote tier.", at_least(1)),
        ConfigKey("remote.log.reader.max.pending.tasks", "int", 100,
                  "Remote reads queued at most; fetches past it are answered without data.",
                  at_least(1)),
        ConfigKey("remote.log.metadata.manager.class.name", "string", None, inert=True),
        ConfigKey("remote.log.storage.manager.class.name", "string", None, inert=True),
        ConfigKey("rsm.config.uri", "string", None,
                  "Where remote segments go: file:///path/ or s3://bucket/prefix/."),
        ConfigKey("rsm.config.s3.endpoint.url", "string", None,
                  "S3 endpoint (MinIO, Ceph, moto ...); AWS when unset."),
        ConfigKey("rsm.config.s3.region", "string", "us-east-1"),
        ConfigKey("rsm.config.s3.access.key.id", "string", None,
                  "S3 access key; boto3's usual chain (environment, ~/.aws, roles) when unset."),
        ConfigKey("rsm.config.s3.secret.access.key", "password", None, sensitive=True),
        ConfigKey("rsm.config.s3.path.style.access", "boolean", True),
        ConfigKey("rsm.config.chunk.size", "int", 4194304,
                  "Bytes per ranged GET of a remote segment (and per cached chunk).",
                  at_least(4096)),
        ConfigKey("rsm.config.fetch.chunk.cache.size", "long", 268435456,
                  "Local disk bytes kept of recently read remote chunks.", at_least(0)),
        ConfigKey("rsm.config.fetch.chunk.cache.path", "string", None,
                  "Directory of the chunk cache (default: remote-log-cache in the first log dir)."),
        # Observability (docs/observability.md).
        ConfigKey("admin.listener", "string", None,
                  "http://host:port of the admin endpoint (/metrics, /health, /ready, /v1); "
                  "off when unset."),
        ConfigKey("metrics.level", "string", "DEFAULT",
                  "Which metric series exist: DEFAULT, PER_BROKER, PER_TOPIC_PER_BROKER or "
                  "PER_TOPIC_PER_PARTITION (MSK's monitoring levels).", _METRICS_LEVEL),
        ConfigKey("storage.alert.thresholds", "list", ["60", "80", "95"],
                  "Used-disk percentages of a log dir that raise an alert; the last is critical.",
                  _percentages),
        ConfigKey("storage.alert.check.interval.ms", "long", 30000,
                  "How often log dirs' disk usage is checked.", at_least(100)),
        ConfigKey("log.shipping.uri", "string", None,
                  "Ship the broker's log lines to file:///dir/ or s3://bucket/prefix/ (MSK's "
                  "BrokerLogs); off when unset."),
        ConfigKey("log.shipping.interval.ms", "long", 60000,
                  "How often buffered log lines are shipped as one object.", at_least(100)),
        ConfigKey("log.shipping.s3.endpoint.url", "string", None,
                  "S3 endpoint for log shipping (MinIO, Ceph, moto ...); AWS when unset."),
        ConfigKey("log.shipping.s3.region", "string", "us-east-1"),
        ConfigKey("log.shipping.s3.access.key.id", "string", None,
                  "S3 access key; boto3's usual chain (environment, ~/.aws, roles) when unset."),
        ConfigKey("log.shipping.s3.secret.access.key", "password", None, sensitive=True),
        ConfigKey("log.shipping.s3.path.style.access", "boolean", True),
        ConfigKey("storage.dynamic.retention.enable", "boolean", False,
                  "Shorten the retention of the biggest topic of a log dir whose disk passes "
                  "storage.dynamic.retention.threshold.percent (CKafka's dynamic retention)."),
        ConfigKey("storage.dynamic.retention.threshold.percent", "int", 90,
                  "Used-disk percentage of a log dir at which dynamic retention acts.", between(1, 100)),
        ConfigKey("storage.dynamic.retention.step.percent", "int", 10,
                  "How much each step shortens retention.ms, in percent.", between(1, 99)),
        ConfigKey("storage.dynamic.retention.floor.ms", "long", 3600000,
                  "Dynamic retention never goes below this retention.ms.", at_least(0)),
        # Keys of a stock Kafka server.properties that mean nothing on one node: accepted so
        # that a Kafka user's file works, reported at start-up as having no effect.
        *(
            ConfigKey(name, "string", None, inert=True)
            for name in (
                "process.roles", "controller.quorum.voters", "controller.quorum.bootstrap.servers",
                "controller.listener.names", "inter.broker.listener.name", "num.network.threads",
                "num.io.threads", "socket.send.buffer.bytes", "socket.receive.buffer.bytes",
                "num.recovery.threads.per.data.dir", "offsets.topic.replication.factor",
                "transaction.state.log.replication.factor", "transaction.state.log.min.isr",
                "share.coordinator.state.topic.replication.factor",
                "share.coordinator.state.topic.min.isr", "num.replica.fetchers",
                "replica.lag.time.max.ms", "zookeeper.connect", "group.coordinator.rebalance.protocols",
            )
        ),
    ]
)
BROKER_KEYS = ConfigTable(
    replace(key, dynamic=True, per_broker=key.name in PER_BROKER_KEYS)
    if key.name in DYNAMIC_KEYS | PER_BROKER_KEYS else key
    for key in _BROKER_KEYS.keys.values()
)


# Kafka's DescribeConfigs ConfigSource codes.
TOPIC_CONFIG, DYNAMIC_BROKER_CONFIG, DYNAMIC_DEFAULT_BROKER_CONFIG = 1, 2, 3
STATIC_BROKER_CONFIG, DEFAULT_CONFIG, DYNAMIC_BROKER_LOGGER_CONFIG = 4, 5, 6


def _timestamp_type(value: str) -> str | None:
    return _TIMESTAMP_TYPE(value)


# Topic-level keys and the broker key each falls back to (Kafka's synonyms).
TOPIC_KEYS = ConfigTable(
    [
        ConfigKey("cleanup.policy", "list", None, validator=_CLEANUP),
        ConfigKey("compression.type", "string", None, validator=_COMPRESSION),
        ConfigKey("delete.retention.ms", "long", None, validator=at_least(0)),
        ConfigKey("file.delete.delay.ms", "long", None, validator=at_least(0)),
        ConfigKey("flush.messages", "long", None, validator=at_least(1)),
        ConfigKey("flush.ms", "long", None, validator=at_least(0)),
        ConfigKey("index.interval.bytes", "int", None, validator=at_least(0)),
        ConfigKey("max.message.bytes", "int", None, validator=at_least(0)),
        ConfigKey("max.compaction.lag.ms", "long", None, validator=at_least(1)),
        ConfigKey("message.timestamp.type", "string", None, validator=_timestamp_type),
        ConfigKey("message.timestamp.before.max.ms", "long", None, validator=at_least(0)),
        ConfigKey("message.timestamp.after.max.ms", "long", None, validator=at_least(0)),
        ConfigKey("min.cleanable.dirty.ratio", "double", None, validator=between(0, 1)),
        ConfigKey("min.compaction.lag.ms", "long", None, validator=at_least(0)),
        ConfigKey("min.insync.replicas", "int", None, validator=at_least(1)),
        ConfigKey("preallocate", "boolean", None),
        ConfigKey("retention.bytes", "long", None),
        ConfigKey("retention.ms", "long", None, validator=at_least(-1)),
        ConfigKey("segment.bytes", "int", None, validator=at_least(14)),
        ConfigKey("segment.index.bytes", "int", None, validator=at_least(4)),
        ConfigKey("segment.jitter.ms", "long", None, validator=at_least(0)),
        ConfigKey("segment.ms", "long", None, validator=at_least(1)),
        ConfigKey("unclean.leader.election.enable", "boolean", None),
        ConfigKey("local.retention.ms", "long", None, validator=at_least(-2)),
        ConfigKey("local.retention.bytes", "long", None, validator=at_least(-2)),
        ConfigKey("remote.storage.enable", "boolean", None),
        ConfigKey("remote.log.copy.disable", "boolean", None),
        ConfigKey("remote.log.delete.on.disable", "boolean", None),
    ]
)

TOPIC_SYNONYMS: dict[str, str | None] = {
    "cleanup.policy": "log.cleanup.policy",
    "compression.type": "compression.type",
    "delete.retention.ms": "log.cleaner.delete.retention.ms",
    "file.delete.delay.ms": "log.segment.delete.delay.ms",
    "flush.messages": "log.flush.interval.messages",
    "flush.ms": "log.flush.interval.ms",
    "index.interval.bytes": "log.index.interval.bytes",
    "max.message.bytes": "message.max.bytes",
    "max.compaction.lag.ms": "log.cleaner.max.compaction.lag.ms",
    "message.timestamp.type": "log.message.timestamp.type",
    "message.timestamp.before.max.ms": "log.message.timestamp.before.max.ms",
    "message.timestamp.after.max.ms": "log.message.timestamp.after.max.ms",
    "min.cleanable.dirty.ratio": "log.cleaner.min.cleanable.ratio",
    "min.compaction.lag.ms": "log.cleaner.min.compaction.lag.ms",
    "min.insync.replicas": "min.insync.replicas",
    "preallocate": "log.preallocate",
    "retention.bytes": "log.retention.bytes",
    "retention.ms": "log.retention.ms",
    "segment.bytes": "log.segment.bytes",
    "segment.index.bytes": "log.index.size.max.bytes",
    "segment.jitter.ms": "log.roll.jitter.ms",
    "segment.ms": "log.roll.ms",
    "unclean.leader.election.enable": "unclean.leader.election.enable",
    "local.retention.ms": "log.local.retention.ms",
    "local.retention.bytes": "log.local.retention.bytes",
    "remote.storage.enable": None,
    "remote.log.copy.disable": None,
    "remote.log.delete.on.disable": None,
}

# Topic keys with no broker-level synonym, and their defaults (Kafka's).
TOPIC_ONLY_DEFAULTS: dict[str, Any] = {
    "remote.storage.enable": False,
    "remote.log.copy.disable": False,
    "remote.log.delete.on.disable": False,
}


@dataclass(frozen=True)
class Listener:
    name: str
    host: str
    port: int
    protocol: str = "PLAINTEXT"  # its security protocol, from listener.security.protocol.map


def parse_admin_listener(value: str) -> tuple[str, int]:
    """admin.listener: `http://host:port` (or `host:port`) -> (host, port)."""
    parts = urlsplit(value if "://" in value else f"http://{value}")
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "http" or port is None:
        raise ConfigError(f"Invalid value {value!r} for configuration admin.listener: "
                          "expected http://host:port")
    return parts.hostname or "127.0.0.1", port


def parse_listener(text: str) -> Listener:
    if "://" not in text:
        raise ConfigError(f"Invalid listener {text!r}: expected NAME://host:port")
    name, rest = text.split("://", 1)
    host, _, port = rest.rpartition(":")
    if not port.isdigit():
        raise ConfigError(f"Invalid listener {text!r}: the port must be a number")
    return Listener(name.upper(), host.strip("[]"), int(port))


class BrokerConfig:
    """The parsed, validated settings of one broker; `raw` holds only what was set."""

    def __init__(self, settings: dict[str, Any] | None = None) -> None:
        plain, self.listener_set = listener_prefixed(settings or {}, BROKER_KEYS)
        self.set: dict[str, Any] = BROKER_KEYS.parse(plain, "broker")
        # Dynamic configs (persisted in the cluster metadata): this broker's, then the
        # cluster-wide default's; both win over the file, as in Kafka.
        self.dynamic_broker: dict[str, Any] = {}
        self.dynamic_default: dict[str, Any] = {}
        protocols = parse_protocol_map(self.get("listener.security.protocol.map"))
        self.listeners = []
        for item in self.get("listeners"):
            listener = parse_listener(item)
            protocol = protocols.get(listener.name)
            if protocol is None:
                if listener.name not in PROTOCOLS:
                    raise ConfigError(
                        f"Listener {listener.name} has no security protocol: add "
                        f"{listener.name}:<PLAINTEXT|SSL|SASL_PLAINTEXT|SASL_SSL> to "
                        "listener.security.protocol.map")
                protocol = listener.name
            self.listeners.append(Listener(listener.name, listener.host, listener.port, protocol))
        if not self.listeners:
            raise ConfigError("listeners is empty: set listeners=PLAINTEXT://host:port")
        names = [listener.name for listener in self.listeners]
        if len(set(names)) != len(names):
            raise ConfigError(f"listeners {','.join(names)} repeat a name: each must be unique")
        for item in self.advertised:  # parsed now so a bad value stops start-up
            if item.name not in names:
                raise ConfigError(f"advertised.listeners names {item.name}, which is not in listeners")
        if self.get("remote.log.storage.system.enable"):
            uri = self.get("rsm.config.uri")
            if not uri:
                raise ConfigError("remote.log.storage.system.enable=true needs rsm.config.uri "
                                  "(file:///path/ or s3://bucket/prefix/)")
            try:
                parse_location(str(uri))
            except InvalidLocation as exc:
                raise ConfigError(f"Invalid value {uri!r} for configuration rsm.config.uri: "
                                  f"{exc}") from None
        if self.get("admin.listener"):
            parse_admin_listener(str(self.get("admin.listener")))
        shipping = self.get("log.shipping.uri")
        if shipping:
            try:
                parse_location(str(shipping))
            except InvalidLocation as exc:
                raise ConfigError(f"Invalid value {shipping!r} for configuration log.shipping.uri: "
                                  f"{exc}") from None

    def for_listener(self, listener: str, name: str) -> Any:
        """A key's value on one listener: `listener.name.<l>.<key>` first, then the key."""
        own = self.listener_set.get(listener.lower(), {})
        if name in own:
            return own[name]
        if name in BROKER_KEYS:
            return self.get(name)
        return None

    @property
    def advertised(self) -> list[Listener]:
        """advertised.listeners, read each time: it can change at runtime (per broker)."""
        advertised = self.get("advertised.listeners")
        return [parse_listener(item) for item in advertised] if advertised else []

    @property
    def inert(self) -> list[str]:
        return [name for name in self.set if BROKER_KEYS[name].inert]

    def get(self, name: str) -> Any:
        for layer in (self.dynamic_broker, self.dynamic_default, self.set):
            if name in layer:
                return layer[name]
        return BROKER_KEYS[name].default

    def source(self, name: str) -> int:
        """Kafka's ConfigSource of the value get() returns."""
        for layer, code in ((self.dynamic_broker, DYNAMIC_BROKER_CONFIG),
                            (self.dynamic_default, DYNAMIC_DEFAULT_BROKER_CONFIG),
                            (self.set, STATIC_BROKER_CONFIG)):
            if name in layer:
                return code
        return DEFAULT_CONFIG

    def synonyms(self, name: str) -> list[tuple[str, Any, int]]:
        """(key, value, source) of every layer that holds `name`, winner first."""
        found = [(name, layer[name], code) for layer, code in (
            (self.dynamic_broker, DYNAMIC_BROKER_CONFIG),
            (self.dynamic_default, DYNAMIC_DEFAULT_BROKER_CONFIG),
            (self.set, STATIC_BROKER_CONFIG)) if name in layer]
        if BROKER_KEYS[name].default is not None:
            found.append((name, BROKER_KEYS[name].default, DEFAULT_CONFIG))
        return found

    def dynamic_layer(self, scope: str) -> dict[str, Any]:
        """The dynamic configs of `scope`: "" is the cluster default, else this broker."""
        return self.dynamic_default if scope == "" else self.dynamic_broker

    def load_dynamic(self, stored: dict[str, dict[str, str]]) -> None:
        """Apply persisted dynamic configs; one that no longer parses is skipped, loudly."""
        for scope, layer in (("", self.dynamic_default), (str(self.node_id), self.dynamic_broker)):
            layer.clear()
            for name, raw in stored.get(scope, {}).items():
                try:
                    layer[name] = BROKER_KEYS[name].parse(raw)
                except (KeyError, ConfigError) as exc:
                    logging.getLogger("fjord.config").error(
                        "ignoring stored dynamic broker config %s=%s: %s", name, raw, exc)

    @property
    def node_id(self) -> int:
        if "node.id" in self.set:
            return int(self.set["node.id"])
        broker_id = self.get("broker.id")
        return int(broker_id) if broker_id is not None else int(self.get("node.id"))

    @property
    def log_dirs(self) -> list[Path]:
        dirs = self.get("log.dirs")
        if not dirs:
            single = self.get("log.dir")
            dirs = [single] if single else [default_data_dir()]
        return [Path(os.path.expanduser(item)) for item in dirs]

    def advertised_for(self, listener: Listener) -> tuple[str, int]:
        for item in self.advertised:
            if item.name == listener.name:
                return item.host or "127.0.0.1", item.port
        host = listener.host or "127.0.0.1"
        if host in ("0.0.0.0", "::"):
            host = "127.0.0.1"
        return host, listener.port

    def retention_ms(self) -> int:
        """Kafka's precedence: log.retention.ms, then minutes, then hours."""
        if self.get("log.retention.ms") is not None:
            return int(self.get("log.retention.ms"))
        if self.get("log.retention.minutes") is not None:
            return int(self.get("log.retention.minutes")) * 60_000
        return int(self.get("log.retention.hours")) * 3_600_000

    def roll_ms(self) -> int:
        if self.get("log.roll.ms") is not None:
            return int(self.get("log.roll.ms"))
        return int(self.get("log.roll.hours")) * 3_600_000

    def flush_ms(self) -> int:
        value = self.get("log.flush.interval.ms")
        return int(value) if value is not None else int(self.get("log.flush.scheduler.interval.ms"))

    def topic_default(self, topic_key: str) -> Any:
        """The broker-level value a topic key falls back to."""
        if topic_key == "retention.ms":
            return self.retention_ms()
        if topic_key == "segment.ms":
            return self.roll_ms()
        if topic_key == "flush.ms":
            return self.flush_ms()
        if topic_key == "segment.jitter.ms":
            jitter = self.get("log.roll.jitter.ms")
            return int(jitter) if jitter is not None else int(self.get("log.roll.jitter.hours")) * 3_600_000
        if topic_key in TOPIC_ONLY_DEFAULTS:
            return TOPIC_ONLY_DEFAULTS[topic_key]
        synonym = TOPIC_SYNONYMS[topic_key]
        assert synonym is not None
        return self.get(synonym)

    def topic_default_source(self, topic_key: str) -> tuple[str | None, int]:
        """(broker key, its ConfigSource) behind a topic key's default."""
        synonym = TOPIC_SYNONYMS.get(topic_key)
        if synonym is None:
            return None, DEFAULT_CONFIG
        for name in _precedence(synonym):  # the same precedence retention_ms() applies
            source = self.source(name)
            if source != DEFAULT_CONFIG:
                return name, source
        return synonym, DEFAULT_CONFIG


def _precedence(synonym: str) -> list[str]:
    if synonym == "log.retention.ms":
        return ["log.retention.ms", "log.retention.minutes", "log.retention.hours"]
    if synonym == "log.roll.ms":
        return ["log.roll.ms", "log.roll.hours"]
    return [synonym]


def topic_config(broker: BrokerConfig, overrides: dict[str, Any]) -> dict[str, Any]:
    """Every topic key's effective value: the topic's own, else the broker's."""
    return {
        name: overrides[name] if name in overrides else broker.topic_default(name)
        for name in TOPIC_KEYS.keys
    }


def validate_remote_storage(system_enabled: bool, existing: dict[str, Any],
                            effective: dict[str, Any]) -> None:
    """Kafka's checks (LogConfig.validateTopicLogConfigValues) of a topic's tiering keys.

    `existing` holds the topic's current overrides (empty for a new topic), `effective` every
    key's value after the change. Raises ConfigError with Kafka's own messages.
    """
    if effective["remote.storage.enable"]:
        if not system_enabled:
            raise ConfigError("Tiered Storage functionality is disabled in the broker. "
                              "Topic cannot be configured with remote log storage.")
        policy = effective.get("cleanup.policy") or []
        if policy and list(policy) != ["delete"]:
            raise ConfigError("Remote log storage only supports topics with cleanup.policy=delete "
                              "or cleanup.policy being an empty list.")
        for kind in ("bytes", "ms"):
            total = int(effective[f"retention.{kind}"])
            local = int(effective[f"local.retention.{kind}"])
            if total != -1 and total > -1 and local != -2:
                if local == -1:
                    raise ConfigError(f"Invalid value -1 for configuration local.retention.{kind}: "
                                      f"Value must not be -1 as retention.{kind} value is set as "
                                      f"{total}.")
                if local > total:
                    raise ConfigError(f"Invalid value {local} for configuration "
                                      f"local.retention.{kind}: Value must not be more than "
                                      f"retention.{kind} property value: {total}")
            if effective["remote.log.copy.disable"] and local not in (-2, total):
                raise ConfigError(f"When `remote.log.copy.disable` is set to true, the "
                                  f"`local.retention.{kind}` and `retention.{kind}` must be set to "
                                  "the identical value because there will be no more logs copied "
                                  "to the remote storage.")
        return
    was_enabled = str(existing.get("remote.storage.enable", "false")).strip().lower() == "true"
    if was_enabled and not effective["remote.log.delete.on.disable"]:
        raise ConfigError("It is invalid to disable remote storage without deleting remote data. "
                          "If you want to keep the remote data and turn to read only, please set "
                          "`remote.storage.enable=true,remote.log.copy.disable=true`. If you want to "
                          "disable remote storage and delete all remote data, please set "
                          "`remote.storage.enable=false,remote.log.delete.on.disable=true`.")
