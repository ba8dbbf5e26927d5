"""What security costs: produce and consume throughput for 1 KB records over PLAINTEXT, SSL
and SASL_SSL (SCRAM-SHA-256) on one broker in the same run, then handshakes per second
(new connections that authenticate and get a Metadata answer) per mechanism.

    .venv/bin/python bench/security_throughput.py [--mb 50] [--connections 40] [--json]

Shared 2-core machines are noisy: compare the rows of one run with each other, not runs.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic, ScramCredentialInfo, ScramMechanism
from confluent_kafka.admin import UserScramCredentialUpsertion as Upsert
from tests.security.support import ADMIN, ADMIN_PASSWORD, PASSWORD, USER, SecureBroker, make_tls

SIZE = 1024


def produce(conf: dict, topic: str, count: int) -> float:
    payload = os.urandom(SIZE)
    producer = Producer({**conf, "acks": "all", "linger.ms": 5, "batch.size": 1_000_000,
                         "queue.buffering.max.kbytes": 1_000_000, "compression.type": "none"})
    started = time.perf_counter()
    for _ in range(count):
        while True:
            try:
                producer.produce(topic, payload, partition=0)
                break
            except BufferError:
                producer.poll(0.01)
    assert producer.flush(300) == 0
    return time.perf_counter() - started


def consume(conf: dict, topic: str, count: int) -> float:
    consumer = Consumer({**conf, "group.id": f"bench-{topic}", "enable.auto.commit": False,
                         "fetch.max.bytes": 52_428_800, "max.partition.fetch.bytes": 10_485_760})
    consumer.assign([TopicPartition(topic, 0, 0)])
    started = time.perf_counter()
    seen = 0
    while seen < count:
        for message in consumer.consume(10_000, 1.0):
            if message.error() is None:
                seen += 1
    elapsed = time.perf_counter() - started
    consumer.close()
    return elapsed


def handshakes(conf: dict, connections: int) -> float:
    """New clients per second that connect, authenticate and read the cluster's metadata."""
    started = time.perf_counter()
    for _ in range(connections):
        admin = AdminClient(conf)
        assert admin.list_topics(timeout=30).brokers
        del admin
    return connections / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=50, help="MB per throughput case")
    parser.add_argument("--connections", type=int, default=40, help="connections per mechanism")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    count = args.mb * 1_000_000 // SIZE
    with tempfile.TemporaryDirectory() as tmp:
        broker = SecureBroker(Path(tmp) / "data", make_tls(Path(tmp) / "tls")).start()
        try:
            admin = AdminClient(broker.confluent("SASL_PLAINTEXT", "PLAIN", ADMIN, ADMIN_PASSWORD))
            upserts = [Upsert(USER, ScramCredentialInfo(m, 4096), PASSWORD.encode())
                       for m in (ScramMechanism.SCRAM_SHA_256, ScramMechanism.SCRAM_SHA_512)]
            for future in admin.alter_user_scram_credentials(upserts).values():
                future.result(timeout=30)
            cases = {"PLAINTEXT": broker.confluent("PLAINTEXT"), "SSL": broker.confluent("SSL"),
                     "SASL_SSL": broker.confluent("SASL_SSL", "SCRAM-SHA-256")}
            for future in admin.create_topics([NewTopic(f"bench-{name.lower()}", 1, 1)
                                               for name in cases]).values():
                future.result(timeout=30)
            results: dict[str, dict[str, float]] = {}
            for name, conf in cases.items():
                topic = f"bench-{name.lower()}"
                mb = count * SIZE / 1e6
                results[name] = {"produce_mb_s": round(mb / produce(conf, topic, count), 1),
                                 "consume_mb_s": round(mb / consume(conf, topic, count), 1)}
            rates = {
                "PLAINTEXT": broker.confluent("PLAINTEXT"),
                "SSL (mTLS)": broker.confluent("SSL"),
                "SASL_PLAINTEXT PLAIN": broker.confluent("SASL_PLAINTEXT", "PLAIN"),
                "SASL_PLAINTEXT SCRAM-SHA-256": broker.confluent("SASL_PLAINTEXT", "SCRAM-SHA-256"),
                "SASL_PLAINTEXT SCRAM-SHA-512": broker.confluent("SASL_PLAINTEXT", "SCRAM-SHA-512"),
                "SASL_SSL PLAIN": broker.confluent("SASL_SSL", "PLAIN"),
                "SASL_SSL SCRAM-SHA-256": broker.confluent("SASL_SSL", "SCRAM-SHA-256"),
            }
            connects = {name: round(handshakes(conf, args.connections), 1) for name, conf in rates.items()}
        finally:
            broker.stop()
    if args.json:
        print(json.dumps({"record_bytes": SIZE, "mb": args.mb, "throughput": results,
                          "connections_per_s": connects}))
        return
    print(f"1 KB records, {args.mb} MB per case, one partition, acks=all (confluent-kafka)")
    print(f"{'listener':<12} {'produce MB/s':>13} {'consume MB/s':>13}")
    for name, row in results.items():
        print(f"{name:<12} {row['produce_mb_s']:>13} {row['consume_mb_s']:>13}")
    print(f"\nnew connections per second (connect, authenticate, Metadata), {args.connections} each")
    for name, rate in connects.items():
        print(f"{name:<30} {rate:>8}")


if __name__ == "__main__":
    main()
