"""Topics: list with server-side filter and paging, a topic's partitions (paged), configs,
create, delete, add partitions, alter one config."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fjord.config.properties import parse_properties
from fjord.console import topics
from fjord.console.topics import ConsoleError
from fjord.console.web import Console, back, page


def _int(text: str | None, default: int) -> int:
    try:
        return int(text) if text else default
    except ValueError:
        return default


def router(console: Console) -> APIRouter:
    r = APIRouter()

    @r.get("/c/{cluster_id}/topics", response_class=HTMLResponse, response_model=None)
    def topic_list(request: Request, cluster_id: str) -> HTMLResponse:
        cluster, clients = console.kafka(cluster_id)
        q = request.query_params.get("q", "")
        internal = request.query_params.get("internal") == "1"
        try:
            result = topics.list_topics(clients, q, _int(request.query_params.get("page"), 1), internal)
        except Exception as exc:
            return page(
                request,
                "topics.html",
                cluster=cluster,
                result=None,
                q=q,
                internal=internal,
                error=topics.kafka_message(exc),
            )
        return page(request, "topics.html", cluster=cluster, result=result, q=q, internal=internal)

    @r.post("/c/{cluster_id}/topics", response_model=None)
    def create(
        cluster_id: str,
        name: str = Form(...),
        partitions: int = Form(1),
        replication: int = Form(1),
        configs: str = Form(""),
    ) -> RedirectResponse:
        _, clients = console.kafka(cluster_id)
        try:
            topics.create_topic(
                clients.admin, name.strip(), partitions, replication, parse_properties(configs)
            )
            clients.changed()
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/topics", error=f"cannot create {name}: {exc}")
        return back(f"/c/{cluster_id}/topics/{name.strip()}", notice=f"topic {name} created")

    @r.get("/c/{cluster_id}/topics/{topic}", response_class=HTMLResponse, response_model=None)
    def topic_detail(request: Request, cluster_id: str, topic: str) -> HTMLResponse | RedirectResponse:
        cluster, clients = console.kafka(cluster_id)
        try:
            partitions, count = topics.describe_topic(
                clients.admin, topic, _int(request.query_params.get("page"), 1)
            )
            configs = topics.topic_configs(clients.admin, topic)
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/topics", error=str(exc))
        return page(
            request,
            "topic.html",
            cluster=cluster,
            topic=topic,
            partitions=partitions,
            partition_count=count,
            configs=configs,
            messages=sum(p.messages for p in partitions.items),
        )

    @r.post("/c/{cluster_id}/topics/{topic}/delete", response_model=None)
    def delete(cluster_id: str, topic: str, confirm: str = Form("")) -> RedirectResponse:
        _, clients = console.kafka(cluster_id)
        if confirm != topic:
            return back(f"/c/{cluster_id}/topics/{topic}", error="type the topic's name to delete it")
        try:
            topics.delete_topic(clients.admin, topic)
            clients.changed()
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/topics/{topic}", error=str(exc))
        return back(f"/c/{cluster_id}/topics", notice=f"topic {topic} deleted")

    @r.post("/c/{cluster_id}/topics/{topic}/partitions", response_model=None)
    def add_partitions(cluster_id: str, topic: str, total: int = Form(...)) -> RedirectResponse:
        _, clients = console.kafka(cluster_id)
        try:
            topics.add_partitions(clients.admin, topic, total)
            clients.changed()
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/topics/{topic}", error=str(exc))
        return back(f"/c/{cluster_id}/topics/{topic}", notice=f"{topic} now has {total} partitions")

    @r.post("/c/{cluster_id}/topics/{topic}/config", response_model=None)
    def alter(cluster_id: str, topic: str, key: str = Form(...), value: str = Form("")) -> RedirectResponse:
        _, clients = console.kafka(cluster_id)
        try:
            topics.alter_config(clients.admin, topic, key.strip(), value.strip() or None)
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/topics/{topic}", error=str(exc))
        return back(
            f"/c/{cluster_id}/topics/{topic}", notice=f"{key} {'set' if value else 'reset to default'}"
        )

    return r
