"""The broker's admin listener (`admin.listener`): /metrics, /health, /ready and the /v1
JSON a console reads, plus the storage-alert check loop that feeds them."""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fjord.config.broker import parse_admin_listener
from fjord.observability import loggers
from fjord.observability.alerts import StorageAlerts
from fjord.observability.broker_metrics import collect
from fjord.observability.dynamic_retention import shrink_retention
from fjord.observability.exposition import OPENMETRICS_TYPE, TEXT_TYPE, render, wants_openmetrics
from fjord.observability.http import HttpServer, Request, Response, Router
from fjord.observability.lag import LagCalculator

if TYPE_CHECKING:
    from fjord.broker.state import BrokerState

log = logging.getLogger("fjord.admin")


class BrokerAdmin:
    def __init__(self, state: BrokerState, connections: Callable[[], int], listener: str) -> None:
        self.state = state
        self.connections = connections
        self.listener = listener
        thresholds = [int(v) for v in state.config.get("storage.alert.thresholds")]
        self.alerts = StorageAlerts(thresholds)
        self.lag = LagCalculator()
        self.ready = False
        self.http: HttpServer | None = None
        router = Router()
        router.add("GET", "/metrics", self.metrics)
        router.add("GET", "/health", self.health)
        router.add("GET", "/ready", self.readiness)
        router.add("GET", "/v1/broker", self.broker)
        router.add("GET", "/v1/alerts", self.alert_list)
        router.add("GET", "/v1/groups", self.group_list)
        router.add("GET", "/v1/groups/{group}", self.group)
        router.add("GET", "/v1/topics/{topic}/storage", self.topic_storage)
        router.add("GET", "/v1/loggers", self.logger_list)
        router.add("PUT", "/v1/loggers/{name}", self.set_logger)
        self.router = router

    async def start(self) -> None:
        self.alerts.check(self.state.config.log_dirs)
        value = self.state.config.get("admin.listener")
        if not value:
            return
        host, port = parse_admin_listener(str(value))
        self.http = HttpServer(self.router)
        try:
            await self.http.start(host, port)
        except OSError as exc:
            raise OSError(exc.errno, f"admin.listener {value}: {exc.strerror}") from None
        log.info("admin listener on http://%s:%d (/metrics, /health, /ready, /v1)", host, self.http.port)

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()

    def check_storage(self) -> None:
        """Re-check the log dirs' disks (the broker's storage-alerts loop, every
        storage.alert.check.interval.ms), and CKafka's dynamic retention when enabled."""
        self.alerts.check(self.state.config.log_dirs)
        for usage in list(self.alerts.usage.values()):
            shrink_retention(self.state, usage)

    # --- routes ---------------------------------------------------------------------------

    def metrics(self, request: Request) -> Response:
        openmetrics = wants_openmetrics(request.headers.get("accept"))
        families = collect(self.state, self.connections, self.listener, self.lag, self.alerts)
        return Response(200, render(families, openmetrics), OPENMETRICS_TYPE if openmetrics else TEXT_TYPE)

    def _loops(self) -> tuple[dict[str, Any], bool]:
        """The background loops' health (retention, flush, cleaner, ...) and whether all work."""
        registry = self.state.loops
        if registry is None:
            return {}, True
        return ({name: dataclasses.asdict(health) for name, health in registry.health().items()},
                registry.healthy())

    def health(self, _request: Request) -> Response:
        """Live: the process answers and no background loop is broken (failing every time)."""
        loops, healthy = self._loops()
        broken = sorted(name for name, item in loops.items() if item["broken"])
        if not healthy:
            return Response.json({"status": "DOWN", "broken_loops": broken, "loops": loops}, 503)
        return Response.json({"status": "UP", "loops": loops})

    def readiness(self, _request: Request) -> Response:
        """Serving: logs and coordinators loaded, listeners bound, background loops healthy."""
        if not self.ready:
            return Response.json({"status": "STARTING"}, 503)
        _loops, healthy = self._loops()
        if not healthy:
            return Response.json({"status": "DEGRADED",
                                  "message": "a background loop is broken: see /health"}, 503)
        return Response.json({"status": "READY", "partitions": len(self.state.logs.logs),
                              "groups": len(self.state.groups.store.offsets)})

    def broker(self, _request: Request) -> Response:
        config = self.state.config
        return Response.json({
            "node_id": self.state.node_id, "cluster_id": self.state.metadata.cluster_id,
            "host": self.state.host, "port": self.state.port,
            "log_dirs": [str(p) for p in config.log_dirs],
            "metrics_level": config.get("metrics.level"),
            "uptime_ms": int(time.time() * 1000) - self.state.started_ms,
            "topics": len(self.state.metadata.topics), "partitions": len(self.state.logs.logs),
        })

    def alert_list(self, _request: Request) -> Response:
        return Response.json({"alerts": [a.to_json() for a in self.alerts.alerts()]})

    def _lag_json(self, group: str) -> dict[str, Any]:
        committed = self.state.groups.store.offsets.get(group, {})
        lag = self.lag.group_lag(group, committed, self.state.partition)
        return {"group": group, "sum_lag": lag.sum_lag, "max_lag": lag.max_lag,
                "max_lag_seconds": lag.max_lag_seconds,
                "partitions": [{"topic": p.topic, "partition": p.partition,
                                "committed_offset": p.committed, "log_end_offset": p.end,
                                "lag": p.lag, "lag_seconds": p.lag_seconds} for p in lag.partitions]}

    def group_list(self, _request: Request) -> Response:
        names = sorted(set(self.state.groups.store.offsets)
                       | {g[0] for g in self.state.groups.list_groups()})
        states = {g[0]: g[2] for g in self.state.groups.list_groups()}
        rows = []
        for name in names:
            entry = self._lag_json(name)
            entry.pop("partitions")
            entry["state"] = states.get(name, "Empty")
            rows.append(entry)
        return Response.json({"groups": rows})

    def group(self, request: Request) -> Response:
        name = request.params["group"]
        if name not in self.state.groups.store.offsets and \
                name not in {g[0] for g in self.state.groups.list_groups()}:
            return Response.error(404, f"no such group: {name}")
        return Response.json(self._lag_json(name))

    def topic_storage(self, request: Request) -> Response:
        """Local and remote (tiered) offsets and bytes of each partition of a topic."""
        name = request.params["topic"]
        info = self.state.metadata.topics.get(name)
        if info is None:
            return Response.error(404, f"no such topic: {name}")
        partitions = [self.state.partition_storage(plog) for p in range(info.partitions)
                      if (plog := self.state.partition(name, p)) is not None and plog.segments]
        return Response.json({"topic": name, "partitions": partitions})

    def logger_list(self, _request: Request) -> Response:
        return Response.json({name: loggers.effective_level(name) for name in loggers.logger_names()})

    def set_logger(self, request: Request) -> Response:
        """{"level": "DEBUG"} sets a level, {"level": null} gives it back to the parent."""
        name = request.params["name"]
        try:
            body = request.json()
            level = body.get("level") if isinstance(body, dict) else None
            if name == loggers.ROOT and level is None:
                return Response.error(400, "Removing the log level of the root logger is not allowed")
            loggers.set_level(name, level)
        except ValueError as exc:  # a bad body, an unknown logger or level
            return Response.error(404 if "does not exist" in str(exc) else 400, str(exc))
        return Response.json({name: loggers.effective_level(name)})
