"""Restore: plan it from the bucket, make the target topic, run a source connector, watch it.

The restore itself is an ObjectStoreSourceConnector in the same Connect cluster, so it runs
where the backups run and resumes after a worker restart. The CLI only plans (which topics,
how many partitions), creates the target topic with the original partition count (Connect's
REST API cannot), and follows the progress the tasks write beside the data.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from fjord.backup.rules import RESTORE_SUFFIX, SOURCE_CLASS, RuleError, list_topics
from fjord.connectors.objectstore import config as cfg
from fjord.connectors.objectstore.converters import byte_exact_converters
from fjord.connectors.objectstore.naming import restore_progress_prefix
from fjord.connectors.objectstore.source import discover
from fjord.objectstore.store import ObjectStore, StoreError

STORE_KEYS = (cfg.STORE_URL, "s3.endpoint", "s3.region", "aws.access.key.id", "aws.secret.access.key",
              "aws.session.token", "s3.path.style.access.enabled", "s3.retries", "s3.timeout.ms")


@dataclass
class RestorePlan:
    partitions: dict[str, int]  # source topic -> partitions needed (highest backed-up + 1)
    objects: int
    object_bytes: int

    @property
    def topics(self) -> list[str]:
        return sorted(self.partitions)


def plan(store: ObjectStore, prefix: str, topics: list[str] | None = None) -> RestorePlan:
    found = discover(store, prefix, topics)
    partitions: dict[str, int] = {}
    for topic, partition in found:
        partitions[topic] = max(partitions.get(topic, 0), partition + 1)
    if topics:
        missing = sorted(set(topics) - set(partitions))
        if missing:
            raise RuleError(f"no backup of topic {', '.join(missing)} in this location")
    if not partitions:
        raise RuleError("nothing to restore: the location holds no backup objects")
    return RestorePlan(partitions, sum(len(v) for v in found.values()),
                       sum(info.size for v in found.values() for _, info in v))


def restore_name(rule: str) -> str:
    return f"{rule}{RESTORE_SUFFIX}{time.strftime('%Y%m%d%H%M%S')}"


def restore_config(name: str, store_config: Mapping[str, str], source_topic: str, to_topic: str,
                   from_ms: int = -1, to_ms: int = -1, tasks: int = 1,
                   partitions: int | None = None) -> dict[str, str]:
    config = {
        "name": name,
        "connector.class": SOURCE_CLASS,
        "tasks.max": str(tasks),
        **byte_exact_converters(),
        **{k: str(v) for k, v in store_config.items() if k in STORE_KEYS},
        cfg.RESTORE_TOPICS: source_topic,
        cfg.RESTORE_TO_TOPIC: to_topic,
        cfg.RESTORE_FROM_MS: str(from_ms),
        cfg.RESTORE_TO_MS: str(to_ms),
    }
    if partitions:
        # KIP-158: the worker creates a missing target with the backup's partition count
        config.update({"topic.creation.default.partitions": str(partitions),
                       "topic.creation.default.replication.factor": "-1"})
    return config


def ensure_target_topic(bootstrap: str, topic: str, partitions: int) -> bool:
    """Create the target with the backup's partition count; True if it was created.

    An existing target is accepted when it has at least that many partitions, since records
    go back to their original partition numbers.
    """
    from confluent_kafka import KafkaException
    from confluent_kafka.admin import AdminClient, NewTopic

    existing = list_topics(bootstrap)
    if topic in existing:
        if existing[topic] < partitions:
            raise RuleError(f"topic {topic!r} has {existing[topic]} partitions; the backup needs "
                            f"{partitions} (records go back to their original partitions)")
        return False
    admin = AdminClient({"bootstrap.servers": bootstrap})
    for future in admin.create_topics([NewTopic(topic, partitions, -1)]).values():
        try:
            future.result(15)
        except KafkaException as exc:
            raise RuleError(f"cannot create topic {topic!r}: {exc.args[0].str()}") from None
    return True


@dataclass
class Progress:
    records: int = 0
    bytes: int = 0
    objects_done: int = 0
    objects_total: int = 0
    object_bytes_done: int = 0
    object_bytes_total: int = 0
    records_loaded: int = 0
    tasks_finished: int = 0
    tasks_reporting: int = 0
    tasks: list[dict[str, Any]] = field(default_factory=list)


def completed_bytes(progress: Progress) -> int:
    """How far along, in object bytes: objects read, scaled by the share of their records that
    Kafka has acknowledged (objects are read well ahead of the acknowledgements)."""
    if not progress.records_loaded:
        return 0 if progress.objects_done < progress.objects_total else progress.object_bytes_done
    acked = min(1.0, progress.records / progress.records_loaded)
    return int(progress.object_bytes_done * acked)


def read_progress(store: ObjectStore, prefix: str, connector: str) -> Progress:
    progress = Progress()
    try:
        keys = [info.key for info in store.list(restore_progress_prefix(prefix, connector))]
    except StoreError:
        return progress
    for key in keys:
        try:
            doc = json.loads(store.get(key))
        except (StoreError, ValueError):
            continue
        progress.tasks.append(doc)
        progress.tasks_reporting += 1
        progress.tasks_finished += bool(doc.get("finished"))
        for name in ("records", "bytes", "objects_done", "objects_total", "object_bytes_done",
                     "object_bytes_total", "records_loaded"):
            setattr(progress, name, getattr(progress, name) + int(doc.get(name, 0)))
    return progress


def clear_progress(store: ObjectStore, prefix: str, connector: str) -> None:
    for info in list(store.list(restore_progress_prefix(prefix, connector))):
        store.delete(info.key)
