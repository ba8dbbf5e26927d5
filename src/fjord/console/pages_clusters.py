"""Clusters (state live over SSE), a cluster's brokers and operations, and configurations with
their revisions and diffs."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sse_starlette.sse import EventSourceResponse

from fjord.console import metrics, topics
from fjord.console.web import Console, back, cid, page
from fjord.control.errors import ApiError
from fjord.control.properties import diff


def router(console: Console) -> APIRouter:
    r = APIRouter()
    plane = console.plane

    @r.get("/", response_class=HTMLResponse, response_model=None)
    def clusters(request: Request) -> HTMLResponse:
        items = plane.list_clusters(request.query_params.get("q") or None)
        return page(
            request, "clusters.html", clusters=items, configurations=list(plane.store.configurations.values())
        )

    @r.post("/clusters", response_model=None)
    async def create_cluster(
        name: str = Form(...),
        bootstrap: str = Form(""),
        connect_url: str = Form(""),
        configuration: str = Form(""),
        admin_url: str = Form(""),
        registry_url: str = Form(""),
    ) -> RedirectResponse:
        try:
            config = None
            if configuration:
                arn = console.configuration(configuration).arn
                config = (arn, console.configuration(configuration).latest.revision)
            register = (
                {
                    "bootstrapServers": bootstrap,
                    "connectUrl": connect_url or None,
                    "adminUrls": [admin_url],
                    "schemaRegistryUrl": registry_url or None,
                }
                if bootstrap
                else None
            )
            cluster = plane.create_cluster(
                name,
                1,
                "3.9.x" if not register else "external",
                "fjord.local" if not register else "external",
                [],
                config,
                {},
                register=register,
            )
        except ApiError as exc:
            return back("/", error=exc.message)
        return back(f"/c/{cid(cluster.arn)}", notice=f"cluster {name} is {cluster.state}")

    @r.get("/events", response_model=None)
    async def events(request: Request) -> EventSourceResponse:
        """Cluster state changes as they happen (server-sent events)."""
        queue: asyncio.Queue[str] = asyncio.Queue()
        plane.listeners.append(queue.put_nowait)

        async def stream() -> AsyncIterator[dict[str, Any]]:
            try:
                while not await request.is_disconnected():
                    try:
                        arn = await asyncio.wait_for(queue.get(), 15)
                    except TimeoutError:
                        continue
                    cluster = plane.store.clusters.get(arn)
                    state = cluster.state if cluster else "DELETED"
                    yield {"event": "cluster", "data": json.dumps({"id": cid(arn), "state": state})}
            finally:
                plane.listeners.remove(queue.put_nowait)

        return EventSourceResponse(stream(), ping=10)

    @r.get("/c/{cluster_id}", response_class=HTMLResponse, response_model=None)
    def cluster(request: Request, cluster_id: str) -> HTMLResponse:
        cluster, clients = console.kafka(cluster_id)
        brokers: list[dict[str, Any]] = []
        error = None
        if cluster.state in ("ACTIVE", "UPDATING", "HEALING"):
            try:
                brokers = topics.brokers(clients)
            except Exception as exc:
                error = f"cannot reach the cluster: {topics.kafka_message(exc)}"
        operations = plane.operations_of(cluster.arn)[:20]
        facts, alerts, admin_error = metrics.broker_facts(cluster.admin_urls)
        error = error or admin_error
        return page(
            request,
            "cluster.html",
            cluster=cluster,
            brokers=brokers,
            operations=operations,
            pids=plane.broker_pids(cluster.arn),
            facts=facts,
            alerts=alerts,
            configurations=list(plane.store.configurations.values()),
            error=error or request.query_params.get("error"),
        )

    @r.get("/c/{cluster_id}/metrics.json", response_model=None)
    def metrics_json(cluster_id: str) -> JSONResponse:
        """Counter totals for the cluster page's live charts (the page turns them into rates)."""
        return JSONResponse(metrics.totals(console.cluster(cluster_id).admin_urls))

    @r.post("/c/{cluster_id}/delete", response_model=None)
    async def delete_cluster(cluster_id: str, confirm: str = Form("")) -> RedirectResponse:
        cluster = console.cluster(cluster_id)
        if confirm != cluster.name:
            return back(f"/c/{cluster_id}", error="type the cluster's name to delete it")
        plane.delete_cluster(cluster.arn, None)
        return back("/", notice=f"cluster {cluster.name} is being deleted")

    @r.post("/c/{cluster_id}/configuration", response_model=None)
    async def apply_configuration(
        cluster_id: str, configuration: str = Form(...), revision: int = Form(...)
    ) -> RedirectResponse:
        cluster = console.cluster(cluster_id)
        try:
            config = console.configuration(configuration)
            plane.update_configuration(cluster.arn, cluster.current_version, config.arn, revision)
        except ApiError as exc:
            return back(f"/c/{cluster_id}", error=exc.message)
        return back(f"/c/{cluster_id}", notice=f"applying {config.name} revision {revision}")

    @r.post("/c/{cluster_id}/reboot", response_model=None)
    async def reboot(cluster_id: str, broker: str = Form("1")) -> RedirectResponse:
        cluster = console.cluster(cluster_id)
        try:
            plane.reboot_broker(cluster.arn, [broker])
        except ApiError as exc:
            return back(f"/c/{cluster_id}", error=exc.message)
        return back(f"/c/{cluster_id}", notice=f"rebooting broker {broker}")

    # ---- configurations ------------------------------------------------------------------
    @r.get("/configurations", response_class=HTMLResponse, response_model=None)
    def configurations(request: Request) -> HTMLResponse:
        items = sorted(plane.store.configurations.values(), key=lambda c: c.created)
        users = {
            c.arn: [cl.name for cl in plane.store.clusters.values() if cl.configuration_arn == c.arn]
            for c in items
        }
        return page(request, "configurations.html", configurations=items, users=users)

    @r.post("/configurations", response_model=None)
    async def create_configuration(
        name: str = Form(...), properties: str = Form(""), description: str = Form("")
    ) -> RedirectResponse:
        try:
            config = plane.create_configuration(name, description, [], properties)
        except ApiError as exc:
            return back("/configurations", error=exc.message)
        return back(f"/configurations/{cid(config.arn)}", notice="revision 1 created")

    @r.get("/configurations/{config_id}", response_class=HTMLResponse, response_model=None)
    def configuration(request: Request, config_id: str) -> HTMLResponse:
        config = console.configuration(config_id)
        latest = config.latest.revision
        old_n = int(request.query_params.get("from") or max(1, latest - 1))
        new_n = int(request.query_params.get("to") or latest)
        old, new = config.revision(old_n), config.revision(new_n)
        changes = diff(old.server_properties, new.server_properties) if old and new else []
        return page(
            request,
            "configuration.html",
            config=config,
            changes=changes,
            old_n=old_n,
            new_n=new_n,
            blob=base64.b64encode(config.latest.server_properties.encode()).decode(),
        )

    @r.post("/configurations/{config_id}/revisions", response_model=None)
    async def add_revision(
        config_id: str, properties: str = Form(""), description: str = Form("")
    ) -> RedirectResponse:
        config = console.configuration(config_id)
        try:
            rev = plane.update_configuration_revision(config.arn, description, properties)
        except ApiError as exc:
            return back(f"/configurations/{config_id}", error=exc.message)
        return back(f"/configurations/{config_id}", notice=f"revision {rev.revision} created")

    return r
