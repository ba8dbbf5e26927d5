"""Every plugin interface of the Connect runtime, modelled on Kafka Connect's Java API.

A connector author who knows org.apache.kafka.connect.{connector,source,sink,storage,
transforms} finds the same shapes here: a Connector splits work into task configs, Tasks move
records, Converters and HeaderConverters turn Connect data into bytes and back,
Transformations (SMTs) change records and Predicates choose which ones. Methods are
synchronous on purpose — the worker runs every task in its own thread, as Kafka's does, so a
connector may block on files, sockets or databases without stalling the others.

Plugins are found through the Python entry point group `fjord.connectors`, directories listed
in the worker's `plugin.path`, and Kafka's class names of the built-ins (fjord.connect.plugins).
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Protocol, TypeVar

from fjord.connect.config_def import ConfigDef, ConfigValue
from fjord.connect.data import DataException, Schema

__all__ = [
    "ConfigDef",
    "ConnectException",
    "ConnectHeaders",
    "ConnectRecord",
    "Connector",
    "ConnectorContext",
    "Converter",
    "DataException",
    "ErrantRecordReporter",
    "ExactlyOnceSupport",
    "Header",
    "HeaderConverter",
    "OffsetStorageReader",
    "Predicate",
    "RetriableException",
    "SinkConnector",
    "SinkConnectorContext",
    "SinkRecord",
    "SinkTask",
    "SinkTaskContext",
    "SourceConnector",
    "SourceConnectorContext",
    "SourceRecord",
    "SourceTask",
    "SourceTaskContext",
    "Task",
    "TimestampType",
    "TopicPartition",
    "Transformation",
]


class ConnectException(Exception):
    """A failure a connector reports; the task goes FAILED with this as its trace."""


class RetriableException(ConnectException):
    """A transient failure: the worker retries the same call (e.g. SinkTask.put) after a backoff."""


# ---------------------------------------------------------------- headers and records


@dataclass(frozen=True)
class Header:
    key: str
    value: Any
    schema: Schema | None = None


class ConnectHeaders:
    """Ordered, repeatable headers (Kafka allows several with the same key)."""

    def __init__(self, headers: Iterable[Header] = ()) -> None:
        self._items: list[Header] = list(headers)

    def add(self, key: str, value: Any, schema: Schema | None = None) -> ConnectHeaders:
        self._items.append(Header(key, value, schema))
        return self

    def add_string(self, key: str, value: str | None) -> ConnectHeaders:
        from fjord.connect.data import OPTIONAL_STRING_SCHEMA
        return self.add(key, value, OPTIONAL_STRING_SCHEMA)

    def last_with_name(self, key: str) -> Header | None:
        for item in reversed(self._items):
            if item.key == key:
                return item
        return None

    def all_with_name(self, key: str) -> list[Header]:
        return [item for item in self._items if item.key == key]

    def remove(self, key: str) -> ConnectHeaders:
        self._items = [item for item in self._items if item.key != key]
        return self

    def retain_latest(self) -> ConnectHeaders:
        latest: dict[str, Header] = {}
        for item in self._items:
            latest[item.key] = item
        self._items = [item for item in self._items if latest[item.key] is item]
        return self

    def copy(self) -> ConnectHeaders:
        return ConnectHeaders(self._items)

    def __iter__(self) -> Iterator[Header]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConnectHeaders) and self._items == other._items

    def __repr__(self) -> str:
        return f"ConnectHeaders({self._items!r})"


class TimestampType(StrEnum):
    NO_TIMESTAMP_TYPE = "NoTimestampType"
    CREATE_TIME = "CreateTime"
    LOG_APPEND_TIME = "LogAppendTime"


@dataclass(frozen=True, order=True)
class TopicPartition:
    topic: str
    partition: int

    def __str__(self) -> str:
        return f"{self.topic}-{self.partition}"


R = TypeVar("R", bound="ConnectRecord")


@dataclass
class ConnectRecord:
    """What source and sink records share; transforms work on this."""

    topic: str
    kafka_partition: int | None
    key_schema: Schema | None
    key: Any
    value_schema: Schema | None
    value: Any
    timestamp: int | None = None
    headers: ConnectHeaders = field(default_factory=ConnectHeaders)

    def new_record(self: R, topic: str, kafka_partition: int | None, key_schema: Schema | None,
                   key: Any, value_schema: Schema | None, value: Any, timestamp: int | None,
                   headers: ConnectHeaders | None = None) -> R:
        """A copy with the given fields changed: how transforms build their output."""
        return replace(self, topic=topic, kafka_partition=kafka_partition, key_schema=key_schema,
                       key=key, value_schema=value_schema, value=value, timestamp=timestamp,
                       headers=self.headers.copy() if headers is None else headers)


@dataclass
class SourceRecord(ConnectRecord):
    """A record a SourceTask emits, with where it came from so the worker can store the offset.

    `source_partition` and `source_offset` are small JSON-able maps (e.g. {"filename": f} and
    {"position": n}); the worker persists the latest offset per partition once the record is
    acknowledged by Kafka, and hands it back through OffsetStorageReader after a restart.
    """

    source_partition: Mapping[str, Any] | None = None
    source_offset: Mapping[str, Any] | None = None

    @classmethod
    def create(cls, source_partition: Mapping[str, Any] | None,
               source_offset: Mapping[str, Any] | None, topic: str, partition: int | None = None,
               key_schema: Schema | None = None, key: Any = None,
               value_schema: Schema | None = None, value: Any = None,
               timestamp: int | None = None,
               headers: Iterable[Header] | ConnectHeaders | None = None) -> SourceRecord:
        """Kafka's constructor argument order: (sourcePartition, sourceOffset, topic, ...)."""
        hdrs = headers if isinstance(headers, ConnectHeaders) else ConnectHeaders(headers or ())
        return cls(topic, partition, key_schema, key, value_schema, value, timestamp, hdrs,
                   source_partition, source_offset)


