"""Durability soak: an idempotent acks=all producer (confluent-kafka) writes while the broker
runs with log.flush.interval.messages=1 and is SIGKILLed and restarted N times, each time
with records in flight. Prints records sent, acknowledged, read back, lost (must be 0),
duplicated (must be 0) and the median restart time (process start until it listens) and
resume time (restart until acknowledgements flow again).

Uses the machinery of tests/compat/test_durability.py (tests/support/durability.py).

    .venv/bin/python bench/durability_soak.py [--kills 100] [--partitions 3] [--json]
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

from confluent_kafka.admin import AdminClient, NewTopic
from tests.support.broker import BrokerProcess
from tests.support.durability import AckingProducer, kill_loop, read_back

TOPIC = "soak"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fjord-soak-") as tmp:
        broker = BrokerProcess(Path(tmp) / "data", {"log.flush.interval.messages": "1",
                                                    "log.segment.bytes": "1048576"}).start()
        started = time.monotonic()
        try:
            admin = AdminClient({"bootstrap.servers": broker.bootstrap})
            admin.create_topics([NewTopic(TOPIC, args.partitions, 1)])[TOPIC].result(30)
            producer = AckingProducer(broker.bootstrap, TOPIC, args.partitions)
            producer.start()
            stats = kill_loop(broker, producer, args.kills, resume_timeout=120)
            undelivered = producer.finish()
            result = read_back(broker.bootstrap, producer)
            alive = broker.alive()
        finally:
            broker.stop()
    figures = {
        "kills": args.kills,
        "sent": producer.sent,
        "acknowledged": len(producer.acked),
        "delivery_failures": len(producer.failed),
        "undelivered_at_end": undelivered,
        "read_back": result.read,
        "lost": result.lost,
        "duplicated": result.duplicated,
        "partitions_with_offset_gaps": result.gaps,
        "kills_with_records_in_flight": sum(1 for n in stats.in_flight_at_kill if n > 0),
        "median_restart_s": round(stats.median_restart, 3),
        "max_restart_s": round(max(stats.restart_seconds, default=0.0), 3),
        "median_resume_s": round(statistics.median(stats.resume_seconds), 3),
        "broker_alive_at_end": alive,
        "wall_s": round(time.monotonic() - started, 1),
    }
    if args.json:
        print(json.dumps(figures))
    else:
        for name, value in figures.items():
            print(f"{name:32} {value}")
    ok = result.lost == 0 and result.duplicated == 0 and not result.gaps and alive
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
