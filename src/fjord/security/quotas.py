"""Client quotas as Kafka applies them: byte rates per user and client id, with Kafka's
precedence, enforced by telling the client how long to wait (throttle_time_ms) and muting
its connection for that long (KIP-219).

The rate is measured over `quota.window.num` windows of `quota.window.size.seconds`; a
request that takes the client over its quota is still served, and the delay is the time
after which the observed rate would be back at the quota: bytes / quota - elapsed window.
"""

from __future__ import annotations

import time
from collections import deque

from fjord.config.broker import BrokerConfig
from fjord.metadata.security import SecurityMetadata

PRODUCER, CONSUMER, REQUEST, MUTATION = (
    "producer_byte_rate", "consumer_byte_rate", "request_percentage", "controller_mutation_rate")
QUOTA_KEYS = frozenset({PRODUCER, CONSUMER, REQUEST, MUTATION})
USER, CLIENT_ID, IP = "user", "client-id", "ip"
MAX_THROTTLE_MS = 30_000

Entity = tuple[tuple[str, str | None], ...]


def entity_key(parts: dict[str, str | None]) -> Entity:
    return tuple(sorted(parts.items()))


def _candidates(user: str, client: str) -> list[Entity]:
    """Kafka's precedence, most specific first (docs: "Quotas" in Kafka's operations guide)."""
    return [
        entity_key({USER: user, CLIENT_ID: client}),
        entity_key({USER: user, CLIENT_ID: None}),
        entity_key({USER: user}),
        entity_key({USER: None, CLIENT_ID: client}),
        entity_key({USER: None, CLIENT_ID: None}),
        entity_key({USER: None}),
        entity_key({CLIENT_ID: client}),
        entity_key({CLIENT_ID: None}),
    ]


class _Meter:
    __slots__ = ("samples",)

    def __init__(self) -> None:
        self.samples: deque[tuple[float, float]] = deque()  # (window start, bytes)

    def record(self, amount: float, now: float, size: float, count: int) -> tuple[float, float]:
        """(bytes in the window including this, seconds the window covers)."""
        samples = self.samples
        if samples and now - samples[-1][0] < size:
            start, total = samples[-1]
            samples[-1] = (start, total + amount)
        else:
            samples.append((now, amount))
        while now - samples[0][0] >= size * count:
            samples.popleft()
        total = sum(amount for _, amount in samples)
        elapsed = max(now - samples[0][0], size)
        return total, elapsed


class QuotaManager:
    def __init__(self, config: BrokerConfig, store: SecurityMetadata) -> None:
        self.store = store
        self.window_size = float(config.get("quota.window.size.seconds"))
        self.window_count = int(config.get("quota.window.num"))
        self._meters: dict[tuple[str, Entity], _Meter] = {}
        # (kind, resolved entity) -> (bytes/s over the window, last throttle ms): /metrics
        self.observed: dict[tuple[str, Entity], tuple[float, int]] = {}

    @property
    def active(self) -> bool:
        return bool(self.store.quotas)

    def quota_for(self, kind: str, user: str, client: str) -> tuple[Entity, float] | None:
        for entity in _candidates(user, client):
            values = self.store.quotas.get(entity)
            if values and kind in values:
                return entity, values[kind]
        return None

    def _meter(self, kind: str, user: str, client: str) -> tuple[Entity, _Meter, float] | None:
        """The meter and limit of the quota that applies, None without one. A default quota
        applies to each user/client separately, as in Kafka: meters are per resolved name."""
        if not self.store.quotas:
            return None
        found = self.quota_for(kind, user, client)
        if found is None:
            return None
        entity, limit = found
        resolved = tuple((t, n if n is not None else (user if t == USER else client)) for t, n in entity)
        meter = self._meters.setdefault((kind, resolved), _Meter())
        return resolved, meter, limit

    def record(self, kind: str, user: str, client: str, amount: int) -> int:
        """Record bytes against the client's quota; the throttle time in ms (0: none)."""
        found = self._meter(kind, user, client)
        if found is None:
            return 0
        resolved, meter, limit = found
        total, elapsed = meter.record(amount, time.monotonic(), self.window_size, self.window_count)
        if limit <= 0:
            throttle = MAX_THROTTLE_MS
        else:
            delay = total / limit - elapsed
            throttle = min(MAX_THROTTLE_MS, int(delay * 1000)) if delay > 0 else 0
        self.observed[(kind, resolved)] = (total / elapsed, throttle)
        return throttle

    def mutation(self, user: str, client: str, partitions: int) -> int:
        """controller_mutation_rate (KIP-599): 0 when the mutation may go ahead (and it is
        counted, possibly taking the client over its quota); else the ms the client must
        wait, to be answered with THROTTLING_QUOTA_EXCEEDED."""
        found = self._meter(MUTATION, user, client)
        if found is None:
            return 0
        _, meter, limit = found
        now = time.monotonic()
        total, elapsed = meter.record(0, now, self.window_size, self.window_count)
        delay = total / limit - elapsed if limit > 0 else float(MAX_THROTTLE_MS)
        if delay > 0:
            return min(MAX_THROTTLE_MS, max(1, int(delay * 1000)))
        meter.record(partitions, now, self.window_size, self.window_count)
        return 0

    def changed(self) -> None:
        self._meters.clear()
        self.observed.clear()
