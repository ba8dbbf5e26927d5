"""Source offset storage: memory, a file (standalone), a compacted topic (distributed).

Keys and values use Kafka's layout — key `["<connector>", {partition}]`, value `{offset}` as
schemaless JSON — so the offsets topic reads the same as one written by a Java worker.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from fjord.connect.storage.kafka_log import ClientConfig, KafkaLog, dump_json, load_json
from fjord.fsutil import atomic_write


def source_offset_key(connector: str, partition: Mapping[str, Any]) -> str:
    return json.dumps([connector, dict(partition)], separators=(",", ":"), sort_keys=True)


def parse_source_offset_key(key: str) -> tuple[str, dict[str, Any]] | None:
    try:
        doc = json.loads(key)
    except ValueError:
        return None
    if isinstance(doc, list) and len(doc) == 2 and isinstance(doc[0], str) and isinstance(doc[1], dict):
        return doc[0], doc[1]
    return None


class OffsetBackingStore:
    """In-memory map of key → offset; subclasses make it durable."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._data: dict[str, dict[str, Any]] = {}

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def read_to_end(self) -> None:
        """Until the in-memory view holds everything written so far (a topic store may lag)."""

    def get(self, connector: str, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        with self._lock:
            found = self._data.get(source_offset_key(connector, partition))
            return dict(found) if found is not None else None

    def put(self, connector: str, offsets: Mapping[str, Mapping[str, Any] | None]) -> None:
        """`offsets`: partition key json → offset (None deletes). Durable on return."""
        raise NotImplementedError

    def connector_offsets(self, connector: str) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        with self._lock:
            items = list(self._data.items())
        out = []
        for key, value in items:
            parsed = parse_source_offset_key(key)
            if parsed and parsed[0] == connector:
                out.append((parsed[1], dict(value)))
        return out

    def _apply(self, key: str, value: Mapping[str, Any] | None) -> None:
        with self._lock:
            if value is None:
                self._data.pop(key, None)
            else:
                self._data[key] = dict(value)


class FileOffsetBackingStore(OffsetBackingStore):
    """`offset.storage.file.filename`: rewritten atomically (temp file + rename) on each flush."""

    def __init__(self, path: str | Path) -> None:
        super().__init__()
        self.path = Path(path)
        self._write_lock = threading.Lock()

    def start(self) -> None:
        if self.path.exists():
            text = self.path.read_text(encoding="utf-8").strip()
            if text:
                loaded = json.loads(text)
                with self._lock:
                    self._data = {k: v for k, v in loaded.items() if isinstance(v, dict)}

    def put(self, connector: str, offsets: Mapping[str, Mapping[str, Any] | None]) -> None:
        for key, value in offsets.items():
            self._apply(key, value)
        with self._write_lock:
            with self._lock:
                snapshot = json.dumps(self._data, sort_keys=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self.path, snapshot)


class MemoryOffsetBackingStore(OffsetBackingStore):
    def put(self, connector: str, offsets: Mapping[str, Mapping[str, Any] | None]) -> None:
        for key, value in offsets.items():
            self._apply(key, value)


class KafkaOffsetBackingStore(OffsetBackingStore):
    """`offset.storage.topic`: distributed mode's source offsets."""

    def __init__(self, client_config: ClientConfig, topic: str) -> None:
        super().__init__()
        self.log = KafkaLog(client_config, topic, self._read)

    def start(self) -> None:
        self.log.start()

    def stop(self) -> None:
        self.log.stop()

    def read_to_end(self) -> None:
        # The reader thread may still be applying older records (a task's last commit) that
        # would otherwise land after our own tombstones in the view.
        self.log.read_to_end()

    def _read(self, key: bytes | None, value: bytes | None) -> None:
        if key is not None:
            self._apply(key.decode(), load_json(value))

    def put(self, connector: str, offsets: Mapping[str, Mapping[str, Any] | None]) -> None:
        for key, value in offsets.items():
            self.log.send(key.encode(), None if value is None else dump_json(dict(value)), flush=False)
            self._apply(key, value)
        self.log.flush()


class ConnectorOffsetReader:
    """OffsetStorageReader for one connector (what SourceTaskContext hands out)."""

    def __init__(self, store: OffsetBackingStore, connector: str) -> None:
        self._store = store
        self._connector = connector

    def offset(self, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        return self._store.get(self._connector, partition)

    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[Any, dict[str, Any]]:
        out: dict[Any, dict[str, Any]] = {}
        for partition in partitions:
            found = self.offset(partition)
            if found is not None:
                out[json.dumps(dict(partition), sort_keys=True)] = found
        return out
