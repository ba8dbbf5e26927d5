"""Debezium's retry policy for a database that went away: `errors.max.retries` (-1: forever)
with a delay doubling from `errors.retry.delay.initial.ms` to `errors.retry.delay.max.ms`.
A success resets it, so only consecutive failures count."""

from __future__ import annotations

import logging
import threading

from fjord.connect.api import ConnectException

log = logging.getLogger(__name__)


class Backoff:
    def __init__(self, max_retries: int, initial_ms: int, max_ms: int, stopped: threading.Event,
                 what: str) -> None:
        self.max_retries = max_retries
        self.initial_s = initial_ms / 1000.0
        self.max_s = max_ms / 1000.0
        self.stopped = stopped
        self.what = what
        self.failures = 0

    def success(self) -> None:
        self.failures = 0

    def failed(self, reason: str) -> None:
        """Wait before the next try, or raise when the retries are used up."""
        self.failures += 1
        if 0 <= self.max_retries < self.failures:
            raise ConnectException(f"{self.what} failed after {self.max_retries} retries: {reason}")
        delay = min(self.max_s, self.initial_s * (2 ** (self.failures - 1)))
        log.warning("%s failed (attempt %d, retrying in %.1fs): %s", self.what, self.failures, delay,
                    reason)
        self.stopped.wait(delay)
