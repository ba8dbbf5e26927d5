"""The one client of the Kafka Connect REST API that Fjord's tools use (`fjord connect`, `fjord backup`).

Apache Kafka answers 409 for two different things: a connector that already exists, and a
request the cluster cannot take *now* because a rebalance is in progress or the leader is not
known yet (just after `fjord up`, for instance). The first is final; the second is retried
here with backoff until `rebalance_timeout` has passed, so a newcomer's first command works
instead of reporting a conflict that does not exist.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:8083"

# Kafka's messages for a 409 that goes away by itself (ConnectorsResource, DistributedHerder).
_TRANSIENT_409 = ("rebalance", "momentarily", "conflicting operation", "retry shortly")


class ConnectError(Exception):
    """The Connect worker refused a request, or could not be reached; the message says which."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class AlreadyExists(ConnectError):
    """409: a connector with this name exists."""


def is_transient_conflict(status: int, message: str) -> bool:
    lowered = message.lower()
    return status == 409 and any(word in lowered for word in _TRANSIENT_409)


class ConnectClient:
    def __init__(self, url: str = DEFAULT_URL, timeout: float = 60.0,
                 rebalance_timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.rebalance_timeout = rebalance_timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        """The decoded JSON answer (None when empty); ConnectError with Kafka's message."""
        deadline = time.monotonic() + self.rebalance_timeout
        delay = 0.25
        while True:
            try:
                answer = httpx.request(method, self.url + path, json=body, timeout=self.timeout,
                                       headers={"Accept": "application/json"})
            except httpx.HTTPError as exc:
                raise ConnectError(f"cannot reach the Connect REST API at {self.url}: {exc}") from None
            if answer.status_code < 400:
                return answer.json() if answer.content else None
            message = _message(answer)
            if is_transient_conflict(answer.status_code, message) and time.monotonic() < deadline:
                time.sleep(delay)
                delay = min(delay * 2, 2.0)
                continue
            if answer.status_code == 409 and "already exists" in message:
                raise AlreadyExists(message, 409)
            raise ConnectError(message, answer.status_code)

    @staticmethod
    def _name(name: str) -> str:
        return urllib.parse.quote(name, safe="")

    def connectors_expanded(self, *expand: str) -> dict[str, Any]:
        query = "&".join(f"expand={e}" for e in (expand or ("info", "status")))
        result = self.request("GET", f"/connectors?{query}")
        return result if isinstance(result, dict) else {}

    def create(self, name: str, config: dict[str, str]) -> Any:
        return self.request("POST", "/connectors", {"name": name, "config": config})

    def config(self, name: str) -> dict[str, str]:
        return dict(self.request("GET", f"/connectors/{self._name(name)}/config"))

    def put_config(self, name: str, config: dict[str, str]) -> Any:
        return self.request("PUT", f"/connectors/{self._name(name)}/config", config)

    def status(self, name: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/connectors/{self._name(name)}/status"))

    def pause(self, name: str) -> None:
        self.request("PUT", f"/connectors/{self._name(name)}/pause")

    def resume(self, name: str) -> None:
        self.request("PUT", f"/connectors/{self._name(name)}/resume")

    def stop(self, name: str) -> None:
        self.request("PUT", f"/connectors/{self._name(name)}/stop")

    def restart(self, name: str, include_tasks: bool = False, only_failed: bool = False) -> Any:
        query = f"?includeTasks={str(include_tasks).lower()}&onlyFailed={str(only_failed).lower()}"
        return self.request("POST", f"/connectors/{self._name(name)}/restart{query}")

    def delete(self, name: str) -> None:
        self.request("DELETE", f"/connectors/{self._name(name)}")

    def offsets(self, name: str) -> Any:
        return self.request("GET", f"/connectors/{self._name(name)}/offsets")

    def reset_offsets(self, name: str) -> Any:
        return self.request("DELETE", f"/connectors/{self._name(name)}/offsets")


def _message(answer: httpx.Response) -> str:
    try:
        doc = answer.json()
    except ValueError:
        return answer.text or answer.reason_phrase
    if isinstance(doc, dict) and doc.get("message"):
        return str(doc["message"])
    return answer.text
