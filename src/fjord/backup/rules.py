"""A backup rule's options ⇄ the sink connector config that implements it, and the checks a
rule must pass before it is created (each failure is one line naming the problem)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fjord.connectors.objectstore import config as cfg
from fjord.connectors.objectstore.converters import byte_exact_converters
from fjord.objectstore import s3
from fjord.objectstore.factory import open_store
from fjord.objectstore.location import parse_location
from fjord.objectstore.store import StoreError

SINK_CLASS = "fjord.connectors.objectstore.sink.ObjectStoreSinkConnector"
SOURCE_CLASS = "fjord.connectors.objectstore.source.ObjectStoreSourceConnector"
RESTORE_SUFFIX = "-restore-"


class RuleError(Exception):
    """A rule that cannot be created as asked; str() is the one line to show."""


_UNITS = {"ms": 1, "s": 1000, "m": 60_000, "min": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_interval(text: str) -> int:
    """`10s`, `5m`, `1h`, `90` (seconds) → milliseconds; at least 10 s, as any rule needs."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*", text)
    if not match:
        raise RuleError(f"interval {text!r} is not a duration like 10s, 5m or 1h")
    ms = int(float(match[1]) * _UNITS[match[2] or "s"])
    if ms < cfg.MIN_INTERVAL_MS:
        raise RuleError(f"interval {text} is too short: a backup runs at most every 10s")
    return ms


def format_interval(ms: int) -> str:
    for unit, size in (("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


@dataclass
class StoreSettings:
    url: str
    endpoint: str | None = None
    region: str | None = None
    access_key: str | None = None
    secret_key: str | None = None
    path_style: bool | None = None

    def config(self) -> dict[str, str]:
        out = {cfg.STORE_URL: self.url}
        if self.endpoint:
            out[s3.ENDPOINT] = self.endpoint
        if self.region:
            out[s3.REGION] = self.region
        if self.access_key:
            out[s3.ACCESS_KEY] = self.access_key
        if self.secret_key:
            out[s3.SECRET_KEY] = self.secret_key
        if self.path_style is not None:
            out[s3.PATH_STYLE] = str(self.path_style).lower()
        return out


def rule_config(name: str, store: StoreSettings, topics: list[str] | None, topics_regex: str | None,
                interval_ms: int, start: str, fmt: str = "jsonl", compression: str = "none",
                flush_size: int | None = None, tasks: int = 1) -> dict[str, str]:
    position = cfg.StartPosition.parse(start)  # raises ValueError with the reason
    config = {
        "name": name,
        "connector.class": SINK_CLASS,
        "tasks.max": str(tasks),
        **byte_exact_converters(),
        **store.config(),
        cfg.INTERVAL_MS: str(interval_ms),
        cfg.START: start,
        cfg.FORMAT: fmt,
        cfg.COMPRESSION: compression,
        # a new rule with no committed offsets starts here; once it has objects, it resumes
        # after them whatever this says (see the sink)
        "consumer.override.auto.offset.reset": "latest" if position.kind == "latest" else "earliest",
    }
    if topics:
        config["topics"] = ",".join(topics)
    if topics_regex:
        config["topics.regex"] = topics_regex
    if flush_size:
        config[cfg.FLUSH_SIZE] = str(flush_size)
    return config


def check_location(url: str) -> None:
    try:
        parse_location(url)
    except StoreError as exc:
        raise RuleError(str(exc)) from None


def check_store(config: Mapping[str, Any]) -> None:
    """Reachable endpoint, working credentials, existing bucket: as this machine sees them."""
    check_location(str(config[cfg.STORE_URL]))
    location, store = cfg.open_location(config)
    try:
        store.check(location.prefix)
    except StoreError as exc:
        raise RuleError(str(exc)) from None
    finally:
        store.close()


def check_topics(bootstrap: str, topics: list[str], timeout: float = 10.0,
                 security: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Every topic exists; returns their partition counts. `security`: librdkafka settings."""
    metadata = list_topics(bootstrap, timeout, security)
    for topic in topics:
        if topic not in metadata:
            raise RuleError(f"topic {topic!r} does not exist on {bootstrap}")
    return {topic: metadata[topic] for topic in topics}


def list_topics(bootstrap: str, timeout: float = 10.0,
                security: Mapping[str, Any] | None = None) -> dict[str, int]:
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient

    admin = AdminClient({**(security or {}), "bootstrap.servers": bootstrap,
                         "socket.timeout.ms": int(timeout * 1000)})
    try:
        metadata = admin.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise RuleError(f"cannot reach Kafka at {bootstrap} to check the topics "
                        f"(set --bootstrap-server): {exc.args[0].str()}") from None
    return {name: len(t.partitions) for name, t in metadata.topics.items() if not t.error}


def is_rule(config: Mapping[str, str]) -> bool:
    return config.get("connector.class") in (SINK_CLASS, "ObjectStoreSinkConnector", "ObjectStoreSink")


def open_rule_store(config: Mapping[str, Any]) -> Any:
    location = parse_location(str(config[cfg.STORE_URL]))
    return location, open_store(location, cfg.store_options(config))
