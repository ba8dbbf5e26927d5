"""KIP-875 offset administration: GET, PATCH and DELETE /connectors/{name}/offsets.

Source offsets live in the worker's offset store under Kafka's keys; sink offsets are the
committed offsets of the connector's consumer group, changed through the Admin API. The
connector must be STOPPED, and its `alter_offsets` hook may refuse the change.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import ConsumerGroupTopicPartitions, KafkaException
from confluent_kafka import TopicPartition as KafkaTopicPartition
from confluent_kafka.admin import AdminClient

from fjord.connect.api import Connector, SinkConnector
from fjord.connect.herder import BadRequestError, ConflictError, HerderError
from fjord.connect.plugins import PluginNotFound, Plugins
from fjord.connect.status import TargetState
from fjord.connect.storage.config import ConnectorEntry
from fjord.connect.storage.offsets import OffsetBackingStore, source_offset_key


class OffsetAdmin:
    def __init__(self, plugins: Plugins, offset_store: OffsetBackingStore,
                 admin: Callable[[], AdminClient]) -> None:
        self.plugins = plugins
        self.offset_store = offset_store
        self._admin = admin

    def _connector_class(self, entry: ConnectorEntry) -> type[Connector]:
        try:
            return self.plugins.connector_class(entry.config.get("connector.class", ""))
        except PluginNotFound as exc:
            raise HerderError(str(exc)) from exc

    def connector_offsets(self, name: str, entry: ConnectorEntry) -> dict[str, Any]:
        cls = self._connector_class(entry)
        if issubclass(cls, SinkConnector):
            return {"offsets": self._sink_offsets(name, entry)}
        return {"offsets": [{"partition": p, "offset": o}
                            for p, o in self.offset_store.connector_offsets(name)]}

    @staticmethod
    def _sink_group(name: str, entry: ConnectorEntry) -> str:
        return entry.config.get("consumer.override.group.id") or f"connect-{name}"

    def _sink_offsets(self, name: str, entry: ConnectorEntry) -> list[dict[str, Any]]:
        admin = self._admin()
        group = self._sink_group(name, entry)
        try:
            futures = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
            result = futures[group].result(15)
        except KafkaException as exc:
            if "GROUP_ID_NOT_FOUND" in str(exc) or "COORDINATOR_NOT_AVAILABLE" in str(exc):
                return []
            raise HerderError(f"Failed to retrieve consumer group offsets for sink connector "
                              f"{name}: {exc}") from exc
        out = []
        for tp in result.topic_partitions or []:
            if tp.offset >= 0:
                out.append({"partition": {"kafka_topic": tp.topic, "kafka_partition": tp.partition},
                            "offset": {"kafka_offset": tp.offset}})
        return sorted(out, key=lambda o: (o["partition"]["kafka_topic"],
                                          o["partition"]["kafka_partition"]))

    @staticmethod
    def _require_stopped(name: str, entry: ConnectorEntry, busy: bool) -> None:
        if entry.target != TargetState.STOPPED:
            raise BadRequestError("Connectors must be in the STOPPED state before their offsets can "
                              "be modified. This can be done for the specified connector by issuing "
                              f"a 'PUT' request to the '/connectors/{name}/stop' endpoint")
        if busy:
            raise ConflictError("Cannot alter offsets while tasks of the connector are still "
                              "running; retry shortly")

    def alter_offsets(self, name: str, entry: ConnectorEntry, offsets: list[dict[str, Any]] | None,
                      busy: bool) -> dict[str, str]:
        """PATCH (offsets given) or DELETE (offsets None → reset all); `busy`: tasks of the
        connector still run on this worker."""
        self._require_stopped(name, entry, busy)
        cls = self._connector_class(entry)
        reset = offsets is None
        if issubclass(cls, SinkConnector):
            self._alter_sink_offsets(name, entry, offsets)
            return {"message": "The offsets for this connector have been reset successfully" if reset
                    else "The offsets for this connector have been altered successfully"}
        changes: dict[str, Any] = {}
        requested: dict[Any, Any] = {}
        if reset:
            partitions = [p for p, _ in self.offset_store.connector_offsets(name)]
            changes = {source_offset_key(name, p): None for p in partitions}
            requested = {_partition_key(p): None for p in partitions}
        else:
            for item in offsets or []:
                partition = item.get("partition")
                if not isinstance(partition, dict):
                    raise BadRequestError("Partitions cannot be null or empty and must be objects")
                offset = item.get("offset")
                if offset is not None and not isinstance(offset, dict):
                    raise BadRequestError("Offsets must be objects or null")
                changes[source_offset_key(name, partition)] = offset
                requested[_partition_key(partition)] = offset
        connector: Any = cls()
        try:
            handled = connector.alter_offsets(dict(entry.config),
                                              {_FrozenDict(json.loads(k)): v for k, v in requested.items()})
        except Exception as exc:
            raise BadRequestError(f"Failed to alter offsets for connector {name}: {exc}") from exc
        self.offset_store.put(name, changes)
        self.offset_store.read_to_end()
        verb = "reset" if reset else "altered"
        if handled:
            return {"message": f"The offsets for this connector have been {verb} successfully"}
        return {"message": f"The Connect framework-managed offsets for this connector have been {verb} "
                "successfully. However, if this connector manages offsets externally, they will need "
                f"to be manually {verb} in the system that the connector uses."}

    def _alter_sink_offsets(self, name: str, entry: ConnectorEntry,
                            offsets: list[dict[str, Any]] | None) -> None:
        admin = self._admin()
        group = self._sink_group(name, entry)
        if offsets is None:
            futures = admin.delete_consumer_groups([group], request_timeout=15)
            for future in futures.values():
                try:
                    future.result(15)
                except KafkaException as exc:
                    if "GROUP_ID_NOT_FOUND" not in str(exc):
                        raise HerderError(f"Failed to reset offsets for {name}: {exc}") from exc
            return
        to_set, to_delete = [], []
        for item in offsets:
            partition = item.get("partition")
            if not isinstance(partition, dict):
                raise BadRequestError("Partitions cannot be null or empty and must be objects")
            topic, index = partition.get("kafka_topic"), partition.get("kafka_partition")
            if not isinstance(topic, str) or not isinstance(index, int):
                raise BadRequestError("Partitions must contain kafka_topic (string) and "
                                  "kafka_partition (integer)")
            offset = item.get("offset")
            if offset is None:
                to_delete.append(KafkaTopicPartition(topic, index))
                continue
            value = offset.get("kafka_offset") if isinstance(offset, dict) else None
            if not isinstance(value, int) or value < 0:
                raise BadRequestError("Offsets must contain kafka_offset (non-negative integer)")
            to_set.append(KafkaTopicPartition(topic, index, value))
        sink: Any = self._connector_class(entry)()
        sink.alter_offsets(dict(entry.config), {
            **{(tp.topic, tp.partition): tp.offset for tp in to_set},
            **{(tp.topic, tp.partition): None for tp in to_delete}})
        try:
            if to_set:
                admin.alter_consumer_group_offsets(
                    [ConsumerGroupTopicPartitions(group, to_set)])[group].result(15)
            if to_delete:
                # confluent-kafka has no DeleteConsumerGroupOffsets; a whole reset uses DELETE.
                raise BadRequestError("Removing the offsets of single sink partitions is not "
                                  "supported; reset all of them with DELETE "
                                  f"/connectors/{name}/offsets")
        except KafkaException as exc:
            raise HerderError(f"Failed to alter consumer group offsets for connector {name}: "
                              f"{exc}") from exc


def _partition_key(partition: Mapping[str, Any]) -> str:
    """A source partition as a dict key: its values may be objects or lists (JSON, unhashable)."""
    return json.dumps(partition, sort_keys=True, separators=(",", ":"))


class _FrozenDict(dict[str, Any]):
    """A partition map usable as a dict key (Kafka passes Map<Map<String,?>, Map<String,?>>)."""

    def __hash__(self) -> int:  # type: ignore[override]  # dict is unhashable; this one is a key
        return hash(_partition_key(self))
