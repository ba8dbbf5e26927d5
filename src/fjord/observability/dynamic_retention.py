"""CKafka's dynamic retention: when a log dir's disk passes a threshold, shorten the
retention of the topic taking the most room there by a step (10 % by default), down to a
floor, and let retention delete what is now too old — instead of letting the disk fill and
every produce fail. Off unless `storage.dynamic.retention.enable=true`.

Each step is a real topic config override (`retention.ms`), persisted and visible with
DescribeConfigs, so an operator sees exactly what was changed and can undo it.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING

from fjord.observability.alerts import DiskUsage

if TYPE_CHECKING:
    from fjord.broker.state import BrokerState

log = logging.getLogger("fjord.alerts")


def _oldest_age_ms(state: BrokerState, topic: str, now_ms: int) -> int:
    ages = [now_ms - plog.segments[0].max_timestamp for (name, _p), plog in state.logs.logs.items()
            if name == topic and plog.segments and plog.segments[0].max_timestamp >= 0]
    return max(ages, default=0)


def shrink_retention(state: BrokerState, usage: DiskUsage) -> str | None:
    """One step for one log dir over the threshold; returns the topic changed, if any."""
    config = state.config
    if not config.get("storage.dynamic.retention.enable"):
        return None
    if usage.used_percent < int(config.get("storage.dynamic.retention.threshold.percent")):
        return None
    floor = int(config.get("storage.dynamic.retention.floor.ms"))
    step = int(config.get("storage.dynamic.retention.step.percent"))
    sizes: dict[str, int] = {}
    for (topic, _partition), plog in state.logs.logs.items():
        if str(plog.directory.parent) == usage.log_dir and plog.segments:
            info = state.metadata.topics.get(topic)
            if info is not None and not info.internal:
                sizes[topic] = sizes.get(topic, 0) + plog.size
    now = int(time.time() * 1000)
    for topic in sorted(sizes, key=lambda name: -sizes[name]):
        info = state.metadata.topics[topic]
        current = int(state.topic_config(info)["retention.ms"])
        if current < 0:  # unlimited: start from the age of the oldest data
            current = _oldest_age_ms(state, topic, now)
        target = max(floor, current * (100 - step) // 100)
        if target >= current:
            continue  # already at the floor: try the next biggest topic
        state.set_topic_configs(topic, {**info.configs, "retention.ms": str(target)}, False)
        deleted = 0
        for (name, _partition), plog in list(state.logs.logs.items()):
            if name == topic:
                deleted += plog.apply_retention(now)
                plog.delete_due_files(float("inf"))  # the disk is full: no file.delete.delay.ms
        if deleted:
            state.logs.checkpoint_starts()
        log.warning("dynamic retention: log dir %s is %.1f %% used; retention.ms of topic %s "
                    "lowered from %d to %d (floor %d), %d segment(s) deleted", usage.log_dir,
                    usage.used_percent, topic, current, target, floor, deleted)
        return topic
    log.error("dynamic retention: log dir %s is %.1f %% used and every topic there is at the "
              "floor of %d ms", usage.log_dir, usage.used_percent, floor)
    return None
