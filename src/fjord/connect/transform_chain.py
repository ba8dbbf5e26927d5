"""Single message transforms and predicates: interfaces and the per-connector chain.

A connector config names them as Kafka does (`transforms=a,b`, `transforms.a.type=...`,
`transforms.a.predicate=p`, `transforms.a.negate=true`, `predicates=p`, `predicates.p.type=...`).
The built-in SMTs live in fjord.connect.transforms under Kafka's class names.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any, TypeVar

from fjord.connect.api import ConnectException, ConnectRecord
from fjord.connect.config_def import ConfigDef

R = TypeVar("R", bound=ConnectRecord)


class Transformation(abc.ABC):
    def configure(self, configs: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        pass

    @abc.abstractmethod
    def apply(self, record: R) -> R | None:
        """The transformed record, or None to drop it."""

    def config(self) -> ConfigDef:
        return ConfigDef()

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class Predicate(abc.ABC):
    def configure(self, configs: Mapping[str, Any]) -> None:  # noqa: B027 - optional hook
        pass

    @abc.abstractmethod
    def test(self, record: ConnectRecord) -> bool: ...

    def config(self) -> ConfigDef:
        return ConfigDef()

    def close(self) -> None:  # noqa: B027 - optional hook
        pass


class _Stage:
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
    def __init__(self, stages: list[_Stage]) -> None:
        self.stages = stages

    @classmethod
    def from_config(cls, config: Mapping[str, str]) -> TransformationChain:
        from fjord.connect.transforms import resolve_predicate, resolve_transform

        predicates: dict[str, Predicate] = {}
        for alias in _names(config.get("predicates")):
            sub = _subconfig(config, f"predicates.{alias}.")
            if "type" not in sub:
                raise ConnectException(f"Missing required configuration \"predicates.{alias}.type\"")
            created = resolve_predicate(sub["type"])()
            created.configure(sub)
            predicates[alias] = created
        stages: list[_Stage] = []
        for alias in _names(config.get("transforms")):
            sub = _subconfig(config, f"transforms.{alias}.")
            if "type" not in sub:
                raise ConnectException(f"Missing required configuration \"transforms.{alias}.type\"")
            transform = resolve_transform(sub["type"])()
            transform.configure(sub)
            predicate_name = sub.get("predicate")
            predicate: Predicate | None = None
            if predicate_name:
                if predicate_name not in predicates:
                    raise ConnectException(f"Predicate {predicate_name} for transform {alias} is not "
                                           "defined in 'predicates'")
                predicate = predicates[predicate_name]
            negate = str(sub.get("negate", "false")).lower() == "true"
            stages.append(_Stage(alias, transform, predicate, negate))
        return cls(stages)

    def close(self) -> None:
        for stage in self.stages:
            stage.transform.close()
