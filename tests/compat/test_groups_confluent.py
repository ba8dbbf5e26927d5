"""Consumer groups with confluent-kafka (librdkafka): sharing, take-over, restart."""

from __future__ import annotations

from tests.compat.groups_scenario import run_scenario


def test_group_lifecycle_confluent(broker) -> None:  # type: ignore[no-untyped-def]
    timings = run_scenario(broker, "confluent")
    assert timings["takeover_after_kill_s"] < 20
