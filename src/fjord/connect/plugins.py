"""Finding connector classes: built-ins, Python entry points, and `plugin.path` directories.

Kafka scans plugin.path for jars; we scan it for Python modules and packages, and read the
`fjord.connectors` entry point group so a connector can ship as an ordinary pip package.
Kafka's class names (org.apache.kafka.connect.file.FileStreamSourceConnector, ...) resolve
to our built-ins so existing connector configs work unchanged.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import sys
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from fjord.connect.api import Connector, SinkConnector, SourceConnector, connector_type

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "fjord.connectors"

BUILTIN_CONNECTORS: dict[str, str] = {
    "org.apache.kafka.connect.file.FileStreamSourceConnector":
        "fjord.connectors.file.source:FileStreamSourceConnector",
    "org.apache.kafka.connect.file.FileStreamSinkConnector":
        "fjord.connectors.file.sink:FileStreamSinkConnector",
    "io.confluent.connect.jdbc.JdbcSourceConnector": "fjord.connectors.jdbc.source:JdbcSourceConnector",
    "io.confluent.connect.jdbc.JdbcSinkConnector": "fjord.connectors.jdbc.sink:JdbcSinkConnector",
    "io.debezium.connector.postgresql.PostgresConnector":
        "fjord.connectors.cdc.postgres:PostgresConnector",
    "io.debezium.connector.mysql.MySqlConnector": "fjord.connectors.cdc.mysql:MySqlConnector",
}


class PluginNotFound(Exception):
    pass


@dataclass(frozen=True)
class PluginDesc:
    class_name: str
    cls: type[Connector]
    aliases: tuple[str, ...]

    @property
    def type(self) -> str:
        return connector_type(self.cls)

    def version(self) -> str:
        try:
            return str(self.cls().version())
        except Exception:  # a plugin whose constructor fails still lists
            return "undefined"


def load_object(path: str) -> Any:
    """`package.module:attr` or `package.module.attr`."""
    if ":" in path:
        module_name, attr = path.split(":", 1)
    else:
        module_name, _, attr = path.rpartition(".")
    module = importlib.import_module(module_name)
    return getattr(module, attr)


def _aliases(class_name: str) -> tuple[str, ...]:
    """Kafka's aliases: the simple class name, and it without a `Connector` suffix."""
    simple = class_name.rsplit(".", 1)[-1].rsplit(":", 1)[-1]
    names = [simple]
    if simple.endswith("Connector") and len(simple) > len("Connector"):
        names.append(simple[: -len("Connector")])
    return tuple(names)


class Plugins:
    """The connector classes one worker can run, looked up by full name or alias."""

    def __init__(self, plugin_path: list[str] | None = None) -> None:
        self._by_name: dict[str, PluginDesc] = {}
        self._alias: dict[str, PluginDesc] = {}
        for kafka_name, target in BUILTIN_CONNECTORS.items():
            self._add(kafka_name, load_object(target))
        for entry in entry_points(group=ENTRY_POINT_GROUP):
            try:
                self._add(entry.value.replace(":", "."), entry.load())
            except Exception as exc:
                log.warning("cannot load connector entry point %s: %s", entry.name, exc)
        for directory in plugin_path or []:
            self._scan(Path(directory.strip()))

    def _add(self, name: str, cls: Any) -> None:
        if not (inspect.isclass(cls) and issubclass(cls, Connector)) or inspect.isabstract(cls):
            return
        desc = PluginDesc(name, cls, _aliases(name))
        self._by_name[name] = desc
        self._by_name.setdefault(f"{cls.__module__}.{cls.__qualname__}", desc)
        for alias in desc.aliases:
            self._alias.setdefault(alias, desc)

    def _scan(self, directory: Path) -> None:
        if not directory.is_dir():
            log.warning("plugin.path entry %s is not a directory", directory)
            return
        if str(directory) not in sys.path:
            sys.path.insert(0, str(directory))
        for entry in sorted(directory.iterdir()):
            if entry.name.startswith((".", "_")):
                continue
            if entry.suffix == ".py":
                module_name = entry.stem
            elif entry.is_dir() and (entry / "__init__.py").exists():
                module_name = entry.name
            else:
                continue
            try:
                module = importlib.import_module(module_name)
            except Exception as exc:
                log.warning("cannot import plugin module %s: %s", entry, exc)
                continue
            for _, obj in inspect.getmembers(module, inspect.isclass):
                if obj.__module__.startswith(module_name):
                    self._add(f"{obj.__module__}.{obj.__qualname__}", obj)

    def connector_class(self, name: str) -> type[Connector]:
        desc = self._by_name.get(name) or self._alias.get(name)
        if desc is None:
            raise PluginNotFound(
                f"Failed to find any class that implements Connector and which name matches {name}, "
                f"available connectors are: {', '.join(sorted(self.names()))}")
        return desc.cls

    def desc(self, name: str) -> PluginDesc:
        desc = self._by_name.get(name) or self._alias.get(name)
        if desc is None:
            raise PluginNotFound(f"Failed to find any class that implements Connector and which "
                                 f"name matches {name}")
        return desc

    def names(self) -> list[str]:
        return sorted({desc.class_name for desc in self._by_name.values()})

    def connectors(self) -> list[PluginDesc]:
        seen: dict[str, PluginDesc] = {}
        for desc in self._by_name.values():
            seen.setdefault(desc.class_name, desc)
        return sorted(seen.values(), key=lambda d: d.class_name)


def is_source(cls: type[Connector]) -> bool:
    return issubclass(cls, SourceConnector)


def is_sink(cls: type[Connector]) -> bool:
    return issubclass(cls, SinkConnector)
