"""DescribeConfigs (32): topic and broker configs with Kafka's sources and synonyms.

Versions: v1-v4

Version notes:
* v0: removed by KIP-896 - not served
* v1: synonyms in the response (include_synonyms honoured)
* v2: same as v1 (throttle on quota violation)
* v3: include_documentation; config_type and documentation in the response
* v4: flexible versions
* TOPIC, BROKER and BROKER_LOGGER (KIP-412) resources
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.security import config_denial
from fjord.broker.state import BrokerState
from fjord.config.broker import (
    BROKER_KEYS,
    DYNAMIC_BROKER_LOGGER_CONFIG,
    DYNAMIC_DEFAULT_BROKER_CONFIG,
    TOPIC_CONFIG,
    TOPIC_KEYS,
)
from fjord.config.definitions import TYPE_CODES
from fjord.metadata.store import TopicInfo
from fjord.observability import loggers
from fjord.security.acls import Op

TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8


def topic_configs(broker: BrokerState, info: TopicInfo, keys: Any, synonyms: bool
                  ) -> list[dict[str, Any]]:
    effective = broker.topic_config(info)
    result = []
    for name in TOPIC_KEYS.keys:
        if keys is not None and name not in keys:
            continue
        key = TOPIC_KEYS[name]
        synonym_list = []
        broker_key, broker_source = broker.config.topic_default_source(name)
        if name in info.configs:
            source = TOPIC_CONFIG
            synonym_list.append({"name": name, "value": info.configs[name], "source": TOPIC_CONFIG})
        else:
            source = broker_source
        if broker_key is not None:
            synonym_list.append({
                "name": broker_key,
                "value": key.render(broker.config.topic_default(name)),
                "source": broker_source,
            })
        result.append({
            "name": name, "value": key.render(effective[name]), "read_only": False,
            "config_source": source, "is_sensitive": key.sensitive,
            "synonyms": synonym_list if synonyms else [],
            "config_type": TYPE_CODES.get(key.type, 0), "documentation": key.doc or None,
        })
    return result


def broker_configs(broker: BrokerState, keys: Any, synonyms: bool, scope: str) -> list[dict[str, Any]]:
    """Every broker key for a broker id; only the cluster-wide dynamic ones for ""."""
    config = broker.config
    result = []
    for name, key in BROKER_KEYS.keys.items():
        if keys is not None and name not in keys:
            continue
        if key.inert and not key.dynamic:
            continue
        if scope == "":
            if name not in config.dynamic_default:
                continue
            value, source = config.dynamic_default[name], DYNAMIC_DEFAULT_BROKER_CONFIG
            chain = [(name, value, source)]
        else:
            value, source = config.get(name), config.source(name)
            if name == "log.dirs":
                value = [str(p) for p in config.log_dirs]
            chain = config.synonyms(name)
        # Unset keys without a default (advertised.listeners, ...) are listed with a null
        # value, as Kafka does: tools that show "all" configs expect every key.
        rendered = None if value is None else key.render(value)
        result.append({
            "name": name, "value": None if key.sensitive else rendered, "read_only": not key.dynamic,
            "config_source": source, "is_sensitive": key.sensitive,
            "synonyms": [{"name": n, "value": None if key.sensitive else key.render(v), "source": s}
                         for n, v, s in chain] if synonyms else [],
            "config_type": TYPE_CODES.get(key.type, 0), "documentation": key.doc or None,
        })
    return result


def logger_configs(keys: Any) -> list[dict[str, Any]]:
    """KIP-412: every logger with its effective level."""
    return [{"name": name, "value": loggers.effective_level(name), "read_only": False,
             "config_source": DYNAMIC_BROKER_LOGGER_CONFIG, "is_sensitive": False, "synonyms": [],
             "config_type": TYPE_CODES["string"], "documentation": None}
            for name in loggers.logger_names() if keys is None or name in keys]


@api(32, "DescribeConfigs", 1, 4)
async def handle(ctx: RequestContext, request: Any) -> dict[str, Any]:
    broker = ctx.broker
    synonyms = getattr(request, "include_synonyms", False)
    results = []
    for resource in request.resources:
        entry: dict[str, Any] = {"error_code": 0, "error_message": None,
                                 "resource_type": resource.resource_type,
                                 "resource_name": resource.resource_name, "configs": []}
        keys = resource.configuration_keys
        denied = config_denial(ctx, resource.resource_type, resource.resource_name, Op.DESCRIBE_CONFIGS)
        if denied is not None:
            entry["error_code"] = denied
        elif resource.resource_type == TOPIC:
            info = broker.metadata.topics.get(resource.resource_name)
            if info is None:
                entry.update(error_code=ErrorCode.unknown_topic_or_partition,
                             error_message=f"Topic '{resource.resource_name}' does not exist.")
            else:
                entry["configs"] = topic_configs(broker, info, keys, synonyms)
        elif resource.resource_type == BROKER:
            if resource.resource_name not in ("", str(broker.node_id)):
                entry.update(error_code=ErrorCode.invalid_request,
                             error_message=f"Unexpected broker id {resource.resource_name}")
            else:
                entry["configs"] = broker_configs(broker, keys, synonyms, resource.resource_name)
        elif resource.resource_type == BROKER_LOGGER:
            if resource.resource_name != str(broker.node_id):
                entry.update(error_code=ErrorCode.invalid_request,
                             error_message=f"Unexpected broker id {resource.resource_name}")
            else:
                entry["configs"] = logger_configs(keys)
        else:
            entry.update(error_code=ErrorCode.invalid_request,
                         error_message=f"Unsupported resource type {resource.resource_type}")
        results.append(entry)
    return {"results": results}
