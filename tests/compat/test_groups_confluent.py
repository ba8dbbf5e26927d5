"""Consumer groups with confluent-kafka (librdkafka): sharing, take-over, restart, with the
eager range assignor and the incremental cooperative-sticky one (both client-side)."""

from __future__ import annotations

import pytest

from tests.compat.groups_scenario import run_scenario
from tests.support.broker import BrokerProcess


@pytest.mark.parametrize("assignor", ["range", "cooperative-sticky"])
def test_group_lifecycle_confluent(broker: BrokerProcess, assignor: str) -> None:
    timings = run_scenario(broker, "confluent", assignor)
    assert timings["takeover_after_kill_s"] < 20
