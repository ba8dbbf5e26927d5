"""RegexRouter: rename topics with a regular expression."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from fjord.connect.api import Transformation
from fjord.connect.transforms.base import (
    R,
    required,
)


class RegexRouter(Transformation):
    def configure(self, configs: Mapping[str, Any]) -> None:
        self.regex = re.compile(required(configs, "regex"))
        # Java's $1 group references → Python's \g<1>
        self.replacement = re.sub(r"\$(\d+)", r"\\g<\1>", required(configs, "replacement"))

    def apply(self, record: R) -> R | None:
        if self.regex.fullmatch(record.topic):
            topic = self.regex.sub(self.replacement, record.topic, count=1)
            return record.new_record(topic, record.kafka_partition, record.key_schema, record.key,
                                     record.value_schema, record.value, record.timestamp)
        return record
