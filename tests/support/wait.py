"""Polling with a generous deadline: the one way tests wait for a condition on a loaded
machine (no fixed sleeps that pass on a fast laptop and fail on a busy CI runner)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.2,
               message: str = "condition", describe: Callable[[], str] | None = None) -> Any:
    """The first truthy value of predicate(), or AssertionError after `timeout` seconds.

    `describe`, called only on timeout, adds what a reader needs to see why (process states,
    log tails) to the failure message.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    detail = f"; {describe()}" if describe is not None else ""
    raise AssertionError(f"timed out waiting for {message}; last value: {last!r}{detail}")
