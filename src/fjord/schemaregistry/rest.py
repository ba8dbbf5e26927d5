"""Confluent Schema Registry's REST API: the same paths, JSON bodies, status and error codes.

Answers use `application/vnd.schemaregistry.v1+json`; errors are `{"error_code", "message"}`
with Confluent's codes (40401 subject not found, 40402 version not found, 40403 schema not
found, 409 incompatible schema, 42201 invalid schema, 42202 invalid version, 42203 invalid
compatibility level, 50001/50002 store errors), so serializers and tools written for
Confluent's registry behave the same against this one.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from fjord.schemaregistry.registry import RegistryError, SchemaRegistry
from fjord.schemaregistry.store import SchemaVersion

MEDIA_TYPE = "application/vnd.schemaregistry.v1+json"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status_code=status, media_type=MEDIA_TYPE)


def _error(status: int, code: int, message: str) -> Response:
    return _json({"error_code": code, "message": message}, status)


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "false").lower() == "true"


def _version_body(item: SchemaVersion) -> dict[str, Any]:
    body: dict[str, Any] = {"subject": item.subject, "version": item.version, "id": item.id,
                            "schema": item.schema}
    if item.schema_type != "AVRO":
        body["schemaType"] = item.schema_type
    if item.references:
        body["references"] = item.references
    return body


async def _schema_request(request: Request) -> tuple[str, str, list[dict[str, Any]]]:
    try:
        body = json.loads(await request.body() or b"{}")
    except ValueError as exc:
        raise RegistryError(422, 42201, f"Invalid schema: request body is not JSON: {exc}") from exc
    if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
        raise RegistryError(422, 42201, "Invalid schema: the body needs a \"schema\" string")
    return body["schema"], str(body.get("schemaType") or "AVRO"), list(body.get("references") or [])


def create_app(registry: SchemaRegistry) -> FastAPI:
    app = FastAPI(title="Fjord Schema Registry", docs_url=None, redoc_url=None, openapi_url=None)

    @app.exception_handler(RegistryError)
    async def registry_error(request: Request, exc: RegistryError) -> Response:
        return _error(exc.status, exc.error_code, exc.message)

    @app.exception_handler(404)
    async def not_found(request: Request, exc: Exception) -> Response:
        return _error(404, 404, "HTTP 404 Not Found")

    @app.get("/")
    async def root() -> Response:
        return _json({})

    @app.get("/schemas/types")
    async def types() -> Response:
        return _json(["AVRO"])

    @app.get("/subjects")
    async def subjects(request: Request) -> Response:
        return _json(registry.subjects(_flag(request, "deleted"),
                                       request.query_params.get("subjectPrefix", "")))

    @app.get("/subjects/{subject}/versions")
    async def versions(subject: str, request: Request) -> Response:
        return _json(registry.versions(subject, _flag(request, "deleted")))

    @app.get("/subjects/{subject}/versions/{version}")
    async def version(subject: str, version: str, request: Request) -> Response:
        return _json(_version_body(registry.get_version(subject, version,
                                                        _flag(request, "deleted"))))

    @app.get("/subjects/{subject}/versions/{version}/schema")
    async def version_schema(subject: str, version: str) -> Response:
        item = registry.get_version(subject, version)
        return Response(item.schema, media_type=MEDIA_TYPE)

    @app.get("/subjects/{subject}/versions/{version}/referencedby")
    async def referenced_by(subject: str, version: str) -> Response:
        registry.get_version(subject, version)
        return _json([])

    @app.post("/subjects/{subject}/versions")
    async def register(subject: str, request: Request) -> Response:
        text, schema_type, references = await _schema_request(request)
        item = await _off_loop(registry.register, subject, text, schema_type, references)
        return _json({"id": item.id, "version": item.version, "subject": item.subject,
                      "schema": item.schema,
                      **({"schemaType": item.schema_type} if item.schema_type != "AVRO" else {})})

    @app.post("/subjects/{subject}")
    async def lookup(subject: str, request: Request) -> Response:
        text, schema_type, _ = await _schema_request(request)
        return _json(_version_body(registry.lookup(subject, text, schema_type,
                                                   _flag(request, "deleted"))))

    @app.delete("/subjects/{subject}")
    async def delete_subject(subject: str, request: Request) -> Response:
        return _json(await _off_loop(registry.delete_subject, subject,
                                     _flag(request, "permanent")))

    @app.delete("/subjects/{subject}/versions/{version}")
    async def delete_version(subject: str, version: str, request: Request) -> Response:
        return _json(await _off_loop(registry.delete_version, subject, version,
                                     _flag(request, "permanent")))

    @app.get("/schemas/ids/{schema_id}")
    async def schema_by_id(schema_id: int) -> Response:
        item = registry.schema(schema_id)
        body: dict[str, Any] = {"schema": item.schema}
        if item.schema_type != "AVRO":
            body["schemaType"] = item.schema_type
        if item.references:
            body["references"] = item.references
        return _json(body)

    @app.get("/schemas/ids/{schema_id}/schema")
    async def raw_schema_by_id(schema_id: int) -> Response:
        return Response(registry.schema(schema_id).schema, media_type=MEDIA_TYPE)

    @app.get("/schemas/ids/{schema_id}/subjects")
    async def subjects_by_id(schema_id: int, request: Request) -> Response:
        return _json(sorted({v.subject for v in registry.usages(schema_id,
                                                                 _flag(request, "deleted"))}))

    @app.get("/schemas/ids/{schema_id}/versions")
    async def versions_by_id(schema_id: int, request: Request) -> Response:
        return _json([{"subject": v.subject, "version": v.version}
                      for v in registry.usages(schema_id, _flag(request, "deleted"))])

    async def _compat(subject: str, version: str | None, request: Request) -> Response:
        text, schema_type, _ = await _schema_request(request)
        messages = registry.test_compatibility(subject, version, text, schema_type)
        body: dict[str, Any] = {"is_compatible": not messages}
        if _flag(request, "verbose"):
            body["messages"] = messages
        return _json(body)

    @app.post("/compatibility/subjects/{subject}/versions/{version}")
    async def compat_version(subject: str, version: str, request: Request) -> Response:
        return await _compat(subject, version, request)

    @app.post("/compatibility/subjects/{subject}/versions")
    async def compat_all(subject: str, request: Request) -> Response:
        return await _compat(subject, None, request)

    async def _level_body(request: Request) -> str | None:
        try:
            body = json.loads(await request.body() or b"{}")
        except ValueError:
            body = {}
        value = body.get("compatibility") or body.get("compatibilityLevel")
        return str(value) if value is not None else None

    @app.get("/config")
    async def get_global() -> Response:
        return _json({"compatibilityLevel": registry.level(None)})

    @app.put("/config")
    async def put_global(request: Request) -> Response:
        level = await _off_loop(registry.set_level, None, await _level_body(request))
        return _json({"compatibility": level})

    @app.delete("/config")
    async def delete_global() -> Response:
        return _json({"compatibilityLevel": await _off_loop(registry.delete_level, None)})

    @app.get("/config/{subject}")
    async def get_subject_level(subject: str, request: Request) -> Response:
        return _json({"compatibilityLevel": registry.level(subject,
                                                           _flag(request, "defaultToGlobal"))})

    @app.put("/config/{subject}")
    async def put_subject_level(subject: str, request: Request) -> Response:
        level = await _off_loop(registry.set_level, subject, await _level_body(request))
        return _json({"compatibility": level})

    @app.delete("/config/{subject}")
    async def delete_subject_level(subject: str) -> Response:
        return _json({"compatibilityLevel": await _off_loop(registry.delete_level, subject)})

    @app.get("/mode")
    async def mode() -> Response:
        return _json({"mode": "READWRITE"})

    @app.get("/mode/{subject}")
    async def subject_mode(subject: str) -> Response:
        return _json({"mode": "READWRITE"})

    return app


async def _off_loop(func: Any, *args: Any) -> Any:
    """Writes wait for Kafka: run them in a thread so the event loop keeps serving reads."""
    import asyncio
    return await asyncio.get_running_loop().run_in_executor(None, func, *args)
