"""The new consumer protocol (KIP-848, group.protocol=consumer) with confluent-kafka: the
broker assigns; three members share six partitions, the last takes over from two that
leave, and commits survive a broker restart."""

from __future__ import annotations

from tests.compat.groups_scenario import run_scenario


def test_group_lifecycle_consumer_protocol(broker) -> None:  # type: ignore[no-untyped-def]
    timings = run_scenario(broker, "confluent", "consumer", kill=False)
    assert timings["three_joined_s"] < 30
