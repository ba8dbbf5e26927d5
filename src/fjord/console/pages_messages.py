"""The message browser of a topic: find, render, tail live (SSE), produce, export."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sse_starlette.sse import EventSourceResponse

from fjord.console import messages
from fjord.console.messages import Filters
from fjord.console.topics import ConsoleError
from fjord.console.web import Console, back, page


def _query(request: Request) -> dict[str, Any]:
    q = request.query_params
    return {
        k: q.get(k, "")
        for k in ("partition", "offset", "time", "limit", "key", "value", "header", "jsonpath", "format")
    }


def _parse(q: dict[str, Any]) -> tuple[int | None, int | None, int | None, int, Filters, str]:
    def number(name: str) -> int | None:
        text = str(q.get(name) or "").strip()
        if not text:
            return None
        try:
            return int(text)
        except ValueError:
            raise ConsoleError(f"{name} {text!r} is not a number") from None

    stamp = None
    if q.get("time"):
        text = str(q["time"]).strip()
        try:
            stamp = int(text) if text.isdigit() else int(datetime.fromisoformat(text).timestamp() * 1000)
        except ValueError:
            raise ConsoleError(f"time {text!r}: use epoch ms or 2024-05-01T12:00") from None
    fmt = q.get("format") or "auto"
    if fmt not in messages.FORMATS:
        fmt = "auto"
    filters = Filters(
        key=q.get("key", ""),
        value=q.get("value", ""),
        header=q.get("header", ""),
        jsonpath=q.get("jsonpath", "").strip(),
    )
    return number("partition"), number("offset"), stamp, number("limit") or 50, filters, fmt


def router(console: Console) -> APIRouter:
    r = APIRouter()

    @r.get("/c/{cluster_id}/topics/{topic}/messages", response_class=HTMLResponse, response_model=None)
    def browse(request: Request, cluster_id: str, topic: str) -> HTMLResponse:
        cluster, clients = console.kafka(cluster_id)
        q = _query(request)
        rows: list[dict[str, Any]] = []
        scanned, error = 0, None
        try:
            partition, offset, stamp, limit, filters, fmt = _parse(q)
            partitions = messages.partitions_of(clients, topic)
            found, scanned = messages.browse(clients, topic, partition, offset, stamp, limit, filters)
            rows = [row.render(fmt, clients.avro) for row in found]
        except ConsoleError as exc:
            partitions, error = [], str(exc)
        return page(
            request,
            "messages.html",
            cluster=cluster,
            topic=topic,
            q=q,
            rows=rows,
            scanned=scanned,
            partitions=partitions,
            formats=messages.FORMATS,
            error=error or request.query_params.get("error"),
            export_query=request.url.query,
        )

    @r.get("/c/{cluster_id}/topics/{topic}/export", response_model=None)
    def export(request: Request, cluster_id: str, topic: str) -> Response:
        _, clients = console.kafka(cluster_id)
        try:
            partition, offset, stamp, limit, filters, _fmt = _parse(_query(request))
            found, _ = messages.browse(clients, topic, partition, offset, stamp, limit, filters)
        except ConsoleError as exc:
            return Response(str(exc), status_code=400, media_type="text/plain")
        if request.query_params.get("as") == "csv":
            return Response(
                messages.export_csv(found),
                media_type="text/csv",
                headers={"Content-Disposition": f'attachment; filename="{topic}.csv"'},
            )
        return Response(
            messages.export_json(found),
            media_type="application/json",
            headers={"Content-Disposition": f'attachment; filename="{topic}.json"'},
        )

    @r.post("/c/{cluster_id}/topics/{topic}/produce", response_model=None)
    def produce(
        cluster_id: str,
        topic: str,
        key: str = Form(""),
        value: str = Form(""),
        headers: str = Form(""),
        partition: str = Form(""),
    ) -> RedirectResponse:
        _, clients = console.kafka(cluster_id)
        pairs = []
        for line in headers.splitlines():
            if line.strip():
                name, _, val = line.partition("=")
                pairs.append((name.strip(), val.strip()))
        try:
            part = int(partition) if partition.strip() else None
            where = messages.produce(clients, topic, part, key, value, pairs)
        except (ConsoleError, ValueError) as exc:
            return back(f"/c/{cluster_id}/topics/{topic}/messages", error=f"not produced: {exc}")
        return back(
            f"/c/{cluster_id}/topics/{topic}/messages",
            notice=f"produced to partition {where[0]} at offset {where[1]}",
        )

    @r.get("/c/{cluster_id}/topics/{topic}/tail", response_model=None)
    async def tail(request: Request, cluster_id: str, topic: str) -> EventSourceResponse:
        _, clients = console.kafka(cluster_id)
        q = _query(request)
        _, _, _, _, filters, fmt = _parse(q)
        loop = asyncio.get_running_loop()
        source = messages.tail(clients, topic, filters)

        async def stream() -> AsyncIterator[dict[str, Any]]:
            try:
                while not await request.is_disconnected():
                    row = await loop.run_in_executor(None, next, source, None)
                    if row is not None:
                        yield {"event": "record", "data": json.dumps(row.render(fmt, clients.avro))}
            finally:
                await loop.run_in_executor(None, source.close)

        return EventSourceResponse(stream(), ping=10)

    return r
