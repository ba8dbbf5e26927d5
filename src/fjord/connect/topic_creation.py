"""KIP-158 topic creation for source connectors: which settings a new topic gets."""

from __future__ import annotations

import re
from collections.abc import Mapping


class TopicCreation:
    """KIP-158: a source connector's `topic.creation.*` settings decide how new topics are made.

    Groups are tried in `topic.creation.groups` order; a topic matching a group's `include`
    and not its `exclude` regexes takes that group's settings, else `default`'s.
    """

    def __init__(self, config: Mapping[str, str]) -> None:
        prefix = "topic.creation."
        self.enabled = f"{prefix}default.partitions" in config or \
            f"{prefix}default.replication.factor" in config
        self.groups: list[tuple[str, list[re.Pattern[str]], list[re.Pattern[str]]]] = []
        for group in [g.strip() for g in config.get(f"{prefix}groups", "").split(",") if g.strip()]:
            include = [re.compile(p.strip()) for p in
                       config.get(f"{prefix}{group}.include", "").split(",") if p.strip()]
            exclude = [re.compile(p.strip()) for p in
                       config.get(f"{prefix}{group}.exclude", "").split(",") if p.strip()]
            self.groups.append((group, include, exclude))
        self.config = config

    def settings(self, topic: str) -> tuple[int, int, dict[str, str]]:
        chosen = "default"
        for group, include, exclude in self.groups:
            if any(p.fullmatch(topic) for p in include) and not any(
                    p.fullmatch(topic) for p in exclude):
                chosen = group
                break
        prefix = f"topic.creation.{chosen}."
        own = {k[len(prefix):]: v for k, v in self.config.items() if k.startswith(prefix)}
        fallback = {k[len("topic.creation.default."):]: v for k, v in self.config.items()
                    if k.startswith("topic.creation.default.")}
        merged = {**fallback, **own}
        partitions = int(merged.pop("partitions", "-1"))
        factor = int(merged.pop("replication.factor", "-1"))
        for key in ("include", "exclude"):
            merged.pop(key, None)
        return factor, partitions, merged
