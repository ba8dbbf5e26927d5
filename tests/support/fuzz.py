"""Request frames for fuzzing, shared by tests/protocol/test_fuzz.py and bench/fuzz_broker.py:
every (API key, version) the broker serves, a well-formed request of each with every array
holding one element, and the framing around a body."""

from __future__ import annotations

import dataclasses
import struct
import uuid

from kio.serial._introspect import EntityField, EntityTupleField, classify_field

import fjord.broker.apis  # noqa: F401  (registers every API)
from fjord.broker.registry import APIS
from fjord.protocol.codec import build, encode_request, request_class

SERVED = sorted((key, version) for key, api in APIS.items()
                for version in range(api.min_version, api.max_version + 1))

_SAMPLES: dict[str, object] = {"string": "s", "bytes": b"b", "records": b"r", "bool": True,
                               "uuid": uuid.UUID(int=5), "float64": 1.5}


def filled(cls: object) -> dict[str, object]:
    """A request body with every array holding one element and every string set, so a
    parser meets each field of the layout (tagged fields included)."""
    body: dict[str, object] = {}
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        shape = classify_field(field)
        if isinstance(shape, (EntityField, EntityTupleField)):
            value: object = filled(shape.type_)
        else:
            value = _SAMPLES.get(str(field.metadata.get("kafka_type")), 1)
        body[field.name] = [value] if shape.is_array else value
    return body


def well_formed(key: int, version: int, correlation: int = 1) -> bytes:
    """A complete request frame (size prefix included)."""
    cls = request_class(key, version)
    return encode_request(cls, correlation, "fuzz", build(cls, filled(cls)))


def with_body(key: int, version: int, body: bytes, correlation: int = 1) -> bytes:
    """A valid request header followed by `body`, without the size prefix."""
    flexible = request_class(key, version).__flexible__
    header = struct.pack(">hhih", key, version, correlation, 4) + b"fuzz"
    return header + (b"\x00" if flexible else b"") + body
