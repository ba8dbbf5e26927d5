"""The source task loop: poll → transform → convert → produce, then store offsets once acked.

Kafka's WorkerSourceTask: offsets of a record are stored only after the producer acknowledged
it (or a transform dropped it), every `offset.flush.interval.ms`, so a crash replays rather
than loses.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import KafkaError, Producer

from fjord.connect import clients
from fjord.connect.api import (
    ConnectException,
    SourceRecord,
    SourceTask,
)
from fjord.connect.errors import (
    ErrorContext,
    Stage,
)
from fjord.connect.storage.offsets import ConnectorOffsetReader, source_offset_key
from fjord.connect.topic_creation import TopicCreation
from fjord.connect.worker_task import WorkerTask

log = logging.getLogger("fjord.connect.task")


class _SourceContext:
    def __init__(self, config: Mapping[str, str], reader: ConnectorOffsetReader) -> None:
        self._config = dict(config)
        self._reader = reader

    def configs(self) -> dict[str, str]:
        return dict(self._config)

    def offset_storage_reader(self) -> ConnectorOffsetReader:
        return self._reader


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
        """source_offset_key, memoised: sources repeat a handful of partitions on every record."""
        try:
            probe = tuple(sorted(partition.items()))
            found = self._key_cache.get(probe)
        except TypeError:  # unhashable values inside the partition map
            return source_offset_key(self.id.connector, partition)
        if found is None:
            found = self._key_cache[probe] = source_offset_key(self.id.connector, partition)
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
        transformed = self.chain.apply(record, self.errors, context)
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
