"""The cluster's metadata on one node: cluster id, topics (ids, partitions, configs), ids of
deleted topics, the producer-id high-water mark, and further sections (`extra`: the
security metadata of metadata/security.py).

Why a journal in every log dir: the document must survive kill -9 and the loss of any one
file, and a change must cost what changed, not a rewrite of every topic (10,000 partitions
were 19 ms each when every change rewrote one JSON document). Each log dir holds a copy of
`fjord-metadata.log`: JSON lines, the first a snapshot of the whole state, each further one
a change with a sequence number. A change appends one line to every copy and fsyncs them;
`batch()` lets one CreateTopics request share the fsyncs. At start-up the copy with the
highest sequence number wins and every copy is rewritten as a fresh snapshot (so a stale,
torn or missing copy heals); a copy is also rewritten whenever its journal has grown past
the snapshot's own size, which keeps the amortised cost of a change constant.

Older Fjord versions kept one `fjord-metadata.json` in the first log dir; it is read once,
migrated, and renamed `fjord-metadata.json.migrated` (kept, never deleted).
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fjord.fsutil import atomic_write
from fjord.storage.logdirs import LogDirError

log = logging.getLogger("fjord.metadata")

FILE_NAME = "fjord-metadata.log"
LEGACY_FILE = "fjord-metadata.json"
MIN_COMPACT_LINES = 1000


@dataclass
class TopicInfo:
    name: str
    topic_id: uuid.UUID
    partitions: int
    configs: dict[str, str] = field(default_factory=dict)
    internal: bool = False

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "id": str(self.topic_id), "partitions": self.partitions,
                "configs": self.configs, "internal": self.internal}

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> TopicInfo:
        return cls(raw["name"], uuid.UUID(raw["id"]), int(raw["partitions"]),
                   dict(raw.get("configs", {})), bool(raw.get("internal", False)))


def new_cluster_id() -> str:
    """Kafka's form: a base64url UUID without padding."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


@dataclass
class _Copy:
    """One log dir's journal as read at start-up."""

    directory: Path
    seq: int
    state: dict[str, Any]


