"""The control plane's behaviour: cluster lifecycle, configurations and revisions, operations.

Every request that changes a cluster returns at once (as MSK does) and the work runs as an
operation in the background: the cluster shows CREATING/UPDATING/REBOOTING_BROKER/DELETING
until it is done, and `ListClusterOperations` tells how it went.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import time
from collections.abc import Callable, Coroutine
from typing import Any

from fjord.config.broker import BROKER_KEYS
from fjord.config.properties import parse_properties
from fjord.control import arns, external, properties
from fjord.control.errors import BadRequest, Conflict, NotFound
from fjord.control.model import (
    ACTIVE,
    DELETING,
    FAILED,
    HEALING,
    LOCAL,
    REBOOTING_BROKER,
    REGISTERED,
    UPDATING,
    Cluster,
    Configuration,
    Operation,
    Revision,
    Step,
)
from fjord.control.store import Store
from fjord.control.supervisor import BrokerRunner, free_port

log = logging.getLogger("fjord.control")

PROBE_INTERVAL = 10.0
MAX_LOCAL_BROKERS = 1


class ControlPlane:
    def __init__(self, store: Store, broker_host: str = "127.0.0.1", max_brokers: int = 30) -> None:
        self.store = store
        # MSK caps brokers per account; here the cap keeps one machine from being overrun.
        self.max_brokers = max_brokers
        self.broker_host = broker_host
        self.runners: dict[str, list[BrokerRunner]] = {}
        self.tasks: set[asyncio.Task[Any]] = set()
        self.listeners: list[Callable[[str], None]] = []
        self.closing = False

    # ---- life of the control plane ------------------------------------------------------
    async def start(self) -> None:
        """Bring back what was running before a restart; finish what a crash interrupted."""
        for cluster in list(self.store.clusters.values()):
            if cluster.state == DELETING:
                self._spawn(self._delete(cluster, None))
            elif cluster.kind == LOCAL and cluster.state != FAILED:
                self._spawn(self._boot(cluster))
        for operation in self.store.operations.values():
            if operation.state in ("PENDING", "UPDATE_IN_PROGRESS"):
                operation.state, operation.ended = "UPDATE_FAILED", time.time()
                operation.error_code, operation.error_string = "Interrupted", \
                    "the control plane stopped while this operation ran"
        self.store.save()
        self._spawn(self._probe_loop())

    async def close(self) -> None:
        self.closing = True
        for task in list(self.tasks):
            task.cancel()
        for runners in self.runners.values():
            for runner in runners:
                await runner.stop()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self.tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("control plane task failed", exc_info=task.exception())

    def changed(self, arn: str) -> None:
        self.store.save()
        for listener in list(self.listeners):
            listener(arn)

    # ---- clusters -----------------------------------------------------------------------
    def cluster(self, arn: str) -> Cluster:
        cluster = self.store.clusters.get(arn)
        if cluster is None:
            raise NotFound(f"The cluster {arn} does not exist", "clusterArn")
        return cluster

    def create_cluster(self, name: str, broker_count: int, kafka_version: str, instance_type: str,
                       client_subnets: list[str], configuration: tuple[str, int] | None,
                       tags: dict[str, str], monitoring: str = "DEFAULT", storage_mode: str = "LOCAL",
                       register: dict[str, Any] | None = None) -> Cluster:
        if not name or len(name) > 64:
            raise BadRequest("clusterName must be 1 to 64 characters", "clusterName")
        if any(c.name == name for c in self.store.clusters.values()):
            raise Conflict(f"A cluster named {name} already exists", "clusterName")
        if configuration is not None:
            self.revision(*configuration)
        cluster = Cluster(arn=arns.new_arn("cluster", name), name=name, kafka_version=kafka_version,
                          broker_count=broker_count, instance_type=instance_type,
                          client_subnets=client_subnets, tags=dict(tags),
                          enhanced_monitoring=monitoring, storage_mode=storage_mode)
        if configuration is not None:
            cluster.configuration_arn, cluster.configuration_revision = configuration
        if register is not None:
            bootstrap = str(register.get("bootstrapServers") or "").strip()
            if not bootstrap:
                raise BadRequest("a registered cluster needs bootstrapServers", "bootstrapServers")
            cluster.kind, cluster.bootstrap = REGISTERED, bootstrap
            cluster.client_properties = {str(k): str(v) for k, v in
                                         (register.get("clientProperties") or {}).items()}
            cluster.connect_url = register.get("connectUrl") or None
            cluster.admin_urls = [u for u in (register.get("adminUrls") or []) if u]
            cluster.schema_registry_url = register.get("schemaRegistryUrl") or None
            cluster.instance_type = "external"
        else:
            if not 1 <= broker_count <= MAX_LOCAL_BROKERS:
                raise BadRequest(
                    f"A local cluster has {MAX_LOCAL_BROKERS} broker until multi-broker mode "
                    f"(cluster.store) exists: set numberOfBrokerNodes to 1", "numberOfBrokerNodes")
            running = sum(len(c.ports) for c in self.store.clusters.values())
            if running + broker_count > self.max_brokers:
                raise BadRequest(f"This control plane runs at most {self.max_brokers} local brokers "
                                 f"({running} exist): delete a cluster or start it with a higher "
                                 "--max-brokers", "numberOfBrokerNodes")
            cluster.ports = [free_port(self.broker_host) for _ in range(broker_count)]
            cluster.bootstrap = ",".join(f"{self.broker_host}:{p}" for p in cluster.ports)
        self.store.clusters[cluster.arn] = cluster
        self.changed(cluster.arn)
        self._spawn(self._boot(cluster) if cluster.kind == LOCAL else self._probe(cluster))
        return cluster

    def ensure_registered(self, name: str, bootstrap: str, connect_url: str | None,
                          admin_url: str | None = None, registry_url: str | None = None) -> Cluster:
        """A registered cluster of this name pointing at `bootstrap` (for `fjord up`)."""
        admin_urls = [admin_url] if admin_url else []
        for cluster in self.store.clusters.values():
            if cluster.name == name:
                if cluster.kind == REGISTERED:
                    cluster.bootstrap, cluster.connect_url = bootstrap, connect_url
                    cluster.admin_urls = admin_urls
                    cluster.schema_registry_url = registry_url
                    self.changed(cluster.arn)
                    self._spawn(self._probe(cluster))
                return cluster
        return self.create_cluster(name, 1, "external", "external", [], None, {},
                                   register={"bootstrapServers": bootstrap, "connectUrl": connect_url,
                                             "adminUrls": admin_urls, "schemaRegistryUrl": registry_url})

    def list_clusters(self, name_filter: str | None) -> list[Cluster]:
        items = sorted(self.store.clusters.values(), key=lambda c: c.created)
        if name_filter:
            items = [c for c in items if c.name.startswith(name_filter)]
        return items

    def delete_cluster(self, arn: str, current_version: str | None) -> Cluster:
        cluster = self.cluster(arn)
        if current_version and current_version != cluster.current_version:
            raise BadRequest(_stale(cluster, current_version), "currentVersion")
        if cluster.state == DELETING:
            return cluster
        operation = self._operation(cluster, "DELETE", ["STOPPING_BROKERS", "DELETING_DATA"])
        cluster.state = DELETING
        cluster.bump()
        self.changed(cluster.arn)
        self._spawn(self._delete(cluster, operation))
        return cluster

    def update_configuration(self, arn: str, current_version: str, config_arn: str,
                             revision: int) -> Operation:
        cluster = self.cluster(arn)
        rev = self.revision(config_arn, revision)
        self._check_ready(cluster, current_version)
        operation = self._operation(cluster, "UPDATE_CLUSTER_CONFIGURATION",
                                    ["VALIDATING_CONFIGURATION", "APPLYING_CONFIGURATION",
                                     "FINALIZING_UPDATE"])
        if cluster.configuration_arn:
            operation.source_configuration = (cluster.configuration_arn,
                                              cluster.configuration_revision or 1)
        operation.target_configuration = (config_arn, revision)
        cluster.state = UPDATING
        cluster.bump()
        self.changed(cluster.arn)
        self._spawn(self._apply(cluster, operation, config_arn, rev))
        return operation

    def reboot_broker(self, arn: str, broker_ids: list[str]) -> Operation:
        cluster = self.cluster(arn)
        if cluster.kind != LOCAL:
            raise BadRequest("Only local clusters' brokers can be rebooted by Fjord", "clusterArn")
        self._check_ready(cluster, None)
        known = {str(i + 1) for i in range(len(cluster.ports))}
        if len(broker_ids) != 1 or broker_ids[0] not in known:
            raise BadRequest(f"brokerIds must name one broker of the cluster: {sorted(known)}",
                             "brokerIds")
        operation = self._operation(cluster, "REBOOT_NODE", ["REBOOTING_BROKER"])
        cluster.state = REBOOTING_BROKER
        cluster.bump()
        self.changed(cluster.arn)
        self._spawn(self._reboot(cluster, operation, int(broker_ids[0])))
        return operation

    def update_broker_count(self, arn: str, current_version: str, target: int) -> Operation:
        cluster = self.cluster(arn)
        self._check_ready(cluster, current_version)
        raise BadRequest(f"A local cluster has {MAX_LOCAL_BROKERS} broker until multi-broker mode "
                         "(cluster.store) exists", "targetNumberOfBrokerNodes")

    def _check_ready(self, cluster: Cluster, current_version: str | None) -> None:
        if current_version is not None and current_version != cluster.current_version:
            raise BadRequest(_stale(cluster, current_version), "currentVersion")
        if cluster.state != ACTIVE:
            raise BadRequest(f"The cluster is in state {cluster.state}; this request needs it ACTIVE",
                             "clusterArn")

    def _operation(self, cluster: Cluster, kind: str, steps: list[str]) -> Operation:
        operation = Operation(arn=arns.new_arn("cluster-operation", cluster.name),
                              cluster_arn=cluster.arn, type=kind, steps=[Step(s) for s in steps])
        self.store.operations[operation.arn] = operation
        cluster.active_operation = operation.arn
        return operation

    def operations_of(self, arn: str) -> list[Operation]:
        self.cluster(arn)
        items = [o for o in self.store.operations.values() if o.cluster_arn == arn]
        return sorted(items, key=lambda o: o.created, reverse=True)

    def operation(self, arn: str) -> Operation:
        operation = self.store.operations.get(arn)
        if operation is None:
            raise NotFound(f"The operation {arn} does not exist", "clusterOperationArn")
        return operation

    def settings_of(self, cluster: Cluster) -> dict[str, str]:
        if not cluster.configuration_arn or cluster.configuration_revision is None:
            return {}
        config = self.store.configurations.get(cluster.configuration_arn)
        rev = config.revision(cluster.configuration_revision) if config else None
        return parse_properties(rev.server_properties) if rev else {}

    def broker_pids(self, arn: str) -> list[int | None]:
        return [runner.pid for runner in self.runners.get(arn, [])]

    # ---- background work ----------------------------------------------------------------
    async def _boot(self, cluster: Cluster) -> None:
        directory = self.store.cluster_dir(cluster)
        settings = self.settings_of(cluster)
        if len(cluster.admin_urls) != len(cluster.ports):
            cluster.admin_urls = [f"http://{self.broker_host}:{free_port(self.broker_host)}"
                                  for _ in cluster.ports]
            self.store.save()
        runners = [BrokerRunner(directory, i + 1, self.broker_host, port, self._exited, cluster.admin_urls[i])
                   for i, port in enumerate(cluster.ports)]
        self.runners[cluster.arn] = runners
        try:
            for runner in runners:
                runner.write_properties(settings)
                await runner.start()
        except Exception as exc:
            self._state(cluster, FAILED, "BrokerStartFailed", str(exc))
            return
        self._state(cluster, ACTIVE)

    async def _exited(self, runner: BrokerRunner, code: int) -> None:
        """A broker died on its own: HEALING while it is restarted, ACTIVE once it listens."""
        if self.closing:
            return
        cluster = next((c for c in self.store.clusters.values()
                        if runner in self.runners.get(c.arn, [])), None)
        if cluster is None or cluster.state == DELETING:
            return
        self._state(cluster, HEALING, "BrokerExited", f"broker {runner.node_id} exited with {code}")
        delay = 1.0
        while not self.closing and not runner.stopping:
            if cluster.arn not in self.store.clusters or cluster.state == DELETING:
                return  # deleted while healing: its broker must stay down
            try:
                await runner.start()
                self._state(cluster, ACTIVE)
                return
            except Exception as exc:
                log.warning("restarting broker %s of %s failed: %s", runner.node_id, cluster.name, exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)

    def _state(self, cluster: Cluster, state: str, code: str | None = None,
               message: str | None = None) -> None:
        cluster.state, cluster.state_code, cluster.state_message = state, code, message
        self.changed(cluster.arn)

    def _step(self, operation: Operation, name: str, status: str) -> None:
        for step in operation.steps:
            if step.name == name:
                step.status = status
        if operation.state == "PENDING":
            operation.state = "UPDATE_IN_PROGRESS"
        self.changed(operation.cluster_arn)

    def _finish(self, cluster: Cluster, operation: Operation, error: str | None = None) -> None:
        operation.ended = time.time()
        if error is None:
            operation.state = "UPDATE_COMPLETE"
            for step in operation.steps:
                step.status = "COMPLETED" if step.status != "FAILED" else step.status
        else:
            operation.state = "UPDATE_FAILED"
            operation.error_code, operation.error_string = "OperationFailed", error
        cluster.active_operation = None
        self.changed(cluster.arn)

    async def _apply(self, cluster: Cluster, operation: Operation, config_arn: str,
                     rev: Revision) -> None:
        old = self.settings_of(cluster)
        new = parse_properties(rev.server_properties)
        self._step(operation, "VALIDATING_CONFIGURATION", "COMPLETED")
        self._step(operation, "APPLYING_CONFIGURATION", "IN_PROGRESS")
        error = None
        try:
            if cluster.kind == REGISTERED:
                await external.alter_broker_configs(cluster, old, new)
                operation.how = "dynamic"
            else:
                operation.how = await self._apply_local(cluster, old, new)
        except Exception as exc:
            error = str(exc)
            self._step(operation, "APPLYING_CONFIGURATION", "FAILED")
        if error is None:
            cluster.configuration_arn, cluster.configuration_revision = config_arn, rev.revision
        self._finish(cluster, operation, error)
        self._state(cluster, ACTIVE if error is None or cluster.kind == REGISTERED else cluster.state)
        if error is not None and cluster.kind == LOCAL:
            await self._recover(cluster)

    async def _apply_local(self, cluster: Cluster, old: dict[str, str], new: dict[str, str]) -> str:
        """Dynamic keys (Kafka's DynamicBrokerConfig set) live through IncrementalAlterConfigs, so
        the running brokers keep serving; static keys by a rolling restart, one broker at a time,
        each waited for until it listens again. Returns how the revision was applied."""
        runners = self.runners.get(cluster.arn, [])
        for runner in runners:
            runner.write_properties(new)
        changed = {k for k in set(old) | set(new) if old.get(k) != new.get(k)}
        dynamic = {k for k in changed if k in BROKER_KEYS and BROKER_KEYS[k].dynamic}
        if dynamic:
            await external.alter_broker_configs(cluster, {k: v for k, v in old.items() if k in dynamic},
                                                {k: v for k, v in new.items() if k in dynamic})
        if not changed - dynamic:
            return "dynamic"
        for runner in runners:
            await runner.stop()
            await runner.start()
        return "dynamic+rolling-restart" if dynamic else "rolling-restart"

    async def _recover(self, cluster: Cluster) -> None:
        """After a failed apply, put the brokers back on the revision that was in force."""
        settings = self.settings_of(cluster)
        try:
            for runner in self.runners.get(cluster.arn, []):
                runner.write_properties(settings)
                if runner.pid is None:
                    await runner.start()
            self._state(cluster, ACTIVE)
        except Exception as exc:
            self._state(cluster, FAILED, "BrokerStartFailed", str(exc))

    async def _reboot(self, cluster: Cluster, operation: Operation, node_id: int) -> None:
        runner = self.runners[cluster.arn][node_id - 1]
        self._step(operation, "REBOOTING_BROKER", "IN_PROGRESS")
        try:
            await runner.stop()
            await runner.start()
            self._finish(cluster, operation)
            self._state(cluster, ACTIVE)
        except Exception as exc:
            self._finish(cluster, operation, str(exc))
            self._state(cluster, FAILED, "BrokerStartFailed", str(exc))

    async def _delete(self, cluster: Cluster, operation: Operation | None) -> None:
        for runner in self.runners.pop(cluster.arn, []):
            await runner.stop()
        if operation is not None:
            self._step(operation, "STOPPING_BROKERS", "COMPLETED")
        if cluster.kind == LOCAL:
            directory = self.store.cluster_dir(cluster)
            await asyncio.get_running_loop().run_in_executor(
                None, lambda: shutil.rmtree(directory, ignore_errors=True))
        if operation is not None:
            self._finish(cluster, operation)
        del self.store.clusters[cluster.arn]
        self.changed(cluster.arn)

    async def _probe(self, cluster: Cluster) -> None:
        ok, message = await external.probe(cluster)
        if cluster.state in (DELETING, UPDATING) or cluster.arn not in self.store.clusters:
            return
        if ok and cluster.state != ACTIVE:
            self._state(cluster, ACTIVE)
        elif not ok and cluster.state != FAILED:
            self._state(cluster, FAILED, "Unreachable", message)

    async def _probe_loop(self) -> None:
        while not self.closing:
            await asyncio.sleep(PROBE_INTERVAL)
            for cluster in list(self.store.clusters.values()):
                if cluster.kind == REGISTERED:
                    try:
                        await self._probe(cluster)
                    except Exception:
                        log.exception("probing %s failed", cluster.name)

    # ---- configurations -----------------------------------------------------------------
    def configuration(self, arn: str) -> Configuration:
        config = self.store.configurations.get(arn)
        if config is None:
            raise NotFound(f"The configuration {arn} does not exist", "arn")
        return config

    def revision(self, arn: str, number: int) -> Revision:
        rev = self.configuration(arn).revision(number)
        if rev is None:
            raise NotFound(f"The configuration {arn} has no revision {number}", "revision")
        return rev

    def create_configuration(self, name: str, description: str, kafka_versions: list[str],
                             text: str) -> Configuration:
        if not name:
            raise BadRequest("name is required", "name")
        if any(c.name == name for c in self.store.configurations.values()):
            raise Conflict(f"A configuration named {name} already exists", "name")
        properties.validate(text)
        config = Configuration(arn=arns.new_arn("configuration", name), name=name,
                               description=description, kafka_versions=kafka_versions,
                               revisions=[Revision(1, text, description)])
        self.store.configurations[config.arn] = config
        self.changed(config.arn)
        return config

    def update_configuration_revision(self, arn: str, description: str, text: str) -> Revision:
        config = self.configuration(arn)
        properties.validate(text)
        rev = Revision(config.latest.revision + 1, text, description)
        config.revisions.append(rev)
        self.changed(arn)
        return rev

    def delete_configuration(self, arn: str) -> Configuration:
        config = self.configuration(arn)
        users = [c.name for c in self.store.clusters.values() if c.configuration_arn == arn]
        if users:
            raise BadRequest(f"The configuration is in use by cluster(s) {', '.join(users)}: "
                             "apply another configuration to them first", "arn")
        del self.store.configurations[arn]
        self.changed(arn)
        return config

    # ---- tags ---------------------------------------------------------------------------
    def tags_of(self, arn: str) -> dict[str, str]:
        if arn in self.store.clusters:
            return self.store.clusters[arn].tags
        if arn in self.store.configurations:
            return self.store.configurations[arn].tags
        raise NotFound(f"The resource {arn} does not exist", "resourceArn")


def _stale(cluster: Cluster, given: str) -> str:
    return (f"The request's currentVersion {given} is not the cluster's current version "
            f"{cluster.current_version}: describe the cluster and retry with its currentVersion")
