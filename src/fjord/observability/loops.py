"""The one way Fjord runs background work (retention, flushes, the cleaner, checkpoints,
group sweeps, transaction timeouts): a named loop calling one `tick` at an interval.

Why one way: each loop used to guard its own body, differently (one caught only OSError,
one left a call outside its guard, close() swallowed what the tasks died of), so a failing
background job could stop for good without a word. Here every failure is logged with its
stack and counted, the loop retries with exponential backoff, a loop failing
`BROKEN_AFTER` times in a row is reported as broken in the log and in `health()`, and its
recovery is logged too. `close()` logs anything a loop task died of.

Test hook: `FJORD_FAULT_INJECT=name:count[,name:count...]` in the broker's environment,
read once at start, makes the first `count` ticks of each named loop raise `InjectedFault`
(clients cannot reach it). The acceptance test uses it to prove every loop recovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

log = logging.getLogger("fjord.loops")

FAULT_ENV = "FJORD_FAULT_INJECT"
BROKEN_AFTER = 5
MAX_BACKOFF = 30.0

Tick = Callable[[], object]  # a coroutine result is awaited


class InjectedFault(Exception):
    """Raised by the FJORD_FAULT_INJECT test hook."""


@dataclass
class LoopHealth:
    name: str
    runs: int
    failures: int  # in all
    consecutive_failures: int
    last_error: str | None
    broken: bool


def parse_faults(spec: str) -> dict[str, int]:
    faults: dict[str, int] = {}
    for item in spec.split(","):
        name, _, count = item.strip().partition(":")
        if name:
            faults[name] = int(count) if count.strip().isdigit() else 1
    return faults


class BackgroundLoop:
    def __init__(self, name: str, tick: Tick, interval: float, faults: int = 0) -> None:
        self.name = name
        self.tick = tick
        self.interval = interval
        self.runs = 0
        self.failures = 0
        self.consecutive = 0
        self.last_error: str | None = None
        self._faults = faults
        self._item_failed = False
        self.task: asyncio.Task[None] | None = None

    def health(self) -> LoopHealth:
        return LoopHealth(self.name, self.runs, self.failures, self.consecutive,
                          self.last_error, self.consecutive >= BROKEN_AFTER)

    @contextlib.contextmanager
    def guard(self, what: str) -> Iterator[None]:
        """For a tick that works item by item (each partition): one item's failure is
        logged and counted, the other items still get their turn."""
        try:
            yield
        except Exception as exc:
            self._item_failed = True
            self.failures += 1
            self.last_error = f"{what}: {exc!r}"
            log.exception("background loop %s: %s failed", self.name, what)

    async def run(self) -> None:
        delay = self.interval
        while True:
            await asyncio.sleep(delay)
            self.runs += 1
            self._item_failed = False
            try:
                if self._faults > 0:
                    self._faults -= 1
                    raise InjectedFault(f"fault injected into {self.name} by {FAULT_ENV}")
                result = self.tick()
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.failures += 1
                self.last_error = repr(exc)
                failed = True
                log.error("background loop %s failed (%d in a row); retrying in %.1fs",
                          self.name, self.consecutive + 1, self._backoff(self.consecutive + 1),
                          exc_info=True)
            else:
                failed = self._item_failed
            if failed:
                self.consecutive += 1
                if self.consecutive == BROKEN_AFTER:
                    log.error("background loop %s is broken: %d failures in a row (last: %s); "
                              "it keeps retrying", self.name, self.consecutive, self.last_error)
                delay = self._backoff(self.consecutive)
            else:
                if self.consecutive:
                    log.warning("background loop %s recovered after %d failure(s) in a row",
                                self.name, self.consecutive)
                self.consecutive = 0
                delay = self.interval

    def _backoff(self, consecutive: int) -> float:
        return min(self.interval * 2 ** consecutive, max(self.interval, MAX_BACKOFF))


class LoopRegistry:
    """Every background loop of a process, and their health."""

    def __init__(self, faults: dict[str, int] | None = None) -> None:
        self.loops: dict[str, BackgroundLoop] = {}
        self._faults = dict(faults or {})
        self._on_stop: list[Callable[[], None]] = []
        self.started = time.monotonic()

    @classmethod
    def from_environment(cls) -> LoopRegistry:
        spec = os.environ.get(FAULT_ENV, "")
        faults = parse_faults(spec) if spec else {}
        if faults:
            log.warning("test hook %s=%s: faults will be injected into background loops",
                        FAULT_ENV, spec)
        return cls(faults)

    def start(self, name: str, tick: Tick, interval: float,
              on_stop: Callable[[], None] | None = None) -> BackgroundLoop:
        if name in self.loops:
            raise ValueError(f"background loop {name} started twice")
        loop = BackgroundLoop(name, tick, interval, self._faults.pop(name, 0))
        loop.task = asyncio.get_running_loop().create_task(loop.run(), name=f"loop-{name}")
        loop.task.add_done_callback(self._ended)
        self.loops[name] = loop
        if on_stop is not None:
            self._on_stop.append(on_stop)
        return loop

    def check_faults(self) -> None:
        """After every loop started: a fault spec naming no loop is a mistake in the test."""
        if self._faults:
            log.warning("%s names unknown loops: %s (known: %s)", FAULT_ENV,
                        ", ".join(sorted(self._faults)), ", ".join(sorted(self.loops)))

    def _ended(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("background task %s ended", task.get_name(), exc_info=task.exception())

    def health(self) -> dict[str, LoopHealth]:
        """Per loop: runs, failures, consecutive failures, last error, broken."""
        return {name: loop.health() for name, loop in self.loops.items()}

    def healthy(self) -> bool:
        return not any(loop.consecutive >= BROKEN_AFTER for loop in self.loops.values())

    async def close(self) -> None:
        tasks = [loop.task for loop in self.loops.values() if loop.task is not None]
        for task in tasks:
            task.cancel()
        results = await asyncio.gather(*tasks, return_exceptions=True)
        for task, result in zip(tasks, results, strict=True):
            if isinstance(result, BaseException) and not isinstance(result, asyncio.CancelledError):
                log.error("background task %s failed while stopping", task.get_name(),
                          exc_info=result)
        for hook in self._on_stop:
            try:
                hook()
            except Exception:
                log.exception("stopping background work failed")
