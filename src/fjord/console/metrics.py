"""What a Fjord broker's admin listener (`admin.listener`: /metrics, /v1/...) adds to the console:
broker facts and storage alerts, throughput counters for live charts, and consumer lag in time.

Clusters without an admin URL (most registered clusters) simply show none of it.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

import httpx

TIMEOUT = 3.0

# Counters summed over brokers and labels; the chart turns them into rates.
COUNTERS = {
    "kafka_server_brokertopicmetrics_messagesin_total": "messages_in",
    "kafka_server_brokertopicmetrics_bytesin_total": "bytes_in",
    "kafka_server_brokertopicmetrics_bytesout_total": "bytes_out",
}
GAUGES = {
    "process_resident_memory_bytes": "memory_bytes",
    "kafka_server_socketservermetrics_connections": "connections",
}


def _get(url: str) -> Any:
    response = httpx.get(url, timeout=TIMEOUT)
    response.raise_for_status()
    return response.json()


def broker_facts(admin_urls: list[str]) -> tuple[list[dict[str, Any]], list[dict[str, Any]], str | None]:
    """(each broker's /v1/broker, every storage alert, an error line if one was unreachable)."""
    facts: list[dict[str, Any]] = []
    alerts: list[dict[str, Any]] = []
    error = None
    for url in admin_urls:
        try:
            facts.append(_get(url + "/v1/broker"))
            alerts += _get(url + "/v1/alerts").get("alerts", [])
        except (httpx.HTTPError, ValueError) as exc:
            error = f"admin listener {url} unreachable: {exc}"
    return facts, alerts, error


def parse_samples(text: str) -> dict[str, float]:
    """Sum of every sample of each metric name in Prometheus' text format (labels ignored)."""
    sums: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if "{" in line:
            name, rest = line[: line.index("{")], line[line.rindex("}") + 1 :]
        else:
            name, _, rest = line.partition(" ")
        try:
            value = float(rest.split()[0])
        except (ValueError, IndexError):
            continue
        sums[name] = sums.get(name, 0.0) + value
    return sums


def totals(admin_urls: list[str]) -> dict[str, float]:
    out: dict[str, float] = {key: 0.0 for key in (*COUNTERS.values(), *GAUGES.values())}
    for url in admin_urls:
        try:
            response = httpx.get(url + "/metrics", timeout=TIMEOUT)
            response.raise_for_status()
        except httpx.HTTPError:
            continue
        sums = parse_samples(response.text)
        for metric, key in {**COUNTERS, **GAUGES}.items():
            out[key] += sums.get(metric, 0.0)
    out["t"] = time.time()
    return out


def group_time_lag(admin_urls: list[str], group: str) -> dict[tuple[str, int], float | None]:
    """Seconds each partition's committed offset is behind (kafka-lag-exporter's lag_seconds)."""
    out: dict[tuple[str, int], float | None] = {}
    for url in admin_urls:
        try:
            doc = _get(f"{url}/v1/groups/{quote(group, safe='')}")
        except (httpx.HTTPError, ValueError):
            continue
        for row in doc.get("partitions", []):
            out[(row["topic"], int(row["partition"]))] = row.get("lag_seconds")
    return out
