"""Console page load times with many partitions and consumer groups.

Starts a real `fjord broker` and `fjord control` (the broker registered as a cluster), creates
--topics topics of --partitions-per-topic partitions and --groups consumer groups (each with a
committed offset on one partition), then times each console page over HTTP (median of --runs,
the first load of the topic list with nothing cached, and each page's first request once the
cached metadata is past its TTL as after_ttl_ms). Prints one JSON
line per page.

    .venv/bin/python bench/console_load.py                                  # 1,000 partitions, 100 groups
    .venv/bin/python bench/console_load.py --topics 100 --partitions-per-topic 100 --groups 1000
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from confluent_kafka import ConsumerGroupTopicPartitions, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from tests.control.support import ControlProcess
from tests.support.broker import BrokerProcess

from fjord.console.clients import METADATA_TTL


def populate(bootstrap: str, topics: int, per_topic: int, groups: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    names = [f"load-{i:04d}" for i in range(topics)]
    for start in range(0, len(names), 20):
        batch = names[start:start + 20]
        for future in admin.create_topics([NewTopic(n, per_topic, 1) for n in batch]).values():
            future.result(120)
    producer = Producer({"bootstrap.servers": bootstrap, "linger.ms": 50})
    for name in names:
        for p in range(0, per_topic, max(1, per_topic // 10)):
            producer.produce(name, value=b"x" * 100, partition=p)
    assert producer.flush(120) == 0
    for g in range(groups):
        group = f"group-{g:04d}"
        topic = names[g % len(names)]
        request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, 0, 0)])
        admin.alter_consumer_group_offsets([request])[group].result(30)


def timed(client: httpx.Client, url: str, runs: int) -> tuple[float, float, int]:
    """(first request once the console's metadata is older than its TTL, so served stale while it
    is refreshed in the background; median of the next runs; bytes)."""
    time.sleep(METADATA_TTL + 0.2)
    started = time.perf_counter()
    client.get(url)
    cold = time.perf_counter() - started
    samples = []
    size = 0
    for _ in range(runs):
        started = time.perf_counter()
        response = client.get(url)
        samples.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code, response.text[:300])
        size = len(response.content)
    return cold, statistics.median(samples), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--topics", type=int, default=10)
    parser.add_argument("--partitions-per-topic", type=int, default=100)
    parser.add_argument("--groups", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        broker = BrokerProcess(root / "kafka").start(timeout=120)
        control = None
        try:
            started = time.monotonic()
            populate(broker.bootstrap, args.topics, args.partitions_per_topic, args.groups)
            setup_s = time.monotonic() - started
            register = ["--register", f"load={broker.bootstrap}"]
            control = ControlProcess(root / "control", extra=register).start()
            with httpx.Client(base_url=control.url, timeout=120) as client:
                deadline = time.monotonic() + 60
                while True:
                    clusters = client.get("/v1/clusters").json()["clusterInfoList"]
                    if clusters and clusters[0]["state"] == "ACTIVE":
                        break
                    assert time.monotonic() < deadline, clusters
                    time.sleep(0.5)
                cid = clusters[0]["clusterArn"].rsplit("/", 1)[-1]
                last_topic_page = -(-args.topics // 50)
                last_group_page = -(-args.groups // 50)
                pages = {
                    "clusters": "/console/",
                    "cluster": f"/console/c/{cid}",
                    "topics page 1": f"/console/c/{cid}/topics",
                    "topics last page": f"/console/c/{cid}/topics?page={last_topic_page}",
                    "topics filtered": f"/console/c/{cid}/topics?q=load-000",
                    "topic (first 100 partitions)": f"/console/c/{cid}/topics/load-0000",
                    "messages (latest 50, all partitions)": f"/console/c/{cid}/topics/load-0000/messages",
                    "groups page 1": f"/console/c/{cid}/groups",
                    "groups last page": f"/console/c/{cid}/groups?page={last_group_page}",
                    "group": f"/console/c/{cid}/group?id=group-0000",
                    "api list-clusters": "/v1/clusters",
                }
                partitions = args.topics * args.partitions_per_topic
                started = time.perf_counter()
                client.get(f"/console/c/{cid}/topics")  # nothing cached yet: the whole Metadata
                print(json.dumps({"page": "topics page 1, first load", "partitions": partitions,
                                  "groups": args.groups,
                                  "ms": round((time.perf_counter() - started) * 1000, 1)}), flush=True)
                for name, url in pages.items():
                    cold, median, size = timed(client, url, args.runs)
                    print(json.dumps({"page": name, "partitions": partitions, "groups": args.groups,
                                      "after_ttl_ms": round(cold * 1000, 1),
                                      "median_ms": round(median * 1000, 1), "bytes": size}), flush=True)
            print(json.dumps({"setup_s": round(setup_s, 1)}), flush=True)
        finally:
            if control is not None:
                control.stop()
            broker.stop()


if __name__ == "__main__":
    main()
