"""`fjord topics` against a real broker, as a user types it."""

from __future__ import annotations

import subprocess
import sys

from tests.support.broker import BrokerProcess


def fjord(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fjord.cli.main", *args], capture_output=True,
                          text=True, timeout=60)


def test_topic_lifecycle(broker: BrokerProcess) -> None:
    b = ["--bootstrap-server", broker.bootstrap]
    made = fjord("topics", "create", "orders", "--partitions", "3", "--config", "retention.ms=60000", *b)
    assert made.returncode == 0, made.stderr
    assert fjord("topics", "list", *b).stdout.split() == ["orders"]
    described = fjord("topics", "describe", "orders", *b).stdout
    assert "PartitionCount: 3" in described and "Configs: retention.ms=60000" in described
    assert described.count("\tTopic: orders\tPartition: ") == 3

    assert fjord("topics", "config", "orders", "--set", "segment.bytes=100000", *b).returncode == 0
    configs = fjord("topics", "config", "orders", *b).stdout
    assert "segment.bytes" in configs and "100000" in configs
    assert fjord("topics", "config", "orders", "--delete", "retention.ms", *b).returncode == 0
    assert "retention.ms" not in fjord("topics", "config", "orders", *b).stdout

    shrink = fjord("topics", "alter", "orders", "--partitions", "2", *b)
    assert shrink.returncode == 1
    assert "higher than the requested 2" in shrink.stderr
    assert fjord("topics", "alter", "orders", "--partitions", "5", *b).returncode == 0
    assert "PartitionCount: 5" in fjord("topics", "describe", "orders", *b).stdout

    bad = fjord("topics", "create", "bad name", *b)
    assert bad.returncode == 1 and "illegal" in bad.stderr
    assert fjord("topics", "delete", "orders", *b).returncode == 0
    assert fjord("topics", "list", *b).stdout.split() == []
