"""What a broker's /metrics shows: Kafka's MBeans under the names the Prometheus JMX
exporter's example Kafka rules give them (lowercased `kafka_<domain>_<type>_<name>`,
`_total` for the *PerSec meters), the process metrics, disks, alerts and consumer lag
under kafka-lag-exporter's names. `metrics.level` decides which series exist.

Two deliberate differences from a JMX-exported Kafka, both so that `promtool check
metrics` accepts the output: request latencies are real Prometheus summaries (the
exporter emits quantile gauges and a `_count` counter without `_sum`; the series names are
the same), and the connection gauge is `..._socketservermetrics_connections`, because a
gauge ending in `_count` is reserved for summaries and histograms.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from fjord.observability import levels
from fjord.observability.alerts import StorageAlerts
from fjord.observability.counters import BrokerCounters, TopicCounters
from fjord.observability.exposition import Family, counter, gauge, label_string, summary
from fjord.observability.lag import GroupLag, LagCalculator
from fjord.observability.process import process_families

if TYPE_CHECKING:
    from fjord.broker.state import BrokerState

QUANTILES = ((0.5, "0.50"), (0.75, "0.75"), (0.95, "0.95"), (0.98, "0.98"), (0.99, "0.99"),
             (0.999, "0.999"))

# BrokerTopicMetrics meters: (Kafka's name without PerSec, lowercased; attribute; help)
TOPIC_METERS: tuple[tuple[str, str, str], ...] = (
    ("messagesin", "messages_in", "Messages appended (MessagesInPerSec)."),
    ("bytesin", "bytes_in", "Bytes appended by producers (BytesInPerSec)."),
    ("bytesout", "bytes_out", "Bytes sent to consumers (BytesOutPerSec)."),
    ("totalproducerequests", "total_produce", "Produce requests per partition (TotalProduceRequestsPerSec)."),
    ("failedproducerequests", "failed_produce", "Failed produce requests (FailedProduceRequestsPerSec)."),
    ("totalfetchrequests", "total_fetch", "Fetch requests per partition (TotalFetchRequestsPerSec)."),
    ("failedfetchrequests", "failed_fetch", "Failed fetch requests (FailedFetchRequestsPerSec)."),
)
TIMERS = (("totaltimems", "total", "Request total time in ms (TotalTimeMs)."),
          ("requestqueuetimems", "queue", "Time a request waited in the connection's queue in ms."),
          ("localtimems", "local", "Time the broker spent handling a request in ms (LocalTimeMs)."),
          ("responsesendtimems", "send", "Time spent sending a response in ms (ResponseSendTimeMs)."))


def _topic_meters(families: dict[str, Family], counters: TopicCounters,
                  labels: tuple[tuple[str, str], ...]) -> None:
    for name, attribute, help_text in TOPIC_METERS:
        family = families.get(name)
        if family is None:
            family = families[name] = counter(f"kafka_server_brokertopicmetrics_{name}", help_text)
        family.add(getattr(counters, attribute), labels)


def traffic_families(counters: BrokerCounters, level: int, topics: set[str]) -> list[Family]:
    meters: dict[str, Family] = {}
    _topic_meters(meters, counters.all, ())
    if level >= levels.rank(levels.PER_TOPIC_PER_BROKER):
        for topic in sorted(counters.topics):
            if topic in topics:
                _topic_meters(meters, counters.topics[topic], (("topic", topic),))
    requests = counter("kafka_network_requestmetrics_requests",
                       "Requests handled, by API and version (RequestsPerSec).")
    for (name, version), count in sorted(counters.requests.items()):
        requests.add(count, (("request", name), ("version", str(version))))
    result = [*meters.values(), requests]
    if level >= levels.rank(levels.PER_BROKER):
        for metric, attribute, help_text in TIMERS:
            family = summary(f"kafka_network_requestmetrics_{metric}", help_text)
            for request in sorted(counters.timers):
                timer = getattr(counters.timers[request], attribute)
                labels = (("request", request),)
                for value, (_q, text) in zip(timer.quantiles(tuple(q for q, _ in QUANTILES)),
                                             QUANTILES, strict=True):
                    family.add(round(value, 3), (*labels, ("quantile", text)))
                family.add(timer.count, labels, "_count")
                family.add(round(timer.sum, 3), labels, "_sum")
            result.append(family)
    return result


def lag_families(groups: list[GroupLag], cluster: str, level: int) -> list[Family]:
    max_lag = gauge("kafka_consumergroup_group_max_lag", "Max offset lag of a group (MaxOffsetLag).")
    max_seconds = gauge("kafka_consumergroup_group_max_lag_seconds",
                        "Max time lag of a group in seconds (EstimatedMaxTimeLag).")
    sum_lag = gauge("kafka_consumergroup_group_sum_lag", "Sum of a group's offset lag (SumOffsetLag).")
    topic_sum = gauge("kafka_consumergroup_group_topic_sum_lag", "Sum of a group's offset lag per topic.")
    result = [max_lag, max_seconds, sum_lag, topic_sum]
    per_partition = level >= levels.rank(levels.PER_TOPIC_PER_PARTITION)
    lag = gauge("kafka_consumergroup_group_lag", "Offset lag of a group on a partition (OffsetLag).")
    seconds = gauge("kafka_consumergroup_group_lag_seconds",
                    "Time lag of a group on a partition in seconds (EstimatedTimeLag).")
    offset = gauge("kafka_consumergroup_group_offset", "A group's committed offset on a partition.")
    if per_partition:
        result += [lag, seconds, offset]
    for group in groups:
        if not group.partitions:
            continue
        labels = (("cluster_name", cluster), ("group", group.group))
        max_lag.add(group.max_lag, labels)
        max_seconds.add(round(group.max_lag_seconds, 3), labels)
        sum_lag.add(group.sum_lag, labels)
        for topic, total in sorted(group.topic_sums().items()):
            topic_sum.add(total, (*labels, ("topic", topic)))
        if per_partition:
            for item in group.partitions:
                where = label_string((*labels, ("topic", item.topic), ("partition", str(item.partition))))
                lag.add(item.lag, where)
                seconds.add(round(item.lag_seconds, 3), where)
                offset.add(item.committed, where)
    return result


def log_families(state: BrokerState, level: int, cluster: str) -> list[Family]:
    logs = state.logs.logs
    partition_count = gauge("kafka_server_replicamanager_partitioncount", "Partitions on this broker.")
    partition_count.add(len(logs))
    leader_count = gauge("kafka_server_replicamanager_leadercount", "Partitions this broker leads.")
    leader_count.add(len(logs))
    result = [partition_count, leader_count]
    for name, help_text in (("underreplicatedpartitions", "Under-replicated partitions."),
                            ("offlinereplicacount", "Offline replicas."),
                            ("underminisrpartitioncount", "Partitions under min.insync.replicas.")):
        family = gauge(f"kafka_server_replicamanager_{name}", help_text)
        family.add(0)
        result.append(family)
    topics = gauge("kafka_controller_kafkacontroller_globaltopiccount", "Topics in the cluster.")
    topics.add(len(state.metadata.topics))
    partitions = gauge("kafka_controller_kafkacontroller_globalpartitioncount", "Partitions in the cluster.")
    partitions.add(sum(info.partitions for info in state.metadata.topics.values()))
    active = gauge("kafka_controller_kafkacontroller_activecontrollercount",
                   "1 on the broker that is the active controller.")
    active.add(1)
    offline = gauge("kafka_controller_kafkacontroller_offlinepartitionscount", "Partitions without a leader.")
    offline.add(0)
    result += [topics, partitions, active, offline]
    if level >= levels.rank(levels.PER_TOPIC_PER_PARTITION):
        size = gauge("kafka_log_log_size", "Bytes of a partition's log on disk.")
        start = gauge("kafka_log_log_logstartoffset", "A partition's log start offset.")
        end = gauge("kafka_log_log_logendoffset", "A partition's log end offset.")
        segments = gauge("kafka_log_log_numlogsegments", "Segments of a partition's log.")
        latest = gauge("kafka_partition_latest_offset", "Latest offset of a partition (lag exporter).")
        earliest = gauge("kafka_partition_earliest_offset", "Earliest offset of a partition (lag exporter).")
        for (topic, number), plog in sorted(logs.items()):
            if not plog.segments:
                continue
            pairs = (("topic", topic), ("partition", str(number)))
            labels = label_string(pairs)
            size.add(plog.size, labels)
            start.add(plog.log_start_offset, labels)
            end.add(plog.log_end_offset, labels)
            segments.add(len(plog.segments), labels)
            cluster_labels = label_string((("cluster_name", cluster), *pairs))
            latest.add(plog.high_watermark, cluster_labels)
            earliest.add(plog.log_start_offset, cluster_labels)
        result += [size, start, end, segments, latest, earliest]
    return result


def coordinator_families(state: BrokerState) -> list[Family]:
    by_state: dict[str, int] = {}
    groups = state.groups.list_groups()
    for _group, _protocol, group_state, _kind in groups:
        by_state[group_state] = by_state.get(group_state, 0) + 1
    total = gauge("kafka_coordinator_group_groupmetadatamanager_numgroups", "Consumer groups.")
    total.add(len(groups))
    result = [total]
    for kafka_state in ("Stable", "PreparingRebalance", "CompletingRebalance", "Empty", "Dead"):
        family = gauge(f"kafka_coordinator_group_groupmetadatamanager_numgroups{kafka_state.lower()}",
                       f"Consumer groups in state {kafka_state}.")
        family.add(by_state.get(kafka_state, 0))
        result.append(family)
    offsets = gauge("kafka_coordinator_group_groupmetadatamanager_numoffsets", "Committed offsets held.")
    offsets.add(sum(len(v) for v in state.groups.store.offsets.values()))
    result.append(offsets)
    txn_states: dict[str, int] = {}
    for txn in state.transactions.txns.values():
        txn_states[txn.state] = txn_states.get(txn.state, 0) + 1
    txns = gauge("kafka_coordinator_transaction_transactionstatemanager_numtransactionalids",
                 "Transactional ids the coordinator holds, by state (Fjord).")
    for txn_state, count in sorted(txn_states.items()):
        txns.add(count, (("state", txn_state),))
    if not txn_states:
        txns.add(0, (("state", "Empty"),))
    result.append(txns)
    return result


QUOTA_RESOURCES = {"producer_byte_rate": "Produce", "consumer_byte_rate": "Fetch"}


def quota_families(state: BrokerState) -> list[Family]:
    """Kafka's per-client quota sensors (`kafka.server:type=Produce|Fetch,user=,client-id=`),
    as the exporter's quota rule names them; `client_id` rather than its camelCase `clientId`
    so that promtool accepts the label."""
    throttle = gauge("kafka_server_quota_throttle_time", "Last throttle time of a quota entity in ms.")
    rate = gauge("kafka_server_quota_byte_rate", "Bytes per second of a quota entity over the window.")
    for (kind, entity), (byte_rate, throttle_ms) in sorted(state.quotas.observed.items()):
        resource = QUOTA_RESOURCES.get(kind)
        if resource is None:
            continue
        names = dict(entity)
        labels = [("resource", resource)]
        if "user" in names:
            labels.append(("user", names["user"] or ""))
        labels.append(("client_id", names.get("client-id") or ""))
        throttle.add(throttle_ms, tuple(labels))
        rate.add(round(byte_rate, 3), tuple(labels))
    return [throttle, rate]


def storage_families(alerts: StorageAlerts) -> list[Family]:
    total = gauge("fjord_log_dir_total_bytes", "Size of the file system of a log dir.")
    free = gauge("fjord_log_dir_free_bytes", "Bytes the broker can still write in a log dir.")
    used = gauge("fjord_log_dir_used_percent", "Used share of a log dir's disk in % (KafkaDataLogsDiskUsed).")
    offline = gauge("kafka_log_logmanager_offlinelogdirectorycount", "Log dirs that failed.")
    offline.add(0)
    active = gauge("fjord_storage_alert", "1 while a storage alert is raised, by log dir and threshold.")
    for path, usage in sorted(alerts.usage.items()):
        labels = (("log_dir", path),)
        total.add(usage.total, labels)
        free.add(usage.free, labels)
        used.add(round(usage.used_percent, 3), labels)
        for threshold in alerts.thresholds:
            raised = (path, threshold) in alerts.active
            active.add(1 if raised else 0, (*labels, ("threshold", str(threshold)),
                                              ("severity", alerts.severity(threshold))))
    return [total, free, used, offline, active]


def collect(state: BrokerState, connections: Callable[[], int], listener: str,
            lag: LagCalculator, alerts: StorageAlerts) -> list[Family]:
    level = levels.rank(str(state.config.get("metrics.level")))
    cluster = state.metadata.cluster_id
    connection_gauge = gauge("kafka_server_socketservermetrics_connections",
                             "Open client connections (connection-count).")
    connection_gauge.add(connections(), (("listener", listener),))
    groups = lag.all_groups(state.groups.store.offsets, state.partition)
    return [
        *traffic_families(state.metrics, level, set(state.metadata.topics)),
        connection_gauge,
        *log_families(state, level, cluster),
        *coordinator_families(state),
        *lag_families(groups, cluster, level),
        *storage_families(alerts),
        *quota_families(state),
        *process_families(),
    ]