@dataclass
class SinkRecord(ConnectRecord):
    """A record consumed from Kafka and handed to SinkTask.put, with its Kafka coordinates."""

    kafka_offset: int = -1
    timestamp_type: TimestampType = TimestampType.NO_TIMESTAMP_TYPE
    original_topic: str | None = None
    original_kafka_partition: int | None = None
    original_kafka_offset: int | None = None

    def __post_init__(self) -> None:
        # Transforms may rename the topic; a sink still commits offsets by where it was read.
        if self.original_topic is None:
            self.original_topic = self.topic
        if self.original_kafka_partition is None:
            self.original_kafka_partition = self.kafka_partition
        if self.original_kafka_offset is None:
            self.original_kafka_offset = self.kafka_offset


# ---------------------------------------------------------------- contexts


class OffsetStorageReader(Protocol):
    """Reads source offsets the worker stored for this connector."""

    def offset(self, partition: Mapping[str, Any]) -> dict[str, Any] | None: ...

    def offsets(self, partitions: Iterable[Mapping[str, Any]]) -> dict[Any, dict[str, Any]]: ...


class ErrantRecordReporter(Protocol):
    """Send a record the sink could not handle to the DLQ / error log (KIP-610)."""

    def report(self, record: SinkRecord, error: BaseException) -> None: ...


class ConnectorContext(Protocol):
    def request_task_reconfiguration(self) -> None: ...

    def raise_error(self, error: BaseException) -> None: ...


class SourceConnectorContext(ConnectorContext, Protocol):
    def offset_storage_reader(self) -> OffsetStorageReader: ...


class SinkConnectorContext(ConnectorContext, Protocol):
    pass


class SourceTaskContext(Protocol):
    def configs(self) -> dict[str, str]: ...

    def offset_storage_reader(self) -> OffsetStorageReader: ...


