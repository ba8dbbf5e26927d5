"""Running the registry: Confluent's `schema-registry.properties` keys, one HTTP listener.

`listeners` (default `http://0.0.0.0:8081`), `kafkastore.bootstrap.servers`,
`kafkastore.topic` (`_schemas`), `schema.compatibility.level` (`backward`), and
`kafkastore.*` client settings passed to librdkafka (e.g. `kafkastore.security.protocol`).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import uvicorn

from fjord.config.properties import read_properties
from fjord.schemaregistry.compatibility import LEVELS
from fjord.schemaregistry.registry import SchemaRegistry
from fjord.schemaregistry.rest import create_app
from fjord.schemaregistry.store import KafkaStore

log = logging.getLogger("fjord.schemaregistry")
DEFAULTS = {"listeners": "http://0.0.0.0:8081", "kafkastore.bootstrap.servers": "localhost:9092",
            "kafkastore.topic": "_schemas", "schema.compatibility.level": "backward"}
_STORE_KEYS = {"kafkastore.bootstrap.servers", "kafkastore.topic", "kafkastore.timeout.ms",
               "kafkastore.init.timeout.ms"}


def load(path: Path | None, overrides: Mapping[str, str]) -> dict[str, str]:
    settings = dict(DEFAULTS)
    if path is not None:
        settings.update(read_properties(path))
    settings.update(overrides)
    level = settings["schema.compatibility.level"].upper()
    if level not in LEVELS:
        raise SystemExit(f"schema.compatibility.level={level} is not one of {', '.join(LEVELS)}")
    servers = settings["kafkastore.bootstrap.servers"]
    # Confluent accepts PLAINTEXT://host:port lists here.
    settings["kafkastore.bootstrap.servers"] = ",".join(
        s.split("://", 1)[-1] for s in servers.split(",") if s.strip())
    return settings


def serve(settings: Mapping[str, str]) -> None:
    client = {k[len("kafkastore."):]: v for k, v in settings.items()
              if k.startswith("kafkastore.") and k not in _STORE_KEYS}
    store = KafkaStore(settings["kafkastore.bootstrap.servers"], settings["kafkastore.topic"], client,
                       float(settings.get("kafkastore.init.timeout.ms", "60000")) / 1000.0)
    store.start()
    registry = SchemaRegistry(store, settings["schema.compatibility.level"])
    listener = urlparse(settings["listeners"].split(",")[0].strip())
    server = uvicorn.Server(uvicorn.Config(create_app(registry), host=listener.hostname or "0.0.0.0",
                                           port=listener.port or 8081, log_level="warning",
                                           access_log=False, lifespan="off"))

    def shutdown(signum: int, frame: Any) -> None:
        server.should_exit = True

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
    log.info("schema registry listening on %s", settings["listeners"])
    try:
        server.run()
    finally:
        store.stop()
