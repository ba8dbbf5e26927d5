"""A small client of the Kafka Connect REST API (Apache Kafka's paths and JSON bodies)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

DEFAULT_URL = "http://127.0.0.1:8083"


class ConnectError(Exception):
    """The Connect worker refused a request, or could not be reached; the message says which."""

    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class ConnectClient:
    def __init__(self, url: str = DEFAULT_URL, timeout: float = 60.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    def request(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method,
                                         headers={"Content-Type": "application/json",
                                                  "Accept": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
                return json.loads(raw) if raw else None
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                message = json.loads(raw).get("message") or raw.decode(errors="replace")
            except (ValueError, AttributeError):
                message = raw.decode(errors="replace") or exc.reason
            raise ConnectError(str(message), exc.code) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise ConnectError(f"cannot reach the Connect REST API at {self.url}: {reason}") from None

    @staticmethod
    def _name(name: str) -> str:
        return urllib.parse.quote(name, safe="")

    def connectors_expanded(self) -> dict[str, Any]:
        result = self.request("GET", "/connectors?expand=info&expand=status")
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

    def delete(self, name: str) -> None:
        self.request("DELETE", f"/connectors/{self._name(name)}")
