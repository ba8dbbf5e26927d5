"""Polling with a generous deadline: the one way tests wait for a condition on a loaded
machine (no fixed sleeps that pass on a fast laptop and fail on a busy CI runner)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2,
               message: str = "condition") -> Any:
    """The first truthy value of predicate(), or AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {message}; last value: {last!r}")
