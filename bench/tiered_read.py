"""Tiered storage: catch-up reads from the remote tier (a folder and an S3 server) against
reads of the same data from local segments, upload throughput, and the broker's RSS while
a consumer reads everything back from the remote tier.

Starts real processes on 127.0.0.1: a moto S3 server and two `fjord broker`s (one tiering to
a folder, one to S3). Each broker gets a tiered topic (8 MiB segments, 8 MiB local
retention; less for small runs) and a plain topic with the same records; then, per broker:
- upload: bytes / seconds of the segment copies the broker logs ("copied segment ...");
- remote read (cold): a confluent-kafka consumer from offset 0 to the end, every chunk
  fetched from the store; remote read (warm): again, chunks now in the local chunk cache;
- local read: the plain topic, the same way (first, so the RSS it needs is known);
- broker RSS: sampled every 50 ms before the reads, and the peaks during the local read and
  during the cold remote read that follows it.
Records are 8 KB, so the Python consumer loop is not the only limit; MB/s counts record
payload (key + value). Both brokers, the store and the client share this machine's cores,
so the figures are end-to-end and noisy under load.

    .venv/bin/python bench/tiered_read.py [--mb 64] [--json]      # --mb 1024 for the report
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import OFFSET_BEGINNING, Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from tests.storage.remote.support import remote_metadata, s3_overrides, tiered_overrides
from tests.support.broker import BrokerProcess
from tests.support.moto_server import MotoServer

PARTITIONS = 4
RECORD = 8192
KEY = 16
COPIED = re.compile(r"copied segment \S+ of (\S+)-\d+ to the remote tier \((\d+) bytes in ([\d.]+)s\)")


def fill(bootstrap: str, topics: list[str], count: int) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 20, "batch.size": 524288,
                         "compression.type": "none", "acks": "all"})
    value = bytes(range(256)) * ((RECORD - KEY) // 256)
    for i in range(count):
        for topic in topics:
            while True:
                try:
                    producer.produce(topic, key=i.to_bytes(KEY, "big"), value=value,
                                     partition=i % PARTITIONS)
                    break
                except BufferError:
                    producer.poll(0.05)
    assert producer.flush(300) == 0


def read_all(bootstrap: str, topic: str, count: int) -> float:
    """Seconds to read every record from offset 0."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"bench-{time.time()}",
                         "enable.auto.commit": False, "fetch.max.bytes": 52428800,
                         "max.partition.fetch.bytes": 4194304, "queued.max.messages.kbytes": 262144})
    consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(PARTITIONS)])
    seen = 0
    started = time.perf_counter()
    deadline = time.monotonic() + 1800
    while seen < count:
        assert time.monotonic() < deadline, f"read of {topic} stuck at {seen}/{count}"
        for message in consumer.consume(10000, 1.0):
            if message.error() is None:
                seen += 1
            else:
                raise RuntimeError(f"{topic}: {message.error()}")
    elapsed = time.perf_counter() - started
    consumer.close()
    return elapsed


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


class RssSampler:
    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.start = rss_bytes(pid)
        self.peak = self.start
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, rss_bytes(self.pid))

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def local_start_offsets(broker: BrokerProcess, topic: str) -> list[int]:
    bases = []
    for p in range(PARTITIONS):
        found = sorted(int(f.stem) for f in (broker.data_dir / f"{topic}-{p}").glob("*.log"))
        bases.append(found[0] if found else 0)
    return bases


def run_backend(name: str, broker: BrokerProcess, count: int) -> dict[str, float | str]:
    payload_mb = count * RECORD / 1e6
    # 8 MiB segments, fewer bytes for small runs so that most of the data still goes remote
    segment = max(1 << 20, min(8 << 20, count * RECORD // PARTITIONS // 8))
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    tiered = {"remote.storage.enable": "true", "segment.bytes": str(segment),
              "local.retention.bytes": str(segment)}
    futures = admin.create_topics([NewTopic("tiered", PARTITIONS, 1, config=tiered),
                                   NewTopic("plain", PARTITIONS, 1,
                                            config={"segment.bytes": str(segment)})])
    for future in futures.values():
        future.result(30)
    fill(broker.bootstrap, ["tiered", "plain"], count)
    # tiered once the local logs hold at most two segments each and the rest is remote
    deadline = time.monotonic() + 1800
    while True:
        sizes = [sum(f.stat().st_size for f in (broker.data_dir / f"tiered-{p}").glob("*.log"))
                 for p in range(PARTITIONS)]
        metadata = remote_metadata(broker.data_dir, "tiered")
        starts = local_start_offsets(broker, "tiered")
        if (all(size <= 2 * segment for size in sizes) and len(metadata) == PARTITIONS
                and all(metadata[p].copied_upto >= starts[p] > 0 for p in range(PARTITIONS))):
            break
        assert time.monotonic() < deadline, f"{name}: tiering did not finish ({sizes})"
        time.sleep(0.5)
    copies = [(int(b), float(s)) for topic, b, s in COPIED.findall(broker.log_path.read_text())
              if topic == "tiered"]
    uploaded = sum(b for b, _ in copies)
    upload_s = sum(s for _, s in copies) or 1e-9
    remote_fraction = 1 - sum(sizes) / max(1, uploaded + sum(sizes))
    pid = broker.proc.pid  # type: ignore[union-attr]
    with RssSampler(pid) as local_rss:
        local = read_all(broker.bootstrap, "plain", count)
    with RssSampler(pid) as rss:
        cold = read_all(broker.bootstrap, "tiered", count)
    warm = read_all(broker.bootstrap, "tiered", count)
    return {
        "backend": name, "payload_mb": round(payload_mb, 1),
        "remote_fraction": round(remote_fraction, 3),
        "upload_mb_s": round(uploaded / 1e6 / upload_s, 1), "segments_copied": len(copies),
        "remote_cold_mb_s": round(payload_mb / cold, 1),
        "remote_warm_mb_s": round(payload_mb / warm, 1),
        "local_mb_s": round(payload_mb / local, 1),
        "remote_cold_vs_local": round(local / cold, 2),
        "broker_rss_before_reads_mb": round(local_rss.start / 1e6, 1),
        "broker_rss_peak_local_read_mb": round(local_rss.peak / 1e6, 1),
        "broker_rss_peak_remote_read_mb": round(rss.peak / 1e6, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=64, help="payload per topic and backend")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    count = args.mb * 1024 * 1024 // RECORD
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        server = MotoServer(root / "moto.log").start()
        brokers: list[BrokerProcess] = []
        try:
            server.create_bucket("bench")
            assert server.credentials is not None
            extra = {"remote.log.manager.task.interval.ms": "500",
                     "log.retention.check.interval.ms": "500"}
            folder = BrokerProcess(root / "folder", {
                **tiered_overrides(f"file://{root}/remote/", extra),
                "rsm.config.chunk.size": "4194304", "rsm.config.fetch.chunk.cache.size": "268435456"})
            s3 = BrokerProcess(root / "s3", {
                **tiered_overrides("s3://bench/tiered/", extra),
                **s3_overrides(server.endpoint, server.credentials.access_key,
                               server.credentials.secret_key),
                "rsm.config.chunk.size": "4194304", "rsm.config.fetch.chunk.cache.size": "268435456"})
            for name, broker in (("folder", folder), ("s3", s3)):
                brokers.append(broker.start())
                results.append(run_backend(name, broker, count))
                broker.stop()
        finally:
            for broker in brokers:
                broker.stop()
            server.stop()
    for result in results:
        if args.json:
            print(json.dumps(result))
        else:
            print("  ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
