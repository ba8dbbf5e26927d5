"""One HTTP server for the control plane's API and the web console, on one port."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from urllib.parse import urlparse

from fastapi import FastAPI

from fjord.control import api
from fjord.control.auth import TokenAuth, is_loopback
from fjord.control.service import ControlPlane
from fjord.control.store import Store

log = logging.getLogger("fjord.control")


class ListenerError(ValueError):
    pass


def parse_listener(listener: str) -> tuple[str, int]:
    parsed = urlparse(listener)
    if parsed.scheme != "http" or not parsed.hostname or parsed.port is None:
        raise ListenerError(f"--listener {listener!r} must look like http://127.0.0.1:8080")
    return parsed.hostname, parsed.port


Mount = Callable[[FastAPI, ControlPlane], None]
"""What adds pages to the server beside the API (the web console's `install`): handed in by
the caller, so this package never imports the console above it."""


def build_app(data_dir: Path, host: str, token: str | None, console: Mount | None = None,
              max_brokers: int = 30,
              register: list[tuple[str, str, str | None, str | None, str | None]] | None = None) -> FastAPI:
    if not is_loopback(host) and not token:
        raise ListenerError(f"the control plane on {host} (not loopback) needs --token or "
                            "FJORD_CONTROL_TOKEN: anyone who reaches it could change clusters")
    plane = ControlPlane(Store(data_dir), max_brokers=max_brokers)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await plane.start()
        for name, bootstrap, connect_url, admin_url, registry_url in register or []:
            plane.ensure_registered(name, bootstrap, connect_url, admin_url, registry_url)
        try:
            yield
        finally:
            await plane.close()

    app = FastAPI(title="Fjord control plane", version="2018-11-14", lifespan=lifespan,
                  description="Amazon MSK's API (the `kafka` service) over Fjord clusters.")
    app.state.plane = plane
    api.install(app, plane)
    if console is not None:
        console(app, plane)
    if token:
        app.add_middleware(TokenAuth, token=token)
    return app


def serve(listener: str, data_dir: Path, token: str | None, console: Mount | None = None,
          max_brokers: int = 30,
          register: list[tuple[str, str, str | None, str | None, str | None]] | None = None) -> None:
    import uvicorn

    host, port = parse_listener(listener)
    app = build_app(data_dir, host, token, console, max_brokers, register)
    print(f"fjord control plane on http://{host}:{port}/v1/clusters"
          + (f", console on http://{host}:{port}/console/" if console is not None else ""), flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
