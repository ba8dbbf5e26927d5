"""Consumer groups with kafka-python: sharing, take-over after close and SIGKILL, restart."""

from __future__ import annotations

from tests.compat.groups_scenario import run_scenario


def test_group_lifecycle_kafka_python(broker) -> None:  # type: ignore[no-untyped-def]
    timings = run_scenario(broker, "kafka-python")
    assert timings["takeover_after_kill_s"] < 20
