"""Config keys of the object-storage sink (backup) and source (restore) connectors."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fjord.connect.config_def import (
    ConfigDef,
    ConfigException,
    Importance,
    Type,
    at_least,
    valid_string,
)
from fjord.connectors.objectstore.formats import COMPRESSIONS, FORMATS, ObjectFormat
from fjord.objectstore import s3
from fjord.objectstore.factory import open_store
from fjord.objectstore.location import Location, parse_location
from fjord.objectstore.store import InvalidLocation, ObjectStore

STORE_URL = "store.url"
FORMAT = "format"
COMPRESSION = "compression"
FLUSH_SIZE = "flush.size"
FLUSH_BYTES = "flush.bytes"
INTERVAL_MS = "rotate.schedule.interval.ms"
START = "start.position"
BUFFER_MAX_BYTES = "buffer.max.bytes"
RUN_HISTORY = "run.history.enable"

RESTORE_TOPICS = "restore.topics"
RESTORE_TO_TOPIC = "restore.to.topic"
RESTORE_MAPPING = "restore.topic.mapping"
RESTORE_FROM_MS = "restore.from.time.ms"
RESTORE_TO_MS = "restore.to.time.ms"
RESTORE_BATCH = "restore.batch.size"
RESTORE_ASSIGNED = "restore.assigned.partitions"  # set by the connector in task configs
TASK_INDEX = "task.index"  # set by the connectors in task configs

MIN_INTERVAL_MS = 10_000
STORE_GROUP = "Store"


def _location(name: str, value: Any) -> None:
    if value is None:
        return
    try:
        parse_location(str(value))
    except InvalidLocation as exc:
        raise ConfigException(name, value, str(exc)) from exc


def _start(name: str, value: Any) -> None:
    try:
        StartPosition.parse(str(value))
    except ValueError as exc:
        raise ConfigException(name, value, str(exc)) from exc


def _store_keys(definition: ConfigDef) -> ConfigDef:
    return (
        definition
        .define(STORE_URL, Type.STRING, validator=_location, importance=Importance.HIGH,
                documentation="Where objects live: s3://bucket/prefix/ or file:///dir/prefix/. "
                              "A prefix is empty (bucket root) or ends with '/'.",
                group=STORE_GROUP, order_in_group=1)
        .define(s3.ENDPOINT, Type.STRING, "", None, Importance.HIGH,
                "S3 endpoint URL for S3-compatible stores (MinIO, COS, Ceph); empty for AWS.",
                STORE_GROUP, 2)
        .define(s3.REGION, Type.STRING, "us-east-1", None, Importance.MEDIUM, "S3 region.",
                STORE_GROUP, 3)
        .define(s3.ACCESS_KEY, Type.PASSWORD, "", None, Importance.HIGH,
                "Access key id; empty uses the AWS default chain (env, ~/.aws, roles).",
                STORE_GROUP, 4)
        .define(s3.SECRET_KEY, Type.PASSWORD, "", None, Importance.HIGH, "Secret access key.",
                STORE_GROUP, 5)
        .define(s3.SESSION_TOKEN, Type.PASSWORD, "", None, Importance.LOW, "Session token.",
                STORE_GROUP, 6)
        .define(s3.PATH_STYLE, Type.BOOLEAN, True, None, Importance.LOW,
                "Path-style addressing (endpoint/bucket/key), which most S3-compatible stores "
                "need; false lets boto3 choose virtual-hosted style.", STORE_GROUP, 7)
        .define(s3.RETRIES, Type.INT, 3, at_least(1), Importance.LOW,
                "Attempts per S3 request before a run is recorded as failed.", STORE_GROUP, 8)
        .define(s3.TIMEOUT_MS, Type.INT, 10_000, at_least(100), Importance.LOW,
                "Connect timeout for S3 requests.", STORE_GROUP, 9)
    )


def sink_config_def() -> ConfigDef:
    return (
        _store_keys(ConfigDef())
        .define(FORMAT, Type.STRING, "jsonl", valid_string(*FORMATS), Importance.HIGH,
                "Object format: jsonl (JSON Lines, base64 payloads), avro or parquet.", "Format", 1)
        .define(COMPRESSION, Type.STRING, "none", valid_string(*COMPRESSIONS), Importance.MEDIUM,
                "none, gzip or zstd (Avro uses its own deflate / zstandard codecs, Parquet its "
                "GZIP / ZSTD).", "Format", 2)
        .define(INTERVAL_MS, Type.LONG, 300_000, at_least(MIN_INTERVAL_MS), Importance.HIGH,
                "A backup run every this many ms (wall clock, aligned to multiples of it): every "
                "record buffered since the previous run is written, so an object never spans "
                "more than one interval.", "Rotation", 1)
        .define(FLUSH_SIZE, Type.INT, 100_000, at_least(1), Importance.MEDIUM,
                "Close an object once it holds this many records.", "Rotation", 2)
        .define(FLUSH_BYTES, Type.LONG, 64 * 1024 * 1024, at_least(1), Importance.MEDIUM,
                "Close an object once its records' payload reaches this many bytes.", "Rotation", 3)
        .define(BUFFER_MAX_BYTES, Type.LONG, 256 * 1024 * 1024, at_least(1), Importance.LOW,
                "While the store fails, stop taking records once this much is buffered (the "
                "consumer pauses; nothing is dropped).", "Rotation", 4)
        .define(START, Type.STRING, "earliest", _start, Importance.HIGH,
                "Where a new rule starts in partitions it has not backed up yet: earliest, latest, "
                "an offset, or an ISO-8601 time (the first record at or after it). Once a "
                "partition has objects, the rule always continues right after the last one.",
                "Start", 1)
        .define(RUN_HISTORY, Type.BOOLEAN, True, None, Importance.LOW,
                "Record each run (time, records, bytes, objects, errors) under <prefix>_fjord/runs/.",
                "Start", 2)
    )


def source_config_def() -> ConfigDef:
    return (
        _store_keys(ConfigDef())
        .define(RESTORE_TOPICS, Type.LIST, "", None, Importance.HIGH,
                "Backed-up topics to restore; empty restores every topic under the prefix.",
                "Restore", 1)
        .define(RESTORE_TO_TOPIC, Type.STRING, "", None, Importance.HIGH,
                "Write into this topic instead of the original name (one source topic only).",
                "Restore", 2)
        .define(RESTORE_MAPPING, Type.LIST, "", None, Importance.MEDIUM,
                "source:target pairs for renaming several topics.", "Restore", 3)
        .define(RESTORE_FROM_MS, Type.LONG, -1, None, Importance.MEDIUM,
                "Only records with a timestamp at or after this (epoch ms); -1 for no bound.",
                "Restore", 4)
        .define(RESTORE_TO_MS, Type.LONG, -1, None, Importance.MEDIUM,
                "Only records with a timestamp before this (epoch ms); -1 for no bound.", "Restore", 5)
        .define(RESTORE_BATCH, Type.INT, 5_000, at_least(1), Importance.LOW,
                "Records handed to the producer per poll.", "Restore", 6)
    )


# ---------------------------------------------------------------- parsed views


@dataclass(frozen=True)
class StartPosition:
    kind: str  # "earliest", "latest", "offset", "time"
    value: int = 0  # the offset, or epoch ms

    @staticmethod
    def parse(text: str) -> StartPosition:
        text = text.strip()
        if text.lower() in ("earliest", "latest"):
            return StartPosition(text.lower())
        if re.fullmatch(r"\d+", text):
            return StartPosition("offset", int(text))
        return StartPosition("time", parse_time_ms(text))

    def __str__(self) -> str:
        if self.kind == "offset":
            return str(self.value)
        if self.kind == "time":
            return datetime.fromtimestamp(self.value / 1000).astimezone().isoformat()
        return self.kind


def parse_time_ms(text: str) -> int:
    """ISO-8601 (a bare date or a time without zone is taken as UTC) to epoch milliseconds."""
    from datetime import UTC

    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{text!r} is not earliest, latest, an offset or an ISO-8601 time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def store_options(config: Mapping[str, Any]) -> dict[str, Any]:
    return {key: config[key] for key in (s3.ENDPOINT, s3.REGION, s3.ACCESS_KEY, s3.SECRET_KEY,
                                         s3.SESSION_TOKEN, s3.PATH_STYLE, s3.RETRIES, s3.TIMEOUT_MS)
            if key in config}


def open_location(config: Mapping[str, Any]) -> tuple[Location, ObjectStore]:
    location = parse_location(str(config[STORE_URL]))
    return location, open_store(location, store_options(config))


def object_format(config: Mapping[str, Any]) -> ObjectFormat:
    return ObjectFormat(str(config.get(FORMAT, "jsonl")), str(config.get(COMPRESSION, "none")))
