"""Typed config keys, shaped like Kafka's ConfigDef.

One table describes each key once — its type, default and validation — so that the
.properties reader, the topic-config admin APIs and DescribeConfigs all agree on what a
key means and how it is reported (Kafka's config types and sources carry over).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LONG_MAX = 2**63 - 1
INT_MAX = 2**31 - 1


class ConfigError(ValueError):
    """A config value that cannot be used; the message names the key and the fix."""


# Kafka's DescribeConfigs config types (KIP-569).
TYPE_CODES = {
    "boolean": 1,
    "string": 2,
    "int": 3,
    "short": 4,
    "long": 5,
    "double": 6,
    "list": 7,
    "class": 8,
    "password": 9,
}


@dataclass(frozen=True)
class ConfigKey:
    name: str
    type: str
    default: Any
    doc: str = ""
    validator: Callable[[Any], str | None] | None = None
    # Keys Kafka users carry over in their files but that mean nothing on one node.
    inert: bool = False
    sensitive: bool = False
    # Changeable at runtime through the BROKER config resource (Kafka's "Update Mode").
    dynamic: bool = False
    per_broker: bool = False  # dynamic for one broker only, never as the cluster default

    def parse(self, raw: Any) -> Any:
        """Turn a string (or an already typed value) into this key's type, or raise."""
        value = _coerce(self, raw)
        if self.validator is not None and value is not None:
            problem = self.validator(value)
            if problem:
                raise ConfigError(f"Invalid value {raw!r} for configuration {self.name}: {problem}")
        return value

    def render(self, value: Any) -> str | None:
        """Kafka's string form of a value, as DescribeConfigs reports it."""
        if value is None:
            return None
        if self.type == "boolean":
            return "true" if value else "false"
        if self.type == "list":
            return ",".join(value)
        return str(value)


def _coerce(key: ConfigKey, raw: Any) -> Any:
    if raw is None:
        return None
    if not isinstance(raw, str):
        return raw
    text = raw.strip()
    try:
        if key.type in ("int", "long", "short"):
            return int(text)
        if key.type == "double":
            return float(text)
        if key.type == "boolean":
            lowered = text.lower()
            if lowered not in ("true", "false"):
                raise ValueError
            return lowered == "true"
        if key.type == "list":
            return [part.strip() for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(
            f"Invalid value {raw!r} for configuration {key.name}: expected a {key.type}"
        ) from None
    return text


def at_least(low: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if value >= low else f"must be at least {low}"

    return check


def between(low: float, high: float) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        return None if low <= value <= high else f"must be between {low} and {high}"

    return check


def one_of(*choices: str) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        items = value if isinstance(value, list) else [value]
        bad = [item for item in items if item not in choices]
        return f"must be one of {', '.join(choices)}" if bad or not items else None

    return check


class ConfigTable:
    """A set of ConfigKeys with strict parsing of a whole mapping."""

    def __init__(self, keys: Iterable[ConfigKey]) -> None:
        self.keys: dict[str, ConfigKey] = {key.name: key for key in keys}

    def __contains__(self, name: object) -> bool:
        return name in self.keys

    def __getitem__(self, name: str) -> ConfigKey:
        return self.keys[name]

    def unknown(self, name: str, what: str) -> ConfigError:
        near = difflib.get_close_matches(name, self.keys, n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        return ConfigError(f"Unknown {what} configuration '{name}'{hint}")

    def parse(self, raw: Mapping[str, Any], what: str) -> dict[str, Any]:
        parsed: dict[str, Any] = {}
        for name, value in raw.items():
            if name not in self.keys:
                raise self.unknown(name, what)
            parsed[name] = self.keys[name].parse(value)
        return parsed
