"""What metrics cost: the hot-path counters, produce/consume throughput with metrics on at
PER_TOPIC_PER_PARTITION (scraped every second) vs off, and scrape time and size per
monitoring level at many partitions.

1. Per-request cost of counting a produce (BrokerTopicMetrics for the topic and the broker)
   with Fjord's plain ints vs prometheus-client's locked Counter children — why the broker
   keeps plain ints (DESIGN.md: measure).
2. Two real brokers, one after the other, --runs times each in alternating order (best
   run kept), reporting MB/s and the broker's CPU ms per MB: "off" has no admin
   listener and nobody scrapes (the ints are still bumped: counting is always on);
   "on" has metrics.level=PER_TOPIC_PER_PARTITION and a scraper pulling /metrics every 1 s.
3. One broker with --partitions partitions (and a group committed on all of them): the time
   and bytes of one /metrics scrape at each level, switched live with IncrementalAlterConfigs.

    .venv/bin/python bench/metrics_overhead.py [--mb 100] [--runs 3] [--partitions 1000] [--json]

Timing on a shared 2-core machine is noisy; compare figures of one invocation only.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.broker_throughput import consume_case, produce_case
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
    ResourceType,
)
from tests.observability.support import AdminBroker
from tests.support.broker import BrokerProcess

from fjord.observability.counters import BrokerCounters
from fjord.observability.levels import LEVELS

RECORD = 1000
PARTITIONS = 4


def counter_costs(rounds: int = 200_000) -> dict:
    """ns per counted produce (4 increments for the topic and 4 for the broker)."""
    ours = BrokerCounters()
    t0 = time.perf_counter()
    for _ in range(rounds):
        ours.produced("t", 10, 10_000, True)
    plain_ns = (time.perf_counter() - t0) / rounds * 1e9
    result = {"op": "count a produce", "plain_ints_ns": round(plain_ns)}
    try:
        from prometheus_client import CollectorRegistry, Counter
    except ImportError:
        result["prometheus_client_ns"] = None
        return result
    registry = CollectorRegistry()
    names = ("messagesin", "bytesin", "totalproducerequests", "failedproducerequests")
    counters = [Counter(f"bench_{n}", n, ["topic"], registry=registry) for n in names]
    totals = [Counter(f"bench_all_{n}", n, registry=registry) for n in names]
    t0 = time.perf_counter()
    for _ in range(rounds):
        counters[0].labels("t").inc(10)
        counters[1].labels("t").inc(10_000)
        counters[2].labels("t").inc()
        totals[0].inc(10)
        totals[1].inc(10_000)
        totals[2].inc()
    result["prometheus_client_ns"] = round((time.perf_counter() - t0) / rounds * 1e9)
    return result


class Scraper(threading.Thread):
    """Pulls /metrics every second, as Prometheus would, while the throughput runs."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.scrapes, self.bytes = url, threading.Event(), 0, 0

    def run(self) -> None:
        while True:
            with urllib.request.urlopen(self.url, timeout=30) as response:
                self.bytes = len(response.read())
            self.scrapes += 1
            if self.stop.wait(1.0):
                return


def throughput(base: Path, metrics_on: bool, mb: int, run: int) -> dict:
    name = f"{'on' if metrics_on else 'off'}-{run}"
    broker: BrokerProcess
    if metrics_on:
        broker = AdminBroker(base / name, {"metrics.level": "PER_TOPIC_PER_PARTITION"}).start()
    else:
        broker = BrokerProcess(base / name).start()
    scraper = None
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic("bench", PARTITIONS, 1)])["bench"].result(15)
        if isinstance(broker, AdminBroker):
            scraper = Scraper(broker.admin_url + "/metrics")
            scraper.start()
        produced = produce_case(broker, "bench", RECORD, PARTITIONS, mb)
        consumed = consume_case(broker, "bench", RECORD, PARTITIONS, produced["records"])
        return {"metrics": "PER_TOPIC_PER_PARTITION" if metrics_on else "off",
                "produce_mb_s": produced["mb_s"], "consume_mb_s": consumed["mb_s"],
                # Broker CPU per MB moved: far less disturbed by a busy machine than MB/s.
                "produce_cpu_ms_per_mb": round(produced["broker_cpu_s"] * 1000 / mb, 2),
                "consume_cpu_ms_per_mb": round(consumed["broker_cpu_s"] * 1000 / mb, 2),
                "scrapes": scraper.scrapes if scraper else 0,
                "scrape_bytes": scraper.bytes if scraper else 0}
    finally:
        if scraper is not None:
            scraper.stop.set()
        broker.stop()


def scrape_sizes(base: Path, partitions: int) -> list[dict]:
    broker = AdminBroker(base / "scrape", {"offsets.topic.num.partitions": "1"}).start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        per_topic = 100
        topics = [f"s{i}" for i in range(max(1, partitions // per_topic))]
        for start in range(0, len(topics), 20):
            futures = admin.create_topics([NewTopic(t, per_topic, 1) for t in topics[start:start + 20]],
                                          operation_timeout=60)
            for future in futures.values():
                future.result(120)
        consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "scrape-bench"})
        consumer.commit(offsets=[TopicPartition(t, p, 0) for t in topics for p in range(per_topic)],
                        asynchronous=False)
        consumer.close()
        rows = []
        for level in LEVELS:
            entry = ConfigEntry("metrics.level", level, incremental_operation=AlterConfigOpType.SET)
            resource_ = ConfigResource(ResourceType.BROKER, "1", incremental_configs=[entry])
            admin.incremental_alter_configs([resource_])[resource_].result(15)
            times, size, series = [], 0, 0
            for _ in range(5):
                t0 = time.perf_counter()
                with urllib.request.urlopen(broker.admin_url + "/metrics", timeout=120) as response:
                    body = response.read()
                times.append(time.perf_counter() - t0)
                size = len(body)
                series = sum(1 for line in body.splitlines() if line and not line.startswith(b"#"))
            rows.append({"level": level, "partitions": len(topics) * per_topic,
                         "scrape_ms_median": round(statistics.median(times) * 1000, 1),
                         "bytes": size, "series": series})
        return rows
    finally:
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=int, default=100, help="MB produced (and consumed) per run")
    parser.add_argument("--runs", type=int, default=3, help="runs of each case (best kept)")
    parser.add_argument("--partitions", type=int, default=1000, help="partitions for the scrape test")
    parser.add_argument("--json", action="store_true", help="one JSON object per result")
    args = parser.parse_args()
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the broker inherits it: fds per segment

    def show(item: dict) -> None:
        if args.json:
            print(json.dumps(item), flush=True)
        else:
            print("  ".join(f"{k}={v}" for k, v in item.items()), flush=True)

    show(counter_costs())
    with tempfile.TemporaryDirectory(prefix="fjord-metrics-bench-") as tmp:
        base = Path(tmp)
        results: dict[bool, list[dict]] = {False: [], True: []}
        for run in range(args.runs):
            for on in (False, True) if run % 2 == 0 else (True, False):
                result = throughput(base, on, args.mb, run)
                show({"run": run, **result})
                results[on].append(result)
        for key, best in (("produce_mb_s", max), ("consume_mb_s", max),
                          ("produce_cpu_ms_per_mb", min), ("consume_cpu_ms_per_mb", min)):
            off = best(r[key] for r in results[False])
            on = best(r[key] for r in results[True])
            show({"compare": key, "best_of": args.runs, "off": off, "per_topic_per_partition": on,
                  "difference_percent": round((on - off) / off * 100, 1) if off else None})
        for row in scrape_sizes(base, args.partitions):
            show(row)


if __name__ == "__main__":
    main()
