"""Avro schema resolution: can a reader schema read what a writer schema wrote?

The rules are the Avro specification's ("Schema Resolution"), checked the way Avro's
SchemaCompatibility does for Confluent Schema Registry: a record field the reader has and
the writer lacks needs a default; types may be promoted (int → long → float → double,
string ↔ bytes); every branch of a writer union must be readable; enum symbols the reader
lacks need a reader default. Each problem is reported with Confluent's error type names so
the registry's 409 answer reads like Confluent's.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
PROMOTIONS = {"int": {"long", "float", "double"}, "long": {"float", "double"},
              "float": {"double"}, "string": {"bytes"}, "bytes": {"string"}}


@dataclass(frozen=True)
class Incompatibility:
    error_type: str
    description: str
    path: str
    additional_info: str = ""

    def render(self) -> str:
        return (f"{{errorType:'{self.error_type}', description:'{self.description}', "
                f"additionalInfo:'{self.additional_info}'}}")


class _Names:
    """Named types (records, enums, fixed) of one schema by full name, to follow references."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, Any]] = {}

    def collect(self, node: Any, namespace: str = "") -> None:
        if isinstance(node, list):
            for item in node:
                self.collect(item, namespace)
            return
        if not isinstance(node, dict):
            return
        kind = node.get("type")
        if kind in ("record", "error", "enum", "fixed"):
            full = _full_name(node, namespace)
            self.types[full] = node
            self.types.setdefault(full.rsplit(".", 1)[-1], node)
            inner_ns = full.rpartition(".")[0]
            for field in node.get("fields", []) or []:
                self.collect(field.get("type"), inner_ns)
        elif kind in ("array", "map"):
            self.collect(node.get("items") if kind == "array" else node.get("values"), namespace)
        elif isinstance(kind, dict | list):
            self.collect(kind, namespace)

    def resolve(self, node: Any) -> Any:
        if isinstance(node, str) and node not in PRIMITIVES:
            return self.types.get(node, self.types.get(node.rsplit(".", 1)[-1], node))
        if isinstance(node, dict) and isinstance(node.get("type"), str) and \
                node["type"] in PRIMITIVES:
            return node["type"]  # {"type": "long", "logicalType": ...} reads as its primitive
        if isinstance(node, dict) and isinstance(node.get("type"), dict | list):
            return self.resolve(node["type"])
        return node


def _full_name(node: dict[str, Any], namespace: str) -> str:
    name = str(node.get("name", ""))
    if "." in name:
        return name
    ns = node.get("namespace", namespace) or ""
    return f"{ns}.{name}" if ns else name


def _kind(node: Any) -> str:
    if isinstance(node, list):
        return "union"
    if isinstance(node, str):
        return node
    return str(node.get("type"))


def _short(node: dict[str, Any]) -> str:
    return str(node.get("name", "")).rsplit(".", 1)[-1]


class _Checker:
    def __init__(self, reader: Any, writer: Any) -> None:
        self.rn, self.wn = _Names(), _Names()
        self.rn.collect(reader)
        self.wn.collect(writer)
        self.seen: set[tuple[int, int]] = set()
        self.problems: list[Incompatibility] = []

    def check(self, reader: Any, writer: Any, path: str) -> None:
        reader, writer = self.rn.resolve(reader), self.wn.resolve(writer)
        pair = (id(reader), id(writer))
        if isinstance(reader, dict) and isinstance(writer, dict):
            if pair in self.seen:
                return  # recursive types: this pair is already being checked
            self.seen.add(pair)
        rk, wk = _kind(reader), _kind(writer)
        if wk == "union":
            for index, branch in enumerate(writer):
                self.check(reader, branch, f"{path}/{index}")
            return
        if rk == "union":
            for branch in reader:
                probe = _Checker.__new__(_Checker)
                probe.rn, probe.wn, probe.seen, probe.problems = self.rn, self.wn, set(self.seen), []
                probe.check(branch, writer, path)
                if not probe.problems:
                    return
            self.problems.append(Incompatibility(
                "MISSING_UNION_BRANCH", f"The new schema is missing a type inside a union field at "
                f"path '{path}' in the old schema", path, wk))
            return
        if rk != wk:
            if wk in PROMOTIONS and rk in PROMOTIONS[wk]:
                return
            self.problems.append(Incompatibility(
                "TYPE_MISMATCH", f"The type (path '{path}') of a field in the new schema does not "
                f"match with the old schema", path, f"reader type: {rk.upper()} not compatible with "
                f"writer type: {wk.upper()}"))
            return
        if rk in ("record", "error"):
            if _short(reader) != _short(writer) and _short(writer) not in reader.get("aliases", []):
                self.problems.append(Incompatibility(
                    "NAME_MISMATCH", f"The name of the schema has changed (path '{path}')", path,
                    f"expected: {reader.get('name')}"))
                return
            writer_fields = {f["name"]: f for f in writer.get("fields", [])}
            for index, field in enumerate(reader.get("fields", [])):
                match = writer_fields.get(field["name"])
                if match is None:
                    for alias in field.get("aliases", []) or []:
                        match = writer_fields.get(alias)
                        if match is not None:
                            break
                if match is None:
                    if "default" not in field:
                        self.problems.append(Incompatibility(
                            "READER_FIELD_MISSING_DEFAULT_VALUE",
                            f"The field '{field['name']}' at path '{path}/fields/{index}' in the new "
                            "schema has no default value and is missing in the old schema",
                            f"{path}/fields/{index}", field["name"]))
                    continue
                self.check(field["type"], match["type"], f"{path}/fields/{index}/type")
        elif rk == "enum":
            missing = [s for s in writer.get("symbols", []) if s not in reader.get("symbols", [])]
            if missing and "default" not in reader:
                self.problems.append(Incompatibility(
                    "MISSING_ENUM_SYMBOLS", f"The new schema is missing enum symbols '{missing}' at "
                    f"path '{path}/symbols' in the old schema", f"{path}/symbols", str(missing)))
        elif rk == "fixed":
            if reader.get("size") != writer.get("size"):
                self.problems.append(Incompatibility(
                    "FIXED_SIZE_MISMATCH", f"The size of FIXED type field at path '{path}/size' in "
                    "the new schema does not match with the old schema", f"{path}/size",
                    f"expected: {writer.get('size')}, found: {reader.get('size')}"))
        elif rk == "array":
            self.check(reader["items"], writer["items"], f"{path}/items")
        elif rk == "map":
            self.check(reader["values"], writer["values"], f"{path}/values")


def read_problems(reader: Any, writer: Any) -> list[Incompatibility]:
    """Why `reader` cannot read data written with `writer` (empty: it can)."""
    checker = _Checker(reader, writer)
    checker.check(reader, writer, "")
    return checker.problems


def parse(schema_text: str) -> Any:
    """JSON of an Avro schema, validated by fastavro (raises ValueError with the reason)."""
    import fastavro

    try:
        node = json.loads(schema_text)
    except ValueError as exc:
        raise ValueError(f"Invalid schema {schema_text}: not JSON: {exc}") from exc
    if isinstance(node, str) and node not in PRIMITIVES:
        raise ValueError(f"Invalid schema {schema_text}: unknown type {node}")
    try:
        fastavro.parse_schema(node, _write_hint=False)
    except Exception as exc:
        raise ValueError(f"Invalid schema {schema_text}, details: {exc}") from exc
    return node


def canonical(node: Any) -> str:
    """A stable text for comparing schemas: the same schema registered twice is one id."""
    return json.dumps(node, separators=(",", ":"), sort_keys=False)
