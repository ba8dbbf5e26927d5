"""The object-storage sink: backs topics up to S3-compatible stores or a local folder.

Correctness rests on three rules:
1. The store is the source of truth for progress. When a partition is assigned, the task
   reads the last object of that partition and continues right after its last offset,
   whatever the consumer group had committed. A worker killed after writing an object but
   before committing its offset therefore neither rewrites nor duplicates anything.
2. Offsets are committed only for records that are in a durably written object:
   `pre_commit` answers the first offset still buffered (or the consumer position when
   nothing is buffered), never beyond.
3. Object names are a function of the first offset, and puts are atomic, so a partially
   done run that is redone writes the same names over again.

Runs happen on a wall-clock schedule (`rotate.schedule.interval.ms`, aligned to multiples of
it) from a timer thread, so an idle topic still gets its buffered records written and the
run history shows every run; objects are also closed early by record count and by bytes.
A run that fails (store outage) is recorded with its reason, keeps its buffers and offsets
uncommitted, and is retried with backoff; once `buffer.max.bytes` is buffered, `put` asks the
worker to retry later, which pauses consumption instead of dropping anything.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fjord.connect.api import (
    ConfigDef,
    ConnectException,
    RetriableException,
    SinkConnector,
    SinkRecord,
    SinkTask,
    Task,
    TimestampType,
    TopicPartition,
)
from fjord.connect.config_def import AbstractConfig
from fjord.connect.data import DataException
from fjord.connectors.objectstore import config as cfg
from fjord.connectors.objectstore.envelope import BackupRecord
from fjord.connectors.objectstore.formats import FormatError, ObjectFormat, decode_object
from fjord.connectors.objectstore.naming import object_key, parse_object_key, partition_prefix
from fjord.connectors.objectstore.runlog import FAILED, RunLog, RunRecord
from fjord.objectstore.location import Location
from fjord.objectstore.store import ObjectStore, StoreError

log = logging.getLogger("fjord.backup.sink")

VERSION = "0.1.0"


def _bytes(value: Any, what: str) -> bytes | None:
    if value is None or isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode("utf-8")
    raise DataException(f"the object-storage sink stores raw bytes; {what} is a "
                        f"{type(value).__name__} (set key/value.converter to "
                        "org.apache.kafka.connect.converters.ByteArrayConverter)")


def to_backup_record(record: SinkRecord) -> BackupRecord:
    topic = record.original_topic or record.topic
    partition = record.original_kafka_partition
    offset = record.original_kafka_offset
    assert partition is not None and offset is not None
    ts_type = record.timestamp_type.value if record.timestamp is not None \
        else TimestampType.NO_TIMESTAMP_TYPE.value
    return BackupRecord(
        topic=topic, partition=partition, offset=offset, timestamp=record.timestamp,
        timestamp_type=ts_type, key=_bytes(record.key, "the key"), value=_bytes(record.value, "the value"),
        headers=[(h.key, _bytes(h.value, f"header {h.key!r}")) for h in record.headers])


@dataclass
class PartitionBuffer:
    records: list[BackupRecord] = field(default_factory=list)
    size: int = 0

    @property
    def first_offset(self) -> int:
        return self.records[0].offset


@dataclass
class RunStats:
    started_ms: int
    records: int = 0
    bytes: int = 0
    objects: int = 0
    errors: list[str] = field(default_factory=list)
    ranges: dict[str, list[int]] = field(default_factory=dict)


def last_backed_up_offset(store: ObjectStore, prefix: str, tp: TopicPartition) -> int | None:
    """The offset of the last record in the partition's last object, or None without objects."""
    last_key = None
    for info in store.list(partition_prefix(prefix, tp.topic, tp.partition)):
        if parse_object_key(prefix, info.key) is not None:
            last_key = info.key
    if last_key is None:
        return None
    name = parse_object_key(prefix, last_key)
    assert name is not None
    try:
        records = decode_object(name.extension, store.get(last_key))
    except FormatError as exc:
        raise ConnectException(f"cannot resume {tp}: last object {last_key} is unreadable: {exc}") \
            from exc
    return records[-1].offset if records else name.first_offset - 1


