"""FileStreamSink: writes each record's value as a line, as Kafka's example sink does."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import TextIO

from fjord.connect.api import SinkConnector, SinkRecord, SinkTask, Task, TopicPartition
from fjord.connect.config_def import ConfigDef, Importance, Type

VERSION = "4.0.0-fjord"
FILE_CONFIG = "file"

CONFIG_DEF = ConfigDef().define(FILE_CONFIG, Type.STRING, None, None, Importance.HIGH,
                                "Destination filename. If not specified, the standard output "
                                "will be used")


class FileStreamSinkConnector(SinkConnector):
    def __init__(self) -> None:
        self._props: dict[str, str] = {}

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        CONFIG_DEF.parse(props)
        self._props = dict(props)

    def task_class(self) -> type[Task]:
        return FileStreamSinkTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        # Several tasks appending to one file would interleave lines: one task, as in Kafka.
        return [dict(self._props)]

    def stop(self) -> None:
        pass

    def config(self) -> ConfigDef:
        return CONFIG_DEF


class FileStreamSinkTask(SinkTask):
    def __init__(self) -> None:
        self._filename: str | None = None
        self._out: TextIO | None = None

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        self._filename = CONFIG_DEF.parse(props)[FILE_CONFIG] or None
        if self._filename is None:
            self._out = sys.stdout
        else:
            self._out = open(self._filename, "a", encoding="utf-8")  # noqa: SIM115

    def put(self, records: list[SinkRecord]) -> None:
        assert self._out is not None
        out = self._out
        out.write("".join(f"{_text(record.value)}\n" for record in records))

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        if self._out is not None:
            self._out.flush()
            if self._filename is not None:
                os.fsync(self._out.fileno())

    def stop(self) -> None:
        out, self._out = self._out, None
        if out is not None and self._filename is not None:
            out.flush()
            out.close()


def _text(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", "replace")
    if value is None:
        return "null"
    return str(value)
