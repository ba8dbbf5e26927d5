"""The REST API of Apache Kafka Connect 3.9/4.x: same paths, bodies, status codes and errors.

Handlers are plain `def`s: FastAPI runs them in its thread pool, which suits the herder's
blocking calls. In distributed mode a write that reaches a worker which is not the leader is
forwarded to the leader, as Kafka's ConnectorsResource does.
"""

from __future__ import annotations

import logging
import ssl
import time
from typing import Any

import httpx
from fastapi import Body, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from fjord.connect.herder import (
    AlreadyExistsError,
    BadRequestError,
    ConflictError,
    Herder,
    HerderError,
    NotFoundError,
)
from fjord.connect.plugins import PluginNotFound
from fjord.connect.status import TargetState
from fjord.observability.connect_metrics import render_worker

log = logging.getLogger("fjord.connect.rest")

KAFKA_VERSION = "4.0.0"
COMMIT = "fjord"
_FORWARDED_HEADER = "x-fjord-forwarded"


# Herder errors → HTTP status codes, as Kafka's ConnectExceptionMapper answers them.
_STATUS: tuple[tuple[type[HerderError], int], ...] = (
    (NotFoundError, 404), (BadRequestError, 400), (AlreadyExistsError, 409), (ConflictError, 409))


def http_status(exc: HerderError) -> int:
    return next((status for cls, status in _STATUS if isinstance(exc, cls)), 500)


def error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error_code": status, "message": message}, status_code=status)


