"""FileStreamSource: each new line of a file becomes a record, offset = byte position.

Like Kafka's, it tails the file: lines appended later are picked up, and after a restart
the task seeks to the stored position so no line is sent twice or skipped. Only complete
lines (ending in a newline) are emitted, so a writer caught mid-line is never split.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Mapping
from typing import Any, BinaryIO

from fjord.connect.api import ConnectException, SourceConnector, SourceRecord, SourceTask, Task
from fjord.connect.config_def import ConfigDef, Importance, Type, at_least, non_empty_string
from fjord.connect.data import STRING_SCHEMA

VERSION = "4.0.0-fjord"
FILE_CONFIG = "file"
TOPIC_CONFIG = "topic"
TOPICS_CONFIG = "topics"
BATCH_SIZE_CONFIG = "batch.size"
DEFAULT_BATCH_SIZE = 2000
FILENAME_FIELD = "filename"
POSITION_FIELD = "position"

CONFIG_DEF = (
    ConfigDef()
    .define(FILE_CONFIG, Type.STRING, None, None, Importance.HIGH,
            "Source filename. If not specified, the standard input will be used")
    .define(TOPIC_CONFIG, Type.STRING, validator=non_empty_string, importance=Importance.HIGH,
            documentation="The topic to publish data to")
    .define(BATCH_SIZE_CONFIG, Type.INT, DEFAULT_BATCH_SIZE, at_least(1), Importance.LOW,
            "The maximum number of records the source task can read from the file each time it "
            "is polled")
)


class FileStreamSourceConnector(SourceConnector):
    def __init__(self) -> None:
        self._props: dict[str, str] = {}

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        parsed = CONFIG_DEF.parse(props)
        if "," in str(parsed[TOPIC_CONFIG]):
            raise ConnectException("'topic' in FileStreamSourceConnector configuration requires "
                                   "definition of a single topic")
        self._props = dict(props)

    def task_class(self) -> type[Task]:
        return FileStreamSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        # One file, one reader: more tasks could only duplicate lines.
        return [dict(self._props)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return CONFIG_DEF

    def alter_offsets(self, connector_config: Mapping[str, str],
                      offsets: Mapping[Any, Mapping[str, Any] | None]) -> bool:
        for partition, offset in offsets.items():
            if offset is None:
                continue
            if FILENAME_FIELD not in dict(partition):
                raise ConnectException(f"Partition objects must contain the key '{FILENAME_FIELD}'")
            position = dict(offset).get(POSITION_FIELD)
            if not isinstance(position, int) or isinstance(position, bool) or position < 0:
                raise ConnectException(f"The value for the '{POSITION_FIELD}' key in the offset is "
                                       "expected to be a non-negative integer")
        return True


class FileStreamSourceTask(SourceTask):
    POLL_WAIT_S = 0.2

    def __init__(self) -> None:
        self._filename: str | None = None
        self._topic = ""
        self._batch_size = DEFAULT_BATCH_SIZE
        self._stream: BinaryIO | None = None
        self._position = 0
        self._pending = b""
        self._stopped = threading.Event()

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        parsed = CONFIG_DEF.parse(props)
        self._filename = parsed[FILE_CONFIG] or None
        self._topic = str(parsed[TOPIC_CONFIG])
        self._batch_size = int(parsed[BATCH_SIZE_CONFIG])
        self._stopped.clear()

    def _partition(self) -> dict[str, Any] | None:
        return {FILENAME_FIELD: self._filename} if self._filename else None

    def _open(self) -> BinaryIO | None:
        if self._filename is None:
            return sys.stdin.buffer
        try:
            stream = open(self._filename, "rb")  # noqa: SIM115 - kept open across polls
        except FileNotFoundError:
            return None
        stored = self.context.offset_storage_reader().offset({FILENAME_FIELD: self._filename})
        position = int((stored or {}).get(POSITION_FIELD, 0) or 0)
        stream.seek(position)
        self._position = position
        return stream

    def poll(self) -> list[SourceRecord] | None:
        if self._stream is None:
            self._stream = self._open()
            if self._stream is None:
                self._stopped.wait(self.POLL_WAIT_S)
                return None
        chunk = self._stream.read(1 << 20) if self._filename else self._stream.readline()
        if not chunk:
            self._stopped.wait(self.POLL_WAIT_S)
            return None
        data = self._pending + chunk
        records: list[SourceRecord] = []
        start = 0
        while len(records) < self._batch_size:
            end = data.find(b"\n", start)
            if end < 0:
                break
            line = data[start:end]
            consumed = end + 1
            if line.endswith(b"\r"):
                line = line[:-1]
            self._position += consumed - start
            start = consumed
            records.append(SourceRecord.create(
                self._partition(), {POSITION_FIELD: self._position}, self._topic, None,
                None, None, STRING_SCHEMA, line.decode("utf-8", "replace")))
        rest = data[start:]
        if len(records) >= self._batch_size and self._filename and self._stream is not None:
            # Leave the unread tail in the file so the next poll starts from a line boundary.
            self._stream.seek(self._position)
            self._pending = b""
        else:
            self._pending = rest
        return records

    def stop(self) -> None:
        self._stopped.set()
        stream, self._stream = self._stream, None
        if stream is not None and self._filename is not None:
            stream.close()
