"""The new consumer protocol (KIP-848, group.protocol=consumer) with confluent-kafka: the
broker assigns; three members share six partitions, the last takes over from two that
leave, and commits survive a broker restart."""

from __future__ import annotations

import subprocess
import sys
import time

from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic

from tests.compat.groups_scenario import run_scenario
from tests.support.broker import BrokerProcess


def test_group_lifecycle_consumer_protocol(broker: BrokerProcess) -> None:
    timings = run_scenario(broker, "confluent", "consumer", kill=False)
    assert timings["three_joined_s"] < 30


def test_consumer_protocol_group_is_listed_and_described(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("k848", 4, 1)])["k848"].result(15)
    members = [Consumer({"bootstrap.servers": broker.bootstrap, "group.id": "k848-group",
                         "group.protocol": "consumer"}) for _ in range(2)]
    try:
        for consumer in members:
            consumer.subscribe(["k848"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for consumer in members:
                consumer.poll(0.05)
            if all(len(c.assignment()) == 2 for c in members):
                break
        assert sorted(tp.partition for c in members for tp in c.assignment()) == [0, 1, 2, 3]
        assert all(len(c.assignment()) == 2 for c in members)

        def cli(*args: str) -> str:
            done = subprocess.run([sys.executable, "-m", "fjord.cli.main", "groups", *args,
                                   "--bootstrap-server", broker.bootstrap],
                                  capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            return done.stdout

        assert ["k848-group", "Stable"] in [line.split() for line in cli("list").splitlines()]
        rows = [line.split() for line in cli("describe", "--group", "k848-group").splitlines()
                if line.startswith("k848-group")]
        assert sorted(int(r[2]) for r in rows) == [0, 1, 2, 3]
        assert len({r[6] for r in rows}) == 2, "each member owns two partitions"
        refused = admin.delete_consumer_groups(["k848-group"], request_timeout=15)["k848-group"]
        assert refused.exception() is not None
    finally:
        for consumer in members:
            consumer.close()
