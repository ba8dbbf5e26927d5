"""`fjord groups` against a real broker: lag of a group behind by a known number of records,
resets (refused while active, dry run by default), listing and deletion."""

from __future__ import annotations

import subprocess
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.support.broker import BrokerProcess

TOPIC, GROUP = "lagging", "lag-group"


def fjord_groups(broker: BrokerProcess, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "fjord.cli.main", "groups", *args, "--bootstrap-server", broker.bootstrap],
        capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def rows(output: str) -> list[list[str]]:
    lines = [line.split() for line in output.splitlines() if line.strip()]
    return [line for line in lines if line and line[0] == GROUP]


def _setup(broker: BrokerProcess) -> None:
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(TOPIC, 2, 1)])[TOPIC].result(15)
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(50):
        producer.produce(TOPIC, value=b"%d" % i, partition=i % 2)  # 25 records per partition
    assert producer.flush(10) == 0


def _consume_and_commit(broker: BrokerProcess, count: int, close: bool = True) -> Consumer:
    """Join the group and commit: partition 0 at `count`, partition 1 at 5 (of 25 each)."""
    consumer = Consumer({"bootstrap.servers": broker.bootstrap, "group.id": GROUP,
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "session.timeout.ms": 6000, "heartbeat.interval.ms": 500})
    consumer.subscribe([TOPIC])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(consumer.assignment()) < 2:
        consumer.poll(0.1)
    consumer.commit(offsets=[TopicPartition(TOPIC, 0, count), TopicPartition(TOPIC, 1, 5)],
                    asynchronous=False)
    if close:
        consumer.close()
    return consumer


def test_describe_shows_lag_and_members(broker: BrokerProcess) -> None:
    _setup(broker)
    consumer = _consume_and_commit(broker, 20, close=False)
    try:
        out = fjord_groups(broker, "describe", "--group", GROUP).stdout
        table = {int(r[2]): r for r in rows(out)}
        assert set(table) == {0, 1}, out
        # GROUP TOPIC PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG CONSUMER-ID HOST CLIENT-ID TIME-LAG
        assert table[0][1:6] == [TOPIC, "0", "20", "25", "5"], out
        assert table[1][1:6] == [TOPIC, "1", "5", "25", "20"], out
        assert table[0][6] != "-" and table[0][7].startswith("/127.0.0.1"), out
        header = next(line for line in out.splitlines() if line.startswith("GROUP"))
        assert header.split() == ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET",
                                  "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID", "TIME-LAG"]
        listed = fjord_groups(broker, "list").stdout
        assert [GROUP, "Stable"] in [line.split() for line in listed.splitlines()], listed

        refused = fjord_groups(broker, "reset-offsets", "--group", GROUP, "--topic", TOPIC,
                               "--to-earliest", "--execute", check=False)
        assert refused.returncode == 1 and "inactive" in refused.stderr, refused
    finally:
        consumer.close()

    out = fjord_groups(broker, "describe", "--group", GROUP).stdout
    assert "has no active members" in out
    assert [r[3:6] for r in rows(out)] == [["20", "25", "5"], ["5", "25", "20"]], out


def test_reset_offsets_and_delete(broker: BrokerProcess) -> None:
    _setup(broker)
    _consume_and_commit(broker, 20)

    dry = fjord_groups(broker, "reset-offsets", "--group", GROUP, "--topic", TOPIC, "--to-earliest").stdout
    assert [r[1:4] for r in rows(dry)] == [[TOPIC, "0", "0"], [TOPIC, "1", "0"]], dry
    still = fjord_groups(broker, "describe", "--group", GROUP).stdout
    assert [r[3] for r in rows(still)] == ["20", "5"], "a dry run must not change offsets"

    fjord_groups(broker, "reset-offsets", "--group", GROUP, "--topic", f"{TOPIC}:1", "--shift-by", "-3",
                 "--execute")
    fjord_groups(broker, "reset-offsets", "--group", GROUP, "--topic", f"{TOPIC}:0", "--to-offset", "99",
                 "--execute")
    out = fjord_groups(broker, "describe", "--group", GROUP).stdout
    assert [r[3:6] for r in rows(out)] == [["25", "25", "0"], ["2", "25", "23"]], out

    fjord_groups(broker, "reset-offsets", "--group", GROUP, "--all-topics", "--to-datetime",
                 "2000-01-01T00:00:00.000", "--execute")
    out = fjord_groups(broker, "describe", "--group", GROUP).stdout
    assert [r[3] for r in rows(out)] == ["0", "0"], out

    deleted = fjord_groups(broker, "delete", "--group", GROUP).stdout
    assert f"'{GROUP}'" in deleted and "successful" in deleted
    assert GROUP not in fjord_groups(broker, "list").stdout
    again = fjord_groups(broker, "delete", "--group", GROUP, check=False)
    assert again.returncode == 1
