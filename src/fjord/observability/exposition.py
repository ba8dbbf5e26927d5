"""Prometheus text format 0.0.4 and OpenMetrics 1.0, written straight from values.

Fjord renders its own exposition instead of keeping prometheus-client objects: the broker's
counters are plain ints bumped on the hot path and read only here, at scrape time
(bench/metrics_overhead.py measures why), and a scrape of 10,000 partitions must stay a
string join, not 10,000 locked child objects.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

TEXT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OPENMETRICS_TYPE = "application/openmetrics-text; version=1.0.0; charset=utf-8"

# Label pairs, or their rendered form `{a="b",...}` (label_string) when one label set is
# shared by several series: rendering labels is most of a 10,000-partition scrape.
Labels = Sequence[tuple[str, str]] | str


def _escape(value: str) -> str:
    if "\\" in value or '"' in value or "\n" in value:
        value = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return value


def label_string(labels: Sequence[tuple[str, str]]) -> str:
    if not labels:
        return ""
    return "{" + ",".join(f'{name}="{_escape(value)}"' for name, value in labels) + "}"


def _labels(labels: Labels) -> str:
    return labels if isinstance(labels, str) else label_string(labels)


def _number(value: float) -> str:
    if type(value) is int:
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return f"{int(value)}.0"
    return repr(value)


@dataclass
class Family:
    """One metric family. `name` is the base name: a counter's samples get `_total`."""

    name: str
    type: str  # counter | gauge | summary | info
    help: str
    samples: list[tuple[str, Labels, float]] = field(default_factory=list)

    def add(self, value: float, labels: Labels = (), suffix: str = "") -> None:
        self.samples.append((suffix, labels, value))


def counter(name: str, help_text: str) -> Family:
    return Family(name, "counter", help_text)


def gauge(name: str, help_text: str) -> Family:
    return Family(name, "gauge", help_text)


def summary(name: str, help_text: str) -> Family:
    return Family(name, "summary", help_text)


def render(families: Iterable[Family], openmetrics: bool = False) -> bytes:
    out: list[str] = []
    for family in families:
        if not family.samples:
            continue
        sample_suffix = "_total" if family.type == "counter" else ""
        # Text 0.0.4 names a counter family by its sample name; OpenMetrics by the base.
        declared = family.name if openmetrics or family.type != "counter" else family.name + "_total"
        out.append(f"# HELP {declared} {family.help}\n# TYPE {declared} {family.type}\n")
        for suffix, labels, value in family.samples:
            out.append(f"{family.name}{suffix or sample_suffix}{_labels(labels)} {_number(value)}\n")
    if openmetrics:
        out.append("# EOF\n")
    return "".join(out).encode()


def wants_openmetrics(accept: str | None) -> bool:
    return bool(accept) and "application/openmetrics-text" in (accept or "")
