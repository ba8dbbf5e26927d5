"""Backup rules end to end, against real processes only: a Fjord broker, a Connect worker
(`fjord connect standalone`), a moto S3 server, and the `fjord backup` command line."""

from __future__ import annotations

import os
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator, Mapping, Sequence
from functools import partial
from pathlib import Path

import pytest

from fjord.connectors.objectstore.runlog import read_runs
from fjord.objectstore.local import LocalStore
from fjord.objectstore.s3 import S3Options, S3Store
from fjord.objectstore.store import ObjectStore
from tests.backup.support import (
    assert_contiguous,
    backed_up,
    create_topic,
    fjord,
    produce_mixed,
    read_topic,
)
from tests.connect.support import WorkerProcess, wait_until
from tests.support.broker import BrokerProcess
from tests.support.moto_server import MotoServer


@pytest.fixture(scope="module")
def kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrokerProcess]:
    broker = BrokerProcess(tmp_path_factory.mktemp("backup-broker") / "data").start()
    yield broker
    broker.stop()


@pytest.fixture(scope="module")
def worker(kafka: BrokerProcess, tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerProcess]:
    proc = WorkerProcess(tmp_path_factory.mktemp("backup-worker"), kafka.bootstrap,
                         props={"offset.flush.interval.ms": "1000"}).start()
    yield proc
    proc.stop()


def s3_args(moto: MotoServer) -> list[str]:
    assert moto.credentials is not None
    return ["--endpoint", moto.endpoint, "--access-key", moto.credentials.access_key,
            "--secret-key", moto.credentials.secret_key]


def s3_store(moto: MotoServer, bucket: str) -> S3Store:
    return S3Store(bucket, S3Options.from_mapping(moto.store_options()))


def _backed_up_at_least(store: ObjectStore, prefix: str, topic: str, count: int) -> bool:
    return sum(map(len, backed_up(store, prefix, topic).values())) >= count


def counts(rows: Mapping[int, Sequence[object]]) -> dict[int, int]:
    return {p: len(r) for p, r in rows.items()}


