"""Consumer groups with aiokafka: sharing, take-over after close and SIGKILL, restart."""

from __future__ import annotations

from tests.compat.groups_scenario import run_scenario
from tests.support.broker import BrokerProcess


def test_group_lifecycle_aiokafka(broker: BrokerProcess) -> None:
    timings = run_scenario(broker, "aiokafka")
    assert timings["takeover_after_kill_s"] < 20
