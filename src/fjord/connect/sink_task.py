"""The sink task loop: consume → convert → transform → put → commit (Kafka's WorkerSinkTask).

Offsets are committed to the connector's consumer group only for records `put` accepted
(and `pre_commit` allows); a paused sink keeps polling with its partitions paused so it
stays in its group; RetriableException from put redelivers the same batch after a backoff.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from confluent_kafka import OFFSET_INVALID, Consumer, KafkaError, KafkaException, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition

from fjord.connect import clients
from fjord.connect.api import (
    ConnectException,
    ConnectHeaders,
    RetriableException,
    SinkRecord,
    SinkTask,
    TimestampType,
    TopicPartition,
)
from fjord.connect.errors import (
    ErrorContext,
    Stage,
    dlq_reporter,
)
from fjord.connect.status import TargetState, TaskState
from fjord.connect.worker_task import WorkerTask

log = logging.getLogger("fjord.connect.task")


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
        self._start_at_requested_offsets(consumer, partitions)
        if self._paused:
            consumer.pause(partitions)

    def _start_at_requested_offsets(self, consumer: Consumer,
                                    partitions: list[KafkaTopicPartition]) -> None:
        """Offsets a task asks for in open() (SinkTaskContext.offset) become the partitions'
        starting positions in the assignment itself, as Kafka's WorkerSinkTask seeks inside
        onPartitionsAssigned: a later seek() on a partition librdkafka has not started fetching
        yet fails with _STATE ("Erroneous state"), which a loaded machine makes likely."""
        start = {tp: self.rewinds.pop(tp) for tp in
                 (TopicPartition(p.topic, p.partition) for p in partitions) if tp in self.rewinds}
        if not start:
            return
        positioned = [KafkaTopicPartition(p.topic, p.partition,
                                          start.get(TopicPartition(p.topic, p.partition), OFFSET_INVALID))
                      for p in partitions]
        try:
            consumer.assign(positioned)
        except KafkaException:  # the cooperative protocol takes only incremental assignments
            consumer.incremental_assign(positioned)
        self.current.update(start)

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
        if self.target_state == TargetState.PAUSED and not self._paused:
            self._paused = True
            self.on_pause()
            self._set_state(TaskState.PAUSED)
        elif self.target_state != TargetState.PAUSED and self._paused:
            self.on_resume()
            self._set_state(TaskState.RUNNING)
        return not self.stopping

    def _apply_rewinds(self) -> None:
        """Seek where the task asked (SinkTaskContext.offset). A partition librdkafka is not
        fetching yet refuses the seek with _STATE: its rewind stays pending and is tried again
        after the next poll, and records read from it meanwhile are not delivered."""
        for tp, offset in list(self.rewinds.items()):
            if tp not in self.assignment:
                del self.rewinds[tp]  # revoked since: the next owner starts from the commits
                continue
            try:
                self.consumer.seek(KafkaTopicPartition(tp.topic, tp.partition, offset))
            except KafkaException as exc:
                if exc.args[0].code() != KafkaError._STATE:
                    raise
                log.debug("%s: seek of %s to %d deferred: %s", self.id, tp, offset, exc)
                continue
            self.current[tp] = offset
            del self.rewinds[tp]

    def execute(self) -> None:
        interval = self.services.offset_flush_interval_s
        while not self.stopping:
            self._wait_while_paused()
            self._apply_rewinds()
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
                tp = TopicPartition(str(message.topic()), int(message.partition() or 0))
                if tp in self.rewinds:
                    continue  # read before a rewind that could not be applied yet: read again after it
                record = self._convert(message)
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
        transformed = self.chain.apply(record, self.errors, context)
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
            if self.state != TaskState.FAILED:
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
