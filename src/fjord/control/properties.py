"""A configuration revision's ServerProperties: checked against Fjord's broker keys before a
revision exists, and compared key by key (diffs, and which keys an update changes)."""

from __future__ import annotations

from dataclasses import dataclass

from fjord.config.broker import BROKER_KEYS
from fjord.config.definitions import ConfigError
from fjord.config.properties import parse_properties
from fjord.control.errors import BadRequest

# Keys the control plane sets itself on the brokers it runs: a configuration cannot move
# a broker's listener, data directory or id from under its supervisor.
MANAGED_KEYS = ("listeners", "advertised.listeners", "log.dirs", "log.dir", "node.id", "broker.id",
                "admin.listener")

MAX_BYTES = 100 * 1024


def validate(text: str) -> dict[str, str]:
    """The parsed properties, or BadRequest naming the first bad line and the fix."""
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise BadRequest(f"ServerProperties is larger than {MAX_BYTES} bytes", "serverProperties")
    settings = parse_properties(text)
    for name, value in settings.items():
        if name in MANAGED_KEYS:
            raise BadRequest(f"{name} is set by the control plane for each broker: remove it from "
                             "the configuration", "serverProperties")
        if name not in BROKER_KEYS:
            raise BadRequest(str(BROKER_KEYS.unknown(name, "broker")), "serverProperties")
        try:
            BROKER_KEYS[name].parse(value)
        except ConfigError as exc:
            raise BadRequest(str(exc), "serverProperties") from None
    return settings


def decode(blob: bytes) -> str:
    try:
        return blob.decode("utf-8")
    except UnicodeDecodeError:
        raise BadRequest("ServerProperties is not UTF-8 text", "serverProperties") from None


@dataclass(frozen=True)
class Change:
    key: str
    old: str | None
    new: str | None

    @property
    def kind(self) -> str:
        if self.old is None:
            return "added"
        if self.new is None:
            return "removed"
        return "changed"


def diff(old_text: str, new_text: str) -> list[Change]:
    """Key-level differences (what a broker sees), in key order."""
    old, new = parse_properties(old_text), parse_properties(new_text)
    return [Change(key, old.get(key), new.get(key)) for key in sorted(set(old) | set(new))
            if old.get(key) != new.get(key)]
