"""What Confluent Schema Registry does with subjects, versions, ids and compatibility levels,
independent of HTTP. Errors carry Confluent's status and error codes so the REST layer only
renders them and clients (confluent-kafka's SchemaRegistryClient) react as they would to
Confluent's registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fjord.schemaregistry import avro_compat
from fjord.schemaregistry.compatibility import DEFAULT_LEVEL, LEVELS, check
from fjord.schemaregistry.store import KafkaStore, SchemaVersion, StoreError


@dataclass
class RegistryError(Exception):
    status: int
    error_code: int
    message: str

    def __str__(self) -> str:
        return self.message


def subject_not_found(subject: str) -> RegistryError:
    return RegistryError(404, 40401, f"Subject '{subject}' not found.")


def version_not_found(version: Any) -> RegistryError:
    return RegistryError(404, 40402, f"Version {version} not found.")


def invalid_version(version: Any) -> RegistryError:
    return RegistryError(422, 42202, f"The specified version '{version}' is not a valid version id. "
                         "Allowed values are between [1, 2^31-1] and the string \"latest\"")


def invalid_level() -> RegistryError:
    return RegistryError(422, 42203, "Invalid compatibility level. Valid values are none, backward, "
                         "forward, full, backward_transitive, forward_transitive, and full_transitive")


def _store_errors(exc: StoreError) -> RegistryError:
    timed_out = "timed out" in str(exc).lower()
    return RegistryError(500, 50002 if timed_out else 50001, f"Error while writing to the Kafka "
                         f"store: {exc}" if not timed_out else f"Write to the Kafka store timed out: "
                         f"{exc}")


class SchemaRegistry:
    def __init__(self, store: KafkaStore, default_level: str = DEFAULT_LEVEL) -> None:
        self.store = store
        self.default_level = default_level.upper()

    @property
    def _state(self) -> Any:
        return self.store.state

    # -- reads
    def subjects(self, deleted: bool = False, prefix: str = "") -> list[str]:
        return sorted(s for s, versions in self._state.versions.items()
                      if s.startswith(prefix) and any(deleted or not v.deleted
                                                      for v in versions.values()))

    def _live(self, subject: str, deleted: bool = False) -> dict[int, SchemaVersion]:
        versions = {n: v for n, v in self._state.versions.get(subject, {}).items()
                    if deleted or not v.deleted}
        if not versions:
            raise subject_not_found(subject)
        return versions

    def versions(self, subject: str, deleted: bool = False) -> list[int]:
        return sorted(self._live(subject, deleted))

    def get_version(self, subject: str, version: str | int, deleted: bool = False) -> SchemaVersion:
        versions = self._live(subject, deleted)
        number = self._version_number(version)
        if number == -1:
            return versions[max(versions)]
        if number not in versions:
            raise version_not_found(number)
        return versions[number]

    @staticmethod
    def _version_number(version: str | int) -> int:
        if str(version) == "latest":
            return -1
        try:
            number = int(version)
        except ValueError:
            raise invalid_version(version) from None
        if number == -1:
            return -1
        if number < 1 or number > 2**31 - 1:
            raise invalid_version(version)
        return number

    def schema(self, schema_id: int) -> SchemaVersion:
        found = self._state.schema_by_id(schema_id)
        if found is None:
            raise RegistryError(404, 40403, f"Schema {schema_id} not found")
        return found

    def usages(self, schema_id: int, deleted: bool = False) -> list[SchemaVersion]:
        self.schema(schema_id)
        return sorted((v for versions in self._state.versions.values() for v in versions.values()
                       if v.id == schema_id and (deleted or not v.deleted)),
                      key=lambda v: (v.subject, v.version))

    def level(self, subject: str | None, default_to_global: bool = True) -> str:
        if subject is not None:
            level = self._state.subject_levels.get(subject)
            if level is not None:
                return str(level)
            if not default_to_global:
                raise RegistryError(404, 40408, f"Subject '{subject}' does not have subject-level "
                                    "compatibility configured")
        return str(self._state.global_level or self.default_level)

    # -- schema text
    @staticmethod
    def _parse(schema_text: str, schema_type: str) -> Any:
        if schema_type.upper() != "AVRO":
            raise RegistryError(422, 42201, f"Invalid schema: schema type {schema_type} is not "
                                "supported by this registry (AVRO only)")
        try:
            return avro_compat.parse(schema_text)
        except ValueError as exc:
            raise RegistryError(422, 42201, str(exc)) from exc

    # -- writes
    def register(self, subject: str, schema_text: str, schema_type: str = "AVRO",
                 references: list[dict[str, Any]] | None = None) -> SchemaVersion:
        node = self._parse(schema_text, schema_type)
        text = avro_compat.canonical(node)
        with self.store.write_lock:
            existing = {n: v for n, v in self._state.versions.get(subject, {}).items()}
            for item in existing.values():
                if not item.deleted and item.schema == text:
                    return item  # the same schema again: same id, same version, nothing written
            live = sorted((n, v) for n, v in existing.items() if not v.deleted)
            level = self.level(subject)
            problems, against = check(level, node, [(n, avro_compat.parse(v.schema))
                                                    for n, v in live])
            if problems:
                old = existing[against]
                details = ", ".join([p.render() for p in problems] +
                                    [f"{{oldSchemaVersion: {against}}}", f"{{oldSchema: '{old.schema}'}}",
                                     f"{{compatibility: '{level}'}}"])
                raise RegistryError(409, 409, "Schema being registered is incompatible with an "
                                    f"earlier schema for subject \"{subject}\", details: [{details}]")
            schema_id = self._state.id_of(text, schema_type.upper()) or self._state.max_id + 1
            version = max(existing, default=0) + 1
            item = SchemaVersion(subject, version, schema_id, text, schema_type.upper(),
                                 list(references or []))
            try:
                self.store.put_schema(item)
            except StoreError as exc:
                raise _store_errors(exc) from exc
            return item

    def lookup(self, subject: str, schema_text: str, schema_type: str = "AVRO",
               deleted: bool = False) -> SchemaVersion:
        text = avro_compat.canonical(self._parse(schema_text, schema_type))
        versions = self._live(subject, deleted)
        for item in sorted(versions.values(), key=lambda v: v.version):
            if item.schema == text:
                return item
        raise RegistryError(404, 40403, "Schema not found")

    def test_compatibility(self, subject: str, version: str | int | None, schema_text: str,
                           schema_type: str = "AVRO") -> list[str]:
        node = self._parse(schema_text, schema_type)
        live = sorted((n, v) for n, v in self._state.versions.get(subject, {}).items()
                      if not v.deleted)
        if version is not None and live:
            chosen = self.get_version(subject, version)
            live = [(chosen.version, chosen)]
        level = self.level(subject)
        if version is not None and level.endswith("_TRANSITIVE"):
            level = level[: -len("_TRANSITIVE")]
        problems, _ = check(level, node, [(n, avro_compat.parse(v.schema)) for n, v in live])
        return [p.render() for p in problems]

    def delete_subject(self, subject: str, permanent: bool) -> list[int]:
        with self.store.write_lock:
            all_versions = self._state.versions.get(subject, {})
            if not all_versions:
                raise subject_not_found(subject)
            live = [v for v in all_versions.values() if not v.deleted]
            try:
                if permanent:
                    if live:
                        raise RegistryError(404, 40405, f"Subject '{subject}' was not deleted first "
                                            "before being permanently deleted")
                    numbers = sorted(all_versions)
                    for number in numbers:
                        self.store.remove_schema(subject, number)
                    return numbers
                if not live:
                    raise RegistryError(404, 40404, f"Subject '{subject}' was soft deleted.Set "
                                        "permanent=true to delete permanently")
                for item in sorted(live, key=lambda v: v.version):
                    self.store.put_schema(SchemaVersion(item.subject, item.version, item.id,
                                                        item.schema, item.schema_type,
                                                        item.references, True))
                return sorted(v.version for v in live)
            except StoreError as exc:
                raise _store_errors(exc) from exc

    def delete_version(self, subject: str, version: str | int, permanent: bool) -> int:
        with self.store.write_lock:
            item = self.get_version(subject, version, deleted=permanent)
            try:
                if permanent:
                    if not item.deleted:
                        raise RegistryError(404, 40407, f"Subject '{subject}' Version "
                                            f"{item.version} was not deleted first before being "
                                            "permanently deleted")
                    self.store.remove_schema(subject, item.version)
                else:
                    self.store.put_schema(SchemaVersion(item.subject, item.version, item.id,
                                                        item.schema, item.schema_type,
                                                        item.references, True))
            except StoreError as exc:
                raise _store_errors(exc) from exc
            return item.version

    def set_level(self, subject: str | None, level: str | None) -> str:
        if level is None or level.upper() not in LEVELS:
            raise invalid_level()
        try:
            self.store.put_config(subject, level.upper())
        except StoreError as exc:
            raise _store_errors(exc) from exc
        return level.upper()

    def delete_level(self, subject: str | None) -> str:
        previous = self.level(subject)
        try:
            self.store.put_config(subject, None)
        except StoreError as exc:
            raise _store_errors(exc) from exc
        return previous
