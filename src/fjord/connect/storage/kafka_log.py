"""A compacted topic read from the beginning into memory and written through a producer.

What Kafka's KafkaBasedLog does for the config, offset and status topics of a distributed
Connect cluster: every worker replays the whole topic at start, keeps consuming, and can
wait until it has read everything written before a given moment (`read_to_end`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition

from fjord.connect import clients

log = logging.getLogger("fjord.connect.kafka_log")

RecordCallback = Callable[[bytes | None, bytes | None], None]
ClientConfig = Callable[[str], dict[str, Any]]
"""The worker's librdkafka settings for a client kind ("producer", "consumer", "admin")."""


def dump_json(value: Any) -> bytes:
    """Compact, key-sorted JSON: the value format of every internal topic."""
    return json.dumps(value, separators=(",", ":"), sort_keys=True).encode()


def load_json(value: bytes | None) -> Any:
    return None if value is None else json.loads(value)


class KafkaLog:
    def __init__(self, client_config: ClientConfig, topic: str,
                 on_record: RecordCallback) -> None:
        self.topic = topic
        self.on_record = on_record
        self._client_config = client_config
        self._positions: dict[int, int] = {}
        self._positions_changed = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._producer: Producer | None = None
        self._consumer: Consumer | None = None
        self._watermarks: Consumer | None = None
        self._partitions: list[int] = []
        self._write_error: KafkaError | None = None

    def start(self, timeout: float = 60.0) -> None:
        base = self._client_config("consumer")
        config = {**base, "group.id": f"fjord-connect-reader-{uuid.uuid4()}",
                  "enable.auto.commit": False, "auto.offset.reset": "earliest",
                  "enable.partition.eof": False}
        self._consumer = clients.make(Consumer, config)
        self._watermarks = clients.make(Consumer, {**config,
                                                   "group.id": f"fjord-connect-wm-{uuid.uuid4()}"})
        metadata = self._consumer.list_topics(self.topic, timeout=15)
        topic = metadata.topics.get(self.topic)
        if topic is None or topic.error is not None or not topic.partitions:
            raise KafkaException(f"topic {self.topic} is not available: "
                                 f"{topic.error if topic else 'missing'}")
        self._partitions = sorted(topic.partitions)
        self._consumer.assign([KafkaTopicPartition(self.topic, p, OFFSET_BEGINNING)
                               for p in self._partitions])
        producer_config = {**self._client_config("producer"), "acks": "all",
                           "enable.idempotence": True, "linger.ms": 0}
        self._producer = clients.make(Producer, producer_config)
        self._thread = threading.Thread(target=self._read_loop, name=f"kafka-log-{self.topic}",
                                        daemon=True)
        self._thread.start()
        self.read_to_end(timeout)

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(10)
        if self._producer is not None:
            self._producer.flush(5)
        for consumer in (self._consumer, self._watermarks):
            if consumer is not None:
                with contextlib.suppress(KafkaException, RuntimeError):
                    consumer.close()

    def _read_loop(self) -> None:
        assert self._consumer is not None
        while not self._stopping.is_set():
            try:
                messages = self._consumer.consume(500, 0.2)
            except (KafkaException, RuntimeError) as exc:
                log.warning("reading %s: %s", self.topic, exc)
                time.sleep(0.5)
                continue
            if not messages:
                continue
            for message in messages:
                if message.error() is not None:
                    log.debug("reading %s: %s", self.topic, message.error())
                    continue
                try:
                    self.on_record(message.key(), message.value())
                except Exception:
                    log.exception("applying a record of %s failed", self.topic)
                with self._positions_changed:
                    self._positions[int(message.partition() or 0)] = int(message.offset() or 0) + 1
            with self._positions_changed:
                self._positions_changed.notify_all()

    def read_to_end(self, timeout: float = 30.0) -> None:
        """Return once everything written to the topic before this call has been applied."""
        assert self._watermarks is not None
        ends = {}
        for partition in self._partitions:
            _low, high = self._watermarks.get_watermark_offsets(
                KafkaTopicPartition(self.topic, partition), timeout=10, cached=False)
            ends[partition] = high
        deadline = time.monotonic() + timeout
        with self._positions_changed:
            while any(self._positions.get(p, 0) < end for p, end in ends.items() if end > 0):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"could not read {self.topic} to its end within {timeout}s")
                self._positions_changed.wait(min(remaining, 0.5))

    def send(self, key: bytes, value: bytes | None, flush: bool = True) -> None:
        assert self._producer is not None

        def delivered(error: KafkaError | None, message: Any) -> None:
            if error is not None:
                self._write_error = error

        self._producer.produce(self.topic, key=key, value=value, on_delivery=delivered)
        self._producer.poll(0)
        if flush:
            self.flush()

    def flush(self, timeout: float = 30.0) -> None:
        assert self._producer is not None
        if self._producer.flush(timeout):
            raise KafkaException(f"writes to {self.topic} not acknowledged within {timeout}s")
        if self._write_error is not None:
            error, self._write_error = self._write_error, None
            raise KafkaException(error)
