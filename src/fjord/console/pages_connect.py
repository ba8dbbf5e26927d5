"""Kafka Connect (plugins, connectors, tasks, traces; a create form built from each plugin's
ConfigDef via the Connect REST API; pause/resume/restart) and backup rules with their runs."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from fjord.backup import restore as restoring
from fjord.backup.rules import RuleError, format_interval, is_rule, open_rule_store
from fjord.connect.rest_client import ConnectClient, ConnectError
from fjord.connectors.objectstore import config as backup_cfg
from fjord.connectors.objectstore.runlog import read_runs
from fjord.console.web import Console, back, page
from fjord.control.model import Cluster
from fjord.objectstore.store import StoreError


def _client(cluster: Cluster) -> ConnectClient | None:
    return ConnectClient(cluster.connect_url, timeout=15) if cluster.connect_url else None


def _state(entry: dict[str, Any]) -> str:
    status = entry.get("status", {})
    state = str(status.get("connector", {}).get("state", "?"))
    if any(t.get("state") == "FAILED" for t in status.get("tasks", [])):
        return "FAILED"
    return state


def router(console: Console) -> APIRouter:
    r = APIRouter()

    @r.get("/c/{cluster_id}/connect", response_class=HTMLResponse, response_model=None)
    def connect(request: Request, cluster_id: str) -> HTMLResponse:
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        if client is None:
            return page(
                request,
                "connect.html",
                cluster=cluster,
                connectors=[],
                plugins=[],
                error="no Connect cluster is registered with this cluster (register it with a connect URL)",
            )
        try:
            everything = client.connectors_expanded()
            plugins = client.request("GET", "/connector-plugins")
        except ConnectError as exc:
            return page(request, "connect.html", cluster=cluster, connectors=[], plugins=[], error=str(exc))
        q = request.query_params.get("q", "")
        connectors = [
            {
                "name": name,
                "state": _state(entry),
                "class": entry.get("info", {}).get("config", {}).get("connector.class", ""),
                "type": entry.get("info", {}).get("type", ""),
                "tasks": len(entry.get("status", {}).get("tasks", [])),
                "backup": is_rule(entry.get("info", {}).get("config", {})),
            }
            for name, entry in sorted(everything.items())
            if not q or q in name
        ]
        return page(request, "connect.html", cluster=cluster, connectors=connectors, plugins=plugins, q=q)

    @r.get("/c/{cluster_id}/connect/new", response_class=HTMLResponse, response_model=None)
    def new_connector(request: Request, cluster_id: str) -> HTMLResponse | RedirectResponse:
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        plugin = request.query_params.get("plugin", "")
        if client is None or not plugin:
            return back(f"/c/{cluster_id}/connect", error="choose a plugin")
        try:
            definitions = client.request("GET", f"/connector-plugins/{quote(plugin, safe='')}/config")
        except ConnectError as exc:
            return back(f"/c/{cluster_id}/connect", error=str(exc))
        fields = [d for d in definitions if d.get("name") not in ("connector.class", "name")]
        fields.sort(key=lambda d: (not d.get("required"), d.get("group") or "", d.get("order", 0)))
        return page(request, "connector_new.html", cluster=cluster, plugin=plugin, fields=fields)

    @r.post("/c/{cluster_id}/connect/new", response_class=HTMLResponse, response_model=None)
    async def create_connector(request: Request, cluster_id: str) -> HTMLResponse | RedirectResponse:
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        form = await request.form()
        plugin, name = str(form.get("plugin", "")), str(form.get("name", "")).strip()
        config = {k[4:]: str(v) for k, v in form.items() if k.startswith("cfg:") and str(v).strip()}
        config["connector.class"] = plugin
        if client is None:
            return back(f"/c/{cluster_id}/connect", error="no Connect cluster")
        try:
            validation = client.request(
                "PUT",
                f"/connector-plugins/{quote(plugin, safe='')}/config/validate",
                {**config, "name": name},
            )
            problems = [
                f"{c['value']['name']}: {'; '.join(c['value']['errors'])}"
                for c in validation.get("configs", [])
                if c["value"].get("errors")
            ]
            if problems:
                return back(f"/c/{cluster_id}/connect/new?plugin={quote(plugin)}", error=" | ".join(problems))
            client.create(name, config)
        except ConnectError as exc:
            return back(f"/c/{cluster_id}/connect/new?plugin={quote(plugin)}", error=str(exc))
        return back(f"/c/{cluster_id}/connector?name={quote(name)}", notice=f"connector {name} created")

    @r.get("/c/{cluster_id}/connector", response_class=HTMLResponse, response_model=None)
    def connector(request: Request, cluster_id: str) -> HTMLResponse | RedirectResponse:
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        name = request.query_params.get("name", "")
        if client is None:
            return back(f"/c/{cluster_id}/connect", error="no Connect cluster")
        try:
            status = client.status(name)
            config = client.config(name)
            try:
                offsets = client.request("GET", f"/connectors/{quote(name, safe='')}/offsets").get(
                    "offsets", []
                )
            except ConnectError:
                offsets = []  # a stopped connector's offsets only, on some workers
        except ConnectError as exc:
            return back(f"/c/{cluster_id}/connect", error=str(exc))
        return page(
            request,
            "connector.html",
            cluster=cluster,
            name=name,
            status=status,
            config=config,
            offsets=offsets,
        )

    @r.post("/c/{cluster_id}/connector/action", response_model=None)
    async def action(request: Request, cluster_id: str) -> RedirectResponse:
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        form = await request.form()
        name, verb = str(form.get("name", "")), str(form.get("action", ""))
        path = f"/connectors/{quote(name, safe='')}"
        calls = {
            "pause": ("PUT", path + "/pause"),
            "resume": ("PUT", path + "/resume"),
            "restart": ("POST", path + "/restart?includeTasks=true"),
            "stop": ("PUT", path + "/stop"),
            "delete": ("DELETE", path),
        }
        if client is None or verb not in calls:
            return back(f"/c/{cluster_id}/connect", error="unknown action")
        try:
            client.request(*calls[verb])
        except ConnectError as exc:
            return back(f"/c/{cluster_id}/connector?name={quote(name)}", error=str(exc))
        if verb == "delete":
            return back(f"/c/{cluster_id}/connect", notice=f"connector {name} deleted")
        return back(f"/c/{cluster_id}/connector?name={quote(name)}", notice=f"{verb}: done")

    @r.get("/c/{cluster_id}/backups", response_class=HTMLResponse, response_model=None)
    def backups(request: Request, cluster_id: str) -> HTMLResponse:
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        rules: list[dict[str, Any]] = []
        error = None
        if client is None:
            error = "no Connect cluster is registered with this cluster: backup rules run on Connect"
        else:
            try:
                for name, entry in sorted(client.connectors_expanded().items()):
                    config = entry.get("info", {}).get("config", {})
                    if is_rule(config):
                        rules.append(
                            {
                                "name": name,
                                "state": _state(entry),
                                "topics": config.get("topics") or f"/{config.get('topics.regex')}/",
                                "destination": config.get(backup_cfg.STORE_URL, ""),
                                "interval": format_interval(
                                    int(config.get(backup_cfg.INTERVAL_MS, "300000"))
                                ),
                            }
                        )
            except ConnectError as exc:
                error = str(exc)
        return page(request, "backups.html", cluster=cluster, rules=rules, error=error)

    @r.get("/c/{cluster_id}/backup", response_class=HTMLResponse, response_model=None)
    def backup(request: Request, cluster_id: str) -> HTMLResponse | RedirectResponse:
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        name = request.query_params.get("name", "")
        if client is None:
            return back(f"/c/{cluster_id}/backups", error="no Connect cluster")
        try:
            config = client.config(name)
            status = client.status(name)
        except ConnectError as exc:
            return back(f"/c/{cluster_id}/backups", error=str(exc))
        runs: list[Any] = []
        error = None
        try:
            location, store = open_rule_store(config)
            runs = list(reversed(read_runs(store, location.prefix, name, 50)))
        except Exception as exc:
            error = f"run history unavailable: {exc}"
        safe = {k: ("••••" if "secret" in k or "password" in k else v) for k, v in config.items()}
        return page(
            request,
            "backup.html",
            cluster=cluster,
            name=name,
            config=safe,
            status=status,
            runs=runs,
            error=error,
        )

    @r.post("/c/{cluster_id}/backup/restore", response_model=None)
    async def start_restore(request: Request, cluster_id: str) -> RedirectResponse:
        """Start a restore the way `fjord backup restore` does; the restore page follows it."""
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        form = await request.form()
        name, to_topic = str(form.get("name", "")), str(form.get("to_topic", "")).strip()
        if client is None:
            return back(f"/c/{cluster_id}/backups", error="no Connect cluster")
        try:
            config = client.config(name)
            location, store = open_rule_store(config)
            plan = restoring.plan(store, location.prefix)
            if len(plan.topics) > 1:
                raise RuleError(f"the backup holds {', '.join(plan.topics)}: restore with the CLI's --topic")
            source = plan.topics[0]
            target = to_topic or source
            restoring.ensure_target_topic(cluster.bootstrap, target, plan.partitions[source])
            connector = restoring.restore_name(name)
            restoring.clear_progress(store, location.prefix, connector)
            client.create(
                connector,
                restoring.restore_config(
                    connector, config, source, target, -1, -1, 1, plan.partitions[source]
                ),
            )
        except (RuleError, StoreError, ConnectError) as exc:
            return back(f"/c/{cluster_id}/backup?name={quote(name)}", error=str(exc).splitlines()[0])
        return back(
            f"/c/{cluster_id}/restore?rule={quote(name)}&connector={quote(connector)}",
            notice=f"restoring {source} into {target}",
        )

    @r.get("/c/{cluster_id}/restore", response_class=HTMLResponse, response_model=None)
    def restore_progress(request: Request, cluster_id: str) -> HTMLResponse | RedirectResponse:
        cluster = console.cluster(cluster_id)
        client = _client(cluster)
        rule, connector = request.query_params.get("rule", ""), request.query_params.get("connector", "")
        if client is None:
            return back(f"/c/{cluster_id}/backups", error="no Connect cluster")
        try:
            location, store = open_rule_store(client.config(rule))
            progress = restoring.read_progress(store, location.prefix, connector)
            status = client.status(connector)
        except (StoreError, ConnectError) as exc:
            return back(f"/c/{cluster_id}/backups", error=str(exc).splitlines()[0])
        tasks = len(status.get("tasks", []))
        failed = [t for t in status.get("tasks", []) if t.get("state") == "FAILED"]
        finished = bool(tasks) and progress.tasks_finished >= tasks and progress.tasks_reporting >= tasks
        return page(
            request,
            "restore.html",
            cluster=cluster,
            rule=rule,
            connector=connector,
            progress=progress,
            done_bytes=restoring.completed_bytes(progress),
            status=status,
            finished=finished,
            failed=failed,
        )

    return r
