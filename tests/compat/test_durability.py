"""kill -9 loses no acknowledged write (feature map B2, docs/durability.md).

An idempotent acks=all producer (confluent-kafka) writes continuously while the broker is
killed with SIGKILL and restarted again and again. The producer rides through the outages
with its own retries; afterwards every record whose delivery callback reported success
must be in the log at the offset it was acknowledged with, each partition's offsets must be
contiguous from 0, and no record may be there twice (the idempotent producer's sequence
numbers survive the restarts because the broker rebuilds its producer state on recovery).
"""

from __future__ import annotations

from pathlib import Path

from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess
from tests.support.durability import AckingProducer, kill_loop, read_back

TOPIC = "durable"
PARTITIONS = 3
KILLS = 10


def test_sigkill_loses_no_acknowledged_record(tmp_path: Path) -> None:
    # Small segments: kills also land around segment rolls, so recovery must cope with
    # several segments per partition, not only a torn tail in the first one.
    broker = BrokerProcess(tmp_path / "data", {"log.flush.interval.messages": "1",
                                               "log.segment.bytes": "131072"}).start()
    try:
        admin = AdminClient({"bootstrap.servers": broker.bootstrap})
        admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])[TOPIC].result(10)
        producer = AckingProducer(broker.bootstrap, TOPIC, PARTITIONS)
        producer.start()
        stats = kill_loop(broker, producer, KILLS)
        assert producer.finish() == 0, "records still undelivered after the last restart"
        print(f"sent={producer.sent} acked={len(producer.acked)} failed={len(producer.failed)} "
              f"acked before each kill={stats.acked_before_kill} "
              f"unacknowledged at each kill={stats.in_flight_at_kill} "
              f"seconds to resume={[round(t, 2) for t in stats.resume_seconds]}")
        # Kills landed on a producer with records in flight, not between bursts.
        assert sum(1 for n in stats.in_flight_at_kill if n > 0) >= KILLS // 2
        assert producer.failed == []

        result = read_back(broker.bootstrap, producer)
        print(f"read={result.read} lost={result.lost} duplicated={result.duplicated}")
        assert result.gaps == [], f"partitions {result.gaps}: offsets not contiguous"
        assert result.duplicated == 0
        assert result.lost == 0
        assert result.read == producer.sent  # finish() == 0: every record was acknowledged
        segments = sorted((tmp_path / "data" / f"{TOPIC}-0").glob("*.log"))
        print(f"segments of partition 0: {len(segments)}")
        assert len(segments) > 3
        assert broker.alive()
    finally:
        broker.stop()
