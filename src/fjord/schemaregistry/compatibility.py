"""Compatibility levels of Confluent Schema Registry, applied to a subject's versions."""

from __future__ import annotations

from typing import Any

from fjord.schemaregistry.avro_compat import Incompatibility, read_problems

LEVELS = ("NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL",
          "FULL_TRANSITIVE")
DEFAULT_LEVEL = "BACKWARD"


def check(level: str, new: Any, previous: list[tuple[int, Any]]) -> tuple[list[Incompatibility], int]:
    """Problems of registering `new` after `previous` (version, schema) oldest first, and the
    version they were found against (0 when there are none)."""
    if level == "NONE" or not previous:
        return [], 0
    against = previous if level.endswith("_TRANSITIVE") else previous[-1:]
    for version, old in reversed(against):
        problems: list[Incompatibility] = []
        if level.startswith(("BACKWARD", "FULL")):
            problems += read_problems(new, old)
        if level.startswith(("FORWARD", "FULL")):
            problems += read_problems(old, new)
        if problems:
            return problems, version
    return [], 0
