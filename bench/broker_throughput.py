"""Broker throughput and latency through librdkafka (confluent-kafka).

Starts a real `fjord broker` process with a temporary data dir and prints, per case,
MB/s and records/s for produce (acks=all) and consume, with the CPU seconds used by the
broker and by the client during the run — so a reader can see which side is the limit on
this 2-core machine. Then p50/p99 produce latency at a fixed 20 MB/s.

    .venv/bin/python bench/broker_throughput.py [--mb 200] [--json]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from tests.support.broker import BrokerProcess

TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def producer(bootstrap: str) -> Producer:
    return Producer({
        "bootstrap.servers": bootstrap, "acks": "all", "linger.ms": 5,
        "batch.size": 1_000_000, "queue.buffering.max.kbytes": 1_000_000,
        "queue.buffering.max.messages": 2_000_000, "compression.type": "none",
    })


def produce_case(broker: BrokerProcess, topic: str, size: int, partitions: int, total_mb: int) -> dict:
    count = total_mb * 1_000_000 // size
    payload = os.urandom(size)
    prod = producer(broker.bootstrap)
    assert broker.proc is not None
    b0, c0, t0 = cpu_seconds(broker.proc.pid), cpu_seconds(os.getpid()), time.perf_counter()
    for i in range(count):
        while True:
            try:
                prod.produce(topic, payload, partition=i % partitions)
                break
            except BufferError:
                prod.poll(0.01)
    assert prod.flush(120) == 0
    elapsed = time.perf_counter() - t0
    return {
        "op": "produce", "record_bytes": size, "partitions": partitions, "records": count,
        "mb_s": round(count * size / elapsed / 1e6, 1), "records_s": round(count / elapsed),
        "broker_cpu_s": round(cpu_seconds(broker.proc.pid) - b0, 2),
        "client_cpu_s": round(cpu_seconds(os.getpid()) - c0, 2), "seconds": round(elapsed, 2),
    }


def consume_case(broker: BrokerProcess, topic: str, size: int, partitions: int, count: int) -> dict:
    cons = Consumer({
        "bootstrap.servers": broker.bootstrap, "group.id": "bench", "enable.auto.commit": False,
        "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": 10_485_760,
        "queued.max.messages.kbytes": 2_000_000, "queued.min.messages": 10_000_000,
        # librdkafka pauses a partition's fetching for 1 s once its local queue passes the
        # thresholds above; a benchmark wants the broker, not that back-off, measured.
        "fetch.queue.backoff.ms": 5,
    })
    cons.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    assert broker.proc is not None
    b0, c0, t0 = cpu_seconds(broker.proc.pid), cpu_seconds(os.getpid()), time.perf_counter()
    seen = 0
    while seen < count:
        for msg in cons.consume(10_000, 5.0):
            if msg.error() is None:
                seen += 1
    elapsed = time.perf_counter() - t0
    result = {
        "op": "consume", "record_bytes": size, "partitions": partitions, "records": seen,
        "mb_s": round(seen * size / elapsed / 1e6, 1), "records_s": round(seen / elapsed),
        "broker_cpu_s": round(cpu_seconds(broker.proc.pid) - b0, 2),
        "client_cpu_s": round(cpu_seconds(os.getpid()) - c0, 2), "seconds": round(elapsed, 2),
    }
    cons.close()
    return result


def _kcat_case(op: str, broker: BrokerProcess, args: list[str], size: int, partitions: int,
               count: int) -> dict:
    """Run kcat (C, librdkafka) to completion, with its CPU from wait4 and the broker's."""
    assert broker.proc is not None
    b0, t0 = cpu_seconds(broker.proc.pid), time.perf_counter()
    proc = subprocess.Popen(["kcat", "-b", broker.bootstrap, *args])
    _pid, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    assert status == 0, "kcat failed"
    return {
        "op": op, "record_bytes": size, "partitions": partitions, "records": count,
        "mb_s": round(count * size / elapsed / 1e6, 1), "records_s": round(count / elapsed),
        "broker_cpu_s": round(cpu_seconds(broker.proc.pid) - b0, 2),
        "client_cpu_s": round(usage.ru_utime + usage.ru_stime, 2), "seconds": round(elapsed, 2),
    }


