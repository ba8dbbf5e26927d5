"""Broker log shipping to object storage, like MSK's BrokerLogs delivery to S3: every
`log.shipping.interval.ms` the log lines written since the last delivery go as one gzipped
object of JSON lines to `log.shipping.uri` (`s3://bucket/prefix/` or `file:///dir/`), under
`<prefix>KafkaBrokerLogs/<cluster id>/<YYYY-MM-DD-HH>/Broker-<id>_<HH-MM-SS>_<n>.log.gz`.

The handler only appends to a bounded buffer (a slow or unreachable store never slows the
broker down); the upload runs in a worker thread from the broker's background loop. A failed
upload keeps its lines for the next round, a full buffer drops the oldest lines and says how
many in the next object, and the last lines are shipped when the broker stops.
"""

from __future__ import annotations

import asyncio
import collections
import gzip
import itertools
import json
import logging
import threading
import time
from typing import Any

from fjord.config.broker import BrokerConfig
from fjord.objectstore.factory import open_store
from fjord.objectstore.location import Location, parse_location
from fjord.objectstore.s3 import ACCESS_KEY, ENDPOINT, PATH_STYLE, REGION, SECRET_KEY
from fjord.objectstore.store import ObjectStore
from fjord.observability.logging import JsonFormatter

log = logging.getLogger("fjord.logshipping")

MAX_BUFFERED_BYTES = 16 * 1024 * 1024


class LogShipper(logging.Handler):
    def __init__(self, location: Location, options: dict[str, Any], cluster_id: str, node_id: int,
                 max_bytes: int = MAX_BUFFERED_BYTES) -> None:
        super().__init__(logging.NOTSET)
        self.setFormatter(JsonFormatter())
        self.location = location
        self.store: ObjectStore = open_store(location, options)
        self.cluster_id, self.node_id = cluster_id, node_id
        self.max_bytes = max_bytes
        self._lines: collections.deque[str] = collections.deque()
        self._bytes = 0
        self._dropped = 0
        self._lock = threading.Lock()
        self._sequence = itertools.count()
        self.shipped_objects = 0

    # --- the logging side (any thread) -----------------------------------------------------

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == log.name and record.levelno < logging.WARNING:
            return  # its own chatter stays out of what it ships
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        with self._lock:
            self._lines.append(line)
            self._bytes += len(line) + 1
            while self._bytes > self.max_bytes and self._lines:
                self._bytes -= len(self._lines.popleft()) + 1
                self._dropped += 1

    # --- the shipping side ------------------------------------------------------------------

    def _take(self) -> tuple[list[str], int]:
        with self._lock:
            lines, self._lines, self._bytes = list(self._lines), collections.deque(), 0
            dropped, self._dropped = self._dropped, 0
        return lines, dropped

    def _give_back(self, lines: list[str], dropped: int) -> None:
        with self._lock:
            self._lines.extendleft(reversed(lines))
            self._bytes += sum(len(line) + 1 for line in lines)
            self._dropped += dropped

    def key(self, now: float) -> str:
        stamp = time.gmtime(now)
        return (f"{self.location.prefix}KafkaBrokerLogs/{self.cluster_id}/"
                f"{time.strftime('%Y-%m-%d-%H', stamp)}/Broker-{self.node_id}_"
                f"{time.strftime('%H-%M-%S', stamp)}_{next(self._sequence)}.log.gz")

    def ship_now(self) -> str | None:
        """Upload what is buffered (blocking); the object key, or None when nothing was."""
        lines, dropped = self._take()
        if not lines and not dropped:
            return None
        if dropped:
            lines.insert(0, json.dumps({"level": "WARN", "logger": log.name,
                                        "message": f"{dropped} log line(s) dropped: the buffer "
                                                   f"was full before they could be shipped"}))
        body = gzip.compress(("\n".join(lines) + "\n").encode(), compresslevel=6)
        key = self.key(time.time())
        try:
            self.store.put(key, body)
        except Exception as exc:
            self._give_back(lines[1:] if dropped else lines, dropped)
            raise RuntimeError(f"cannot ship broker logs to {self.location.display}: {exc}") from exc
        self.shipped_objects += 1
        return key

    async def tick(self) -> None:
        """The broker's `log-shipping` loop: upload off the event loop."""
        await asyncio.get_running_loop().run_in_executor(None, self.ship_now)

    def stop(self) -> None:
        """Ship the last lines and leave the root logger (the broker is stopping)."""
        logging.getLogger().removeHandler(self)
        try:
            self.ship_now()
        except Exception as exc:
            log.warning("%s", exc)


def start_log_shipping(config: BrokerConfig, cluster_id: str, node_id: int) -> LogShipper | None:
    """The shipper for `log.shipping.uri`, attached to the root logger; None when unset."""
    uri = config.get("log.shipping.uri")
    if not uri:
        return None
    options = {ENDPOINT: config.get("log.shipping.s3.endpoint.url"),
               REGION: config.get("log.shipping.s3.region"),
               ACCESS_KEY: config.get("log.shipping.s3.access.key.id"),
               SECRET_KEY: config.get("log.shipping.s3.secret.access.key"),
               PATH_STYLE: config.get("log.shipping.s3.path.style.access")}
    location = parse_location(str(uri))
    shipper = LogShipper(location, options, cluster_id, node_id)
    root = logging.getLogger()
    root.addHandler(shipper)
    log.info("shipping broker logs to %s every %d ms", location.display,
             int(config.get("log.shipping.interval.ms")))
    return shipper
