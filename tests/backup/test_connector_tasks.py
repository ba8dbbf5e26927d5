"""The sink and source tasks driven directly, against a real local-folder store: resume
from the store, what may be committed, rotation, start positions, failing stores, restore
filters. (The same tasks under a real Connect worker are in test_acceptance.py.)"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from fjord.connect.api import (
    ConnectHeaders,
    RetriableException,
    SinkRecord,
    TimestampType,
    TopicPartition,
)
from fjord.connect.data import OPTIONAL_BYTES_SCHEMA
from fjord.connectors.objectstore.envelope import BackupRecord
from fjord.connectors.objectstore.formats import ObjectFormat
from fjord.connectors.objectstore.naming import object_key
from fjord.connectors.objectstore.runlog import read_runs
from fjord.connectors.objectstore.sink import ObjectStoreSinkTask
from fjord.connectors.objectstore.source import ObjectStoreSourceConnector, ObjectStoreSourceTask
from fjord.objectstore.local import LocalStore
from tests.backup.support import backed_up

TP = TopicPartition("t", 0)
# one format per kind of object: compressed as a whole, a container, a columnar file
FORMAT_CASES = [ObjectFormat("jsonl", "gzip"), ObjectFormat("avro", "zstd"),
                ObjectFormat("parquet", "zstd")]
FORMAT_IDS = [f"{f.name}-{f.compression}" for f in FORMAT_CASES]


class SinkContext:
    """What a worker gives a sink task: here it only remembers what the task asked for."""

    def __init__(self) -> None:
        self.rewinds: dict[TopicPartition, int] = {}
        self.commits = 0

    def configs(self) -> dict[str, str]:
        return {}

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        self.rewinds.update(offsets)

    def timeout(self, timeout_ms: int) -> None:
        pass

    def assignment(self) -> set[TopicPartition]:
        return set()

    def pause(self, *partitions: TopicPartition) -> None:
        pass

    def resume(self, *partitions: TopicPartition) -> None:
        pass

    def request_commit(self) -> None:
        self.commits += 1

    def errant_record_reporter(self) -> None:
        return None


def record(offset: int, ts: int | None = 1000, value: bytes | None = b"v", topic: str = "t",
           partition: int = 0) -> SinkRecord:
    headers = ConnectHeaders().add("h", b"\x00" + bytes([offset % 256]), OPTIONAL_BYTES_SCHEMA)
    return SinkRecord(topic, partition, OPTIONAL_BYTES_SCHEMA, offset.to_bytes(4, "big"),
                      OPTIONAL_BYTES_SCHEMA, value, ts, headers, offset, TimestampType.CREATE_TIME)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return tmp_path / "store"


def sink(root: Path, **config: str) -> Iterator[tuple[ObjectStoreSinkTask, SinkContext]]:
    task, context = ObjectStoreSinkTask(), SinkContext()
    task.initialize(context)  # type: ignore[arg-type]  # a fake with only what the sink calls
    task.start({"name": "rule", "store.url": f"file://{root}/",
                "rotate.schedule.interval.ms": "3600000", **config})
    yield task, context
    task.stop()


@pytest.fixture
def sink_task(root: Path) -> Iterator[tuple[ObjectStoreSinkTask, SinkContext]]:
    yield from sink(root)


def seed_objects(root: Path, offsets: Iterable[range], fmt: ObjectFormat = ObjectFormat("jsonl")) -> None:
    store = LocalStore(root)
    for span in offsets:
        records = [BackupRecord("t", 0, o, 1, key=b"k") for o in span]
        store.put(object_key("", "t", 0, span.start, fmt.extension), fmt.encode(records))


@pytest.mark.parametrize("fmt", FORMAT_CASES, ids=FORMAT_IDS)
def test_resumes_after_the_last_object_whatever_is_redelivered(root: Path, fmt: ObjectFormat) -> None:
    seed_objects(root, [range(0, 5), range(5, 10)], fmt)
    for task, context in sink(root, format=fmt.name, compression=fmt.compression):
        task.open([TP])
        assert context.rewinds == {TP: 10}
        task.put([record(o) for o in range(3, 15)])  # redelivered from an older commit
        assert task.pre_commit({TP: 15}) == {TP: 10}, "nothing past the store may be committed"
        task.flush({TP: 15})
        assert task.pre_commit({TP: 15}) == {TP: 15}
    stored = backed_up(LocalStore(root), "", "t")[0]
    assert [r.offset for r in stored] == list(range(15))
    assert all(o.key.endswith("." + fmt.extension) for o in LocalStore(root).list("t/"))
    assert stored[-1].headers == [("h", b"\x00\x0e")] and stored[-1].key == (14).to_bytes(4, "big")


def test_store_unreadable_when_partitions_are_assigned(root: Path) -> None:
    seed_objects(root, [range(0, 10)])
    for task, context in sink(root):
        root.rename(root.parent / "away")
        root.write_bytes(b"")  # the store cannot be read: where does the partition continue?
        task.open([TP])
        assert context.rewinds == {}
        task.put([record(o) for o in range(3, 15)])  # dropped, not guessed at
        assert task.pre_commit({TP: 15}) == {}
        root.unlink()
        (root.parent / "away").rename(root)
        task.resolve_at = 0.0
        task.put([record(15)])  # resolves: back to right after the store's last record
        assert context.rewinds == {TP: 10}
        assert task.pre_commit({TP: 16}) == {TP: 10}
        task.put([record(o) for o in range(10, 17)])  # what the rewind fetches again
        task.flush({TP: 17})
    assert [r.offset for r in backed_up(LocalStore(root), "", "t")[0]] == list(range(17))


def test_rotation_by_count_and_by_bytes(root: Path) -> None:
    for task, _ in sink(root, **{"flush.size": "4"}):
        task.open([TP])
        task.put([record(o) for o in range(10)])
        assert task.pre_commit({TP: 10}) == {TP: 8}
    keys = [o.key.rsplit("+", 1)[1] for o in LocalStore(root).list("t/")]
    assert keys == ["00000000000000000000.jsonl", "00000000000000000004.jsonl"]
    for task, _ in sink(root / "b", **{"flush.bytes": "50"}):
        task.open([TP])
        task.put([record(o, value=b"x" * 20) for o in range(4)])  # 27 payload bytes each
        assert len(list(LocalStore(root / "b").list("t/"))) == 2  # every second record tips it


def test_start_at_an_offset_and_at_a_time(root: Path) -> None:
    for task, context in sink(root, **{"start.position": "7"}):
        task.open([TP])
        assert context.rewinds == {TP: 7}
    for task, context in sink(root / "time", **{"start.position": "1970-01-01T00:00:02Z"}):
        task.open([TP])
        assert context.rewinds == {}
        task.put([record(0, ts=1000), record(1, ts=2500), record(2, ts=1500), record(3, ts=None)])
        assert task.pre_commit({TP: 4}) == {TP: 1}
        task.flush({TP: 4})
    # from the first record at or after the time on, everything (as offsetsForTimes)
    assert [r.offset for r in backed_up(LocalStore(root / "time"), "", "t")[0]] == [1, 2, 3]
    for position in ("earliest", "latest"):
        for task, context in sink(root / position, **{"start.position": position}):
            task.open([TP])
            assert context.rewinds == {}


def test_failed_store_keeps_records_and_history_records_the_failure(root: Path) -> None:
    for task, _ in sink(root, **{"buffer.max.bytes": "200"}):
        task.open([TP])
        task.put([record(0)])
        task.flush({TP: 1})
        root.rename(root.parent / "away")
        root.write_bytes(b"")  # the store is gone: every write fails
        task.put([record(o) for o in range(1, 4)])
        with pytest.raises(RetriableException):
            task.flush({TP: 4})
        assert task.pre_commit({TP: 4}) == {TP: 1}
        task.put([record(o, value=b"x" * 100) for o in range(4, 8)])
        with pytest.raises(RetriableException, match="buffered while the store fails"):
            task.put([record(8)])  # past buffer.max.bytes: the worker must hold off
        root.unlink()
        (root.parent / "away").rename(root)
        task.put([record(8)])
        task.flush({TP: 9})
    store = LocalStore(root)
    assert [r.offset for r in backed_up(store, "", "t")[0]] == list(range(9))
    runs = read_runs(store, "", "rule")
    assert [r.status for r in runs].count("failed") >= 1
    failed = next(r for r in runs if r.status == "failed")
    assert failed.records == 0 and "cannot write" in failed.errors[0]
    assert sum(r.records for r in runs) == 9


def test_close_writes_what_is_buffered(root: Path) -> None:
    for task, _ in sink(root):
        task.open([TP])
        task.put([record(0), record(1)])
        task.close([TP])
    assert [r.offset for r in backed_up(LocalStore(root), "", "t")[0]] == [0, 1]
    assert read_runs(LocalStore(root), "", "rule")[-1].trigger == "close"


def test_refuses_non_bytes_payloads(root: Path) -> None:
    for task, _ in sink(root):
        task.open([TP])
        bad = record(0)
        bad.value = {"a": 1}
        with pytest.raises(Exception, match="ByteArrayConverter"):
            task.put([bad])


# ---------------------------------------------------------------- source


class OffsetReader:
    def __init__(self, offsets: dict[tuple[str, int], dict[str, Any]]) -> None:
        self.offsets = offsets

    def offset(self, partition: Mapping[str, Any]) -> dict[str, Any] | None:
        return self.offsets.get((partition["topic"], partition["partition"]))

    def offsets_of(self, partitions: Iterable[Mapping[str, Any]]) -> dict[Any, dict[str, Any]]:
        return {}


class SourceContext:
    def __init__(self, reader: OffsetReader) -> None:
        self.reader = reader

    def configs(self) -> dict[str, str]:
        return {}

    def offset_storage_reader(self) -> OffsetReader:
        return self.reader


def restore_all(root: Path, stored: dict[tuple[str, int], dict[str, Any]] | None = None,
                **config: str) -> list[Any]:
    props = {"name": "r", "store.url": f"file://{root}/", "restore.to.topic": "t2", **config}
    connector = ObjectStoreSourceConnector()
    connector.start(props)
    [task_props] = connector.task_configs(1)
    task = ObjectStoreSourceTask()
    # a fake context with only what the source task calls, not the whole SourceTaskContext
    task.initialize(SourceContext(OffsetReader(stored or {})))  # type: ignore[arg-type]
    task.start(task_props)
    out = []
    while batch := task.poll():
        out.extend(batch)
    return out


@pytest.mark.parametrize("fmt", FORMAT_CASES, ids=FORMAT_IDS)
def test_restore_resumes_after_its_stored_offset_and_filters_by_time(root: Path, fmt: ObjectFormat) -> None:
    store = LocalStore(root)
    for first in (0, 5):
        records = [BackupRecord("t", 1, o, 100 * o, key=bytes([o]), headers=[("h", None)])
                   for o in range(first, first + 5)]
        store.put(object_key("", "t", 1, first, fmt.extension), fmt.encode(records))
    everything = restore_all(root)
    assert [(r.topic, r.kafka_partition, r.key, r.timestamp) for r in everything] == [
        ("t2", 1, bytes([o]), 100 * o) for o in range(10)]
    assert [h.value for h in everything[0].headers] == [None]
    assert [r.source_offset["offset"] for r in restore_all(root, {("t", 1): {"offset": 6}})] == [7, 8, 9]
    window = {"restore.from.time.ms": "200", "restore.to.time.ms": "500"}
    assert [r.timestamp for r in restore_all(root, None, **window)] == [200, 300, 400]
