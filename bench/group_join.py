"""Group join latency: time from the last consumer's subscribe (its JoinGroup goes out at
once) to every member of the group having consumed a record, for 1 and 10 consumers.

Starts a real `fjord broker` (group.initial.rebalance.delay.ms as given, 0 by default so the
figure is the coordinator's own cost, not the configured wait) and drives confluent-kafka
consumers from one thread. Each case runs --runs times on a fresh group; prints one JSON
line per case with the median and the spread.

    .venv/bin/python bench/group_join.py [--runs 3] [--delay-ms 0]
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

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, NewTopic
from tests.support.broker import BrokerProcess

PARTITIONS = 10


def one_run(bootstrap: str, topic: str, group: str, members: int) -> float:
    consumers = []
    for _ in range(members):
        consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": group,
                             "auto.offset.reset": "earliest", "enable.auto.commit": False,
                             "session.timeout.ms": 10000, "heartbeat.interval.ms": 300})
        consumers.append(consumer)
    for consumer in consumers:
        consumer.subscribe([topic])
    started = time.monotonic()
    consumed = [False] * members
    deadline = started + 60
    try:
        while not all(consumed):
            if time.monotonic() > deadline:
                raise RuntimeError(f"only {sum(consumed)} of {members} consumed within 60 s")
            for index, consumer in enumerate(consumers):
                message = consumer.poll(0.001)
                if message is not None and message.error() is None:
                    consumed[index] = True
        return time.monotonic() - started
    finally:
        for consumer in consumers:
            consumer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--delay-ms", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        broker = BrokerProcess(Path(tmp) / "data", {
            "group.initial.rebalance.delay.ms": str(args.delay_ms)}).start()
        try:
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            admin.create_topics([NewTopic("join-bench", PARTITIONS, 1)])["join-bench"].result(15)
            producer = Producer({"bootstrap.servers": broker.bootstrap})
            for i in range(PARTITIONS * 100):
                producer.produce("join-bench", b"x", partition=i % PARTITIONS)
            producer.flush(10)
            for members in (1, 10):
                times = [one_run(broker.bootstrap, "join-bench", f"bench-{members}-{run}", members)
                         for run in range(args.runs)]
                print(json.dumps({
                    "case": "last_join_to_all_consuming", "consumers": members,
                    "initial_delay_ms": args.delay_ms, "median_s": round(statistics.median(times), 3),
                    "min_s": round(min(times), 3), "max_s": round(max(times), 3), "runs": args.runs,
                }), flush=True)
        finally:
            broker.stop()


if __name__ == "__main__":
    main()
