"""Avro values in Confluent's wire format (magic byte 0, 4-byte schema id, Avro body) rendered
as JSON, with the writer schema fetched from the cluster's schema registry by id and cached."""

from __future__ import annotations

import io
import json
import struct
import threading
from typing import Any

import fastavro
import httpx

TIMEOUT = 5.0


class SchemaError(Exception):
    pass


class AvroDecoder:
    def __init__(self, registry_url: str) -> None:
        self.url = registry_url.rstrip("/")
        self._schemas: dict[int, Any] = {}
        self._lock = threading.Lock()

    def schema(self, schema_id: int) -> Any:
        with self._lock:
            if schema_id in self._schemas:
                return self._schemas[schema_id]
        try:
            response = httpx.get(f"{self.url}/schemas/ids/{schema_id}", timeout=TIMEOUT)
            response.raise_for_status()
            parsed = fastavro.parse_schema(json.loads(response.json()["schema"]))
        except (httpx.HTTPError, ValueError, KeyError, fastavro.schema.SchemaParseException) as exc:
            raise SchemaError(f"schema {schema_id} unavailable from {self.url}: {exc}") from None
        with self._lock:
            self._schemas[schema_id] = parsed
        return parsed

    def decode(self, data: bytes) -> str:
        """The value as pretty JSON; SchemaError if it is not Confluent-framed Avro."""
        if len(data) < 5 or data[0] != 0:
            raise SchemaError("not in Confluent's wire format (magic byte 0 + schema id)")
        (schema_id,) = struct.unpack(">I", data[1:5])
        try:
            record = fastavro.schemaless_reader(io.BytesIO(data[5:]), self.schema(schema_id))
        except (EOFError, ValueError, TypeError, IndexError) as exc:
            raise SchemaError(f"does not decode with schema {schema_id}: {exc}") from None
        return json.dumps(record, indent=2, ensure_ascii=False, default=str)
