"""The threads that drive one task each: poll → transform → convert → produce for sources,
consume → convert → transform → put → commit for sinks.

One thread per task, as Kafka's worker does, so a connector's blocking calls never stall
another task. A task that throws goes FAILED with its trace; the worker keeps running.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition

from fjord.connect import clients
from fjord.connect.api import (
    ConnectException,
    ConnectHeaders,
    ConnectRecord,
    RetriableException,
    SinkRecord,
    SinkTask,
    SourceRecord,
    SourceTask,
    Task,
    TimestampType,
    TopicPartition,
)
from fjord.connect.converters import Converter, HeaderConverter
from fjord.connect.errors import (
    ErrorConfig,
    ErrorContext,
    RetryWithToleranceOperator,
    Stage,
    dlq_reporter,
    trace_of,
)
from fjord.connect.offsets import ConnectorOffsetReader, OffsetStore, offset_key
from fjord.connect.transform_chain import TransformationChain
from fjord.observability.connect_metrics import TaskCounters

log = logging.getLogger("fjord.connect.task")

RUNNING = "RUNNING"
PAUSED = "PAUSED"
FAILED = "FAILED"
UNASSIGNED = "UNASSIGNED"
STOPPED = "STOPPED"
RESTARTING = "RESTARTING"


@dataclass(frozen=True, order=True)
class TaskId:
    connector: str
    task: int

    def __str__(self) -> str:
        return f"{self.connector}-{self.task}"


class StatusListener(Protocol):
    def on_task_state(self, task: TaskId, state: str, trace: str | None) -> None: ...

    def on_active_topic(self, connector: str, topic: str) -> None: ...


@dataclass
class TaskServices:
    """What a task thread needs from its worker."""

    client_config: Callable[[str, Mapping[str, str]], dict[str, Any]]
    offset_store: OffsetStore
    offset_flush_interval_s: float
    offset_flush_timeout_s: float
    key_converter: Converter
    value_converter: Converter
    header_converter: HeaderConverter
    listener: StatusListener
    ensure_topic: Callable[..., None]
    topic_creation: bool = True


class WorkerTask(threading.Thread):
    is_sink = False

    def __init__(self, task_id: TaskId, task: Task, connector_config: Mapping[str, str],
                 task_config: Mapping[str, str], target_state: str, services: TaskServices) -> None:
        super().__init__(name=f"task-thread-{task_id}", daemon=True)
        self.id = task_id
        self.task = task
        self.connector_config = dict(connector_config)
        self.task_config = dict(task_config)
        self.services = services
        self.target_state = target_state
        self._stopping = threading.Event()
        self._state_changed = threading.Condition()
        self.state = UNASSIGNED
        self.trace: str | None = None
        self.errors = RetryWithToleranceOperator(
            ErrorConfig.from_connector_config(connector_config), task_id.connector, task_id.task)
        self.chain = TransformationChain.from_config(connector_config)
        self._reported_topics: set[str] = set()
        self.metrics = TaskCounters(self.is_sink)  # read by the worker's /metrics

    # -- lifecycle, called from the herder's thread

    def transition_to(self, target: str) -> None:
        with self._state_changed:
            self.target_state = target
            self._state_changed.notify_all()

    def stop(self) -> None:
        self._stopping.set()
        with self._state_changed:
            self._state_changed.notify_all()
        if self.stop_from_caller:
            try:
                self.task.stop()
            except Exception:
                log.exception("task %s failed to stop cleanly", self.id)

    # Kafka calls SourceTask.stop from another thread (to unblock poll) but SinkTask.stop from
    # the task's own thread, after its last put: a sink's file must not close under put.
    stop_from_caller = True

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def _set_state(self, state: str, trace: str | None = None) -> None:
        self.state, self.trace = state, trace
        self.services.listener.on_task_state(self.id, state, trace)

    def _topic_seen(self, topic: str) -> None:
        if topic not in self._reported_topics:
            self._reported_topics.add(topic)
            self.services.listener.on_active_topic(self.id.connector, topic)

    def _wait_while_paused(self) -> bool:
        """Block while PAUSED; True when the task should go on running."""
        with self._state_changed:
            if self.target_state == PAUSED and not self.stopping:
                self._set_state(PAUSED)
                self.on_pause()
                while self.target_state == PAUSED and not self.stopping:
                    self._state_changed.wait(0.5)
                if not self.stopping:
                    self.on_resume()
                    self._set_state(RUNNING)
        return not self.stopping

    def on_pause(self) -> None:
        pass

    def on_resume(self) -> None:
        pass

    def run(self) -> None:
        try:
            self.initialize()
            self.task.start(dict(self.task_config))
            self._set_state(RUNNING)
            self.execute()
        except Exception as exc:
            if self.stopping and not isinstance(exc, ConnectException):
                log.debug("task %s raised while stopping: %s", self.id, exc)
            else:
                log.error("WorkerTask{id=%s} Task threw an uncaught and unrecoverable exception. "
                          "Task is being killed and will not recover until manually restarted",
                          self.id, exc_info=exc)
                self._set_state(FAILED, trace_of(exc))
        finally:
            try:
                self.close()
            except Exception:
                log.exception("task %s failed to close", self.id)
            self.chain.close()

    def initialize(self) -> None:
        raise NotImplementedError

    def execute(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def apply_chain(self, record: ConnectRecord, context: ErrorContext | None) -> ConnectRecord | None:
        current: ConnectRecord | None = record
        for stage in self.chain.stages:
            if current is None:
                return None
            value = current
            ok, result = self.errors.execute(lambda s=stage, v=value: s.apply(v),  # type: ignore[misc]
                                             Stage.TRANSFORMATION, stage.class_name, context)
            if not ok:
                return None
            current = result
        return current


class _SourceContext:
    def __init__(self, config: Mapping[str, str], reader: ConnectorOffsetReader) -> None:
        self._config = dict(config)
        self._reader = reader

    def configs(self) -> dict[str, str]:
        return dict(self._config)

    def offset_storage_reader(self) -> ConnectorOffsetReader:
        return self._reader


class TopicCreation:
    """KIP-158: a source connector's `topic.creation.*` settings decide how new topics are made.

    Groups are tried in `topic.creation.groups` order; a topic matching a group's `include`
    and not its `exclude` regexes takes that group's settings, else `default`'s.
    """

    def __init__(self, config: Mapping[str, str]) -> None:
        prefix = "topic.creation."
        self.enabled = f"{prefix}default.partitions" in config or \
            f"{prefix}default.replication.factor" in config
        self.groups: list[tuple[str, list[re.Pattern[str]], list[re.Pattern[str]]]] = []
        for group in [g.strip() for g in config.get(f"{prefix}groups", "").split(",") if g.strip()]:
            include = [re.compile(p.strip()) for p in
                       config.get(f"{prefix}{group}.include", "").split(",") if p.strip()]
            exclude = [re.compile(p.strip()) for p in
                       config.get(f"{prefix}{group}.exclude", "").split(",") if p.strip()]
            self.groups.append((group, include, exclude))
        self.config = config

    def settings(self, topic: str) -> tuple[int, int, dict[str, str]]:
        chosen = "default"
        for group, include, exclude in self.groups:
            if any(p.fullmatch(topic) for p in include) and not any(
                    p.fullmatch(topic) for p in exclude):
                chosen = group
                break
        prefix = f"topic.creation.{chosen}."
        own = {k[len(prefix):]: v for k, v in self.config.items() if k.startswith(prefix)}
        fallback = {k[len("topic.creation.default."):]: v for k, v in self.config.items()
                    if k.startswith("topic.creation.default.")}
        merged = {**fallback, **own}
        partitions = int(merged.pop("partitions", "-1"))
        factor = int(merged.pop("replication.factor", "-1"))
        for key in ("include", "exclude"):
            merged.pop(key, None)
        return factor, partitions, merged


class WorkerSourceTask(WorkerTask):
    task: SourceTask

    def initialize(self) -> None:
        self.topic_creation = TopicCreation(self.connector_config)
        reader = ConnectorOffsetReader(self.services.offset_store, self.id.connector)
        self.task.initialize(_SourceContext(self.task_config, reader))
        config = self.services.client_config("producer", self.connector_config)
        config.setdefault("linger.ms", 5)
        config.setdefault("acks", "all")
        config.setdefault("enable.idempotence", True)
        config.setdefault("client.id", f"connector-producer-{self.id}")
        self.producer = clients.make(Producer, config)
        self._pending: dict[str, Mapping[str, Any] | None] = {}
        self._delivery_error: KafkaError | None = None
        self._key_cache: dict[tuple[Any, ...], str] = {}
        # A per-record callback only for tasks that want commit_record: it costs ~10% at 1 KB.
        self._wants_commit_record = type(self.task).commit_record is not SourceTask.commit_record
        self._last_flush = time.monotonic()

    def _partition_key(self, partition: Mapping[str, Any]) -> str:
        """offset_key, memoised: sources repeat a handful of partitions on every record."""
        try:
            probe = tuple(sorted(partition.items()))
            found = self._key_cache.get(probe)
        except TypeError:  # unhashable values inside the partition map
            return offset_key(self.id.connector, partition)
        if found is None:
            found = self._key_cache[probe] = offset_key(self.id.connector, partition)
        return found

    def _on_error_only(self, error: KafkaError | None, message: Any) -> None:
        if error is not None:
            self._delivery_error = error

    def _on_delivery(self, record: SourceRecord) -> Callable[[KafkaError | None, Any], None]:
        if not self._wants_commit_record:
            return self._on_error_only
        def callback(error: KafkaError | None, message: Any) -> None:
            if error is not None:
                self._delivery_error = error
                return
            try:
                self.task.commit_record(record, message)
            except Exception:
                log.exception("commit_record failed for %s", self.id)
        return callback

    def on_pause(self) -> None:
        self.commit_offsets()

    def execute(self) -> None:
        interval = self.services.offset_flush_interval_s
        while not self.stopping:
            if not self._wait_while_paused():
                break
            records = self.task.poll()
            if records:
                self.metrics.source_polled += len(records)
                self.metrics.batch(len(records))
                for record in records:
                    self._send(record)
            self.producer.poll(0)
            if self._delivery_error is not None:
                raise ConnectException(f"Unrecoverable exception from producer send callback: "
                                       f"{self._delivery_error}")
            if time.monotonic() - self._last_flush >= interval:
                self.commit_offsets()

    def _send(self, record: SourceRecord) -> None:
        partition_key = (self._partition_key(record.source_partition)
                         if record.source_partition is not None else None)
        context = ErrorContext(Stage.TRANSFORMATION, "", ConnectException(), record.topic,
                               record.kafka_partition, None, record=record)
        transformed = self.apply_chain(record, context)
        if transformed is None:
            self._remember(partition_key, record)
            try:
                self.task.commit_record(record, None)
            except Exception:
                log.exception("commit_record failed for %s", self.id)
            return
        topic = transformed.topic
        ok_k, key = self.errors.execute(
            lambda: self.services.key_converter.from_connect_data(topic, transformed.key_schema,
                                                                  transformed.key),
            Stage.KEY_CONVERTER, type(self.services.key_converter).__name__, context)
        ok_v, value = (False, None)
        if ok_k:
            ok_v, value = self.errors.execute(
                lambda: self.services.value_converter.from_connect_data(
                    topic, transformed.value_schema, transformed.value),
                Stage.VALUE_CONVERTER, type(self.services.value_converter).__name__, context)
        headers: list[tuple[str, bytes | None]] = []
        ok_h = ok_k and ok_v
        if ok_h and len(transformed.headers):
            def convert_headers() -> list[tuple[str, bytes | None]]:
                return [(h.key, self.services.header_converter.from_connect_header(
                    topic, h.key, h.schema, h.value)) for h in transformed.headers]
            ok_h, converted = self.errors.execute(convert_headers, Stage.HEADER_CONVERTER,
                                                  type(self.services.header_converter).__name__,
                                                  context)
            headers = converted or []
        if not ok_h:
            self._remember(partition_key, record)
            return
        kwargs: dict[str, Any] = {"key": key, "value": value,
                                  "on_delivery": self._on_delivery(record)}
        if transformed.kafka_partition is not None:
            kwargs["partition"] = transformed.kafka_partition
        if transformed.timestamp is not None:
            kwargs["timestamp"] = transformed.timestamp
        if headers:
            kwargs["headers"] = headers
        if topic not in self._reported_topics and self.topic_creation.enabled \
                and self.services.topic_creation:
            factor, partitions, configs = self.topic_creation.settings(topic)
            self.services.ensure_topic(topic, factor, partitions if partitions > 0 else 1, configs)
        while True:
            try:
                self.producer.produce(topic, **kwargs)
                break
            except BufferError:
                self.producer.poll(0.05)
        self._topic_seen(topic)
        self._remember(partition_key, record)
        self.metrics.source_written += 1

    def _remember(self, partition_key: str | None, record: SourceRecord) -> None:
        if partition_key is not None:
            self._pending[partition_key] = record.source_offset

    def commit_offsets(self) -> bool:
        """Flush the producer, then store the offsets of everything it acknowledged."""
        self._last_flush = started = time.monotonic()
        remaining = self.producer.flush(self.services.offset_flush_timeout_s)
        if remaining:
            log.warning("%s: %d records not acknowledged within offset.flush.timeout.ms; offsets "
                        "not committed this round", self.id, remaining)
            self.metrics.committed(False, (time.monotonic() - started) * 1000)
            return False
        if self._delivery_error is not None:
            self.metrics.committed(False, (time.monotonic() - started) * 1000)
            return False
        if self._pending:
            pending, self._pending = self._pending, {}
            self.services.offset_store.put(self.id.connector, pending)
        try:
            self.task.commit()
        except Exception:
            log.exception("SourceTask.commit failed for %s", self.id)
        self.metrics.committed(True, (time.monotonic() - started) * 1000)
        return True

    def close(self) -> None:
        producer = getattr(self, "producer", None)
        if producer is None:
            return
        if self._delivery_error is None:
            try:
                self.commit_offsets()
            except Exception:
                log.exception("final offset commit failed for %s", self.id)


class _SinkContext:
    def __init__(self, runner: WorkerSinkTask) -> None:
        self._runner = runner

    def configs(self) -> dict[str, str]:
        return dict(self._runner.task_config)

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        self._runner.rewinds.update(offsets)

    def timeout(self, timeout_ms: int) -> None:
        self._runner.retry_backoff_s = timeout_ms / 1000.0

    def assignment(self) -> set[TopicPartition]:
        return set(self._runner.assignment)

    def pause(self, *partitions: TopicPartition) -> None:
        self._runner.consumer.pause([KafkaTopicPartition(p.topic, p.partition) for p in partitions])

    def resume(self, *partitions: TopicPartition) -> None:
        self._runner.consumer.resume([KafkaTopicPartition(p.topic, p.partition) for p in partitions])

    def request_commit(self) -> None:
        self._runner.commit_requested = True

    def errant_record_reporter(self) -> _ErrantReporter | None:
        return _ErrantReporter(self._runner)


class _ErrantReporter:
    def __init__(self, runner: WorkerSinkTask) -> None:
        self._runner = runner

    def report(self, record: SinkRecord, error: BaseException) -> None:
        topic = record.original_topic or record.topic
        partition = record.original_kafka_partition or 0
        raw = self._runner.raw.get((topic, partition, record.original_kafka_offset or 0))
        context = ErrorContext(Stage.TASK_PUT, type(self._runner.task).__name__, error,
                               record.original_topic, record.original_kafka_partition,
                               record.original_kafka_offset, raw[0] if raw else None,
                               raw[1] if raw else None, raw[2] if raw else None, record)
        self._runner.errors.execute(lambda: _raise(error), Stage.TASK_PUT,
                                    type(self._runner.task).__name__, context)


class _ConsumerRecordText:
    """Renders a consumed message for the error log only when it is actually logged."""

    __slots__ = ("message",)

    def __init__(self, message: Any) -> None:
        self.message = message

    def __repr__(self) -> str:
        m = self.message
        return (f"ConsumerRecord(topic={m.topic()}, partition={m.partition()}, offset={m.offset()}, "
                f"key={m.key()!r}, value={m.value()!r})")


def _raise(error: BaseException) -> None:
    raise error


def sink_topics(config: Mapping[str, str]) -> tuple[list[str], str | None]:
    topics = [t.strip() for t in str(config.get("topics", "")).split(",") if t.strip()]
    regex = str(config.get("topics.regex", "")).strip() or None
    return topics, regex


class WorkerSinkTask(WorkerTask):
    is_sink = True
    task: SinkTask
    stop_from_caller = False

    def initialize(self) -> None:
        self.assignment: set[TopicPartition] = set()
        self.current: dict[TopicPartition, int] = {}
        self.committed: dict[TopicPartition, int] = {}
        self.rewinds: dict[TopicPartition, int] = {}
        self.raw: dict[tuple[str, int, int], tuple[bytes | None, bytes | None,
                                                  list[tuple[str, bytes | None]]]] = {}
        self.retry_backoff_s = 0.3
        self.commit_requested = False
        self._paused = False
        self._last_commit = time.monotonic()
        self._dlq_producer: Producer | None = None
        config = self.services.client_config("consumer", self.connector_config)
        config.setdefault("group.id", f"connect-{self.id.connector}")
        config.setdefault("auto.offset.reset", "earliest")
        config["enable.auto.commit"] = False
        config.setdefault("client.id", f"connector-consumer-{self.id}")
        config.setdefault("enable.partition.eof", False)
        # librdkafka otherwise notices a subscribed topic created later only after 5 minutes.
        config.setdefault("topic.metadata.refresh.interval.ms", 3000)
        self.consumer = clients.make(Consumer, config)
        self.task.initialize(_SinkContext(self))
        error_config = self.errors.config
        if error_config.dlq_topic:
            self.services.ensure_topic(error_config.dlq_topic, error_config.dlq_replication_factor)
            producer_config = self.services.client_config("producer", self.connector_config)
            self._dlq_producer = clients.make(Producer, producer_config)
            self.errors.reporters.append(dlq_reporter(self._dlq_producer.produce, error_config,
                                                      self.id.connector, self.id.task))
        topics, regex = sink_topics(self.connector_config)
        subscription = topics + ([regex if regex.startswith("^") else "^" + regex] if regex else [])
        self.consumer.subscribe(subscription, on_assign=self._on_assign, on_revoke=self._on_revoke)

    def _on_assign(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        assigned = {TopicPartition(p.topic, p.partition) for p in partitions}
        self.assignment |= assigned
        for tp in assigned:
            self._topic_seen(tp.topic)
        self.task.open(sorted(assigned))
        if self._paused:
            consumer.pause(partitions)

    def _on_revoke(self, consumer: Consumer, partitions: list[KafkaTopicPartition]) -> None:
        revoked = {TopicPartition(p.topic, p.partition) for p in partitions}
        try:
            self.commit_offsets(revoked)
        except Exception:
            log.exception("offset commit on revoke failed for %s", self.id)
        self.task.close(sorted(revoked))
        self.assignment -= revoked
        for tp in revoked:
            self.current.pop(tp, None)

    def on_pause(self) -> None:
        self._paused = True
        self.consumer.pause([KafkaTopicPartition(p.topic, p.partition) for p in self.assignment])

    def on_resume(self) -> None:
        self._paused = False
        self.consumer.resume([KafkaTopicPartition(p.topic, p.partition) for p in self.assignment])

    def _wait_while_paused(self) -> bool:
        # A paused sink keeps polling so it stays in its group; the partitions are paused.
        if self.target_state == PAUSED and not self._paused:
            self._paused = True
            self.on_pause()
            self._set_state(PAUSED)
        elif self.target_state != PAUSED and self._paused:
            self.on_resume()
            self._set_state(RUNNING)
        return not self.stopping

    def execute(self) -> None:
        interval = self.services.offset_flush_interval_s
        while not self.stopping:
            self._wait_while_paused()
            if self.rewinds:
                for tp, offset in list(self.rewinds.items()):
                    self.consumer.seek(KafkaTopicPartition(tp.topic, tp.partition, offset))
                    self.current[tp] = offset
                self.rewinds.clear()
            messages = self.consumer.consume(1000, 0.2)
            if self.stopping:
                break
            records: list[SinkRecord] = []
            batch_offsets: dict[TopicPartition, int] = {}
            self.raw.clear()
            for message in messages:
                error = message.error()
                if error is not None:
                    if error.code() == KafkaError._PARTITION_EOF:
                        continue
                    if error.fatal():
                        raise ConnectException(f"Consumer error: {error}")
                    # e.g. a subscribed topic that does not exist yet: Kafka's sink waits for it.
                    log.debug("%s consumer: %s", self.id, error)
                    continue
                record = self._convert(message)
                tp = TopicPartition(str(message.topic()), int(message.partition() or 0))
                batch_offsets[tp] = int(message.offset() or 0) + 1
                self.metrics.sink_read += 1
                if record is not None:
                    records.append(record)
            # put() even with nothing new, as Kafka does: sinks rotate files on time in put.
            if not self._deliver(records):
                break  # stopping: this batch was not put, so its offsets are not committed
            self.metrics.sink_sent += len(records)
            if records:
                self.metrics.batch(len(records))
            self.current.update((tp, off) for tp, off in batch_offsets.items()
                                if tp in self.assignment)
            if self.commit_requested or time.monotonic() - self._last_commit >= interval:
                self.commit_requested = False
                self.commit_offsets(None)

    def _convert(self, message: Any) -> SinkRecord | None:
        topic, partition, offset = message.topic(), message.partition(), message.offset()
        raw_headers = list(message.headers() or [])
        key_bytes, value_bytes = message.key(), message.value()
        self.raw[(topic, partition, offset)] = (key_bytes, value_bytes, raw_headers)
        context = ErrorContext(Stage.KEY_CONVERTER, "", ConnectException(), topic, partition, offset,
                               key_bytes, value_bytes, raw_headers, _ConsumerRecordText(message))
        ok, key = self.errors.execute(
            lambda: self.services.key_converter.to_connect_data(topic, key_bytes),
            Stage.KEY_CONVERTER, type(self.services.key_converter).__name__, context)
        if not ok or key is None:
            return None
        ok, value = self.errors.execute(
            lambda: self.services.value_converter.to_connect_data(topic, value_bytes),
            Stage.VALUE_CONVERTER, type(self.services.value_converter).__name__, context)
        if not ok or value is None:
            return None
        headers = ConnectHeaders()
        if raw_headers:
            def convert_headers() -> ConnectHeaders:
                for name, data in raw_headers:
                    schema, hvalue = self.services.header_converter.to_connect_header(topic, name, data)
                    headers.add(name, hvalue, schema)
                return headers
            ok, _ = self.errors.execute(convert_headers, Stage.HEADER_CONVERTER,
                                        type(self.services.header_converter).__name__, context)
            if not ok:
                return None
        ts_type, ts = message.timestamp()
        record = SinkRecord(topic, partition, key[0], key[1], value[0], value[1],
                            ts if ts_type else None, headers, offset,
                            {1: TimestampType.CREATE_TIME, 2: TimestampType.LOG_APPEND_TIME}.get(
                                ts_type, TimestampType.NO_TIMESTAMP_TYPE))
        transformed = self.apply_chain(record, context)
        return transformed if isinstance(transformed, SinkRecord) else None

    def _deliver(self, records: list[SinkRecord]) -> bool:
        deadline = time.monotonic() + max(self.errors.config.retry_timeout_ms / 1000.0, 0.0)
        while not self.stopping:
            try:
                self.task.put(records)
                return True
            except RetriableException as exc:
                # Kafka pauses the partitions and redelivers the same batch after the backoff.
                log.warning("%s put asked for a retry: %s", self.id, exc)
                if self.errors.config.retry_timeout_ms and time.monotonic() > deadline:
                    raise ConnectException("Exiting WorkerSinkTask due to unrecoverable exception.") \
                        from exc
                self.consumer.pause([KafkaTopicPartition(p.topic, p.partition)
                                     for p in self.assignment])
                self.consumer.consume(1, self.retry_backoff_s)
                if not self._paused:
                    self.consumer.resume([KafkaTopicPartition(p.topic, p.partition)
                                          for p in self.assignment])
            except Exception as exc:
                raise ConnectException("Exiting WorkerSinkTask due to unrecoverable exception.") \
                    from exc
        return False

    def commit_offsets(self, only: set[TopicPartition] | None) -> None:
        self._last_commit = time.monotonic()
        if self._dlq_producer is not None:
            self._dlq_producer.flush(self.services.offset_flush_timeout_s)
        current = {tp: off for tp, off in self.current.items() if only is None or tp in only}
        if not current:
            return
        started = time.monotonic()
        to_commit = self.task.pre_commit(current)
        changed = [KafkaTopicPartition(tp.topic, tp.partition, off) for tp, off in to_commit.items()
                   if self.committed.get(tp) != off and off != OFFSET_INVALID]
        if not changed:
            self.metrics.commit_skipped += 1
            return
        try:
            self.consumer.commit(offsets=changed, asynchronous=False)
        except Exception:
            self.metrics.committed(False, (time.monotonic() - started) * 1000)
            raise
        self.metrics.committed(True, (time.monotonic() - started) * 1000)
        for item in changed:
            self.committed[TopicPartition(item.topic, item.partition)] = item.offset

    def close(self) -> None:
        consumer = getattr(self, "consumer", None)
        if consumer is None:
            return
        try:
            if self.state != FAILED:
                self.commit_offsets(None)
            self.task.close(sorted(self.assignment))
            self.task.stop()
        except Exception:
            log.exception("closing sink task %s", self.id)
        try:
            consumer.close()
        except Exception:
            log.debug("consumer close failed for %s", self.id, exc_info=True)
        if self._dlq_producer is not None:
            self._dlq_producer.flush(5)
