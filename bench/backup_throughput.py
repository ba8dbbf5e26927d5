"""Backup and restore throughput for 1 KB records, to a local folder and to an S3 server.

Starts real processes — a `fjord broker`, a `fjord connect standalone` worker and a moto S3
server, all on 127.0.0.1 — fills a 3-partition topic with 1 KB records, then times:
- backup: from creating the rule until every record is in the store (objects are closed by
  record count, so the timing does not include waiting for the schedule);
- restore: from creating the restore connector until its tasks report every record acked.
MB/s counts record payload (key + value). Everything shares the 2 cores of this machine, so
the figures are end-to-end, not a limit of any one part.

    .venv/bin/python bench/backup_throughput.py [--records 60000] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import Producer
from tests.backup.support import create_topic
from tests.connect.support import WorkerProcess
from tests.support.broker import BrokerProcess
from tests.support.moto_server import MotoServer

from fjord.backup.restore import read_progress, restore_config
from fjord.backup.rules import StoreSettings, parse_interval, rule_config
from fjord.connect.rest_client import ConnectClient
from fjord.objectstore.local import LocalStore
from fjord.objectstore.s3 import S3Options, S3Store
from fjord.objectstore.store import ObjectStore

PARTITIONS = 3
RECORD = 1024
KEY = 16


def fill(bootstrap: str, topic: str, count: int) -> None:
    import os

    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "compression.type": "none"})
    value = os.urandom(RECORD - KEY)
    for i in range(count):
        while True:
            try:
                producer.produce(topic, key=i.to_bytes(KEY, "big"), value=value, partition=i % PARTITIONS)
                break
            except BufferError:
                producer.poll(0.05)
    assert producer.flush(120) == 0


def wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.2)


def run_case(kind: str, url: str, options: dict[str, str], store: ObjectStore, prefix: str,
             client: ConnectClient, bootstrap: str, records: int) -> dict[str, object]:
    per_object = records // PARTITIONS // 4  # four objects per partition, closed by count
    settings = StoreSettings(url, options.get("s3.endpoint"), None, options.get("aws.access.key.id"),
                             options.get("aws.secret.access.key"), True if options else None)
    config = rule_config(f"bench-{kind}", settings, ["bench"], None, parse_interval("1h"), "earliest",
                         flush_size=per_object)
    expected_objects = PARTITIONS * 4
    started = time.perf_counter()
    client.create(config["name"], config)
    wait(lambda: len([o for o in store.list(f"{prefix}bench/")]) >= expected_objects, 600, "backup")
    backup_s = time.perf_counter() - started
    stored_bytes = sum(o.size for o in store.list(f"{prefix}bench/"))
    client.delete(config["name"])

    name = f"bench-restore-{kind}"
    store_config = {k: v for k, v in config.items() if k.startswith(("store.", "s3.", "aws."))}
    create_topic(bootstrap, f"bench-restored-{kind}", PARTITIONS)
    started = time.perf_counter()
    client.create(name, restore_config(name, store_config, "bench", f"bench-restored-{kind}"))

    def done() -> bool:
        progress = read_progress(store, prefix, name)
        return progress.tasks_reporting > 0 and progress.tasks_finished == progress.tasks_reporting \
            and progress.records >= records

    wait(done, 600, "restore")
    restore_s = time.perf_counter() - started
    client.delete(name)
    mb = records * RECORD / 1e6
    return {"destination": kind, "records": records, "record_bytes": RECORD, "payload_mb": round(mb, 1),
            "stored_mb": round(stored_bytes / 1e6, 1),
            "backup_s": round(backup_s, 2), "backup_mb_s": round(mb / backup_s, 1),
            "restore_s": round(restore_s, 2), "restore_mb_s": round(mb / restore_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=60_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    records = args.records - args.records % (PARTITIONS * 4)
    with tempfile.TemporaryDirectory(prefix="fjord-bench-backup-") as tmp:
        base = Path(tmp)
        broker = BrokerProcess(base / "data").start()
        moto = MotoServer(base / "moto.log").start()
        worker = WorkerProcess(base / "worker", broker.bootstrap,
                               props={"offset.flush.interval.ms": "5000"}).start()
        try:
            create_topic(broker.bootstrap, "bench", PARTITIONS)
            fill(broker.bootstrap, "bench", records)
            client = ConnectClient(worker.url)
            moto.create_bucket("bench")
            results = [
                run_case("local", f"file://{base}/backups/", {}, LocalStore(base / "backups"), "",
                         client, broker.bootstrap, records),
                run_case("s3", "s3://bench/fjord/", moto.store_options(),
                         S3Store("bench", S3Options.from_mapping(moto.store_options())), "fjord/",
                         client, broker.bootstrap, records),
            ]
        finally:
            worker.stop()
            moto.stop()
            broker.stop()
    for result in results:
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['destination']:>6}: {result['records']} x 1 KB ({result['payload_mb']} MB, "
                  f"{result['stored_mb']} MB stored as jsonl): backup {result['backup_mb_s']} MB/s "
                  f"({result['backup_s']} s), restore {result['restore_mb_s']} MB/s "
                  f"({result['restore_s']} s)")


if __name__ == "__main__":
    main()
