"""Consumer groups with kafkajs: sharing, take-over after close and SIGKILL, restart."""

from __future__ import annotations

from tests.compat.groups_scenario import run_scenario
from tests.support.broker import BrokerProcess


def test_group_lifecycle_kafkajs(broker: BrokerProcess) -> None:
    timings = run_scenario(broker, "kafkajs")
    assert timings["takeover_after_kill_s"] < 20
