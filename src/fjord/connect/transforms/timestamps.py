"""TimestampConverter and TimestampRouter: timestamps between formats, and topics named by time."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectException, Transformation
from fjord.connect.data import (
    INT64_SCHEMA,
    STRING_SCHEMA,
    DataException,
    Schema,
    SchemaBuilder,
    Struct,
    date_schema,
    time_schema,
    timestamp_schema,
)
from fjord.connect.transforms.base import (
    KeyOrValue,
    R,
    copy_schema,
    required,
)

# ---------------------------------------------------------------- TimestampConverter

_JAVA_FORMAT = [("yyyy", "%Y"), ("yy", "%y"), ("MM", "%m"), ("dd", "%d"), ("HH", "%H"),
                ("mm", "%M"), ("ss", "%S"), ("SSS", "%f"), ("EEE", "%a"), ("MMM", "%b"),
                ("Z", "%z"), ("'T'", "T"), ("'Z'", "Z")]


def java_format(pattern: str) -> str:
    """SimpleDateFormat → strftime for the common tokens (yyyy, MM, dd, HH, mm, ss, SSS)."""
    out, index = "", 0
    tokens = sorted(_JAVA_FORMAT, key=lambda t: -len(t[0]))
    while index < len(pattern):
        for token, replacement in tokens:
            if pattern.startswith(token, index):
                out += replacement
                index += len(token)
                break
        else:
            out += pattern[index]
            index += 1
    return out


def _to_millis(value: Any, fmt: str | None, precision: str) -> int:
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return int(aware.timestamp() * 1000)
    if isinstance(value, datetime.date):
        return int(datetime.datetime(value.year, value.month, value.day,
                                     tzinfo=datetime.UTC).timestamp() * 1000)
    if isinstance(value, datetime.time):
        return ((value.hour * 60 + value.minute) * 60 + value.second) * 1000 + value.microsecond // 1000
    if isinstance(value, int | float) and not isinstance(value, bool):
        factor = {"seconds": 1000, "milliseconds": 1, "microseconds": 0.001,
                  "nanoseconds": 0.000001}[precision]
        return int(value * factor)
    if isinstance(value, str):
        if fmt is None:
            raise ConnectException("TimestampConverter requires format option to be specified when "
                                   "using string timestamps")
        parsed = datetime.datetime.strptime(value, java_format(fmt))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.UTC)
        return int(parsed.timestamp() * 1000)
    raise DataException(f"Expected a timestamp value, found {type(value).__name__}")


def _from_millis(millis: int, target: str, fmt: str | None, precision: str) -> tuple[Schema, Any]:
    moment = datetime.datetime.fromtimestamp(millis / 1000, datetime.UTC)
    if target == "string":
        if fmt is None:
            raise ConnectException("TimestampConverter requires format option to be specified when "
                                   "using string timestamps")
        text = moment.strftime(java_format(fmt))
        if "%f" in java_format(fmt):
            text = text.replace(moment.strftime("%f"), f"{moment.microsecond // 1000:03d}")
        return STRING_SCHEMA, text
    if target == "unix":
        divisor = {"seconds": 1000, "milliseconds": 1, "microseconds": 0.001,
                   "nanoseconds": 0.000001}[precision]
        return INT64_SCHEMA, int(millis / divisor)
    if target == "date":
        return date_schema(), moment.date()
    if target == "time":
        return time_schema(), moment.time()
    return timestamp_schema(), moment


class TimestampConverter(KeyOrValue):
    needs_map = False

    def configure(self, configs: Mapping[str, Any]) -> None:
        self.field = str(configs.get("field", "") or "")
        self.target = required(configs, "target.type").strip().lower()
        if self.target not in ("string", "unix", "date", "time", "timestamp"):
            raise ConnectException(f"Unknown timestamp type in TimestampConverter: {self.target}")
        self.format = configs.get("format") or None
        self.precision = str(configs.get("unix.precision", "milliseconds"))

    def _convert(self, value: Any) -> tuple[Schema, Any]:
        if value is None:
            return _from_millis(0, self.target, self.format, self.precision)[0], None
        return _from_millis(_to_millis(value, self.format, self.precision), self.target, self.format,
                            self.precision)

    def apply(self, record: R) -> R | None:
        schema, value = self.operating(record)
        if not self.field:
            new_schema, new_value = self._convert(value)
            return self.new(record, new_schema if schema is not None else None,
                            _schemaless_time(new_value) if schema is None else new_value)
        if value is None:
            return record
        if schema is None:
            out = dict(value)
            out[self.field] = _schemaless_time(self._convert(value.get(self.field))[1])
            return self.new(record, None, out)
        builder = copy_schema(schema, SchemaBuilder.struct())
        converted_schema = self._convert(value.get(self.field))[0]
        for field in schema.fields:
            if field.name == self.field:
                built = copy_schema(converted_schema, SchemaBuilder(converted_schema.type))
                if field.schema.optional:
                    built.optional()
                builder.field(field.name, built.build())
            else:
                builder.field(field.name, field.schema)
        new_schema = builder.build()
        out_struct = Struct(new_schema)
        for field in schema.fields:
            item = value.get(field.name)
            out_struct.put(field.name, self._convert(item)[1] if field.name == self.field else item)
        return self.new(record, new_schema, out_struct)


def _schemaless_time(value: Any) -> Any:
    """Schemaless records carry java.util.Date in Kafka; JSON renders it as epoch millis."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    return value



class TimestampRouter(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.topic_format = str(configs.get("topic.format", "${topic}-${timestamp}"))
        self.timestamp_format = java_format(str(configs.get("timestamp.format", "yyyyMMdd")))

    def apply(self, record: R) -> R | None:
        if record.timestamp is None:
            raise DataException(f"Timestamp missing on record: {record}")
        stamp = datetime.datetime.fromtimestamp(record.timestamp / 1000, datetime.UTC).strftime(
            self.timestamp_format)
        topic = self.topic_format.replace("${topic}", record.topic).replace("${timestamp}", stamp)
        return record.new_record(topic, record.kafka_partition, record.key_schema, record.key,
                                 record.value_schema, record.value, record.timestamp)
