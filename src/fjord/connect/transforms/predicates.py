"""Kafka's built-in predicates: TopicNameMatches, HasHeaderKey, RecordIsTombstone."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectRecord, Predicate
from fjord.connect.transforms.base import (
    required,
)

# ---------------------------------------------------------------- predicates


class TopicNameMatches(Predicate):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.pattern = re.compile(required(configs, "pattern"))

    def test(self, record: ConnectRecord) -> bool:
        return record.topic is not None and self.pattern.fullmatch(record.topic) is not None


class HasHeaderKey(Predicate):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.name = required(configs, "name")

    def test(self, record: ConnectRecord) -> bool:
        return record.headers.last_with_name(self.name) is not None


class RecordIsTombstone(Predicate):
    def test(self, record: ConnectRecord) -> bool:
        return record.value is None
