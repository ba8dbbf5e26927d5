"""Consumer groups: list with lag, one group's members, assignment and lag per partition, and
offset resets planned (dry run) before they are applied."""

from __future__ import annotations

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fjord.console import groups, metrics
from fjord.console.topics import ConsoleError
from fjord.console.web import Console, back, page


def router(console: Console) -> APIRouter:
    r = APIRouter()

    @r.get("/c/{cluster_id}/groups", response_class=HTMLResponse, response_model=None)
    def group_list(request: Request, cluster_id: str) -> HTMLResponse:
        cluster, clients = console.kafka(cluster_id)
        q = request.query_params.get("q", "")
        try:
            number = int(request.query_params.get("page") or 1)
        except ValueError:
            number = 1
        try:
            result = groups.list_groups(clients.admin, q, number)
        except ConsoleError as exc:
            return page(request, "groups.html", cluster=cluster, result=None, q=q, error=str(exc))
        return page(request, "groups.html", cluster=cluster, result=result, q=q)

    @r.get("/c/{cluster_id}/group", response_class=HTMLResponse, response_model=None)
    def group(request: Request, cluster_id: str) -> HTMLResponse | RedirectResponse:
        cluster, clients = console.kafka(cluster_id)
        group_id = request.query_params.get("id", "")
        try:
            detail = groups.describe_group(clients.admin, group_id)
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/groups", error=str(exc))
        topics = sorted({row.topic for row in detail.partitions})
        seconds = metrics.group_time_lag(cluster.admin_urls, group_id)
        return page(
            request,
            "group.html",
            cluster=cluster,
            group=detail,
            topics=topics,
            plan=None,
            lag_seconds=seconds,
        )

    @r.post("/c/{cluster_id}/group/reset", response_class=HTMLResponse, response_model=None)
    def reset(
        request: Request,
        cluster_id: str,
        group_id: str = Form(...),
        topic: str = Form(...),
        to: str = Form("earliest"),
        value: str = Form(""),
        apply: str = Form(""),
    ) -> HTMLResponse | RedirectResponse:
        cluster, clients = console.kafka(cluster_id)
        try:
            plan = groups.plan_reset(clients.admin, group_id, topic, to, value)
            if apply:
                groups.apply_reset(clients.admin, plan)
                return back(
                    f"/c/{cluster_id}/group?id={group_id}",
                    notice=f"offsets of {group_id} on {topic} reset to {to}",
                )
            detail = groups.describe_group(clients.admin, group_id)
        except ConsoleError as exc:
            return back(f"/c/{cluster_id}/group?id={group_id}", error=str(exc))
        topics = sorted({row.topic for row in detail.partitions})
        return page(
            request,
            "group.html",
            cluster=cluster,
            group=detail,
            topics=topics,
            plan=plan,
            reset={"topic": topic, "to": to, "value": value},
        )

    return r
