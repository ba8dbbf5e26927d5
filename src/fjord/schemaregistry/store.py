"""The registry's state, kept in the compacted `_schemas` topic exactly as Confluent lays it out.

Keys and values are Confluent's JSON (`{"keytype":"SCHEMA","subject":s,"version":v,"magic":1}`
→ `{"subject","version","id","schema","deleted"}`; `{"keytype":"CONFIG","subject":s|null,
"magic":0}` → `{"compatibilityLevel": ...}`), so a Confluent registry pointed at the same topic
reads Fjord's schemas and the other way round. A reader thread tails the topic and is the only
code that changes the in-memory view; a write produces its record and waits until that reader
has applied it, so every answer reflects what is durably in Kafka and registries sharing the
topic converge on the same state.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

log = logging.getLogger("fjord.schemaregistry")


class StoreError(Exception):
    """The Kafka store could not be read or written (Confluent's 50001/50002)."""


@dataclass
class SchemaVersion:
    subject: str
    version: int
    id: int
    schema: str
    schema_type: str = "AVRO"
    references: list[dict[str, Any]] = field(default_factory=list)
    deleted: bool = False


@dataclass
class State:
    versions: dict[str, dict[int, SchemaVersion]] = field(default_factory=dict)
    global_level: str | None = None
    subject_levels: dict[str, str] = field(default_factory=dict)
    max_id: int = 0

    def schema_by_id(self, schema_id: int) -> SchemaVersion | None:
        for versions in self.versions.values():
            for item in versions.values():
                if item.id == schema_id:
                    return item
        return None

    def id_of(self, schema_text: str, schema_type: str) -> int | None:
        for versions in self.versions.values():
            for item in versions.values():
                if item.schema == schema_text and item.schema_type == schema_type:
                    return item.id
        return None


class KafkaStore:
    def __init__(self, bootstrap: str, topic: str = "_schemas", client_config: dict[str, Any] |
                 None = None, timeout_s: float = 60.0) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.client_config = {"bootstrap.servers": bootstrap, **(client_config or {})}
        self.timeout_s = timeout_s
        self.state = State()
        self._applied = -1  # offset of the last record the reader applied
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._reader: threading.Thread | None = None
        self._producer: Producer | None = None
        self.write_lock = threading.Lock()

    # -- lifecycle
    def start(self) -> None:
        self._ensure_topic()
        self._producer = Producer({**self.client_config, "acks": "all",
                                   "enable.idempotence": True, "linger.ms": 0})
        consumer = Consumer({**self.client_config, "group.id": "schema-registry-reader",
                             "enable.auto.commit": False, "enable.partition.eof": True,
                             "auto.offset.reset": "earliest"})
        consumer.assign([KafkaTopicPartition(self.topic, 0, OFFSET_BEGINNING)])
        _, high = consumer.get_watermark_offsets(KafkaTopicPartition(self.topic, 0),
                                                 timeout=self.timeout_s)
        self._reader = threading.Thread(target=self._read, args=(consumer,), daemon=True,
                                        name="schemas-reader")
        self._reader.start()
        if high > 0:
            self._wait_applied(high - 1)  # serve only once every stored schema is known
        log.info("schema registry store ready: %d subjects from %s", len(self.state.versions),
                 self.topic)

    def stop(self) -> None:
        self._stop.set()
        if self._reader is not None:
            self._reader.join(10)
        if self._producer is not None:
            self._producer.flush(5)

    def _ensure_topic(self) -> None:
        admin = AdminClient(self.client_config)
        deadline = time.monotonic() + self.timeout_s
        while True:
            try:
                metadata = admin.list_topics(timeout=5)
                break
            except KafkaException as exc:
                if time.monotonic() > deadline:
                    raise StoreError(f"Cannot reach Kafka at {self.bootstrap}: {exc}") from exc
                log.warning("waiting for Kafka at %s: %s", self.bootstrap, exc)
        if self.topic in metadata.topics:
            return
        factor = min(3, max(1, len(metadata.brokers)))
        futures = admin.create_topics([NewTopic(self.topic, 1, factor,
                                                config={"cleanup.policy": "compact"})])
        try:
            futures[self.topic].result(30)
        except KafkaException as exc:
            if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise StoreError(f"Cannot create {self.topic}: {exc}") from exc

    # -- reading
    def _read(self, consumer: Consumer) -> None:
        try:
            while not self._stop.is_set():
                try:
                    message = consumer.poll(0.2)
                except Exception:
                    log.exception("schemas reader poll failed")
                    time.sleep(1)
                    continue
                if message is None:
                    continue
                error = message.error()
                if error is not None:
                    if error.code() != KafkaError._PARTITION_EOF:
                        log.warning("schemas reader: %s", error)
                    continue
                try:
                    self._apply(message.key(), message.value())
                except Exception:
                    log.exception("skipping an unreadable %s record at offset %s", self.topic,
                                  message.offset())
                with self._cond:
                    self._applied = int(message.offset() or 0)
                    self._cond.notify_all()
        finally:
            consumer.close()

    def _apply(self, raw_key: bytes | None, raw_value: bytes | None) -> None:
        if raw_key is None:
            return
        key = json.loads(raw_key)
        value = json.loads(raw_value) if raw_value else None
        kind = key.get("keytype")
        state = self.state
        if kind == "SCHEMA":
            subject, version = key["subject"], int(key["version"])
            if value is None:
                state.versions.get(subject, {}).pop(version, None)
                if subject in state.versions and not state.versions[subject]:
                    del state.versions[subject]
                return
            item = SchemaVersion(value["subject"], int(value["version"]), int(value["id"]),
                                 value["schema"], value.get("schemaType", "AVRO"),
                                 list(value.get("references") or []), bool(value.get("deleted")))
            state.versions.setdefault(subject, {})[version] = item
            state.max_id = max(state.max_id, item.id)
        elif kind == "CONFIG":
            subject = key.get("subject")
            level = (value or {}).get("compatibilityLevel")
            if subject is None:
                state.global_level = level
            elif level is None:
                state.subject_levels.pop(subject, None)
            else:
                state.subject_levels[subject] = level

    def _wait_applied(self, offset: int) -> None:
        deadline = time.monotonic() + self.timeout_s
        with self._cond:
            while self._applied < offset:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreError(f"Timed out waiting for {self.topic} to reach offset {offset}")
                self._cond.wait(min(left, 0.5))

    # -- writing
    def _write(self, key: dict[str, Any], value: dict[str, Any] | None) -> None:
        producer = self._producer
        if producer is None:
            raise StoreError("store not started")
        result: dict[str, Any] = {}

        def delivered(error: KafkaError | None, message: Any) -> None:
            result["error"], result["offset"] = error, None if error else message.offset()

        producer.produce(self.topic, key=json.dumps(key, separators=(",", ":")),
                         value=None if value is None else json.dumps(value, separators=(",", ":")),
                         partition=0, on_delivery=delivered)
        producer.flush(self.timeout_s)
        if result.get("error") is not None or result.get("offset") is None:
            raise StoreError(f"Write to the Kafka store failed: {result.get('error') or 'timed out'}")
        self._wait_applied(int(result["offset"]))

    def put_schema(self, item: SchemaVersion) -> None:
        value: dict[str, Any] = {"subject": item.subject, "version": item.version, "id": item.id,
                                 "schema": item.schema, "deleted": item.deleted}
        if item.schema_type != "AVRO":
            value["schemaType"] = item.schema_type
        if item.references:
            value["references"] = item.references
        self._write({"keytype": "SCHEMA", "subject": item.subject, "version": item.version,
                     "magic": 1}, value)

    def remove_schema(self, subject: str, version: int) -> None:
        self._write({"keytype": "SCHEMA", "subject": subject, "version": version, "magic": 1}, None)

    def put_config(self, subject: str | None, level: str | None) -> None:
        self._write({"keytype": "CONFIG", "subject": subject, "magic": 0},
                    None if level is None else {"compatibilityLevel": level})
