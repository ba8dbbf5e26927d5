"""Config definitions with validation, modelled on org.apache.kafka.common.config.ConfigDef.

Connectors declare their keys here; the worker uses the same definitions to answer
`PUT /connector-plugins/{p}/config/validate` in Kafka's JSON shape and to refuse a bad
create with the failing keys named.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class ConfigException(Exception):
    """A config that cannot be used (Kafka's org.apache.kafka.common.config.ConfigException)."""

    def __init__(self, name: str, value: Any = None, message: str | None = None) -> None:
        text = name if message is None else f"Invalid value {value} for configuration {name}: {message}"
        super().__init__(text)
        self.name = name


class Type(StrEnum):
    BOOLEAN = "BOOLEAN"
    STRING = "STRING"
    INT = "INT"
    SHORT = "SHORT"
    LONG = "LONG"
    DOUBLE = "DOUBLE"
    LIST = "LIST"
    CLASS = "CLASS"
    PASSWORD = "PASSWORD"


class Importance(StrEnum):
    HIGH = "HIGH"
    MEDIUM = "MEDIUM"
    LOW = "LOW"


class Width(StrEnum):
    NONE = "NONE"
    SHORT = "SHORT"
    MEDIUM = "MEDIUM"
    LONG = "LONG"


NO_DEFAULT_VALUE = object()
"""Marks a key the user must set (Kafka's ConfigDef.NO_DEFAULT_VALUE)."""

Validator = Callable[[str, Any], None]


def parse_type(name: str, value: Any, type_: Type) -> Any:
    """Turn a string from a properties file or REST body into the key's Python value."""
    if value is None:
        return None
    try:
        if type_ is Type.BOOLEAN:
            if isinstance(value, bool):
                return value
            text = str(value).strip().lower()
            if text in ("true", "false"):
                return text == "true"
            raise ConfigException(name, value, "Expected value to be either true or false")
        if type_ in (Type.INT, Type.SHORT, Type.LONG):
            if isinstance(value, bool):
                raise ConfigException(name, value, f"Expected value to be a {type_.value.lower()}")
            return int(str(value).strip())
        if type_ is Type.DOUBLE:
            return float(str(value).strip())
        if type_ is Type.LIST:
            if isinstance(value, list | tuple):
                return [str(item) for item in value]
            text = str(value).strip()
            return [item.strip() for item in text.split(",")] if text else []
        return str(value).strip() if type_ is not Type.PASSWORD else str(value)
    except ValueError as exc:
        raise ConfigException(name, value, f"Not a number of type {type_.value}") from exc


# ---- validators, named as Kafka's ConfigDef.Range / ValidString / NonEmptyString ...


def at_least(minimum: float) -> Validator:
    def check(name: str, value: Any) -> None:
        if value is not None and value < minimum:
            raise ConfigException(name, value, f"Value must be at least {minimum}")
    return check


def between(low: float, high: float) -> Validator:
    def check(name: str, value: Any) -> None:
        if value is not None and not low <= value <= high:
            raise ConfigException(name, value, f"Value must be no more than {high}" if value > high
                                  else f"Value must be at least {low}")
    return check


def valid_string(*allowed: str, case_sensitive: bool = True) -> Validator:
    def check(name: str, value: Any) -> None:
        if value is None:
            return
        options = allowed if case_sensitive else tuple(a.lower() for a in allowed)
        probe = value if case_sensitive else str(value).lower()
        if probe not in options:
            raise ConfigException(name, value, f"String must be one of: {', '.join(allowed)}")
    return check


def non_empty_string(name: str, value: Any) -> None:
    if value is not None and not str(value).strip():
        raise ConfigException(name, value, "String must be non-empty")


def non_null(name: str, value: Any) -> None:
    if value is None:
        raise ConfigException(name, value, "entry must be non null")


def valid_regex(name: str, value: Any) -> None:
    if value is None:
        return
    try:
        re.compile(str(value))
    except re.error as exc:
        raise ConfigException(name, value, f"must be a valid regular expression: {exc}") from exc


def composite(*validators: Validator) -> Validator:
    def check(name: str, value: Any) -> None:
        for validator in validators:
            validator(name, value)
    return check


@dataclass
class ConfigKey:
    name: str
    type: Type
    default: Any = NO_DEFAULT_VALUE
    validator: Validator | None = None
    importance: Importance = Importance.MEDIUM
    documentation: str = ""
    group: str | None = None
    order_in_group: int = -1
    width: Width = Width.NONE
    display_name: str | None = None
    dependents: list[str] = field(default_factory=list)
    internal: bool = False

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT_VALUE


@dataclass
class ConfigValue:
    """One key's outcome in a validation: what `config/validate` reports under `value`."""

    name: str
    value: Any = None
    recommended_values: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    visible: bool = True

    def add_error(self, message: str) -> None:
        self.errors.append(message)


class ConfigDef:
    """An ordered set of ConfigKeys; `define` returns self so definitions chain like Kafka's."""

    def __init__(self, base: ConfigDef | None = None) -> None:
        self._keys: dict[str, ConfigKey] = dict(base._keys) if base else {}

    def define(self, name: str, type_: Type, default: Any = NO_DEFAULT_VALUE,
               validator: Validator | None = None, importance: Importance = Importance.MEDIUM,
               documentation: str = "", group: str | None = None, order_in_group: int = -1,
               width: Width = Width.NONE, display_name: str | None = None,
               dependents: Sequence[str] = ()) -> ConfigDef:
        if name in self._keys:
            raise ConfigException(f"Configuration {name} is defined twice.")
        parsed_default = default
        if default is not NO_DEFAULT_VALUE and default is not None:
            parsed_default = parse_type(name, default, type_)
        self._keys[name] = ConfigKey(name, type_, parsed_default, validator, importance,
                                     documentation, group, order_in_group, width,
                                     display_name or name, list(dependents))
        return self

    def define_key(self, key: ConfigKey) -> ConfigDef:
        self._keys[key.name] = key
        return self

    def merge(self, other: ConfigDef) -> ConfigDef:
        merged = ConfigDef(self)
        for key in other._keys.values():
            merged._keys.setdefault(key.name, key)
        return merged

    def config_keys(self) -> dict[str, ConfigKey]:
        return dict(self._keys)

    def names(self) -> list[str]:
        return list(self._keys)

    def groups(self) -> list[str]:
        seen: list[str] = []
        for key in self._keys.values():
            if key.group and key.group not in seen:
                seen.append(key.group)
        return seen

    def parse(self, props: Mapping[str, Any]) -> dict[str, Any]:
        """Typed values for every defined key; raises ConfigException on the first bad one."""
        values: dict[str, Any] = {}
        for key in self._keys.values():
            if key.name in props:
                value = parse_type(key.name, props[key.name], key.type)
            elif key.has_default:
                value = key.default
            else:
                raise ConfigException(
                    f'Missing required configuration "{key.name}" which has no default value.')
            if key.validator is not None:
                key.validator(key.name, value)
            values[key.name] = value
        return values

    def validate(self, props: Mapping[str, Any]) -> list[ConfigValue]:
        """Every key checked, all errors collected (not just the first)."""
        results: list[ConfigValue] = []
        for key in self._keys.values():
            result = ConfigValue(key.name)
            raw = props.get(key.name, NO_DEFAULT_VALUE)
            try:
                if raw is NO_DEFAULT_VALUE:
                    if not key.has_default:
                        result.value = None
                        result.add_error(f'Missing required configuration "{key.name}" which has no '
                                         "default value.")
                        results.append(result)
                        continue
                    value = key.default
                else:
                    value = parse_type(key.name, raw, key.type)
                result.value = raw if raw is not NO_DEFAULT_VALUE else value
                if key.validator is not None:
                    key.validator(key.name, value)
            except ConfigException as exc:
                result.add_error(str(exc))
            results.append(result)
        return results


class AbstractConfig:
    """Parsed view of a config map, as Kafka's AbstractConfig (`get_string`, `get_int` ...)."""

    def __init__(self, definition: ConfigDef, originals: Mapping[str, Any]) -> None:
        self.definition = definition
        self.originals = {key: value for key, value in originals.items()}
        self.values = definition.parse(originals)

    def get(self, name: str) -> Any:
        if name not in self.values:
            raise ConfigException(f"Unknown configuration '{name}'")
        return self.values[name]

    def get_string(self, name: str) -> str | None:
        value = self.get(name)
        return None if value is None else str(value)

    def get_int(self, name: str) -> int:
        return int(self.get(name))

    def get_long(self, name: str) -> int:
        return int(self.get(name))

    def get_boolean(self, name: str) -> bool:
        return bool(self.get(name))

    def get_list(self, name: str) -> list[str]:
        value = self.get(name)
        return list(value) if value is not None else []

    def get_double(self, name: str) -> float:
        return float(self.get(name))

    def originals_with_prefix(self, prefix: str, strip: bool = True) -> dict[str, Any]:
        return {(key[len(prefix):] if strip else key): value
                for key, value in self.originals.items() if key.startswith(prefix)}


def config_key_info(key: ConfigKey) -> dict[str, Any]:
    """ConfigKeyInfo as the REST API renders it (`GET /connector-plugins/{p}/config`)."""
    default: Any
    if not key.has_default:
        default = None
    elif isinstance(key.default, list):
        default = ",".join(str(item) for item in key.default)
    elif isinstance(key.default, bool):
        default = "true" if key.default else "false"
    else:
        default = None if key.default is None else str(key.default)
    return {
        "name": key.name, "type": key.type.value, "required": not key.has_default,
        "default_value": default, "importance": key.importance.value,
        "documentation": key.documentation, "group": key.group,
        "order_in_group": key.order_in_group, "order": key.order_in_group,
        "width": key.width.value, "display_name": key.display_name or key.name,
        "dependents": list(key.dependents),
    }
