"""The Herder: what the REST API and the process entry points ask of a Connect worker.

Kafka's `Herder` interface. Two implementations share fjord.connect.abstract_herder:
StandaloneHerder (fjord.connect.standalone) and DistributedHerder (fjord.connect.distributed).
A herder raises the errors below; rest.py alone turns them into HTTP status codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from fjord.connect.plugins import Plugins


class HerderError(Exception):
    """A request the herder could not carry out (Kafka's ConnectException: HTTP 500)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFoundError(HerderError):
    """No such connector, task or logger (Kafka's NotFoundException)."""


class BadRequestError(HerderError):
    """The request itself is wrong (Kafka's BadRequestException)."""


class AlreadyExistsError(HerderError):
    """A connector with this name exists (Kafka's AlreadyExistsException)."""


class ConflictError(HerderError):
    """Not now: a rebalance is in progress or tasks are still stopping; retry shortly."""


def connector_not_found(name: str) -> NotFoundError:
    return NotFoundError(f"Connector {name} not found")


class Herder(Protocol):
    mode: str
    """`standalone` or `distributed`."""
    started: bool
    worker_id: str
    plugins: Plugins

    def start(self) -> None: ...

    def stop(self) -> None: ...

    # -- cluster and worker

    def ready(self) -> bool:
        """This worker has joined its cluster and can take requests."""

    def is_leader(self) -> bool: ...

    def leader_url(self) -> str | None:
        """Where writes go when this worker is not the leader; None when it takes them itself."""

    def cluster_id(self) -> str | None: ...

    def kafka_reachable(self) -> str | None:
        """None when the Kafka cluster answers, else why not."""

    # -- reads

    def connectors(self) -> list[str]: ...

    def connector_info(self, name: str) -> dict[str, Any]: ...

    def connector_config(self, name: str) -> dict[str, str]: ...

    def task_configs(self, name: str) -> list[dict[str, Any]]: ...

    def connector_status(self, name: str) -> dict[str, Any]: ...

    def task_status(self, name: str, task: int) -> dict[str, Any]: ...

    def active_topics(self, name: str) -> dict[str, Any]: ...

    def connector_offsets(self, name: str) -> dict[str, Any]: ...

    def plugin_list(self, connectors_only: bool = True) -> list[dict[str, str]]: ...

    def validate(self, config: Mapping[str, str]) -> dict[str, Any]: ...

    # -- writes

    def put_connector_config(self, name: str, config: Mapping[str, str], allow_replace: bool,
                             initial_state: str | None = None) -> tuple[bool, dict[str, Any]]: ...

    def patch_connector_config(self, name: str, patch: Mapping[str, Any]) -> dict[str, Any]: ...

    def delete_connector(self, name: str) -> None: ...

    def set_target_state(self, name: str, target: str) -> None: ...

    def restart_connector(self, name: str, include_tasks: bool, only_failed: bool
                          ) -> dict[str, Any] | None: ...

    def restart_task(self, name: str, task: int) -> None: ...

    def reset_topics(self, name: str) -> None: ...

    def alter_offsets(self, name: str, offsets: list[dict[str, Any]] | None) -> dict[str, str]: ...
