"""Confluent's AvroConverter (`io.confluent.connect.avro.AvroConverter`).

Bytes on the wire are Confluent's format: magic byte 0, the schema id as a 4-byte big-endian
integer, then the Avro binary encoding. Schemas are registered under the subject the naming
strategy gives (`<topic>-value` / `<topic>-key` by default) in any Confluent-compatible
registry (`schema.registry.url`), Fjord's own included, so confluent-kafka's
AvroDeserializer and Java consumers read what Fjord's workers wrote.
"""

from __future__ import annotations

import io
import json
import struct
import threading
from collections.abc import Mapping
from typing import Any

import fastavro

from fjord.connect.avro_data import from_avro_schema, from_avro_value, to_avro_schema, to_avro_value
from fjord.connect.converters import Converter
from fjord.connect.data import DataException, Schema
from fjord.schemaregistry.client import RegistryClient, RegistryClientError

MAGIC = 0
_STRATEGIES = ("TopicNameStrategy", "RecordNameStrategy", "TopicRecordNameStrategy")


class AvroConverter(Converter):
    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        super().configure(configs, is_key)
        url = str(configs.get("schema.registry.url") or "").strip()
        if not url:
            raise DataException("AvroConverter needs schema.registry.url (e.g. "
                                "value.converter.schema.registry.url=http://127.0.0.1:8081)")
        auth = None
        if str(configs.get("basic.auth.credentials.source", "")).upper() == "USER_INFO":
            user, _, password = str(configs.get("basic.auth.user.info", "")).partition(":")
            auth = (user, password)
        self.client = RegistryClient(url, auth=auth)
        self.auto_register = str(configs.get("auto.register.schemas", "true")).lower() == "true"
        self.use_latest = str(configs.get("use.latest.version", "false")).lower() == "true"
        strategy = str(configs.get("key.subject.name.strategy" if is_key else
                                   "value.subject.name.strategy", "TopicNameStrategy"))
        self.strategy = strategy.rsplit(".", 1)[-1]
        if self.strategy not in _STRATEGIES:
            raise DataException(f"Unsupported subject name strategy {strategy}: use one of "
                                f"{', '.join(_STRATEGIES)}")
        self._writers: dict[Schema, tuple[str, Any, str]] = {}
        self._readers: dict[int, tuple[Any, Schema]] = {}
        self._lock = threading.Lock()

    def _subject(self, topic: str, avro: Any) -> str:
        record = avro.get("name") if isinstance(avro, dict) else None
        if isinstance(avro, dict) and avro.get("namespace"):
            record = f"{avro['namespace']}.{record}"
        suffix = "key" if self.is_key else "value"
        if self.strategy == "TopicNameStrategy" or record is None:
            return f"{topic}-{suffix}"
        return str(record) if self.strategy == "RecordNameStrategy" else f"{topic}-{record}"

    def _writer(self, schema: Schema) -> tuple[str, Any, str]:
        with self._lock:
            found = self._writers.get(schema)
        if found is None:
            avro = to_avro_schema(schema)
            text = json.dumps(avro, separators=(",", ":"))
            found = (text, fastavro.parse_schema(avro), json.dumps(avro))
            with self._lock:
                self._writers[schema] = found
        return found

    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None:
        if value is None:
            return None  # tombstones stay tombstones
        if schema is None:
            raise DataException("AvroConverter needs a schema: the record was schemaless")
        text, parsed, _ = self._writer(schema)
        subject = self._subject(topic, json.loads(text))
        try:
            if self.use_latest:
                schema_id, latest = self.client.latest(subject)
                parsed = fastavro.parse_schema(json.loads(latest))
            elif self.auto_register:
                schema_id = self.client.register(subject, text)
            else:
                schema_id = self.client.lookup(subject, text)
        except RegistryClientError as exc:
            raise DataException(f"Failed to serialize Avro data from topic {topic}: "
                                f"{exc.message} (error code {exc.error_code})") from exc
        out = io.BytesIO()
        out.write(struct.pack(">bI", MAGIC, schema_id))
        try:
            fastavro.schemaless_writer(out, parsed, to_avro_value(schema, value))
        except (ValueError, TypeError, AttributeError) as exc:
            raise DataException(f"Failed to serialize Avro data from topic {topic}: {exc}") from exc
        return out.getvalue()

    def to_connect_data(self, topic: str, value: bytes | None) -> tuple[Schema | None, Any]:
        if value is None:
            return None, None
        if len(value) < 5 or value[0] != MAGIC:
            raise DataException(f"Failed to deserialize data for topic {topic} to Avro: Unknown "
                                "magic byte!")
        schema_id = struct.unpack(">I", value[1:5])[0]
        with self._lock:
            found = self._readers.get(schema_id)
        if found is None:
            try:
                node = json.loads(self.client.schema(schema_id))
            except RegistryClientError as exc:
                raise DataException(f"Failed to deserialize data for topic {topic} to Avro: "
                                    f"schema {schema_id}: {exc.message}") from exc
            found = (fastavro.parse_schema(node), from_avro_schema(node))
            with self._lock:
                self._readers[schema_id] = found
        parsed, connect_schema = found
        try:
            datum = fastavro.schemaless_reader(io.BytesIO(value[5:]), parsed, None)
        except Exception as exc:
            raise DataException(f"Failed to deserialize data for topic {topic} to Avro: {exc}") \
                from exc
        return connect_schema, from_avro_value(connect_schema, datum)
