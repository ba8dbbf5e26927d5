"""The object-storage source: restores backed-up objects into topics.

Each record goes back to the same partition number it came from, with its original key,
value, headers and timestamp, in its original offset order (objects of a partition are
replayed in name order, which is offset order, and a partition is read by one task only).
The source offset is the original Kafka offset of the last record handed to the producer, so
a restarted restore resumes after it instead of starting over.

Progress (records, bytes, objects done out of the total) is written every few seconds to
`<prefix>_fjord/restores/<connector>/task-<N>.json`; `fjord backup restore` draws its
progress bar from it and knows the restore is complete when every task says `finished`.
"""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from fjord.connect.api import (
    ConfigDef,
    ConnectHeaders,
    Header,
    SourceConnector,
    SourceRecord,
    SourceTask,
    Task,
)
from fjord.connect.config_def import AbstractConfig, ConfigException
from fjord.connect.data import OPTIONAL_BYTES_SCHEMA
from fjord.connectors.objectstore import config as cfg
from fjord.connectors.objectstore.envelope import NO_TIMESTAMP_TYPE, BackupRecord
from fjord.connectors.objectstore.formats import decode_object
from fjord.connectors.objectstore.naming import (
    ObjectName,
    parse_object_key,
    partition_prefix,
    restore_progress_prefix,
)
from fjord.objectstore.store import ObjectInfo, ObjectStore, StoreError

log = logging.getLogger("fjord.backup.source")

VERSION = "0.1.0"
PROGRESS_EVERY_S = 1.0


def discover(store: ObjectStore, prefix: str, topics: list[str] | None = None
             ) -> dict[tuple[str, int], list[tuple[ObjectName, ObjectInfo]]]:
    """Every backed-up (topic, partition) under the prefix, with its objects in offset order."""
    found: dict[tuple[str, int], list[tuple[ObjectName, ObjectInfo]]] = defaultdict(list)
    listings = [store.list(f"{prefix}{topic}/") for topic in topics] if topics else [store.list(prefix)]
    for listing in listings:
        for info in listing:
            name = parse_object_key(prefix, info.key)
            if name is not None:
                found[(name.topic, name.partition)].append((name, info))
    for objects in found.values():
        objects.sort(key=lambda item: item[0].first_offset)
    return dict(found)


def topic_mapping(config: AbstractConfig, sources: list[str]) -> dict[str, str]:
    """source topic → target topic, from restore.to.topic or restore.topic.mapping."""
    mapping = {topic: topic for topic in sources}
    to_topic = config.get_string(cfg.RESTORE_TO_TOPIC) or ""
    if to_topic:
        if len(sources) > 1:
            raise ConfigException(cfg.RESTORE_TO_TOPIC, to_topic,
                                  f"the backup holds {len(sources)} topics ({', '.join(sources)}); "
                                  f"choose one with {cfg.RESTORE_TOPICS} or use {cfg.RESTORE_MAPPING}")
        return dict.fromkeys(sources, to_topic)
    for pair in config.get_list(cfg.RESTORE_MAPPING):
        source, sep, target = pair.partition(":")
        if not sep or not source or not target:
            raise ConfigException(cfg.RESTORE_MAPPING, pair, "expected source:target")
        mapping[source] = target
    return mapping


