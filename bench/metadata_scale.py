"""Metadata at scale: time to create T topics of P partitions each (one CreateTopics request
per topic, as `kafka-topics --create` does, and as librdkafka sends them), the time a
Metadata request for all of them takes, the broker's restart time (SIGTERM, start, first
Metadata answer) with them, and its RSS.

Starts a real `fjord broker` on a temp dir; prints one JSON line.

    .venv/bin/python bench/metadata_scale.py                       # 20 x 50 = 1,000 partitions
    .venv/bin/python bench/metadata_scale.py --topics 100 --partitions 100   # the full figure
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka.admin import AdminClient, NewTopic
from tests.support.broker import BrokerProcess


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return -1.0


def metadata_seconds(bootstrap: str, expected: int) -> float:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    started = time.monotonic()
    topics = admin.list_topics(timeout=120).topics
    took = time.monotonic() - started
    found = sum(len(t.partitions) for name, t in topics.items() if name.startswith("scale-"))
    if found != expected:
        raise RuntimeError(f"Metadata shows {found} partitions, expected {expected}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--topics", type=int, default=20)
    parser.add_argument("--partitions", type=int, default=50)
    args = parser.parse_args()
    total = args.topics * args.partitions
    with tempfile.TemporaryDirectory(prefix="fjord-metadata-scale-") as tmp:
        broker = BrokerProcess(Path(tmp) / "data", {"auto.create.topics.enable": "false"}).start()
        try:
            assert broker.proc is not None
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            started = time.monotonic()
            for index in range(args.topics):
                name = f"scale-{index:04d}"
                admin.create_topics([NewTopic(name, args.partitions, 1)],
                                    request_timeout=300)[name].result(300)
            create_s = time.monotonic() - started
            metadata_s = metadata_seconds(broker.bootstrap, total)
            rss_before = rss_mb(broker.proc.pid)
            stopped = time.monotonic()
            if broker.stop(timeout=300) != 0:
                raise RuntimeError(f"broker did not stop cleanly: {broker.log_tail()}")
            stop_s = time.monotonic() - stopped
            started = time.monotonic()
            broker.start(timeout=600)
            metadata_seconds(broker.bootstrap, total)
            restart_s = time.monotonic() - started
            rss_after = rss_mb(broker.proc.pid)
        finally:
            broker.stop(timeout=300)
    print(json.dumps({
        "topics": args.topics, "partitions_per_topic": args.partitions, "partitions": total,
        "create_s": round(create_s, 2), "create_ms_per_partition": round(create_s * 1000 / total, 3),
        "metadata_request_s": round(metadata_s, 3), "stop_s": round(stop_s, 2),
        "restart_s": round(restart_s, 2), "rss_mb_after_create": round(rss_before, 1),
        "rss_mb_after_restart": round(rss_after, 1),
    }))


if __name__ == "__main__":
    main()
