"""Kafka clients for the worker, made from settings written for Java's clients.

Worker files written for Apache Kafka pass Java client settings through `producer.*`,
`consumer.*`, `admin.*` and `*.override.*`. librdkafka shares most names but refuses some
(`key.serializer`, `sasl.jaas.config`, Java trust stores). Rather than fail a task on a key
that means nothing here, we translate what has a librdkafka equivalent (JAAS PLAIN/SCRAM
credentials) and drop the rest with one warning each.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from confluent_kafka import KafkaException

from fjord.config.client_security import librdkafka_security

log = logging.getLogger("fjord.connect.clients")

T = TypeVar("T")

_UNKNOWN = re.compile(r'No such configuration property: "([^"]+)"')
_JAVA_ONLY = ("key.serializer",
              "value.serializer", "key.deserializer", "value.deserializer",
              "interceptor.classes", "metric.reporters", "partitioner.class")
_warned: set[str] = set()


def translate(config: dict[str, Any]) -> dict[str, Any]:
    """Java client settings → librdkafka ones, where an equivalent exists."""
    out, dropped = librdkafka_security(config)
    for key in dropped:
        _drop(out, key, "it is a Java-client setting")
    for key in list(out):
        if key.startswith(_JAVA_ONLY):
            _drop(out, key, "it is a Java-client setting")
    return out


def _drop(config: dict[str, Any], key: str, why: str) -> None:
    config.pop(key, None)
    if key not in _warned:
        _warned.add(key)
        log.warning("ignoring client setting %s: %s", key, why)


def make(factory: Callable[[dict[str, Any]], T], config: dict[str, Any]) -> T:
    """`factory(config)` after translation, dropping settings librdkafka does not know."""
    settings = translate(config)
    while True:
        try:
            return factory(settings)
        except KafkaException as exc:
            match = _UNKNOWN.search(str(exc))
            if match is None or match.group(1) not in settings:
                raise
            _drop(settings, match.group(1), "librdkafka has no such property")