class SinkTaskContext(Protocol):
    def configs(self) -> dict[str, str]: ...

    def offset(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Rewind/skip: the consumer seeks these partitions before the next put."""

    def timeout(self, timeout_ms: int) -> None: ...

    def assignment(self) -> set[TopicPartition]: ...

    def pause(self, *partitions: TopicPartition) -> None: ...

    def resume(self, *partitions: TopicPartition) -> None: ...

    def request_commit(self) -> None: ...

    def errant_record_reporter(self) -> ErrantRecordReporter | None: ...


# ---------------------------------------------------------------- connectors


class ExactlyOnceSupport(StrEnum):
    SUPPORTED = "SUPPORTED"
    UNSUPPORTED = "UNSUPPORTED"


class Task(abc.ABC):
    """One unit of copying work; the worker drives it from its own thread."""

    @abc.abstractmethod
    def version(self) -> str: ...

    @abc.abstractmethod
    def start(self, props: dict[str, str]) -> None: ...

    @abc.abstractmethod
    def stop(self) -> None:
        """Called from another thread: make poll/put return soon, release resources."""


class SourceTask(Task):
    context: SourceTaskContext

    def initialize(self, context: SourceTaskContext) -> None:
        self.context = context

    @abc.abstractmethod
    def poll(self) -> list[SourceRecord] | None:
        """Return new records, or None/[] when there are none yet (block briefly, not forever)."""

    def commit(self) -> None:
        """Offsets of everything polled so far were flushed (Kafka's SourceTask.commit)."""

    def commit_record(self, record: SourceRecord, metadata: Any | None) -> None:
        """`record` was written to Kafka (metadata) or dropped by a transform/filter (None)."""


class SinkTask(Task):
    context: SinkTaskContext

    def initialize(self, context: SinkTaskContext) -> None:
        self.context = context

    @abc.abstractmethod
    def put(self, records: list[SinkRecord]) -> None:
        """Write these records; may buffer until flush. RetriableException asks for a retry."""

    def flush(self, current_offsets: Mapping[TopicPartition, int]) -> None:
        """Make everything put so far durable."""

    def pre_commit(self, current_offsets: Mapping[TopicPartition, int]) -> dict[TopicPartition, int]:
        """Offsets safe to commit (next offset to read); default flushes then commits all."""
        self.flush(current_offsets)
        return dict(current_offsets)

    def open(self, partitions: Iterable[TopicPartition]) -> None:
        """These partitions were assigned to this task."""

    def close(self, partitions: Iterable[TopicPartition]) -> None:
        """These partitions were revoked; write out what is buffered for them."""


class Connector(abc.ABC):
    """Configures tasks. Runs in the worker that holds the connector; the tasks may run anywhere."""

    context: ConnectorContext

    def initialize(self, context: ConnectorContext, task_configs: list[dict[str, str]] | None = None
                   ) -> None:
        self.context = context

    @abc.abstractmethod
    def version(self) -> str: ...

    @abc.abstractmethod
    def start(self, props: dict[str, str]) -> None: ...

    @abc.abstractmethod
    def task_class(self) -> type[Task]: ...

    @abc.abstractmethod
    def task_configs(self, max_tasks: int) -> list[dict[str, str]]: ...

    @abc.abstractmethod
    def stop(self) -> None: ...

    @abc.abstractmethod
    def config(self) -> ConfigDef: ...

    def validate(self, connector_configs: Mapping[str, str]) -> list[ConfigValue]:
        """Per-key results; the default checks the ConfigDef, like Kafka's Connector.validate."""
        return self.config().validate(connector_configs)


class SourceConnector(Connector):
    def exactly_once_support(self, connector_config: Mapping[str, str]) -> ExactlyOnceSupport | None:
        return None

    def alter_offsets(self, connector_config: Mapping[str, str],
                      offsets: Mapping[Mapping[str, Any], Mapping[str, Any] | None]) -> bool:
        """KIP-875: return True to accept an offsets PATCH/DELETE; False refuses it."""
        return False


class SinkConnector(Connector):
    TOPICS_CONFIG = "topics"
    TOPICS_REGEX_CONFIG = "topics.regex"

    def alter_offsets(self, connector_config: Mapping[str, str],
                      offsets: Mapping[TopicPartition, int | None]) -> bool:
        """Sink offsets live in the consumer group; the worker alters them, the connector agrees."""
        return True


# ---------------------------------------------------------------- converters


class Converter(abc.ABC):
    def configure(self, configs: Mapping[str, Any], is_key: bool) -> None:
        self.is_key = is_key

    @abc.abstractmethod
    def from_connect_data(self, topic: str, schema: Schema | None, value: Any) -> bytes | None: ...

    @abc.abstractmethod
    def to_connect_data(self, topic: str, value: bytes | None) -> tuple[Schema | None, Any]: ...

    def config(self) -> ConfigDef:
        return ConfigDef()


class HeaderConverter(abc.ABC):
    def configure(self, configs: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        pass

    @abc.abstractmethod
    def from_connect_header(self, topic: str, key: str, schema: Schema | None, value: Any
                            ) -> bytes | None: ...

    @abc.abstractmethod
    def to_connect_header(self, topic: str, key: str, value: bytes | None
                          ) -> tuple[Schema | None, Any]: ...

    def config(self) -> ConfigDef:
        return ConfigDef()


# ---------------------------------------------------------------- transformations and predicates


class Transformation(abc.ABC):
    def configure(self, configs: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        pass

    @abc.abstractmethod
    def apply(self, record: R) -> R | None:
        """The transformed record, or None to drop it."""

    def config(self) -> ConfigDef:
        return ConfigDef()

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class Predicate(abc.ABC):
    def configure(self, configs: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        pass

    @abc.abstractmethod
    def test(self, record: ConnectRecord) -> bool: ...

    def config(self) -> ConfigDef:
        return ConfigDef()

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


def connector_type(cls: type) -> str:
    """`source` / `sink` / `unknown`, as the REST API reports it."""
    if issubclass(cls, SourceConnector):
        return "source"
    if issubclass(cls, SinkConnector):
        return "sink"
    return "unknown"
