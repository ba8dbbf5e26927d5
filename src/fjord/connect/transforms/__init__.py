"""Kafka's built-in single message transforms and predicates, under Kafka's class names.

One module per SMT family (cast, fields, flatten, headers, routing, schema_metadata,
timestamps, filter) and predicates.py. Each transform works on schemaless values (dicts) and
on Structs with schemas, like Kafka's. Kafka's `$Key` / `$Value` nested classes are
subclasses made here and registered under those same names; fjord.connect.plugins looks
them up.
"""

from __future__ import annotations

from fjord.connect.api import Predicate, Transformation
from fjord.connect.transforms.base import PKG
from fjord.connect.transforms.cast import Cast
from fjord.connect.transforms.fields import (
    ExtractField,
    HoistField,
    InsertField,
    MaskField,
    ReplaceField,
    ValueToKey,
)
from fjord.connect.transforms.filter import Filter
from fjord.connect.transforms.flatten import Flatten
from fjord.connect.transforms.headers import DropHeaders, HeaderFrom, InsertHeader
from fjord.connect.transforms.predicates import HasHeaderKey, RecordIsTombstone, TopicNameMatches
from fjord.connect.transforms.routing import RegexRouter
from fjord.connect.transforms.schema_metadata import SetSchemaMetadata
from fjord.connect.transforms.timestamps import TimestampConverter, TimestampRouter

__all__ = ["PREDICATES", "TRANSFORMS"]

TRANSFORMS: dict[str, type[Transformation]] = {}
PREDICATES: dict[str, type[Predicate]] = {
    PKG + "predicates.TopicNameMatches": TopicNameMatches,
    PKG + "predicates.HasHeaderKey": HasHeaderKey,
    PKG + "predicates.RecordIsTombstone": RecordIsTombstone,
}

for _cls in (Cast, ExtractField, Flatten, HeaderFrom, HoistField, InsertField, MaskField,
             ReplaceField, SetSchemaMetadata, TimestampConverter):
    for _variant, _is_key in (("Key", True), ("Value", False)):
        TRANSFORMS[f"{PKG}{_cls.__name__}${_variant}"] = type(
            f"{_cls.__name__}{_variant}", (_cls,), {"is_key": _is_key, "__module__": _cls.__module__})
for _cls2 in (DropHeaders, Filter, InsertHeader, RegexRouter, TimestampRouter, ValueToKey):
    TRANSFORMS[PKG + _cls2.__name__] = _cls2
