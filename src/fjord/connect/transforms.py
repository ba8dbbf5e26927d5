"""Kafka's built-in single message transforms and predicates (filled in below)."""

from __future__ import annotations

from fjord.connect.plugins import load_object
from fjord.connect.transform_chain import Predicate, Transformation

TRANSFORMS: dict[str, type[Transformation]] = {}
PREDICATES: dict[str, type[Predicate]] = {}


def _resolve(name: str, table: dict[str, type]) -> type:
    name = name.strip()
    if name in table:
        return table[name]
    return load_object(name)  # type: ignore[no-any-return]


def resolve_transform(name: str) -> type[Transformation]:
    return _resolve(name, TRANSFORMS)


def resolve_predicate(name: str) -> type[Predicate]:
    return _resolve(name, PREDICATES)
