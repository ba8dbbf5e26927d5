"""A header converter that passes header values through as bytes.

Kafka's ByteArrayConverter is also a HeaderConverter; Fjord's SimpleHeaderConverter, like
Kafka's, parses header text as JSON and so would turn `1.0` into `1.0`-the-float and back
into something else. A backup must keep every byte, hence this one.
"""

from __future__ import annotations

from typing import Any

from fjord.connect.api import HeaderConverter
from fjord.connect.data import OPTIONAL_BYTES_SCHEMA, DataException, Schema

CLASS_NAME = "fjord.connectors.objectstore.converters.ByteArrayHeaderConverter"
BYTE_ARRAY_CONVERTER = "org.apache.kafka.connect.converters.ByteArrayConverter"


class ByteArrayHeaderConverter(HeaderConverter):
    def from_connect_header(self, topic: str, key: str, schema: Schema | None, value: Any
                            ) -> bytes | None:
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        raise DataException(f"header {key!r}: ByteArrayHeaderConverter needs bytes, "
                            f"got {type(value).__name__}")

    def to_connect_header(self, topic: str, key: str, value: bytes | None
                          ) -> tuple[Schema | None, Any]:
        return OPTIONAL_BYTES_SCHEMA, value


def byte_exact_converters() -> dict[str, str]:
    """Converter settings a backup or restore connector needs to see raw bytes."""
    return {"key.converter": BYTE_ARRAY_CONVERTER, "value.converter": BYTE_ARRAY_CONVERTER,
            "header.converter": CLASS_NAME}