class MetadataStore:
    def __init__(self, directories: list[Path], cluster_id: str | None = None,
                 *, expect_existing: bool = False) -> None:
        """`expect_existing`: the dirs were initialised before (meta.properties), so finding
        no metadata at all means it was lost, and starting empty would hide the topics."""
        self.directories = list(directories)
        self.cluster_id = cluster_id or new_cluster_id()
        self.topics: dict[str, TopicInfo] = {}
        self.deleted: dict[uuid.UUID, str] = {}  # ids of deleted topics -> their names
        self.next_producer_id = 1000
        self.extra: dict[str, Any] = {}  # other sections of cluster metadata (security, ...)
        self.log_dir_ids: set[str] = set()  # directory.id of every log dir this broker had
        self.seq = 0
        self._by_id: dict[uuid.UUID, TopicInfo] = {}
        self._fds: dict[Path, int] = {}
        self._lines = 0
        self._snapshot_lines = MIN_COMPACT_LINES
        self._batch_depth = 0
        self._dirty = False
        self.migrated_from: Path | None = None
        for directory in self.directories:
            directory.mkdir(parents=True, exist_ok=True)
        copies: list[_Copy] = []
        broken: list[LogDirError] = []
        for directory in self.directories:
            try:
                copy = self._read_copy(directory)
            except LogDirError as exc:  # another dir's copy may be whole
                broken.append(exc)
                continue
            if copy is not None:
                copies.append(copy)
        if broken and not copies:
            raise broken[0]
        for problem in broken:
            log.warning("%s; another log dir's copy is used and this one rewritten", problem)
        if copies:
            best = max(copies, key=lambda c: c.seq)
            self._restore(best.state, cluster_id, best.directory / FILE_NAME)
            self.seq = best.seq
            for copy in copies:
                if copy.seq != best.seq:
                    log.warning("metadata copy in %s was behind (change %d of %d): rewritten",
                                copy.directory, copy.seq, best.seq)
            for directory in self.directories:
                if directory not in {c.directory for c in copies}:
                    log.warning("metadata copy missing in %s: rewritten from %s",
                                directory, best.directory)
        else:
            legacy = next((d / LEGACY_FILE for d in self.directories
                           if (d / LEGACY_FILE).exists()), None)
            if legacy is not None:
                self._restore(json.loads(legacy.read_text()), cluster_id, legacy)
                self.migrated_from = legacy
            elif expect_existing:
                raise LogDirError(
                    f"{FILE_NAME} is missing from every log dir ({', '.join(map(str, self.directories))}) "
                    "while they hold partitions: restore it from a backup or another copy "
                    "(nothing was changed)")
        self._rewrite_all()
        if self.migrated_from is not None:
            os.replace(self.migrated_from, self.migrated_from.with_name(LEGACY_FILE + ".migrated"))
            log.info("migrated %s to %s in every log dir", self.migrated_from, FILE_NAME)

    # --- reading --------------------------------------------------------------------------

    @staticmethod
    def _read_copy(directory: Path) -> _Copy | None:
        try:
            raw = (directory / FILE_NAME).read_bytes()
        except FileNotFoundError:
            return None
        state: dict[str, Any] | None = None
        seq = 0
        lines = raw.split(b"\n")
        for number, line in enumerate(lines):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                if number >= len(lines) - 2:  # a torn last line: the change was never acknowledged
                    log.warning("ignoring a torn last line of %s", directory / FILE_NAME)
                    break
                raise LogDirError(f"{directory / FILE_NAME} is corrupt at line {number + 1}: "
                                  "move it away to use another log dir's copy") from None
            if "snapshot" in entry:
                state = entry["snapshot"]
                state["topics"] = {t["name"]: t for t in state["topics"]}
            elif state is not None:
                _apply(state, entry)
            seq = int(entry.get("seq", seq))
        if state is None:
            return None
        state["topics"] = list(state["topics"].values())
        return _Copy(directory, seq, state)

    def _restore(self, data: dict[str, Any], wanted_cluster: str | None, source: Path) -> None:
        if wanted_cluster and data["cluster_id"] != wanted_cluster:
            raise LogDirError(
                f"{source} belongs to cluster {data['cluster_id']}, not {wanted_cluster}: "
                "point log.dirs at this cluster's directories or drop cluster.id")
        self.cluster_id = data["cluster_id"]
        self.next_producer_id = int(data.get("next_producer_id", 1000))
        self.extra = dict(data.get("extra", {}))
        self.log_dir_ids = set(data.get("log_dir_ids", []))
        for raw in data["topics"]:
            info = TopicInfo.from_json(raw)
            self.topics[info.name] = info
            self._by_id[info.topic_id] = info
        self.deleted = {uuid.UUID(k): v for k, v in data.get("deleted", {}).items()}

    def _snapshot(self) -> dict[str, Any]:
        return {
            "cluster_id": self.cluster_id,
            "next_producer_id": self.next_producer_id,
            "extra": self.extra,
            "log_dir_ids": sorted(self.log_dir_ids),
            "topics": [t.to_json() for t in self.topics.values()],
            "deleted": {str(k): v for k, v in self.deleted.items()},
        }

    # --- writing --------------------------------------------------------------------------

    def _rewrite_all(self) -> None:
        """Every copy becomes one snapshot line (durably), and is reopened for appending."""
        line = json.dumps({"seq": self.seq, "snapshot": self._snapshot()}) + "\n"
        self.close()
        for directory in self.directories:
            path = directory / FILE_NAME
            atomic_write(path, line)
            self._fds[directory] = os.open(path, os.O_WRONLY | os.O_APPEND)
        self._lines = 0
        self._snapshot_lines = max(MIN_COMPACT_LINES, len(self.topics))

    def _append(self, change: dict[str, Any]) -> None:
        self.seq += 1
        data = (json.dumps({"seq": self.seq, **change}) + "\n").encode()
        for fd in self._fds.values():
            if os.write(fd, data) != len(data):
                raise OSError(28, "short write to the metadata journal")
        self._lines += 1
        self._dirty = True
        if self._batch_depth == 0:
            self.sync()

    def sync(self) -> None:
        """fsync every copy; compacts a journal that has outgrown its snapshot."""
        if not self._dirty:
            return
        for fd in self._fds.values():
            os.fsync(fd)
        self._dirty = False
        if self._lines > self._snapshot_lines:
            try:
                self._rewrite_all()
            except OSError as exc:  # the change itself is durable: compaction can wait
                log.warning("cannot compact the metadata journal (retried later): %s", exc)
                self.close()
                for directory in self.directories:
                    self._fds[directory] = os.open(directory / FILE_NAME, os.O_WRONLY | os.O_APPEND)
                self._lines = 0

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Changes made inside share one fsync per copy, done on leaving the block."""
        self._batch_depth += 1
        try:
            yield
        finally:
            self._batch_depth -= 1
            if self._batch_depth == 0:
                self.sync()

    def close(self) -> None:
        for fd in self._fds.values():
            os.close(fd)
        self._fds.clear()

    # --- changes --------------------------------------------------------------------------

    def by_id(self, topic_id: uuid.UUID) -> TopicInfo | None:
        return self._by_id.get(topic_id)

    def add_topic(self, name: str, partitions: int, configs: dict[str, str],
                  internal: bool = False) -> TopicInfo:
        info = TopicInfo(name, uuid.uuid4(), partitions, dict(configs), internal)
        self.topics[name] = info
        self._by_id[info.topic_id] = info
        try:
            self._append({"op": "topic", "topic": info.to_json()})
        except OSError:
            del self.topics[name]  # memory and disk must agree
            del self._by_id[info.topic_id]
            raise
        return info

    def update_topic(self, info: TopicInfo) -> None:
        """Record a changed partition count or config of a known topic."""
        self._append({"op": "topic", "topic": info.to_json()})

    def delete_topic(self, name: str) -> TopicInfo:
        info = self.topics.pop(name)
        self._by_id.pop(info.topic_id, None)
        self.deleted[info.topic_id] = name
        self._append({"op": "delete", "name": name, "id": str(info.topic_id)})
        return info

    def save_extra(self, section: str) -> None:
        """Record the current value of one `extra` section (ACLs, credentials, quotas)."""
        self._append({"op": "extra", "section": section, "value": self.extra.get(section)})

    def record_log_dirs(self, directory_ids: set[str]) -> None:
        """Remember the log dirs this broker has (so a later start can tell a missing dir)."""
        if not directory_ids <= self.log_dir_ids:
            self.log_dir_ids |= directory_ids
            self._append({"op": "dirs", "ids": sorted(self.log_dir_ids)})

    def allocate_producer_ids(self, count: int = 1) -> int:
        first = self.next_producer_id
        self.next_producer_id += count
        self._append({"op": "pid", "next": self.next_producer_id})
        return first


def _apply(state: dict[str, Any], entry: dict[str, Any]) -> None:
    """Replay one journal change onto a snapshot whose topics are keyed by name."""
    op = entry.get("op")
    if op == "topic":
        state["topics"][entry["topic"]["name"]] = entry["topic"]
    elif op == "delete":
        state["topics"].pop(entry["name"], None)
        state.setdefault("deleted", {})[entry["id"]] = entry["name"]
    elif op == "extra":
        state.setdefault("extra", {})[entry["section"]] = entry["value"]
    elif op == "dirs":
        state["log_dir_ids"] = entry["ids"]
    elif op == "pid":
        state["next_producer_id"] = int(entry["next"])
