"""What the control plane does to a cluster through the Kafka protocol alone: reach it, and
change broker configs with IncrementalAlterConfigs. Works for local and registered clusters
alike (Apache Kafka, MSK, CKafka, Redpanda)."""

from __future__ import annotations

import asyncio
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource, ResourceType

from fjord.control.model import Cluster

TIMEOUT = 15.0


class NotDynamic(Exception):
    """The brokers refused to change a key while running (a static key, or no dynamic configs)."""


def client_config(cluster: Cluster) -> dict[str, Any]:
    """librdkafka settings for this cluster: its bootstrap servers and its security settings."""
    return {"bootstrap.servers": cluster.bootstrap, "socket.timeout.ms": 10000,
            **cluster.client_properties}


def admin(cluster: Cluster) -> AdminClient:
    return AdminClient(client_config(cluster))


def _probe(cluster: Cluster) -> tuple[bool, str]:
    try:
        admin(cluster).list_topics(timeout=5)
        return True, ""
    except KafkaException as exc:
        return False, f"cannot reach {cluster.bootstrap}: {exc.args[0]}"


async def probe(cluster: Cluster) -> tuple[bool, str]:
    return await asyncio.get_running_loop().run_in_executor(None, _probe, cluster)


def _alter(cluster: Cluster, old: dict[str, str], new: dict[str, str]) -> None:
    entries = [ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)
               for key, value in new.items() if old.get(key) != value]
    entries += [ConfigEntry(key, None, incremental_operation=AlterConfigOpType.DELETE)
                for key in old if key not in new]
    if not entries:
        return
    client = admin(cluster)
    brokers = sorted(client.list_topics(timeout=10).brokers)
    resources = [ConfigResource(ResourceType.BROKER, str(b), incremental_configs=entries) for b in brokers]
    for future in client.incremental_alter_configs(resources).values():
        try:
            future.result(TIMEOUT)
        except KafkaException as exc:
            raise NotDynamic(f"the brokers refused the change live: {exc.args[0].str()}") from None


async def alter_broker_configs(cluster: Cluster, old: dict[str, str], new: dict[str, str]) -> None:
    await asyncio.get_running_loop().run_in_executor(None, _alter, cluster, old, new)