def kcat_produce_case(broker: BrokerProcess, topic: str, size: int, partitions: int,
                      total_mb: int, workdir: Path) -> dict:
    """Produce from a file of `size`-byte lines, acks=all: shows the broker past Python's limit."""
    count = total_mb * 1_000_000 // size
    lines = workdir / f"lines-{size}.txt"
    if not lines.exists():
        line = base64.b64encode(os.urandom(size))[:size] + b"\n"
        lines.write_bytes(line * count)
    args = ["-P", "-t", topic, "-l", "-X", "linger.ms=5", "-X", "batch.size=1000000",
            "-X", "queue.buffering.max.kbytes=2000000", "-X", "acks=all", str(lines)]
    return _kcat_case("produce(kcat)", broker, args, size, partitions, count)


def kcat_consume_case(broker: BrokerProcess, topic: str, size: int, partitions: int,
                      count: int) -> dict:
    """The same read as consume_case, through kcat."""
    args = ["-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "",
            "-X", "fetch.max.bytes=52428800", "-X", "max.partition.fetch.bytes=10485760",
            "-X", "queued.max.messages.kbytes=2000000", "-X", "queued.min.messages=10000000",
            "-X", "fetch.wait.max.ms=20"]
    return _kcat_case("consume(kcat)", broker, args, size, partitions, count)


def latency_case(broker: BrokerProcess, topic: str, rate_mb: float = 20, seconds: float = 5) -> dict:
    size = 1000
    per_second = int(rate_mb * 1e6 / size)
    prod = Producer({"bootstrap.servers": broker.bootstrap, "acks": "all", "linger.ms": 0})
    latencies: list[float] = []

    def done(err: object, _msg: object, started: float) -> None:
        if err is None:
            latencies.append(time.perf_counter() - started)

    payload = os.urandom(size)
    start = time.perf_counter()
    sent = 0
    while (now := time.perf_counter()) - start < seconds:
        due = int((now - start) * per_second)
        while sent < due:
            stamp = time.perf_counter()
            prod.produce(topic, payload, on_delivery=lambda e, m, s=stamp: done(e, m, s))
            sent += 1
        prod.poll(0)
        time.sleep(0.0005)
    prod.flush(30)
    latencies.sort()
    return {
        "op": "produce-latency", "rate_mb_s": rate_mb, "records": len(latencies),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=200, help="MB produced per case")
    parser.add_argument("--json", action="store_true", help="one JSON object per line")
    parser.add_argument("--data-dir", default=None,
                        help="parent of the broker's log.dirs (e.g. /dev/shm to take the disk out)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
        broker = BrokerProcess(Path(tmp) / "data").start()
        try:
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            results = []
            for size in (100, 1000):
                for partitions in (1, 8):
                    topic = f"bench-{size}-{partitions}"
                    admin.create_topics([NewTopic(topic, partitions, 1)])[topic].result(10)
                    produced = produce_case(broker, topic, size, partitions, args.mb)
                    results.append(produced)
                    _show(produced, args.json)
                    consumed = consume_case(broker, topic, size, partitions, produced["records"])
                    results.append(consumed)
                    _show(consumed, args.json)
                    if shutil.which("kcat"):
                        _show(kcat_consume_case(broker, topic, size, partitions, produced["records"]),
                              args.json)
                        ktopic = f"{topic}-kcat"
                        admin.create_topics([NewTopic(ktopic, partitions, 1)])[ktopic].result(10)
                        _show(kcat_produce_case(broker, ktopic, size, partitions, args.mb, Path(tmp)),
                              args.json)
            admin.create_topics([NewTopic("bench-latency", 1, 1)])["bench-latency"].result(10)
            _show(latency_case(broker, "bench-latency"), args.json)
        finally:
            broker.stop()


def _show(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result), flush=True)
        return
    if result["op"] == "produce-latency":
        print(f"produce latency at {result['rate_mb_s']} MB/s (1 KB, acks=all): "
              f"p50 {result['p50_ms']} ms  p99 {result['p99_ms']} ms", flush=True)
        return
    print(f"{result['op']:13} {result['record_bytes']:5d} B x{result['partitions']} partitions: "
          f"{result['mb_s']:7.1f} MB/s {result['records_s']:9d} rec/s  "
          f"(broker cpu {result['broker_cpu_s']}s, client cpu {result['client_cpu_s']}s, "
          f"wall {result['seconds']}s)", flush=True)


if __name__ == "__main__":
    main()