def create_app(herder: Herder, forward_verify: ssl.SSLContext | bool = True) -> FastAPI:
    app = FastAPI(title="Fjord Connect", version=KAFKA_VERSION, docs_url=None, redoc_url=None)
    logger_levels: dict[str, int] = {}

    @app.exception_handler(HerderError)
    def _herder_error(request: Request, exc: HerderError) -> JSONResponse:
        return error(http_status(exc), exc.message)

    @app.exception_handler(PluginNotFound)
    def _plugin_error(request: Request, exc: PluginNotFound) -> JSONResponse:
        return error(404, str(exc))

    @app.exception_handler(RequestValidationError)
    def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error(400, "Invalid request: " + "; ".join(str(e.get("msg")) for e in exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        reason = {404: "Not Found", 405: "Method Not Allowed"}.get(exc.status_code, str(exc.detail))
        return error(exc.status_code, f"HTTP {exc.status_code} {reason}")

    @app.exception_handler(Exception)
    def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("REST request %s %s failed", request.method, request.url.path)
        return error(500, f"{type(exc).__name__}: {exc}")

    @app.middleware("http")
    async def forward_to_leader(request: Request, call_next: Any) -> Any:
        leader = herder.leader_url()
        if (request.method in ("POST", "PUT", "PATCH", "DELETE") and herder.mode == "distributed"
                and request.url.path.startswith("/connectors") and not leader):
            return error(409, "Cannot complete request because of a conflicting operation (e.g. "
                         "worker rebalance)")
        if (request.method in ("POST", "PUT", "PATCH", "DELETE")
                and request.url.path.startswith("/connectors")
                and leader and not herder.is_leader()
                and _FORWARDED_HEADER not in request.headers):
            body = await request.body()
            headers = {k: v for k, v in request.headers.items()
                       if k.lower() in ("content-type", "accept", "authorization")}
            headers[_FORWARDED_HEADER] = "1"
            try:
                async with httpx.AsyncClient(timeout=60, verify=forward_verify) as client:
                    answer = await client.request(request.method, leader.rstrip("/") + request.url.path,
                                                  params=request.query_params, content=body,
                                                  headers=headers)
            except httpx.HTTPError as exc:
                return error(500, f"Failed to forward request to leader {leader}: {exc}")
            return Response(answer.content, status_code=answer.status_code,
                            media_type=answer.headers.get("content-type"),
                            headers={"X-Fjord-Forwarded-To": leader})
        return await call_next(request)

    # ------------------------------------------------------------ root, health, loggers

    @app.get("/")
    def root() -> dict[str, Any]:
        return {"version": KAFKA_VERSION, "commit": COMMIT,
                "kafka_cluster_id": herder.cluster_id()}

    @app.get("/metrics")
    def metrics(request: Request) -> Response:
        """Prometheus (or OpenMetrics) exposition of the worker, connector and task metrics."""
        body, content_type = render_worker(herder, request.headers.get("accept"))
        return Response(body, media_type=content_type)

    @app.get("/health")
    def health() -> JSONResponse:
        if not herder.started:
            return JSONResponse({"status": "starting", "message": "Worker is still starting up."},
                                status_code=503)
        problem = herder.kafka_reachable()
        if problem:
            return JSONResponse({"status": "unhealthy", "message": problem}, status_code=503)
        if not herder.ready():
            return JSONResponse({"status": "unhealthy",
                                 "message": "Worker has not yet joined the cluster."},
                                status_code=503)
        return JSONResponse({"status": "healthy", "message": "Worker has completed startup and is "
                             "ready to handle requests."})

    def _logger_json(name: str) -> dict[str, Any]:
        level = logging.getLogger(None if name == "root" else name).getEffectiveLevel()
        return {"level": _level_name(level), "last_modified": logger_levels.get(name)}

    @app.get("/admin/loggers")
    def loggers() -> dict[str, Any]:
        names = ["root", *sorted(n for n in logging.root.manager.loggerDict
                                 if n.startswith("fjord"))]
        return {name: _logger_json(name) for name in names}

    @app.get("/admin/loggers/{name}")
    def logger(name: str) -> dict[str, Any]:
        if name != "root" and name not in logging.root.manager.loggerDict:
            raise NotFoundError(f"Logger {name} not found.")
        return _logger_json(name)

    @app.put("/admin/loggers/{name}", responses={204: {"description": "scope=cluster"}})
    def set_logger(name: str, body: dict[str, Any] = Body(...),
                   scope: str = Query("worker")) -> Any:
        if body.get("level") is None:
            raise BadRequestError("Desired 'level' parameter was not specified in request.")
        level = str(body["level"]).upper()
        mapped = {"TRACE": logging.DEBUG, "DEBUG": logging.DEBUG, "INFO": logging.INFO,
                  "WARN": logging.WARNING, "ERROR": logging.ERROR, "FATAL": logging.CRITICAL,
                  "OFF": logging.CRITICAL + 10}.get(level)
        if mapped is None:  # Kafka answers an unknown level with 404, not 400
            raise NotFoundError(f"invalid log level '{body['level']}'.")
        target = logging.getLogger(None if name == "root" else name)
        target.setLevel(mapped)
        now = int(time.time() * 1000)
        changed = [name, *sorted(n for n in logging.root.manager.loggerDict
                                 if n.startswith(name + "."))] if name != "root" else ["root"]
        for item in changed:
            logger_levels[item] = now
        if scope == "cluster":
            return Response(status_code=204)
        return changed

    # ------------------------------------------------------------ plugins

    @app.get("/connector-plugins")
    def plugins(connectorsOnly: bool = Query(True)) -> list[dict[str, str]]:
        return herder.plugin_list(connectorsOnly)

    @app.get("/connector-plugins/{plugin}/config")
    def plugin_config(plugin: str) -> list[dict[str, Any]]:
        from fjord.connect.connector_config import plugin_config_keys
        return plugin_config_keys(herder.plugins, plugin)

    @app.put("/connector-plugins/{plugin}/config/validate")
    def validate(plugin: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        config = {str(k): str(v) for k, v in body.items() if v is not None}
        given = config.get("connector.class")
        if given and given != plugin and not _same_plugin(herder, given, plugin):
            raise BadRequestError("Included connector type " + given + " does not match request "
                              "type " + plugin)
        if given:
            herder.plugins.connector_class(given)
        return herder.validate(config)  # no connector.class: 400, as Kafka's herder answers

    # ------------------------------------------------------------ connectors

    @app.get("/connectors")
    def list_connectors(request: Request) -> Any:
        expand = request.query_params.getlist("expand")
        names = herder.connectors()
        if not expand:
            return names
        out: dict[str, Any] = {}
        for name in names:
            item: dict[str, Any] = {}
            try:
                if "status" in expand:
                    item["status"] = herder.connector_status(name)
                if "info" in expand:
                    item["info"] = herder.connector_info(name)
            except HerderError:
                continue
            out[name] = item
        return out

    @app.post("/connectors", status_code=201)
    def create(body: dict[str, Any] = Body(...)) -> Any:
        name = body.get("name")
        config = body.get("config")
        if not isinstance(config, dict):
            raise BadRequestError("Connector config is missing or is not an object")
        if not name:
            name = config.get("name")
        if not isinstance(name, str) or not name.strip():
            raise BadRequestError("Connector name is null or empty")
        name = name.strip()
        if "name" in config and config["name"] != name:
            raise BadRequestError(f"Connector name configuration ({config['name']}) doesn't match "
                              f"connector name in the URL ({name})")
        initial = body.get("initial_state")
        if initial is not None and str(initial).upper() not in tuple(TargetState):
            raise BadRequestError(f"Invalid initial state {initial}")
        _, info = herder.put_connector_config(name, config, allow_replace=False,
                                              initial_state=str(initial).upper() if initial else None)
        return JSONResponse(info, status_code=201)

    @app.get("/connectors/{name}")
    def get_connector(name: str) -> dict[str, Any]:
        return herder.connector_info(name)

    @app.get("/connectors/{name}/config")
    def get_config(name: str) -> dict[str, str]:
        return herder.connector_config(name)

    @app.put("/connectors/{name}/config", responses={201: {"description": "created"}})
    def put_config(name: str, body: dict[str, Any] = Body(...)) -> JSONResponse:
        created, info = herder.put_connector_config(name, body, allow_replace=True)
        return JSONResponse(info, status_code=201 if created else 200)

    @app.patch("/connectors/{name}/config")
    def patch_config(name: str, body: dict[str, Any] = Body(...)) -> dict[str, Any]:
        return herder.patch_connector_config(name, body)

    @app.delete("/connectors/{name}", status_code=204, response_class=Response)
    def delete(name: str) -> Response:
        herder.delete_connector(name)
        return Response(status_code=204)

    @app.get("/connectors/{name}/status")
    def status(name: str) -> dict[str, Any]:
        return herder.connector_status(name)

    @app.get("/connectors/{name}/tasks")
    def tasks(name: str) -> list[dict[str, Any]]:
        return herder.task_configs(name)

    @app.get("/connectors/{name}/tasks-config")
    def tasks_config(name: str) -> dict[str, Any]:
        return {f"{name}-{t['id']['task']}": t["config"] for t in herder.task_configs(name)}

    @app.get("/connectors/{name}/tasks/{task}/status")
    def task_status(name: str, task: int) -> dict[str, Any]:
        return herder.task_status(name, task)

    @app.post("/connectors/{name}/tasks/{task}/restart", status_code=204, response_class=Response)
    def restart_task(name: str, task: int) -> Response:
        herder.restart_task(name, task)
        return Response(status_code=204)

    @app.post("/connectors/{name}/restart", status_code=204, response_class=Response,
              responses={202: {"description": "includeTasks or onlyFailed: the planned states"}})
    def restart(name: str, includeTasks: bool = Query(False),
                onlyFailed: bool = Query(False)) -> Response:
        plan = herder.restart_connector(name, includeTasks, onlyFailed)
        if plan is None:
            return Response(status_code=204)
        return JSONResponse(plan, status_code=202)

    @app.put("/connectors/{name}/pause", status_code=202, response_class=Response)
    def pause(name: str) -> Response:
        herder.set_target_state(name, TargetState.PAUSED)
        return Response(status_code=202)

    @app.put("/connectors/{name}/resume", status_code=202, response_class=Response)
    def resume(name: str) -> Response:
        herder.set_target_state(name, TargetState.RUNNING)
        return Response(status_code=202)

    @app.put("/connectors/{name}/stop", status_code=204, response_class=Response)
    def stop(name: str) -> Response:
        herder.set_target_state(name, TargetState.STOPPED)
        return Response(status_code=204)

    @app.get("/connectors/{name}/topics")
    def topics(name: str) -> dict[str, Any]:
        return herder.active_topics(name)

    @app.put("/connectors/{name}/topics/reset", status_code=202, response_class=Response)
    def reset_topics(name: str) -> Response:
        herder.reset_topics(name)
        return Response(status_code=202)

    @app.get("/connectors/{name}/offsets")
    def offsets(name: str) -> dict[str, Any]:
        return herder.connector_offsets(name)

    @app.patch("/connectors/{name}/offsets")
    def alter_offsets(name: str, body: dict[str, Any] = Body(...)) -> dict[str, str]:
        items = body.get("offsets")
        if not isinstance(items, list) or not items:
            raise BadRequestError("Offsets must be specified and non-empty")
        if not all(isinstance(item, dict) for item in items):
            raise BadRequestError("Each offset must be an object with 'partition' and 'offset'")
        return herder.alter_offsets(name, items)

    @app.delete("/connectors/{name}/offsets")
    def reset_offsets(name: str) -> dict[str, str]:
        return herder.alter_offsets(name, None)

    return app


def _same_plugin(herder: Herder, a: str, b: str) -> bool:
    try:
        return herder.plugins.connector_class(a) is herder.plugins.connector_class(b)
    except PluginNotFound:
        return False


def _level_name(level: int) -> str:
    return {logging.DEBUG: "DEBUG", logging.INFO: "INFO", logging.WARNING: "WARN",
            logging.ERROR: "ERROR", logging.CRITICAL: "FATAL"}.get(level, "OFF")
