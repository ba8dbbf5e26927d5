"""The one plugin registry: connectors, converters, header converters, transforms, predicates.

Kafka scans plugin.path for jars; we scan it for Python modules and packages, and read the
`fjord.connectors` entry point group so a connector can ship as an ordinary pip package.
Kafka's class names (org.apache.kafka.connect.file.FileStreamSourceConnector,
org.apache.kafka.connect.transforms.Cast$Value, org.apache.kafka.connect.json.JsonConverter,
...) resolve to our built-ins so existing connector and worker configs work unchanged, and
every kind of plugin is looked up by the same rules (full name, Kafka's short aliases, or an
importable `module.Class`).
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import logging
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, TypeVar

from fjord.connect.api import (
    ConnectException,
    Connector,
    Converter,
    HeaderConverter,
    Predicate,
    Transformation,
    connector_type,
)
from fjord.connect.converters import CONVERTERS, HEADER_CONVERTERS, LAZY_CONVERTERS
from fjord.connect.data import DataException
from fjord.connect.transforms import PREDICATES, TRANSFORMS

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


T = TypeVar("T")

# What `GET /connector-plugins?connectorsOnly=false` calls each kind, and the version it reports.
PLUGIN_TYPES = {"transformation": Transformation, "predicate": Predicate, "converter": Converter,
                "header_converter": HeaderConverter}
BUILTIN_VERSION = "4.0.0-fjord"


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
        self._other: dict[str, dict[str, type]] = {
            "transformation": dict(TRANSFORMS), "predicate": dict(PREDICATES),
            "converter": dict(CONVERTERS), "header_converter": dict(HEADER_CONVERTERS)}
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
        if not inspect.isclass(cls) or inspect.isabstract(cls):
            return
        for kind, base in PLUGIN_TYPES.items():
            if issubclass(cls, base):
                self._other[kind].setdefault(name, cls)
        if not issubclass(cls, Connector):
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

    # ------------------------------------------------------------ converters, transforms, predicates

    def converter_class(self, name: str) -> type[Converter]:
        return self._resolve("converter", name, DataException)

    def header_converter_class(self, name: str) -> type[HeaderConverter]:
        return self._resolve("header_converter", name, DataException)

    def transformation_class(self, name: str) -> type[Transformation]:
        return self._resolve("transformation", name, ConnectException)

    def predicate_class(self, name: str) -> type[Predicate]:
        return self._resolve("predicate", name, ConnectException)

    def new_converter(self, name: str, configs: Mapping[str, Any], is_key: bool) -> Converter:
        converter = self.converter_class(name)()
        converter.configure(configs, is_key)
        return converter

    def new_header_converter(self, name: str, configs: Mapping[str, Any]) -> HeaderConverter:
        converter = self.header_converter_class(name)()
        converter.configure(configs)
        return converter

    def other_plugin(self, name: str) -> type:
        """A transformation, predicate, converter or header converter by any of its names."""
        for kind in PLUGIN_TYPES:
            try:
                return self._resolve(kind, name, PluginNotFound)
            except PluginNotFound:
                continue
        raise PluginNotFound(f"Failed to find any class that implements Connector, Converter, "
                             f"HeaderConverter, Transformation or Predicate and which name matches "
                             f"{name}")

    def others(self) -> list[tuple[str, str]]:
        """(class name, kind) of every transform, predicate and converter, as REST lists them."""
        names = {kind: set(table) for kind, table in self._other.items()}
        names["converter"] |= set(LAZY_CONVERTERS)
        return [(name, kind) for kind, found in names.items() for name in sorted(found)
                if "." in name]

    def _resolve(self, kind: str, name: str, error: type[Exception]) -> Any:
        """Full name, then Kafka's short forms (`Cast$Value`, `predicates.TopicNameMatches`,
        `JsonConverter`), then any importable `module.Class` (Kafka's `$` dropped)."""
        table = self._other[kind]
        name = name.strip()
        if name in table:
            return table[name]
        if kind == "converter":  # built-ins whose module imports the converters: loaded on use
            for full, target in LAZY_CONVERTERS.items():
                if name in (full, full.rsplit(".", 1)[-1]):
                    table[full] = load_object(target)
                    return table[full]
        for full, cls in table.items():
            short = full[len(_TRANSFORMS_PKG):] if full.startswith(_TRANSFORMS_PKG) else None
            if name in (short, full.rsplit(".", 1)[-1], cls.__name__,
                        f"{cls.__module__}.{cls.__name__}"):
                return cls
        try:
            found = load_object(name.replace("$", ""))
        except (ImportError, AttributeError, ValueError) as exc:
            raise error(f"Class {name} could not be found.") from exc
        return found


_TRANSFORMS_PKG = "org.apache.kafka.connect.transforms."


@cache
def builtin_plugins() -> Plugins:
    """The registry without a plugin.path: what code outside a worker (tests, tools) resolves with."""
    return Plugins()


def make_converter(name: str, configs: Mapping[str, Any], is_key: bool) -> Converter:
    return builtin_plugins().new_converter(name, configs, is_key)
