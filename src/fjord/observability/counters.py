"""The broker's hot-path counters: plain ints on plain objects, bumped inline by the request
handlers and read only when /metrics is scraped.

No locks are needed: every increment runs on the broker's one event-loop thread. Counting
always happens; `metrics.level` only decides which series a scrape shows, so changing the
level at runtime never loses history.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field

RESERVOIR = 1024  # latency samples kept per request type (Kafka's histograms keep 1028)


class TopicCounters:
    """Kafka's BrokerTopicMetrics, for one topic or for the whole broker."""

    __slots__ = ("bytes_in", "bytes_out", "failed_fetch", "failed_produce", "messages_in",
                 "total_fetch", "total_produce")

    def __init__(self) -> None:
        self.messages_in = 0
        self.bytes_in = 0
        self.bytes_out = 0
        self.failed_produce = 0
        self.failed_fetch = 0
        self.total_produce = 0
        self.total_fetch = 0


class Timer:
    """Count, sum and the latest samples of one latency (ms), for a scrape-time summary."""

    __slots__ = ("count", "recent", "sum")

    def __init__(self) -> None:
        self.count = 0
        self.sum = 0.0
        self.recent: collections.deque[float] = collections.deque(maxlen=RESERVOIR)

    def observe(self, ms: float) -> None:
        self.count += 1
        self.sum += ms
        self.recent.append(ms)

    def quantiles(self, points: tuple[float, ...]) -> list[float]:
        ordered = sorted(self.recent)
        if not ordered:
            return [0.0 for _ in points]
        last = len(ordered) - 1
        return [ordered[min(last, round(q * last))] for q in points]


@dataclass
class RequestTimers:
    """Kafka's RequestMetrics time histograms of one request type."""

    total: Timer = field(default_factory=Timer)
    queue: Timer = field(default_factory=Timer)
    local: Timer = field(default_factory=Timer)
    send: Timer = field(default_factory=Timer)


class BrokerCounters:
    def __init__(self) -> None:
        self.all = TopicCounters()
        self.topics: dict[str, TopicCounters] = {}
        self.requests: dict[tuple[str, int], int] = {}
        self.timers: dict[str, RequestTimers] = {}

    def topic(self, name: str) -> TopicCounters:
        counters = self.topics.get(name)
        if counters is None:
            counters = self.topics[name] = TopicCounters()
        return counters

    def forget_topic(self, name: str) -> None:
        self.topics.pop(name, None)

    def produced(self, topic: str, records: int, size: int, ok: bool) -> None:
        mine = self.topic(topic)
        everyone = self.all
        mine.total_produce += 1
        everyone.total_produce += 1
        if ok:
            mine.messages_in += records
            everyone.messages_in += records
            mine.bytes_in += size
            everyone.bytes_in += size
        else:
            mine.failed_produce += 1
            everyone.failed_produce += 1

    def fetched(self, topic: str, size: int, ok: bool) -> None:
        mine = self.topic(topic)
        everyone = self.all
        mine.total_fetch += 1
        everyone.total_fetch += 1
        if ok:
            mine.bytes_out += size
            everyone.bytes_out += size
        else:
            mine.failed_fetch += 1
            everyone.failed_fetch += 1

    def request_done(self, name: str, version: int, queue_ms: float, local_ms: float,
                     send_ms: float) -> None:
        key = (name, version)
        self.requests[key] = self.requests.get(key, 0) + 1
        timers = self.timers.get(name)
        if timers is None:
            timers = self.timers[name] = RequestTimers()
        timers.queue.observe(queue_ms)
        timers.local.observe(local_ms)
        timers.send.observe(send_ms)
        timers.total.observe(queue_ms + local_ms + send_ms)
