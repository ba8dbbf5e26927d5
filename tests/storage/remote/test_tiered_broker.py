"""Tiered storage acceptance: a real broker copying to a real S3-protocol server (moto, its
own process) and to a folder, read back by confluent-kafka, kafka-python and kcat.

Sizes are kept modest for CI on two cores (the issue's 50 MB and more run in
`bench/tiered_read.py`): 20 MB per backend through 1 MiB segments and a 2 MiB local retention
per partition is already more than three times as much data remote as local, about twenty
remote segments and over a hundred ranged reads per backend. Every wait polls with a
generous deadline.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)
from kio.schema.errors import ErrorCode

from fjord.objectstore.local import LocalStore
from fjord.objectstore.s3 import S3Options, S3Store
from fjord.objectstore.store import ObjectStore
from fjord.protocol.records import read_header
from fjord.storage.remote.metadata import PartitionMetadata
from tests.backup.support import fjord
from tests.storage.remote.support import (
    EARLIEST,
    EARLIEST_LOCAL,
    LATEST,
    LATEST_TIERED,
    create_tiered_topic,
    end_offsets,
    list_offsets,
    local_bytes,
    produce,
    produce_transactions,
    read_confluent,
    read_kafka_python,
    read_kcat,
    remote_metadata,
    s3_overrides,
    tiered_overrides,
    value_of,
)
from tests.support.broker import BrokerProcess, free_port
from tests.support.moto_server import MotoServer
from tests.support.raw_client import RawClient
from tests.support.wait import wait_until

MB = 1024 * 1024
FETCH = 1


@dataclass
class Tiered:
    broker: BrokerProcess
    data_dir: Path
    store: ObjectStore
    prefix: str

    def objects(self, topic: str | None = None) -> set[str]:
        keys = {o.key for o in self.store.list(self.prefix)}
        return {k for k in keys if topic is None or k[len(self.prefix):].startswith(f"{topic}-")}

    def metadata(self, topic: str) -> dict[int, PartitionMetadata]:
        return remote_metadata(self.data_dir, topic)


def _folder(tmp: Path, extra: dict[str, str] | None = None) -> Tiered:
    root = tmp / "remote"
    overrides = {"admin.listener": f"http://127.0.0.1:{free_port()}", **(extra or {})}
    broker = BrokerProcess(tmp / "data", tiered_overrides(f"file://{root}/", overrides)).start()
    return Tiered(broker, tmp / "data", LocalStore(root), "")


def _s3(tmp: Path, server: MotoServer, extra: dict[str, str] | None = None) -> Tiered:
    bucket = f"tier-{uuid.uuid4().hex[:10]}"
    server.create_bucket(bucket)
    assert server.credentials is not None
    creds = server.credentials
    overrides = {**tiered_overrides(f"s3://{bucket}/fjord/", extra),
                 **s3_overrides(server.endpoint, creds.access_key, creds.secret_key)}
    broker = BrokerProcess(tmp / "data", overrides).start()
    store = S3Store(bucket, S3Options(endpoint=server.endpoint, access_key=creds.access_key,
                                      secret_key=creds.secret_key))
    return Tiered(broker, tmp / "data", store, "fjord/")


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tiered]:
    tiered = _folder(tmp_path_factory.mktemp("folder"))
    yield tiered
    tiered.broker.stop()


@pytest.fixture(scope="module")
def s3(tmp_path_factory: pytest.TempPathFactory, moto_server: MotoServer) -> Iterator[Tiered]:
    tiered = _s3(tmp_path_factory.mktemp("s3"), moto_server)
    yield tiered
    tiered.broker.stop()


def expected_rows(count: int, partitions: int, value_size: int = 1000) -> list[tuple[int, int, str, str]]:
    rows = []
    for i in range(count):
        rows.append((i % partitions, i // partitions, f"k{i}", value_of(i, value_size)))
    return sorted(rows)


def wait_tiered(tiered: Tiered, topic: str, partitions: int, local_limit: int,
                timeout: float = 180) -> None:
    """Until every partition's local log is within `local_limit` bytes and the remote tier
    holds every rolled segment (so nothing changes any more while the test looks)."""
    def settled() -> bool:
        metadata = tiered.metadata(topic)
        for p in range(partitions):
            pm = metadata.get(p)
            local = list_local_start(tiered, topic, p)
            if pm is None or not pm.finished or local_bytes(tiered.data_dir, topic, p) > local_limit:
                return False
            if pm.copied_upto < local or pm.copied_upto < list_active_base(tiered, topic, p):
                return False  # every rolled segment is remote: nothing moves any more
        return True

    wait_until(settled, timeout, 0.5, f"{topic} to be tiered")


def list_active_base(tiered: Tiered, topic: str, partition: int) -> int:
    bases = sorted(int(p.stem) for p in (tiered.data_dir / f"{topic}-{partition}").glob("*.log"))
    return bases[-1] if bases else 0


def list_local_start(tiered: Tiered, topic: str, partition: int) -> int:
    bases = sorted(int(p.stem) for p in (tiered.data_dir / f"{topic}-{partition}").glob("*.log"))
    return bases[0] if bases else 0


def check_objects_match_metadata(tiered: Tiered, topic: str) -> None:
    """Every readable remote segment has both objects, and no object belongs to anything
    else: nothing half copied is left in the store once the broker has settled (a copy in
    flight is waited for)."""
    def compare() -> tuple[set[str], set[str], list[Any]]:
        expected = set()
        unfinished: list[Any] = []
        for pm in tiered.metadata(topic).values():
            unfinished += pm.unfinished()
            for meta in pm.finished:
                stem = (f"{tiered.prefix}{topic}-{meta.topic_id}/{meta.partition}/"
                        f"{meta.start_offset:020d}-{meta.segment_id}")
                expected |= {f"{stem}.log", f"{stem}.indexes"}
        return tiered.objects(topic), expected, unfinished

    def matched() -> bool:
        actual, expected, unfinished = compare()
        return not unfinished and actual == expected

    try:
        wait_until(matched, 60, 0.5, "the store to match the remote metadata")
    except AssertionError:
        actual, expected, unfinished = compare()
        raise AssertionError(f"unfinished: {unfinished}; objects without metadata: "
                             f"{actual - expected}; missing objects: {expected - actual}") from None


def check_coverage(tiered: Tiered, topic: str, partitions: int) -> None:
    """Remote segments and local segments together hold every offset from 0 with no gap:
    no local segment went before its copy finished."""
    for p in range(partitions):
        pm = tiered.metadata(topic)[p]
        position = 0
        for meta in pm.finished:
            assert meta.start_offset == position, f"gap in the remote tier of {topic}-{p} at {position}"
            position = meta.end_offset + 1
        assert list_local_start(tiered, topic, p) <= position, f"{topic}-{p}: hole below the local log"


def raw_list_offsets(broker: BrokerProcess, topic: str, partitions: int, spec: int) -> dict[int, int]:
    answers = list_offsets(broker, topic, partitions, spec)
    assert all(code == 0 for code, _ in answers.values()), answers
    return {p: offset for p, (_code, offset) in answers.items()}


# --- acceptance: reading a tiered topic back -------------------------------------------------


@pytest.mark.parametrize("backend", ["folder", "s3"])
def test_remote_tier_serves_every_client_identically(request: pytest.FixtureRequest, backend: str) -> None:
    tiered: Tiered = request.getfixturevalue(backend)
    topic, partitions = f"big-{backend}", 2
    create_tiered_topic(tiered.broker.bootstrap, topic, partitions, MB, 2 * MB)
    count = produce(tiered.broker.bootstrap, topic, partitions, 20)
    wait_tiered(tiered, topic, partitions, 3 * MB + 64 * 1024)

    ends = end_offsets(tiered.broker.bootstrap, topic, partitions)
    assert sum(ends.values()) == count
    earliest = raw_list_offsets(tiered.broker, topic, partitions, EARLIEST)
    local = raw_list_offsets(tiered.broker, topic, partitions, EARLIEST_LOCAL)
    tiered_upto = raw_list_offsets(tiered.broker, topic, partitions, LATEST_TIERED)
    latest = raw_list_offsets(tiered.broker, topic, partitions, LATEST)
    metadata = tiered.metadata(topic)
    for p in range(partitions):
        assert earliest[p] == 0
        assert local[p] == list_local_start(tiered, topic, p) > 0
        assert tiered_upto[p] == metadata[p].copied_upto - 1 >= local[p] - 1
        assert latest[p] == ends[p]
    # an older client's EARLIEST is the remote start too
    assert list_offsets(tiered.broker, topic, partitions, EARLIEST, version=7)[0] == (0, 0)

    check_objects_match_metadata(tiered, topic)
    check_coverage(tiered, topic, partitions)

    expected = expected_rows(count, partitions)
    assert sorted(read_confluent(tiered.broker.bootstrap, topic, partitions)) == expected
    assert sorted(read_kafka_python(tiered.broker.bootstrap, topic, partitions)) == expected
    assert sorted(read_kcat(tiered.broker.bootstrap, topic, partitions)) == expected


def test_read_committed_from_the_remote_tier(folder: Tiered) -> None:
    topic, partitions = "txn-tiered", 2
    create_tiered_topic(folder.broker.bootstrap, topic, partitions, 256 * 1024, 300 * 1024)
    committed = produce_transactions(folder.broker.bootstrap, topic, partitions, 30, 200)
    wait_tiered(folder, topic, partitions, 600 * 1024)
    aborted_remote = [a for pm in folder.metadata(topic).values() for meta in pm.finished
                      for a in [meta] if meta.sections.get("txn", [0, 0])[1] > 0]
    assert aborted_remote, "no aborted transaction reached the remote tier"
    for reader in (read_confluent, read_kafka_python, read_kcat):
        rows = reader(folder.broker.bootstrap, topic, partitions, committed=True)
        values = [value for _p, _o, _k, value in rows]
        assert len(values) == len(committed) and set(values) == committed, reader.__name__
    everything = read_confluent(folder.broker.bootstrap, topic, partitions)
    assert len(everything) == 30 * 200  # read_uncommitted sees the aborted ones too


def test_fetch_many_remote_partitions_and_storage_errors(folder: Tiered) -> None:
    """One Fetch reading four partitions from the remote tier; a corrupt object answers
    KAFKA_STORAGE_ERROR for its partition only and is never served; so does a missing one."""
    topic, partitions = "many", 4
    create_tiered_topic(folder.broker.bootstrap, topic, partitions, 256 * 1024, 256 * 1024)
    produce(folder.broker.bootstrap, topic, partitions, 6)
    wait_tiered(folder, topic, partitions, 600 * 1024)
    answer = fetch(folder.broker, topic, dict.fromkeys(range(partitions), 0))
    for p in range(partitions):
        assert answer[p][0] == 0 and len(answer[p][1]) > 0
        assert read_header(answer[p][1]).base_offset == 0

    # ListOffsets by timestamp answers from the remote segments' time indexes
    local_start = list_local_start(folder, topic, 0)
    remote_segments = [m for m in folder.metadata(topic)[0].finished if m.end_offset < local_start]
    assert len(remote_segments) >= 3  # the probe below must not read segment 1 (damaged later)
    later = fetch(folder.broker, topic, {0: remote_segments[-1].start_offset})[0][1]
    header = read_header(later)
    found = list_offsets(folder.broker, topic, 1, header.max_timestamp)[0]
    assert found[0] == 0 and found[1] <= header.last_offset < local_start
    assert list_offsets(folder.broker, topic, 1, 0)[0] == (0, 0)

    # the first read cached the first segments' chunks: damage the second ones, unread so far
    metadata = folder.metadata(topic)
    first = {p: metadata[p].finished[1] for p in range(partitions)}
    log_key = f"{topic}-{first[0].topic_id}/0/{first[0].start_offset:020d}-{first[0].segment_id}.log"
    path = folder.store.root / log_key  # type: ignore[attr-defined]
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF  # inside the first batch's records: only its CRC can tell
    path.write_bytes(bytes(data))
    path_1 = (folder.store.root  # type: ignore[attr-defined]
              / f"{topic}-{first[1].topic_id}/1/{first[1].start_offset:020d}-{first[1].segment_id}.log")
    path_1.unlink()

    answer = fetch(folder.broker, topic, {p: first[p].start_offset for p in range(partitions)})
    assert answer[0] == (ErrorCode.kafka_storage_error, b"")
    assert answer[1] == (ErrorCode.kafka_storage_error, b"")
    assert answer[2][0] == 0 and len(answer[2][1]) > 0
    assert answer[3][0] == 0 and len(answer[3][1]) > 0
    log_text = folder.broker.log_path.read_text(errors="replace")
    assert "fails its CRC check" in log_text and "is missing" in log_text


def fetch(broker: BrokerProcess, topic: str, offsets: dict[int, int], committed: bool = False
          ) -> dict[int, tuple[int, bytes]]:
    client = RawClient(broker)
    try:
        response: Any = client.call(FETCH, 12, {
            "replica_id": -1, "max_wait": timedelta(milliseconds=100), "min_bytes": 1,
            "max_bytes": 50 * MB, "isolation_level": 1 if committed else 0, "session_id": 0,
            "session_epoch": -1, "topics": [{"topic": topic, "partitions": [
                {"partition": p, "current_leader_epoch": -1, "fetch_offset": offset,
                 "last_fetched_epoch": -1, "log_start_offset": -1, "partition_max_bytes": MB}
                for p, offset in offsets.items()]}],
            "forgotten_topics_data": [], "rack_id": ""})
    finally:
        client.close()
    return {p.partition_index: (int(p.error_code), bytes(p.records or b""))
            for p in response.responses[0].partitions}


# --- retention and cleanup -------------------------------------------------------------------


def test_delete_records_total_retention_and_topic_deletion_clean_the_remote_tier(folder: Tiered) -> None:
    topic = "expire"
    create_tiered_topic(folder.broker.bootstrap, topic, 1, 256 * 1024, 256 * 1024)
    produce(folder.broker.bootstrap, topic, 1, 3)
    wait_tiered(folder, topic, 1, 600 * 1024)
    pm = folder.metadata(topic)[0]
    assert len(pm.finished) >= 5
    cut = pm.finished[2].start_offset + 3  # inside the third remote segment
    admin = AdminClient({"bootstrap.servers": folder.broker.bootstrap})
    result = admin.delete_records([TopicPartition(topic, 0, cut)])
    assert next(iter(result.values())).result(15).low_watermark == cut
    assert raw_list_offsets(folder.broker, topic, 1, EARLIEST)[0] == cut
    wait_until(lambda: folder.metadata(topic)[0].finished[0].start_offset == pm.finished[2].start_offset,
               60, 0.5, "remote segments below the DeleteRecords offset to go")
    gone = {meta.segment_id for meta in pm.finished[:2]}
    assert not any(seg in key for key in folder.objects(topic) for seg in gone)
    rows = read_confluent(folder.broker.bootstrap, topic, 1)
    assert rows[0][1] == cut

    # total retention (retention.ms counts local + remote): everything expires
    alter(folder.broker, topic, {"retention.ms": "1000"})
    wait_until(lambda: not folder.objects(topic), 90, 0.5, "remote objects to expire")
    wait_until(lambda: not folder.metadata(topic)[0].finished, 30, 0.5, "remote metadata to go")

    produce(folder.broker.bootstrap, topic, 1, 1, start=10_000_000)
    admin.delete_topics([topic])[topic].result(15)
    wait_until(lambda: not folder.objects(topic), 60, 0.5, "objects of the deleted topic to go")
    wait_until(lambda: not folder.metadata(topic), 60, 0.5, "metadata of the deleted topic to go")


def alter(broker: BrokerProcess, topic: str, configs: dict[str, str]) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    resource = ConfigResource(ResourceType.TOPIC, topic, incremental_configs=[
        ConfigEntry(k, v, incremental_operation=AlterConfigOpType.SET) for k, v in configs.items()])
    admin.incremental_alter_configs([resource])[resource].result(15)


def test_kafka_config_rules_and_kip_950(folder: Tiered, broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": folder.broker.bootstrap})

    def refused(topic: str, config: dict[str, str], message: str, on: BrokerProcess = folder.broker) -> None:
        client = AdminClient({"bootstrap.servers": on.bootstrap})
        with pytest.raises(Exception, match=message):
            client.create_topics([NewTopic(topic, 1, 1, config=config)])[topic].result(15)

    refused("compacted", {"remote.storage.enable": "true", "cleanup.policy": "compact"},
            "Remote log storage only supports topics with cleanup.policy=delete")
    refused("too-local", {"remote.storage.enable": "true", "retention.bytes": "1000",
                          "local.retention.bytes": "2000"}, "Value must not be more than retention.bytes")
    refused("no-system", {"remote.storage.enable": "true"},
            "Tiered Storage functionality is disabled in the broker", on=broker)

    topic = "kip950"
    create_tiered_topic(folder.broker.bootstrap, topic, 1, 256 * 1024, 256 * 1024)
    produce(folder.broker.bootstrap, topic, 1, 1.5)
    wait_tiered(folder, topic, 1, 600 * 1024)
    with pytest.raises(Exception, match="It is invalid to disable remote storage without deleting"):
        alter(folder.broker, topic, {"remote.storage.enable": "false"})
    # read-only remote data: copying stops, what is remote stays readable
    alter(folder.broker, topic, {"remote.log.copy.disable": "true", "local.retention.bytes": "-2"})
    before = len(folder.metadata(topic)[0].finished)
    produce(folder.broker.bootstrap, topic, 1, 1, start=1_000_000)
    time.sleep(2)  # several copy passes (300 ms each) that must not copy anything
    assert len(folder.metadata(topic)[0].finished) == before
    assert len(read_confluent(folder.broker.bootstrap, topic, 1)) == sum(end_offsets(
        folder.broker.bootstrap, topic, 1).values())
    # switched off with deletion: the remote data goes
    alter(folder.broker, topic, {"remote.storage.enable": "false", "remote.log.delete.on.disable": "true"})
    wait_until(lambda: not folder.objects(topic), 60, 0.5, "remote data to be deleted on disable")
    described = admin.describe_configs([ConfigResource(ResourceType.TOPIC, topic)])
    configs = next(iter(described.values())).result(15)
    assert configs["remote.storage.enable"].value == "false"
    assert configs["local.retention.ms"].value == "-2"


# --- faults ----------------------------------------------------------------------------------


def test_sigkill_mid_upload_loses_nothing(tmp_path: Path, moto_server: MotoServer) -> None:
    tiered = _s3(tmp_path, moto_server, {"remote.log.manager.task.interval.ms": "100"})
    topic, partitions = "killed", 2
    try:
        create_tiered_topic(tiered.broker.bootstrap, topic, partitions, 512 * 1024, 512 * 1024)
        rng = random.Random(13)
        total = 0
        for _round in range(4):
            total += produce(tiered.broker.bootstrap, topic, partitions, 3, start=total)
            time.sleep(rng.uniform(0.1, 1.2))  # uploads are running now
            tiered.broker.kill()
            tiered.broker.start()
        wait_tiered(tiered, topic, partitions, 1536 * 1024)
        check_objects_match_metadata(tiered, topic)
        check_coverage(tiered, topic, partitions)
        assert sorted(read_confluent(tiered.broker.bootstrap, topic, partitions)) == \
            expected_rows(total, partitions)
        log_text = tiered.broker.log_path.read_text(errors="replace")
        interrupted = log_text.count("left by an interrupted upload")
        print(f"uploads interrupted by SIGKILL and redone: {interrupted}")
    finally:
        tiered.broker.stop()


def test_store_outage_keeps_local_segments_until_copied(tmp_path: Path) -> None:
    server = MotoServer(tmp_path / "moto.log", port=free_port())  # not started yet: unreachable
    bucket = "outage"
    overrides = {**tiered_overrides(f"s3://{bucket}/"),
                 **s3_overrides(server.endpoint, "anykey", "anysecret")}
    broker = BrokerProcess(tmp_path / "data", overrides).start()
    tiered = Tiered(broker, tmp_path / "data", LocalStore(tmp_path / "unused"), "")
    topic, partitions = "outage", 1
    try:
        create_tiered_topic(broker.bootstrap, topic, partitions, 256 * 1024, 256 * 1024)
        count = produce(broker.bootstrap, topic, partitions, 3)
        wait_until(lambda: "retrying in" in broker.log_path.read_text(errors="replace"), 60, 0.5,
                   "the copy failure to be logged")
        time.sleep(2)  # retention passes run meanwhile; nothing may go
        grown = local_bytes(tiered.data_dir, topic, 0)
        assert grown >= 3 * MB * 0.95, f"local log shrank to {grown} bytes while the store was down"
        assert list_local_start(tiered, topic, 0) == 0

        server.start(auth=False)
        server.create_bucket(bucket)
        tiered.store = S3Store(bucket, S3Options(endpoint=server.endpoint, access_key="anykey",
                                                 secret_key="anysecret"))
        wait_tiered(tiered, topic, partitions, 600 * 1024)
        assert local_bytes(tiered.data_dir, topic, 0) < grown / 3
        check_coverage(tiered, topic, partitions)
        assert sorted(read_confluent(broker.bootstrap, topic, partitions)) == expected_rows(count, partitions)
    finally:
        broker.stop()
        server.stop()


def test_topics_describe_shows_local_and_remote_offsets_and_sizes(folder: Tiered) -> None:
    topic = "described"
    create_tiered_topic(folder.broker.bootstrap, topic, 2, 256 * 1024, 256 * 1024)
    produce(folder.broker.bootstrap, topic, 2, 2)
    wait_tiered(folder, topic, 2, 600 * 1024)
    admin_url = folder.broker.overrides["admin.listener"]
    result = fjord("topics", "describe", topic, "--bootstrap-server", folder.broker.bootstrap,
                   "--admin", admin_url)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "Partition:" in line]
    assert len(lines) == 2
    metadata = folder.metadata(topic)
    for p, line in enumerate(lines):
        fields = dict(item.split(": ", 1) for item in line.strip().split("\t"))
        assert fields["LogStartOffset"] == "0"
        assert int(fields["LocalLogStartOffset"]) == list_local_start(folder, topic, p) > 0
        assert int(fields["LatestTieredOffset"]) == metadata[p].copied_upto - 1
        assert int(fields["LocalSize"]) == local_bytes(folder.data_dir, topic, p)
        assert int(fields["RemoteSize"]) == metadata[p].size > 0
    # without the admin listener: the same offsets and local sizes over the Kafka protocol
    plain = fjord("topics", "describe", topic, "--bootstrap-server", folder.broker.bootstrap)
    assert plain.returncode == 0, plain.stderr
    for line, full in zip([x for x in plain.stdout.splitlines() if "Partition:" in x], lines, strict=True):
        assert line.strip() == full.strip().rsplit("\t", 1)[0]  # all but RemoteSize
