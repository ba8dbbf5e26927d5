"""The message browser: read from a partition at an offset or a time, filter on the server, render
for people, produce one record, export.

Filters never run user code: key/value substrings, header match, and JSONPath (jsonpath-ng,
which parses an expression language and evaluates it over the JSON tree; Kafka UI ran user
Groovy and got CVE-2023-52251).
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from confluent_kafka import OFFSET_END, Consumer, KafkaError, KafkaException, TopicPartition
from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
from jsonpath_ng.ext import parse as parse_jsonpath

from fjord.console.clients import TIMEOUT, ClusterClients
from fjord.console.schemas import AvroDecoder, SchemaError
from fjord.console.topics import ConsoleError, kafka_message

MAX_SCAN = 20_000
MAX_LIMIT = 500
FORMATS = ("auto", "string", "json", "hex", "avro")


@dataclass
class Filters:
    key: str = ""
    value: str = ""
    header: str = ""  # "name" or "name=value"
    jsonpath: str = ""
    _compiled: Any = field(default=None, repr=False)

    def compile(self) -> None:
        if self.jsonpath:
            try:
                self._compiled = parse_jsonpath(self.jsonpath)
            except (JsonPathLexerError, JsonPathParserError, Exception) as exc:
                raise ConsoleError(f"JSONPath {self.jsonpath!r} does not parse: {exc}") from None

    @property
    def active(self) -> bool:
        return bool(self.key or self.value or self.header or self.jsonpath)

    def accept(self, key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes | None]]) -> bool:
        if self.key and (key is None or self.key.encode() not in key):
            return False
        if self.value and (value is None or self.value.encode() not in value):
            return False
        if self.header:
            name, has_value, wanted = self.header.partition("=")
            found = [v for k, v in headers if k == name]
            if not found or (has_value and wanted.encode() not in [v or b"" for v in found]):
                return False
        if self._compiled is not None:
            try:
                doc = json.loads(value or b"")
            except ValueError:
                return False
            # A filter at the root ($[?(...)]) applies to the record itself.
            target = [doc] if self.jsonpath.replace(" ", "").startswith("$[?") else doc
            if not self._compiled.find(target):
                return False
        return True


@dataclass
class Row:
    partition: int
    offset: int
    timestamp: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes | None]]

    @property
    def time(self) -> str:
        return datetime.fromtimestamp(self.timestamp / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]

    def render(self, fmt: str, avro: AvroDecoder | None = None) -> dict[str, Any]:
        value = render(self.value, "auto" if fmt == "avro" else fmt)
        if fmt == "avro" and self.value is not None:
            if avro is None:
                value = "(no schema registry is registered with this cluster) " + (value or "")
            else:
                try:
                    value = avro.decode(self.value)
                except SchemaError as exc:
                    value = f"({exc}) {value}"
        return {
            "partition": self.partition,
            "offset": self.offset,
            "timestamp": self.timestamp,
            "time": self.time,
            "key": render(self.key, fmt if fmt not in ("json", "avro") else "auto"),
            "value": value,
            "headers": [[k, render(v, "auto")] for k, v in self.headers],
        }


def render(data: bytes | None, fmt: str) -> str | None:
    """Text for a person (the template escapes it): JSON pretty-printed, UTF-8, or hex."""
    if data is None:
        return None
    if fmt == "hex":
        return data.hex(" ")
    if fmt in ("json", "auto"):
        try:
            return json.dumps(json.loads(data), indent=2, ensure_ascii=False)
        except (ValueError, UnicodeDecodeError):
            if fmt == "json":
                return data.decode("utf-8", "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.hex(" ") if fmt == "auto" else data.decode("utf-8", "replace")


def _consumer(clients: ClusterClients) -> Consumer:
    return Consumer(
        {
            **clients.config,
            "group.id": f"fjord-console-{os.getpid()}",
            "enable.auto.commit": False,
            "enable.partition.eof": True,
            "auto.offset.reset": "earliest",
            "fetch.wait.max.ms": 100,
        }
    )


def partitions_of(clients: ClusterClients, topic: str) -> list[int]:
    metadata = clients.admin.list_topics(topic=topic, timeout=TIMEOUT)
    info = metadata.topics.get(topic)
    if info is None or info.error is not None:
        raise ConsoleError(f"topic {topic} does not exist")
    return sorted(info.partitions)


def browse(
    clients: ClusterClients,
    topic: str,
    partition: int | None,
    offset: int | None,
    timestamp_ms: int | None,
    limit: int,
    filters: Filters,
) -> tuple[list[Row], int]:
    """Up to `limit` matching records from the start point; (rows, records scanned)."""
    filters.compile()
    limit = max(1, min(limit, MAX_LIMIT))
    parts = partitions_of(clients, topic) if partition is None else [partition]
    consumer = _consumer(clients)
    try:
        starts: list[TopicPartition] = []
        ends: dict[int, int] = {}
        for p in parts:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=TIMEOUT)
            ends[p] = high
            if high <= low:
                continue
            if timestamp_ms is not None:
                found = consumer.offsets_for_times([TopicPartition(topic, p, timestamp_ms)], timeout=TIMEOUT)
                start = found[0].offset if found[0].offset >= 0 else high
            elif offset is not None:
                start = offset if offset >= 0 else max(low, high + offset)  # -N: the last N
            else:
                start = low if filters.active else max(low, high - limit)
            start = min(max(start, low), high)
            if start < high:
                starts.append(TopicPartition(topic, p, start))
        if not starts:
            return [], 0
        consumer.assign(starts)
        pending = {tp.partition for tp in starts}
        rows: list[Row] = []
        scanned = 0
        deadline = time.monotonic() + 20
        while pending and scanned < MAX_SCAN and len(rows) < limit and time.monotonic() < deadline:
            for message in consumer.consume(500, 0.5):
                err = message.error()
                if err is not None:
                    if err.code() == KafkaError._PARTITION_EOF:
                        pending.discard(message.partition())
                        continue
                    raise ConsoleError(err.str())
                scanned += 1
                row = _row(message)
                if row.offset + 1 >= ends[row.partition]:
                    pending.discard(row.partition)
                if filters.accept(row.key, row.value, row.headers):
                    rows.append(row)
        rows.sort(key=lambda r: (r.timestamp, r.partition, r.offset))
        return rows[:limit], scanned
    except KafkaException as exc:
        raise ConsoleError(kafka_message(exc)) from None
    finally:
        consumer.close()


def _row(message: Any) -> Row:
    headers = [(str(k), v) for k, v in (message.headers() or [])]
    return Row(
        message.partition(),
        int(message.offset()),
        message.timestamp()[1],
        message.key(),
        message.value(),
        headers,
    )


def tail(
    clients: ClusterClients, topic: str, filters: Filters, stop_after: float = 3600.0
) -> Generator[Row | None, None, None]:
    """New records from now on (None when idle, so the caller can notice a closed client)."""
    filters.compile()
    consumer = _consumer(clients)
    try:
        consumer.assign([TopicPartition(topic, p, OFFSET_END) for p in partitions_of(clients, topic)])
        deadline = time.monotonic() + stop_after
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None or message.error() is not None:
                yield None
                continue
            row = _row(message)
            if filters.accept(row.key, row.value, row.headers):
                yield row
    finally:
        consumer.close()


def produce(
    clients: ClusterClients,
    topic: str,
    partition: int | None,
    key: str,
    value: str,
    headers: list[tuple[str, str]],
) -> tuple[int, int]:
    """Produce one record with acks=all; (partition, offset) once acknowledged."""
    result: dict[str, Any] = {}

    def done(err: Any, msg: Any) -> None:
        result["err"], result["msg"] = err, msg

    kwargs: dict[str, Any] = {
        "value": value.encode(),
        "headers": [(k, v.encode()) for k, v in headers],
        "on_delivery": done,
    }
    if key:
        kwargs["key"] = key.encode()
    if partition is not None:
        kwargs["partition"] = partition
    producer = clients.producer
    try:
        producer.produce(topic, **kwargs)
    except (KafkaException, BufferError) as exc:
        raise ConsoleError(kafka_message(exc)) from None
    producer.flush(TIMEOUT)
    if "msg" not in result:
        raise ConsoleError("the record was not acknowledged within 15s")
    if result["err"] is not None:
        raise ConsoleError(result["err"].str())
    return result["msg"].partition(), result["msg"].offset()


def export_json(rows: list[Row]) -> str:
    def b64(data: bytes | None) -> str | None:
        return None if data is None else base64.b64encode(data).decode()

    return json.dumps(
        [
            {
                "partition": r.partition,
                "offset": r.offset,
                "timestamp": r.timestamp,
                "key": render(r.key, "string"),
                "value": render(r.value, "string"),
                "key_base64": b64(r.key),
                "value_base64": b64(r.value),
                "headers": [{"key": k, "value": render(v, "string")} for k, v in r.headers],
            }
            for r in rows
        ],
        indent=1,
    )


def export_csv(rows: list[Row]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["partition", "offset", "timestamp", "key", "value", "headers"])
    for r in rows:
        writer.writerow(
            [
                r.partition,
                r.offset,
                r.timestamp,
                render(r.key, "string") or "",
                render(r.value, "string") or "",
                json.dumps({k: render(v, "string") for k, v in r.headers}),
            ]
        )
    return out.getvalue()
