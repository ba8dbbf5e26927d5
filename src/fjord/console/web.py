"""What every console page shares: templates (autoescaped: record values are text, never HTML),
the cluster a URL names, and redirects that carry a one-line notice or error."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from fjord.console.clients import ClientCache, ClusterClients
from fjord.control.errors import NotFound
from fjord.control.model import Cluster, Configuration
from fjord.control.service import ControlPlane

HERE = Path(__file__).parent
PREFIX = "/console"

templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.autoescape = True  # every template, whatever its name


class Console:
    def __init__(self, plane: ControlPlane) -> None:
        self.plane = plane
        self.clients = ClientCache()

    def cluster(self, cid: str) -> Cluster:
        for cluster in self.plane.store.clusters.values():
            if cluster.arn.rsplit("/", 1)[-1] == cid:
                return cluster
        raise NotFound(f"no cluster {cid}")

    def kafka(self, cid: str) -> tuple[Cluster, ClusterClients]:
        cluster = self.cluster(cid)
        return cluster, self.clients.get(cluster)

    def configuration(self, config_id: str) -> Configuration:
        for config in self.plane.store.configurations.values():
            if config.arn.rsplit("/", 1)[-1] == config_id:
                return config
        raise NotFound(f"no configuration {config_id}")


def cid(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


templates.env.filters["cid"] = cid


def page(request: Request, template: str, **context: Any) -> HTMLResponse:
    context.setdefault("notice", request.query_params.get("notice"))
    context.setdefault("error", request.query_params.get("error"))
    return templates.TemplateResponse(request, template, {"prefix": PREFIX, **context})


def back(path: str, notice: str | None = None, error: str | None = None, **params: Any) -> RedirectResponse:
    query = {k: v for k, v in {**params, "notice": notice, "error": error}.items() if v not in (None, "")}
    url = PREFIX + path + (("&" if "?" in path else "?") + urlencode(query) if query else "")
    return RedirectResponse(url, status_code=303)