def test_50k_records_back_up_to_s3_and_a_folder_and_restore_exactly(
        kafka: BrokerProcess, worker: WorkerProcess, moto_server: MotoServer, tmp_path: Path) -> None:
    create_topic(kafka.bootstrap, "orders", 3)
    produce_mixed(kafka.bootstrap, "orders", 50_000)
    original = read_topic(kafka.bootstrap, "orders")
    assert sum(counts(original).values()) == 50_000
    moto_server.create_bucket("acceptance")
    common = ["--topics", "orders", "--interval", "10s", "--flush-size", "10000",
              "--bootstrap-server", kafka.bootstrap, "--connect", worker.url]
    result = fjord("backup", "create", "orders-s3", "--to", "s3://acceptance/fjord/", *s3_args(moto_server),
                   "--format", "avro", "--compression", "zstd", *common)
    assert result.returncode == 0, result.stderr
    result = fjord("backup", "create", "orders-local", "--to", f"file://{tmp_path}/backups/", "--format",
                   "jsonl", "--compression", "gzip", *common)
    assert result.returncode == 0, result.stderr

    stores = {"orders-s3": (s3_store(moto_server, "acceptance"), "fjord/"),
              "orders-local": (LocalStore(tmp_path / "backups"), "")}
    for rule, (store, prefix) in stores.items():
        wait_until(partial(_backed_up_at_least, store, prefix, "orders", 50_000),
                   timeout=120, interval=1.0, message=f"{rule} to hold every record")
        stored = backed_up(store, prefix, "orders")
        assert_contiguous(stored, counts(original))
        # the envelope is exact before any restore: compare the store itself with the topic
        for partition, rows in original.items():
            assert [(r.key, r.value, r.headers, r.timestamp) for r in stored[partition]] == rows

    for rule, target in (("orders-s3", "restored-s3"), ("orders-local", "restored-local")):
        result = fjord("backup", "restore", rule, "--to-topic", target, "--bootstrap-server",
                       kafka.bootstrap, "--connect", worker.url, "--timeout", "180",
                       env={"FJORD_PROGRESS": "1"}, timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "restored 50000 records" in result.stdout, result.stdout
        restored = read_topic(kafka.bootstrap, target)
        assert counts(restored) == counts(original)
        for partition in original:
            assert restored[partition] == original[partition], f"{target} partition {partition} differs"

    described = fjord("backup", "describe", "orders-s3", "--connect", worker.url)
    assert described.returncode == 0, described.stderr
    assert "RUNNING" in described.stdout and "runs (latest" in described.stdout
    history = read_runs(*stores["orders-s3"], "orders-s3", limit=100)
    assert sum(run.records for run in history) == 50_000
    assert all(run.status == "ok" for run in history)
    for rule in stores:
        assert fjord("backup", "delete", rule, "--connect", worker.url).returncode == 0


def test_sigkill_mid_run_leaves_no_gap_and_no_duplicate(
        kafka: BrokerProcess, moto_server: MotoServer, tmp_path: Path) -> None:
    """A distributed worker keeps the rule in its config topic, so after SIGKILL and restart
    the same rule resumes by itself; the store must then hold every record exactly once."""
    topic, bucket, total = "killed", "kill-test", 60_000
    create_topic(kafka.bootstrap, topic, 3)
    moto_server.create_bucket(bucket)
    suffix = uuid.uuid4().hex[:8]
    props = {"group.id": f"backup-{suffix}", "config.storage.topic": f"cfg-{suffix}",
             "offset.storage.topic": f"off-{suffix}", "status.storage.topic": f"st-{suffix}",
             "offset.storage.partitions": "3", "status.storage.partitions": "1",
             # short sessions let the restarted worker take over from its dead self quickly
             "session.timeout.ms": "6000", "heartbeat.interval.ms": "1000",
             "consumer.session.timeout.ms": "6000", "consumer.heartbeat.interval.ms": "1000",
             # bounds how long a rebalance may wait for the dead incarnation's consumer
             "consumer.max.poll.interval.ms": "20000",
             "offset.flush.interval.ms": "1000"}
    worker = WorkerProcess(tmp_path / "worker", kafka.bootstrap, "distributed", props).start()
    store = s3_store(moto_server, bucket)
    producer = threading.Thread(target=produce_mixed, args=(kafka.bootstrap, topic, total))
    try:
        wait_until(lambda: worker.call("GET", "/health")[0] == 200, message="a healthy worker")
        created = fjord("backup", "create", "kill-rule", "--topics", topic, "--to", f"s3://{bucket}/",
                        *s3_args(moto_server), "--interval", "10s", "--flush-size", "1000",
                        "--bootstrap-server", kafka.bootstrap, "--connect", worker.url)
        assert created.returncode == 0, created.stderr
        producer.start()
        wait_until(lambda: len(list(store.list(f"{topic}/"))) >= 6, timeout=60, interval=0.05,
                   message="the first objects")
        worker.kill()  # SIGKILL while records are still arriving and objects being written
        written_at_kill = sum(map(len, backed_up(store, "", topic).values()))
        producer.join(60)
        assert written_at_kill < total, "the worker finished before it could be killed mid-run"
        worker.start()
        original = read_topic(kafka.bootstrap, topic)
        try:
            wait_until(lambda: sum(map(len, backed_up(store, "", topic).values())) >= total,
                       timeout=120, interval=1.0, message="the restarted worker to catch up")
        except AssertionError as exc:
            status = worker.call("GET", "/connectors/kill-rule/status")
            raise AssertionError(f"{exc}\nstatus: {status}\nworker log:\n{worker.log_tail(60)}") from None
        time.sleep(2)  # anything duplicated would land now
        stored = backed_up(store, "", topic)
        assert_contiguous(stored, counts(original))
        result = fjord("backup", "restore", "kill-rule", "--to-topic", "killed-restored",
                       "--bootstrap-server", kafka.bootstrap, "--connect", worker.url, timeout=240)
        assert result.returncode == 0, result.stdout + result.stderr
        assert read_topic(kafka.bootstrap, "killed-restored") == original
    finally:
        worker.stop()


def early_in_an_interval() -> None:
    """Wait until just after a 10 s boundary, so a small batch lands whole in one run."""
    while not 0.5 <= time.time() % 10 <= 5.0:
        time.sleep(0.1)


def test_interval_runs_history_and_rule_lifecycle(
        kafka: BrokerProcess, worker: WorkerProcess, tmp_path: Path) -> None:
    create_topic(kafka.bootstrap, "ticks", 3)
    url = f"file://{tmp_path}/ticks/"
    args = ["--bootstrap-server", kafka.bootstrap, "--connect", worker.url]
    result = fjord("backup", "create", "ticks", "--topics", "ticks", "--to", url, "--interval", "10s", *args)
    assert result.returncode == 0, result.stderr
    store = LocalStore(tmp_path / "ticks")

    def data_runs() -> list[object]:
        return [r for r in read_runs(store, "", "ticks", limit=50) if r.records]

    early_in_an_interval()
    produce_mixed(kafka.bootstrap, "ticks", 300)
    first = wait_until(lambda: data_runs(), timeout=30, message="the first data run")[0]
    assert first.objects == 3 and first.records == 300
    objects_after_first = [o.key for o in store.list("ticks/")]
    assert len(objects_after_first) == 3
    early_in_an_interval()
    produce_mixed(kafka.bootstrap, "ticks", 300, start_index=300)
    runs = wait_until(lambda: (r := data_runs()) and len(r) >= 2 and r, timeout=30,
                      message="the second data run")
    second = runs[1]
    assert second.records == 300 and second.objects == 3
    # one run per interval: both ended on a 10 s boundary, in different intervals
    assert first.finished_ms // 10_000 < second.finished_ms // 10_000
    for run in (first, second):
        assert run.finished_ms % 10_000 < 5_000, run
    new_objects = sorted(set(o.key for o in store.list("ticks/")) - set(objects_after_first))
    assert [k.rsplit("+", 1)[1] for k in new_objects] == ["00000000000000000100.jsonl"] * 3

    described = fjord("backup", "describe", "ticks", "--connect", worker.url)
    assert described.returncode == 0, described.stderr
    assert described.stdout.count(" ok ") >= 2, described.stdout
    # The worker's /metrics counts the same runs (docs/observability.md).
    with urllib.request.urlopen(worker.url + "/metrics", timeout=30) as response:
        metrics = response.read().decode()
    records = [float(line.rsplit(" ", 1)[1]) for line in metrics.splitlines()
               if line.startswith('fjord_backup_records_total{rule="ticks",')]
    assert sum(records) >= 600, metrics[-3000:]
    assert 'fjord_backup_runs_total{rule="ticks",task="0",status="ok"}' in metrics
    listed = fjord("backup", "list", "--connect", worker.url)
    assert "ticks" in listed.stdout and url in listed.stdout and "10s" in listed.stdout

    assert fjord("backup", "pause", "ticks", "--connect", worker.url).returncode == 0
    wait_until(lambda: "PAUSED" in fjord("backup", "list", "--connect", worker.url).stdout,
               message="the rule to pause")
    assert fjord("backup", "resume", "ticks", "--connect", worker.url).returncode == 0
    edited = fjord("backup", "edit", "ticks", "--interval", "20s", *args)
    assert edited.returncode == 0, edited.stderr
    assert "20s" in fjord("backup", "list", "--connect", worker.url).stdout
    assert fjord("backup", "delete", "ticks", "--connect", worker.url).returncode == 0
    assert "ticks" not in fjord("backup", "list", "--connect", worker.url).stdout
    assert len(list(store.list("ticks/"))) == 6, "delete keeps the data"


def test_store_outage_is_recorded_retried_and_loses_nothing(
        kafka: BrokerProcess, worker: WorkerProcess, tmp_path: Path) -> None:
    create_topic(kafka.bootstrap, "outage", 3)
    root = tmp_path / "outage"
    result = fjord("backup", "create", "outage", "--topics", "outage", "--to", f"file://{root}/",
                   "--interval", "10s", "--bootstrap-server", kafka.bootstrap, "--connect", worker.url)
    assert result.returncode == 0, result.stderr
    store = LocalStore(root)
    early_in_an_interval()
    produce_mixed(kafka.bootstrap, "outage", 300)
    wait_until(lambda: len(list(store.list("outage/"))) >= 3, timeout=30, message="first objects")
    # the store goes away: its folder is replaced by a file, so every write fails
    os.rename(root, tmp_path / "away")
    root.write_bytes(b"")
    produce_mixed(kafka.bootstrap, "outage", 300, start_index=300)
    time.sleep(12)  # at least one scheduled run fails
    root.unlink()
    os.rename(tmp_path / "away", root)
    original = read_topic(kafka.bootstrap, "outage")
    wait_until(lambda: sum(map(len, backed_up(store, "", "outage").values())) >= 600, timeout=30,
               message="the retried run")
    assert_contiguous(backed_up(store, "", "outage"), counts(original))
    runs = read_runs(store, "", "outage", limit=50)
    failed = [r for r in runs if r.status == "failed"]
    assert failed and all(r.errors for r in failed), runs
    assert "cannot write" in failed[0].errors[0]
    assert runs[-1].status == "ok" or any(r.status == "ok" and r.started_ms > failed[-1].started_ms
                                          for r in runs)
    assert fjord("backup", "delete", "outage", "--connect", worker.url).returncode == 0


def test_create_refuses_bad_rules_with_one_line(
        kafka: BrokerProcess, worker: WorkerProcess, moto_server: MotoServer, tmp_path: Path) -> None:
    moto_server.create_bucket("validation")
    create_topic(kafka.bootstrap, "present", 1)
    base = ["backup", "create", "bad", "--topics", "present", "--bootstrap-server", kafka.bootstrap,
            "--connect", worker.url, "--interval", "10s"]
    good_s3 = s3_args(moto_server)
    assert moto_server.credentials is not None
    cases = [
        (["--to", "s3://validation/no-slash", *good_s3], "must end with '/'"),
        (["--to", "s3://validation/p/", "--endpoint", "http://127.0.0.1:9", "--access-key", "a",
          "--secret-key", "b"], "cannot reach http://127.0.0.1:9"),
        (["--to", "s3://validation/p/", "--endpoint", moto_server.endpoint, "--access-key",
          "AKIAWRONGWRONGWRONG1", "--secret-key", "x"], "refused the credentials"),
        (["--to", "s3://validation/p/", "--endpoint", moto_server.endpoint, "--access-key",
          moto_server.credentials.access_key, "--secret-key", "wrong"], "SignatureDoesNotMatch"),
        (["--to", f"s3://missing-{uuid.uuid4().hex[:8]}/p/", *good_s3], "does not exist"),
        (["--to", f"file://{tmp_path}/ok/", "--topics", "absent"], "topic 'absent' does not exist"),
        (["--to", f"file://{tmp_path}/ok/", "--interval", "5s"], "at most every 10s"),
    ]
    for extra, expected in cases:
        result = fjord(*base, *extra)
        assert result.returncode == 1, (extra, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and expected in lines[0], (extra, result.stderr)
    assert "bad" not in fjord("backup", "list", "--connect", worker.url).stdout
    # an empty prefix is the bucket root, which is fine
    ok = fjord(*base, "--to", "s3://validation", *good_s3)
    assert ok.returncode == 0, ok.stderr
    assert fjord("backup", "delete", "bad", "--connect", worker.url).returncode == 0


def test_start_at_an_offset_or_a_time(kafka: BrokerProcess, worker: WorkerProcess, tmp_path: Path) -> None:
    create_topic(kafka.bootstrap, "starts", 3)
    produce_mixed(kafka.bootstrap, "starts", 1200)
    original = read_topic(kafka.bootstrap, "starts")
    moment = 1_700_000_000_000 + 600 * 3  # about the middle of the topic's timestamps
    iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment // 1000)) + f".{moment % 1000:03d}Z"
    args = ["--topics", "starts", "--interval", "10s", "--bootstrap-server", kafka.bootstrap,
            "--connect", worker.url]
    # the two rules also write the two binary formats, through the CLI and a real worker
    for name, start, fmt in (("from-offset", "150", "avro"), ("from-time", iso, "parquet")):
        result = fjord("backup", "create", name, "--to", f"file://{tmp_path}/{name}/", "--start", start,
                       "--format", fmt, *args)
        assert result.returncode == 0, result.stderr
    expected_offsets = {p: list(range(150, len(rows))) for p, rows in original.items()}
    expected_times = {}
    for partition, rows in original.items():
        first = next(i for i, row in enumerate(rows) if row[3] >= moment)
        expected_times[partition] = list(range(first, len(rows)))
    for name, expected, fmt in (("from-offset", expected_offsets, "avro"),
                                ("from-time", expected_times, "parquet")):
        store = LocalStore(tmp_path / name)
        total = sum(map(len, expected.values()))
        wait_until(partial(_backed_up_at_least, store, "", "starts", total),
                   timeout=30, message=f"{name} to back up")
        stored = backed_up(store, "", "starts")
        assert {p: [r.offset for r in rows] for p, rows in stored.items()} == expected
        assert all(o.key.endswith(f".{fmt}") for o in store.list("starts/"))
        for partition, records in stored.items():  # the envelope is exact in either format
            assert [(r.key, r.value, r.headers, r.timestamp) for r in records] == [
                original[partition][r.offset] for r in records]
        assert fjord("backup", "delete", name, "--connect", worker.url).returncode == 0