class ObjectStoreSourceConnector(SourceConnector):
    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        config = AbstractConfig(cfg.source_config_def(), props)
        location, store = cfg.open_location(config.values)
        try:
            wanted = config.get_list(cfg.RESTORE_TOPICS) or None
            partitions = discover(store, location.prefix, wanted)
        except StoreError as exc:
            raise ConfigException(cfg.STORE_URL, location.url, str(exc)) from exc
        finally:
            store.close()
        sources = sorted({topic for topic, _ in partitions})
        if wanted:
            missing = sorted(set(wanted) - set(sources))
            if missing:
                raise ConfigException(cfg.RESTORE_TOPICS, ",".join(wanted),
                                      f"no backup of {', '.join(missing)} under {location.url}")
        topic_mapping(config, sources)  # refuse an ambiguous target now, not in every task
        self.props = dict(props)
        self.partitions = sorted(partitions)
        log.info("restore %s: %d partitions of %s from %s", props.get("name"), len(self.partitions),
                 ", ".join(sources) or "no topic", location.url)

    def task_class(self) -> type[Task]:
        return ObjectStoreSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        count = max(1, min(max_tasks, len(self.partitions)))
        groups: list[list[str]] = [[] for _ in range(count)]
        for i, (topic, partition) in enumerate(self.partitions):
            groups[i % count].append(f"{topic}:{partition}")
        return [dict(self.props, **{cfg.RESTORE_ASSIGNED: ",".join(group), cfg.TASK_INDEX: str(i)})
                for i, group in enumerate(groups)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return cfg.source_config_def()


@dataclass
class PartitionCursor:
    topic: str
    partition: int
    objects: list[tuple[ObjectName, ObjectInfo]]
    resume_after: int  # original offset of the last record already restored, or -1
    index: int = 0  # next object to read
    pending: list[BackupRecord] = field(default_factory=list)


class ObjectStoreSourceTask(SourceTask):
    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        config = AbstractConfig(cfg.source_config_def(), props)
        self.name = props.get("name", "restore")
        self.task_index = int(props.get(cfg.TASK_INDEX, "0"))
        self.location, self.store = cfg.open_location(config.values)
        self.prefix = self.location.prefix
        self.batch = config.get_int(cfg.RESTORE_BATCH)
        self.from_ms = config.get_long(cfg.RESTORE_FROM_MS)
        self.to_ms = config.get_long(cfg.RESTORE_TO_MS)
        assigned = [item.rsplit(":", 1) for item in props.get(cfg.RESTORE_ASSIGNED, "").split(",") if item]
        reader = self.context.offset_storage_reader()
        self.cursors: list[PartitionCursor] = []
        for topic, partition_text in assigned:
            partition = int(partition_text)
            stored = reader.offset({"topic": topic, "partition": partition}) or {}
            listing = self.store.list(partition_prefix(self.prefix, topic, partition))
            objects = [(name, info) for info in listing
                       if (name := parse_object_key(self.prefix, info.key)) is not None]
            objects.sort(key=lambda item: item[0].first_offset)
            self.cursors.append(PartitionCursor(topic, partition, objects, int(stored.get("offset", -1))))
        self.mapping = topic_mapping(config, sorted({c.topic for c in self.cursors}))
        self.objects_total = sum(len(c.objects) for c in self.cursors)
        self.object_bytes_total = sum(info.size for c in self.cursors for _, info in c.objects)
        self.objects_done = 0
        self.object_bytes_done = 0
        self.records_loaded = 0
        self.polled = 0
        self.acked = 0
        self.acked_bytes = 0
        self.current = 0  # index into cursors
        self._last_progress = 0.0
        self._stopping = False
        self._write_progress(force=True)

    def _next_records(self, cursor: PartitionCursor) -> bool:
        """Load the cursor's next object; False when the partition is exhausted."""
        while cursor.index < len(cursor.objects):
            name, info = cursor.objects[cursor.index]
            following = cursor.objects[cursor.index + 1][0].first_offset \
                if cursor.index + 1 < len(cursor.objects) else None
            cursor.index += 1
            self.objects_done += 1
            self.object_bytes_done += info.size
            if following is not None and following <= cursor.resume_after + 1:
                continue  # wholly restored before a restart
            records = decode_object(name.extension, self.store.get(info.key))
            cursor.pending = [r for r in records if r.offset > cursor.resume_after and self._in_range(r)]
            self.records_loaded += len(cursor.pending)
            if cursor.pending:
                return True
        return False

    def _in_range(self, record: BackupRecord) -> bool:
        if self.from_ms < 0 and self.to_ms < 0:
            return True
        ts = record.timestamp
        if ts is None:
            return False
        return (self.from_ms < 0 or ts >= self.from_ms) and (self.to_ms < 0 or ts < self.to_ms)

    def poll(self) -> list[SourceRecord] | None:
        out: list[SourceRecord] = []
        while len(out) < self.batch and self.current < len(self.cursors) and not self._stopping:
            cursor = self.cursors[self.current]
            if not cursor.pending and not self._next_records(cursor):
                self.current += 1
                continue
            take = cursor.pending[: self.batch - len(out)]
            del cursor.pending[: len(take)]
            out.extend(self._source_record(cursor, r) for r in take)
        self.polled += len(out)
        self._write_progress()
        if not out:
            time.sleep(0.2)  # all restored: idle until the CLI (or a user) deletes the connector
            return None
        return out

    def _source_record(self, cursor: PartitionCursor, record: BackupRecord) -> SourceRecord:
        cursor.resume_after = record.offset
        timestamp = None if record.timestamp_type == NO_TIMESTAMP_TYPE else record.timestamp
        headers = ConnectHeaders(Header(name, value, OPTIONAL_BYTES_SCHEMA) for name, value in record.headers)
        return SourceRecord.create(
            {"topic": cursor.topic, "partition": cursor.partition}, {"offset": record.offset},
            self.mapping.get(cursor.topic, cursor.topic), cursor.partition,
            OPTIONAL_BYTES_SCHEMA, record.key, OPTIONAL_BYTES_SCHEMA, record.value, timestamp, headers)

    def commit_record(self, record: SourceRecord, metadata: Any | None) -> None:
        self.acked += 1
        self.acked_bytes += len(record.key or b"") + len(record.value or b"")

    @property
    def finished(self) -> bool:
        return self.current >= len(self.cursors) and self.acked >= self.polled

    def _write_progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_progress < PROGRESS_EVERY_S:
            return
        self._last_progress = now
        doc = {"task": self.task_index, "records": self.acked, "bytes": self.acked_bytes,
               "objects_done": self.objects_done, "objects_total": self.objects_total,
               "object_bytes_done": self.object_bytes_done, "object_bytes_total": self.object_bytes_total,
               "records_loaded": self.records_loaded,
               "finished": self.finished, "updated_ms": int(time.time() * 1000)}
        key = f"{restore_progress_prefix(self.prefix, self.name)}task-{self.task_index}.json"
        try:
            self.store.put(key, json.dumps(doc).encode())
        except StoreError as exc:
            log.warning("restore %s: progress not written: %s", self.name, exc)

    def commit(self) -> None:
        self._write_progress()

    def stop(self) -> None:
        self._stopping = True
