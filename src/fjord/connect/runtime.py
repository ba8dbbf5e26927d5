"""Process entry points: build a herder for standalone or distributed mode and serve REST."""

from __future__ import annotations

import json
import logging
import signal
import ssl
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

from fjord.config.properties import read_properties
from fjord.connect.config_def import ConfigException
from fjord.connect.distributed import DistributedHerder
from fjord.connect.herder import Herder
from fjord.connect.rest import create_app
from fjord.connect.standalone import StandaloneHerder
from fjord.connect.worker_config import WorkerConfig

log = logging.getLogger("fjord.connect")


def read_connector_file(path: Path) -> tuple[str, dict[str, str]]:
    """A connector .properties file, or JSON (`{"name", "config"}` or a flat map)."""
    if path.suffix == ".json":
        doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        config = doc.get("config", doc)
        name = doc.get("name") or config.get("name")
    else:
        config = read_properties(path)
        name = config.get("name")
    if not name:
        raise SystemExit(f"{path}: connector config has no name")
    return str(name), {str(k): str(v) for k, v in config.items()}


def serve(herder: Herder, config: WorkerConfig,
          on_started: Callable[[Herder], None] | None = None) -> None:
    """Start the herder, serve REST until SIGTERM/SIGINT, then stop everything cleanly."""
    listener = config.listener()
    try:
        tls = config.rest_tls()
    except ConfigException as exc:
        raise SystemExit(f"fjord connect: {exc}") from None
    # Requests forwarded to the leader's https listener trust the worker's trust store.
    trust = tls.get("ssl_ca_certs")
    app = create_app(herder, ssl.create_default_context(cafile=trust) if trust else True)
    server = uvicorn.Server(uvicorn.Config(app, host=listener.host, port=listener.port,
                                           log_level="warning", access_log=False,
                                           lifespan="off", **tls))
    stopping = threading.Event()

    def shutdown(signum: int, frame: Any) -> None:
        stopping.set()
        server.should_exit = True

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
    herder.start()
    if on_started is not None:
        on_started(herder)
    log.info("Kafka Connect %s worker %s started; REST on %s", herder.mode, herder.worker_id,
             config.advertised_url())
    try:
        server.run()
    finally:
        log.info("Kafka Connect stopping")
        herder.stop()
        log.info("Kafka Connect stopped")


def run_standalone(worker_file: Path, connector_files: list[Path],
                   overrides: dict[str, str] | None = None) -> None:
    config = WorkerConfig.from_file(worker_file, distributed=False, overrides=overrides)
    herder = StandaloneHerder(config)
    connectors = [read_connector_file(path) for path in connector_files]

    def create(h: Herder) -> None:
        for name, connector_config in connectors:
            h.put_connector_config(name, connector_config, allow_replace=True)
            log.info("Created connector %s", name)

    serve(herder, config, create)


def run_distributed(worker_file: Path | None, overrides: dict[str, str] | None = None) -> None:
    props = read_properties(worker_file) if worker_file else {}
    config = WorkerConfig({**props, **(overrides or {})}, distributed=True)
    serve(DistributedHerder(config), config)
