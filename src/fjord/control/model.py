"""What the control plane remembers: clusters, configurations with revisions, operations.

Plain dataclasses persisted as one JSON document (see store.py); `msk.py` renders them in
MSK's JSON shapes, so the persisted form can carry what MSK never shows (ports, secrets).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field

# MSK's cluster states.
ACTIVE, CREATING, DELETING, FAILED, HEALING = "ACTIVE", "CREATING", "DELETING", "FAILED", "HEALING"
UPDATING, REBOOTING_BROKER = "UPDATING", "REBOOTING_BROKER"

LOCAL, REGISTERED = "local", "registered"


def new_version() -> str:
    """MSK's CurrentVersion: an opaque string that changes on every change of the cluster."""
    return "K" + secrets.token_hex(7).upper()


@dataclass
class Cluster:
    arn: str
    name: str
    kind: str = LOCAL
    state: str = CREATING
    created: float = field(default_factory=time.time)
    current_version: str = field(default_factory=new_version)
    kafka_version: str = "3.9.x"
    broker_count: int = 1
    instance_type: str = "fjord.local"
    client_subnets: list[str] = field(default_factory=list)
    configuration_arn: str | None = None
    configuration_revision: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    ports: list[int] = field(default_factory=list)
    # Each broker's admin listener (http://host:port: /metrics, /v1/...), for metrics and time lag.
    admin_urls: list[str] = field(default_factory=list)
    bootstrap: str = ""
    client_properties: dict[str, str] = field(default_factory=dict)
    connect_url: str | None = None
    schema_registry_url: str | None = None
    active_operation: str | None = None
    state_code: str | None = None
    state_message: str | None = None
    enhanced_monitoring: str = "DEFAULT"
    storage_mode: str = "LOCAL"
    node_added: float = field(default_factory=time.time)

    def bump(self) -> None:
        self.current_version = new_version()


@dataclass
class Revision:
    revision: int
    server_properties: str
    description: str = ""
    created: float = field(default_factory=time.time)


@dataclass
class Configuration:
    arn: str
    name: str
    description: str = ""
    kafka_versions: list[str] = field(default_factory=list)
    created: float = field(default_factory=time.time)
    state: str = "ACTIVE"
    revisions: list[Revision] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def latest(self) -> Revision:
        return self.revisions[-1]

    def revision(self, number: int) -> Revision | None:
        for item in self.revisions:
            if item.revision == number:
                return item
        return None


@dataclass
class Step:
    name: str
    status: str = "PENDING"


@dataclass
class Operation:
    arn: str
    cluster_arn: str
    type: str
    state: str = "PENDING"
    created: float = field(default_factory=time.time)
    ended: float | None = None
    steps: list[Step] = field(default_factory=list)
    error_code: str | None = None
    error_string: str | None = None
    source_configuration: tuple[str, int] | None = None
    target_configuration: tuple[str, int] | None = None
    how: str | None = None  # "dynamic" (IncrementalAlterConfigs) or "rolling-restart"
