"""A small client of a Confluent-compatible registry (Fjord's or Confluent's), with the caches a
converter needs: schema text → id per subject, id → schema text. Ids never change meaning,
so both caches live as long as the client."""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

import httpx


class RegistryClientError(Exception):
    def __init__(self, status: int, error_code: int, message: str) -> None:
        super().__init__(f"{message} (HTTP {status}, error code {error_code})")
        self.status, self.error_code, self.message = status, error_code, message


class RegistryClient:
    def __init__(self, urls: str, timeout_s: float = 30.0, auth: tuple[str, str] | None = None
                 ) -> None:
        self.urls = [u.strip().rstrip("/") for u in urls.split(",") if u.strip()]
        if not self.urls:
            raise ValueError("schema.registry.url is empty")
        self._http = httpx.Client(timeout=timeout_s, auth=auth, headers={
            "Content-Type": "application/vnd.schemaregistry.v1+json",
            "Accept": "application/vnd.schemaregistry.v1+json, application/json"})
        self._ids: dict[tuple[str, str], int] = {}
        self._schemas: dict[int, str] = {}
        self._lock = threading.Lock()

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        last: Exception | None = None
        for base in self.urls:
            try:
                response = self._http.request(method, base + path, json=body)
            except httpx.HTTPError as exc:
                last = exc
                continue
            data = response.json() if response.content else None
            if response.status_code >= 400:
                data = data if isinstance(data, dict) else {}
                raise RegistryClientError(response.status_code,
                                          int(data.get("error_code", response.status_code)),
                                          str(data.get("message", response.text)))
            return data
        raise RegistryClientError(503, 50003, f"Schema registry unreachable at "
                                  f"{', '.join(self.urls)}: {last}")

    def register(self, subject: str, schema_text: str) -> int:
        key = (subject, schema_text)
        with self._lock:
            found = self._ids.get(key)
        if found is not None:
            return found
        body = self._call("POST", f"/subjects/{quote(subject, safe='')}/versions",
                          {"schema": schema_text})
        schema_id = int(body["id"])
        with self._lock:
            self._ids[key] = schema_id
            self._schemas[schema_id] = schema_text
        return schema_id

    def lookup(self, subject: str, schema_text: str) -> int:
        """The id of an already registered schema (auto.register.schemas=false)."""
        key = (subject, schema_text)
        with self._lock:
            found = self._ids.get(key)
        if found is not None:
            return found
        body = self._call("POST", f"/subjects/{quote(subject, safe='')}", {"schema": schema_text})
        schema_id = int(body["id"])
        with self._lock:
            self._ids[key] = schema_id
        return schema_id

    def latest(self, subject: str) -> tuple[int, str]:
        body = self._call("GET", f"/subjects/{quote(subject, safe='')}/versions/latest")
        return int(body["id"]), str(body["schema"])

    def schema(self, schema_id: int) -> str:
        with self._lock:
            found = self._schemas.get(schema_id)
        if found is not None:
            return found
        text = str(self._call("GET", f"/schemas/ids/{schema_id}")["schema"])
        with self._lock:
            self._schemas[schema_id] = text
        return text

    def close(self) -> None:
        self._http.close()