class ObjectStoreSinkTask(SinkTask):
    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        config = AbstractConfig(cfg.sink_config_def(), props)
        self.rule = props.get("name", "backup")
        self.task_index = int(props.get(cfg.TASK_INDEX, "0"))
        self.location: Location
        self.location, self.store = cfg.open_location(config.values)
        self.prefix = self.location.prefix
        self.format: ObjectFormat = cfg.object_format(config.values)
        self.flush_size = config.get_int(cfg.FLUSH_SIZE)
        self.flush_bytes = config.get_long(cfg.FLUSH_BYTES)
        self.buffer_max = config.get_long(cfg.BUFFER_MAX_BYTES)
        self.interval_s = config.get_long(cfg.INTERVAL_MS) / 1000.0
        self.start_position = cfg.StartPosition.parse(config.get_string(cfg.START) or "earliest")
        self.history = RunLog(self.store, self.prefix) if config.get_boolean(cfg.RUN_HISTORY) else None
        self.lock = threading.RLock()
        self.buffers: dict[TopicPartition, PartitionBuffer] = {}
        self.next_offset: dict[TopicPartition, int] = {}
        self.waiting_for_time: set[TopicPartition] = set()
        # assigned partitions whose resume point could not be read yet -> first offset dropped
        self.unresolved: dict[TopicPartition, int | None] = {}
        self.resolve_at = 0.0
        self.rewinding: set[TopicPartition] = set()
        self.buffered_bytes = 0
        self.stats = RunStats(_now_ms())
        self.failures = 0
        self.retry_at: float | None = None
        self._stop = threading.Event()
        self._timer = threading.Thread(target=self._schedule, name=f"backup-runs-{self.rule}",
                                       daemon=True)
        self._timer.start()
        log.info("backup %s task %d: %s every %.0fs as %s", self.rule, self.task_index,
                 self.location.url, self.interval_s, self.format.extension)

    # ---------------------------------------------------------------- partitions

    def open(self, partitions: Iterable[TopicPartition]) -> None:
        with self.lock:
            for tp in partitions:
                self.unresolved[tp] = None
            self._resolve()

    def _resolve(self) -> None:
        """Find where each newly assigned partition continues, from the store.

        If the store cannot be read (an outage while the worker starts), the partition stays
        unresolved: its records are dropped unbacked and uncommitted, and resolving is retried
        from `put` every few seconds; the rewind then brings the dropped records back.
        """
        rewinds: dict[TopicPartition, int] = {}
        for tp, first_dropped in list(self.unresolved.items()):
            try:
                last = last_backed_up_offset(self.store, self.prefix, tp)
            except StoreError as exc:
                self._note_error(f"cannot read where {tp} stopped: {exc}")
                self.resolve_at = time.monotonic() + 2.0
                continue
            del self.unresolved[tp]
            if last is not None:
                self.next_offset[tp] = rewinds[tp] = last + 1
                log.info("%s: %s continues after offset %d already in the store", self.rule, tp, last)
            elif self.start_position.kind == "offset":
                self.next_offset[tp] = rewinds[tp] = self.start_position.value
            else:
                # earliest / latest: the consumer's auto.offset.reset placed a new rule; if
                # records were dropped while the store was unreadable, go back for them
                self.next_offset[tp] = 0
                if first_dropped is not None:
                    rewinds[tp] = first_dropped
                if self.start_position.kind == "time":
                    self.waiting_for_time.add(tp)
            if first_dropped is not None:
                self.rewinding.add(tp)  # the rest of this batch comes again after the seek
        if rewinds:
            self.context.offset(rewinds)

    def close(self, partitions: Iterable[TopicPartition]) -> None:
        """Revoked or stopping: write out what these partitions buffered."""
        closing = list(partitions)
        with self.lock:
            if any(self.buffers.get(tp) for tp in closing):
                self._run("close", only=closing)
            for tp in closing:
                self.buffers.pop(tp, None)
                self.next_offset.pop(tp, None)
                self.waiting_for_time.discard(tp)

    # ---------------------------------------------------------------- records

    def put(self, records: list[SinkRecord]) -> None:
        with self.lock:
            if self.buffered_bytes >= self.buffer_max:
                # The store has been failing: try once more, else make the worker hold off.
                self._run("flush")
                if self.buffered_bytes >= self.buffer_max:
                    raise RetriableException(f"backup {self.rule}: {self.buffered_bytes} bytes buffered "
                                             "while the store fails; waiting for it")
            if self.unresolved and time.monotonic() >= self.resolve_at:
                self._resolve()
            for record in records:
                backup = to_backup_record(record)
                tp = TopicPartition(backup.topic, backup.partition)
                if tp in self.unresolved:
                    if self.unresolved[tp] is None:
                        self.unresolved[tp] = backup.offset
                    continue
                if tp in self.rewinding:
                    continue
                expected = self.next_offset.get(tp, 0)
                if backup.offset < expected:
                    continue  # already in the store (a redelivery before our rewind took effect)
                if tp in self.waiting_for_time:
                    if backup.timestamp is None or backup.timestamp < self.start_position.value:
                        self.next_offset[tp] = backup.offset + 1
                        continue
                    self.waiting_for_time.discard(tp)
                self.next_offset[tp] = backup.offset + 1
                buffer = self.buffers.setdefault(tp, PartitionBuffer())
                size = backup.approximate_size()
                buffer.records.append(backup)
                buffer.size += size
                self.buffered_bytes += size
                full = len(buffer.records) >= self.flush_size or buffer.size >= self.flush_bytes
                if full and not self.failures:  # while the store fails, retries are the timer's
                    try:
                        self._write(tp, buffer)
                    except StoreError as exc:
                        self._note_error(str(exc))
                        self._failed(time.time())
            self.rewinding.clear()  # the worker seeks before the next batch

    def _write(self, tp: TopicPartition, buffer: PartitionBuffer) -> None:
        """Write one object; the buffer is emptied only once the store has it."""
        key = object_key(self.prefix, tp.topic, tp.partition, buffer.first_offset, self.format.extension)
        data = self.format.encode(buffer.records)
        self.store.put(key, data)
        stats = self.stats
        stats.records += len(buffer.records)
        stats.bytes += len(data)
        stats.objects += 1
        span = stats.ranges.setdefault(str(tp), [buffer.first_offset, buffer.records[-1].offset])
        span[1] = buffer.records[-1].offset
        self.buffered_bytes -= buffer.size
        buffer.records = []
        buffer.size = 0

    def _note_error(self, message: str) -> None:
        if message not in self.stats.errors:
            self.stats.errors.append(message)
        log.warning("backup %s: %s", self.rule, message)

    # ---------------------------------------------------------------- runs

    def _run(self, trigger: str, only: Iterable[TopicPartition] | None = None) -> bool:
        """Write every buffer (or those of `only`), then close the run's history entry."""
        with self.lock:
            targets = list(only) if only is not None else sorted(self.buffers)
            for tp in targets:
                buffer = self.buffers.get(tp)
                if not buffer or not buffer.records:
                    continue
                try:
                    self._write(tp, buffer)
                except StoreError as exc:
                    self._note_error(str(exc))
                    break  # the store is failing: do not hammer it partition after partition
            stats, self.stats = self.stats, RunStats(_now_ms())
            ok = not stats.errors
            run = RunRecord(self.rule, self.task_index, stats.started_ms, _now_ms(),
                            "ok" if ok else FAILED, trigger, stats.records, stats.bytes, stats.objects,
                            stats.errors, stats.ranges)
            if self.history is not None:
                self.history.record(run)
            if not ok:
                log.warning("backup %s run failed: %s", self.rule, "; ".join(stats.errors))
            return ok

    def _schedule(self) -> None:
        """Runs at every multiple of the interval (so all tasks of a rule run together);
        after a failure, sooner, with backoff, until the store takes the data again."""
        next_run = self._next_boundary(time.time())
        while True:
            retry_at = self.retry_at
            due = next_run if retry_at is None else min(next_run, retry_at)
            if self._stop.wait(max(0.0, min(0.5, due - time.time()))):
                return
            now = time.time()
            if now < due:
                continue
            try:
                ok = self._run("schedule")
            except Exception:
                log.exception("backup %s: run crashed", self.rule)
                ok = False
            if ok:
                self.failures, self.retry_at = 0, None
                self.context.request_commit()
            else:
                self._failed(now)
            if now >= next_run:
                next_run = self._next_boundary(now)

    def _next_boundary(self, now: float) -> float:
        return (now // self.interval_s + 1) * self.interval_s

    def _failed(self, now: float) -> None:
        self.failures += 1
        self.retry_at = now + min(self.interval_s, 2.0 * 2 ** min(self.failures - 1, 6))

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        with self.lock:
            self._run("flush")
            if any(buffer.records for buffer in self.buffers.values()):
                raise RetriableException(f"backup {self.rule}: the store did not take the data")

    def pre_commit(self, current_offsets: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
        """Commit only what is in the store: up to the first buffered record, if any."""
        with self.lock:
            safe: dict[TopicPartition, int] = {}
            for tp, offset in current_offsets.items():
                if tp in self.unresolved:
                    continue  # records were dropped, none written: commit nothing
                buffer = self.buffers.get(tp)
                if buffer and buffer.records:
                    safe[tp] = buffer.first_offset
                else:
                    # never past a record that was dropped to be fetched again after a rewind
                    safe[tp] = min(offset, self.next_offset.get(tp, offset))
            return safe

    def stop(self) -> None:
        self._stop.set()


class ObjectStoreSinkConnector(SinkConnector):
    """Backs the topics it is given up to object storage; see the module docstring."""

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        AbstractConfig(cfg.sink_config_def(), props)  # refuse a bad config before any task runs
        self.props = dict(props)

    def task_class(self) -> type[Task]:
        return ObjectStoreSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        return [dict(self.props, **{cfg.TASK_INDEX: str(i)}) for i in range(max_tasks)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return cfg.sink_config_def()


def _now_ms() -> int:
    return int(time.time() * 1000)
