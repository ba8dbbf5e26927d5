"""Unclean start-up time of a broker holding one big partition, before and after Kafka's
recovery point: "scan all" CRC-checks every segment (what Fjord did before
recovery-point-offset-checkpoint), "recovery point" trusts the segments the checkpoint
says were fsynced and scans only what lies past it.

Fills a real `fjord broker` with --mb MB in 200 segments (segment.bytes = mb/200) through
confluent-kafka, stops it cleanly, then for each mode removes the clean-shutdown marker
(what kill -9 leaves behind; the segments stay in the page cache, so the figure is CPU and
syscalls, not disk) and times the start until the broker answers Metadata. Prints one JSON
line.

    .venv/bin/python bench/unclean_start.py                # 200 MB
    .venv/bin/python bench/unclean_start.py --mb 2048      # the 2 GB figure
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

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from tests.support.broker import BrokerProcess

SEGMENTS = 200
VALUE = 64 * 1024


def fill(bootstrap: str, total: int, segment_bytes: int) -> None:
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("big", 1, 1, config={"segment.bytes": str(segment_bytes)})]
                        )["big"].result(30)
    producer = Producer({"bootstrap.servers": bootstrap, "acks": 1, "linger.ms": 20,
                         "batch.size": 1048576, "compression.type": "none"})
    payload = bytes(range(256)) * (VALUE // 256)
    for _ in range(total // VALUE):
        while True:
            try:
                producer.produce("big", value=payload)
                break
            except BufferError:
                producer.poll(0.05)
    if producer.flush(300) != 0:
        raise RuntimeError("records left unacknowledged")


def timed_start(broker: BrokerProcess) -> float:
    started = time.monotonic()
    broker.start(timeout=900)
    AdminClient({"bootstrap.servers": broker.bootstrap}).list_topics(timeout=60)
    took = time.monotonic() - started
    if broker.stop(timeout=300) != 0:
        raise RuntimeError(broker.log_tail())
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    total = args.mb * 1024 * 1024
    segment_bytes = total // SEGMENTS
    with tempfile.TemporaryDirectory(prefix="fjord-unclean-") as tmp:
        data = Path(tmp) / "data"
        broker = BrokerProcess(data)
        broker.start()
        try:
            started = time.monotonic()
            fill(broker.bootstrap, total, segment_bytes)
            fill_s = time.monotonic() - started
        finally:
            broker.stop(timeout=300)
        segments = len(list((data / "big-0").glob("*.log")))
        checkpoint = (data / "recovery-point-offset-checkpoint").read_text()
        figures: dict[str, list[float]] = {"scan_all": [], "recovery_point": []}
        for _ in range(args.runs):
            for mode in figures:
                (data / ".kafka_cleanshutdown").unlink(missing_ok=True)
                if mode == "scan_all":
                    (data / "recovery-point-offset-checkpoint").unlink(missing_ok=True)
                else:
                    (data / "recovery-point-offset-checkpoint").write_text(checkpoint)
                figures[mode].append(timed_start(broker))
        log = broker.log_path.read_text()
    print(json.dumps({
        "mb": args.mb, "segments": segments, "fill_s": round(fill_s, 1),
        "unclean_start_scan_all_s": round(statistics.median(figures["scan_all"]), 2),
        "unclean_start_recovery_point_s": round(statistics.median(figures["recovery_point"]), 2),
        "runs": {k: [round(v, 2) for v in vs] for k, vs in figures.items()},
        "unclean_detected": log.count("unclean shutdown detected"),
    }))


if __name__ == "__main__":
    main()
