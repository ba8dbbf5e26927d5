"""The web console, mounted at /console beside the control plane's API on the same server.

Server-rendered pages (Jinja2, autoescaped) with a little plain JavaScript for live updates
over server-sent events; no Node at build or run time.
"""

from __future__ import annotations

from urllib.parse import urlparse

from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.base import RequestResponseEndpoint

from fjord.console import (
    pages_clusters,
    pages_connect,
    pages_groups,
    pages_messages,
    pages_security,
    pages_topics,
)
from fjord.console.web import HERE, PREFIX, Console
from fjord.control.service import ControlPlane

# Pages load only this origin's scripts and styles: a record value that smuggles markup past
# escaping still cannot run script.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def install(app: FastAPI, plane: ControlPlane) -> None:
    console = Console(plane)
    app.mount(PREFIX + "/static", StaticFiles(directory=str(HERE / "static")), name="console-static")
    for module in (pages_clusters, pages_topics, pages_messages, pages_groups, pages_connect, pages_security):
        app.include_router(module.router(console), prefix=PREFIX, include_in_schema=False)

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse(PREFIX + "/", status_code=307)

    @app.get("/favicon.ico", include_in_schema=False)
    async def favicon() -> RedirectResponse:
        return RedirectResponse(PREFIX + "/static/favicon.svg", status_code=307)

    @app.middleware("http")
    async def guard(request: Request, call_next: RequestResponseEndpoint) -> Response:
        if request.url.path.startswith(PREFIX):
            origin = request.headers.get("origin")
            if request.method == "POST" and origin and urlparse(origin).netloc != request.headers.get("host"):
                return PlainTextResponse("cross-site form posts are refused", status_code=403)
            response = await call_next(request)
            response.headers["Content-Security-Policy"] = CSP
            response.headers["X-Content-Type-Options"] = "nosniff"
            response.headers["Referrer-Policy"] = "same-origin"
            return response
        return await call_next(request)
