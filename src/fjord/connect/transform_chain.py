"""The per-connector chain of single message transforms, each behind its optional predicate.

A connector config names them as Kafka does (`transforms=a,b`, `transforms.a.type=...`,
`transforms.a.predicate=p`, `transforms.a.negate=true`, `predicates=p`, `predicates.p.type=...`).
`apply` runs every stage inside the task's retry-and-tolerance operator (KIP-298), as Kafka's
TransformationChain does, so a failing SMT is retried, skipped or fails the task by the
connector's `errors.*` settings.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import TypeVar

from fjord.connect.api import ConnectException, ConnectRecord, Predicate, Transformation
from fjord.connect.errors import ErrorContext, RetryWithToleranceOperator, Stage
from fjord.connect.plugins import Plugins, builtin_plugins

R = TypeVar("R", bound=ConnectRecord)


class TransformationStage:
    """One SMT with the predicate that decides whether it applies."""

    def __init__(self, alias: str, transform: Transformation, predicate: Predicate | None,
                 negate: bool) -> None:
        self.alias = alias
        self.transform = transform
        self.predicate = predicate
        self.negate = negate
        self.class_name = type(transform).__name__

    def apply(self, record: R) -> R | None:
        if self.predicate is not None and self.predicate.test(record) == self.negate:
            return record
        return self.transform.apply(record)


def _names(value: str | None) -> list[str]:
    return [item.strip() for item in (value or "").split(",") if item.strip()]


def _subconfig(config: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {k[len(prefix):]: v for k, v in config.items() if k.startswith(prefix)}


class TransformationChain:
    def __init__(self, stages: list[TransformationStage]) -> None:
        self.stages = stages

    @classmethod
    def from_config(cls, config: Mapping[str, str], plugins: Plugins | None = None
                    ) -> TransformationChain:
        registry = plugins or builtin_plugins()
        predicates: dict[str, Predicate] = {}
        for alias in _names(config.get("predicates")):
            sub = _subconfig(config, f"predicates.{alias}.")
            if "type" not in sub:
                raise ConnectException(f"Missing required configuration \"predicates.{alias}.type\"")
            created = registry.predicate_class(sub["type"])()
            created.configure(sub)
            predicates[alias] = created
        stages: list[TransformationStage] = []
        for alias in _names(config.get("transforms")):
            sub = _subconfig(config, f"transforms.{alias}.")
            if "type" not in sub:
                raise ConnectException(f"Missing required configuration \"transforms.{alias}.type\"")
            transform = registry.transformation_class(sub["type"])()
            transform.configure(sub)
            predicate_name = sub.get("predicate")
            predicate: Predicate | None = None
            if predicate_name:
                if predicate_name not in predicates:
                    raise ConnectException(f"Predicate {predicate_name} for transform {alias} is not "
                                           "defined in 'predicates'")
                predicate = predicates[predicate_name]
            negate = str(sub.get("negate", "false")).lower() == "true"
            stages.append(TransformationStage(alias, transform, predicate, negate))
        return cls(stages)

    def apply(self, record: R, errors: RetryWithToleranceOperator | None = None,
              context: ErrorContext | None = None) -> R | None:
        """The record after every stage, or None when a stage dropped it or, under
        `errors.tolerance=all`, failed on it. Without an operator a failure propagates."""
        current: R | None = record
        for stage in self.stages:
            if current is None:
                return None
            if errors is None:
                current = stage.apply(current)
                continue
            ok, result = errors.execute(partial(stage.apply, current), Stage.TRANSFORMATION,
                                        stage.class_name, context)
            if not ok:
                return None
            current = result
        return current

    def close(self) -> None:
        for stage in self.stages:
            stage.transform.close()

