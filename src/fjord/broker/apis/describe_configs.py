"""DescribeConfigs (32): topic and broker configs with Kafka's sources and synonyms.

Versions: v1-v4

Version notes:
* v0: removed by KIP-896 - not served
* v1: synonyms in the response (include_synonyms honoured)
* v2: same as v1 (throttle on quota violation)
* v3: include_documentation; config_type and documentation in the response
* v4: flexible versions
* TOPIC and BROKER resources; BROKER_LOGGER is refused
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.state import BrokerState
from fjord.config.broker import BROKER_KEYS, TOPIC_KEYS
from fjord.config.definitions import TYPE_CODES
from fjord.metadata.store import TopicInfo

TOPIC, BROKER, BROKER_LOGGER = 2, 4, 8
TOPIC_CONFIG, STATIC_BROKER_CONFIG, DEFAULT_CONFIG = 1, 4, 5


def topic_configs(broker: BrokerState, info: TopicInfo, keys: Any, synonyms: bool
                  ) -> list[dict[str, Any]]:
    effective = broker.topic_config(info)
    result = []
    for name in TOPIC_KEYS.keys:
        if keys is not None and name not in keys:
            continue
        key = TOPIC_KEYS[name]
        synonym_list = []
        broker_key, from_file = broker.config.topic_default_source(name)
        if name in info.configs:
            source = TOPIC_CONFIG
            synonym_list.append({"name": name, "value": info.configs[name], "source": TOPIC_CONFIG})
        else:
            source = STATIC_BROKER_CONFIG if from_file else DEFAULT_CONFIG
        if broker_key is not None:
            synonym_list.append({
                "name": broker_key,
                "value": key.render(broker.config.topic_default(name)),
                "source": STATIC_BROKER_CONFIG if from_file else DEFAULT_CONFIG,
            })
        result.append({
            "name": name, "value": key.render(effective[name]), "read_only": False,
            "config_source": source, "is_sensitive": key.sensitive,
            "synonyms": synonym_list if synonyms else [],
            "config_type": TYPE_CODES.get(key.type, 0), "documentation": key.doc or None,
        })
    return result


def broker_configs(broker: BrokerState, keys: Any, synonyms: bool) -> list[dict[str, Any]]:
    result = []
    for name, key in BROKER_KEYS.keys.items():
        if keys is not None and name not in keys:
            continue
        value = broker.config.get(name)
        if name == "log.dirs":
            value = [str(p) for p in broker.config.log_dirs]
        if key.inert:
            continue
        # Unset keys without a default (advertised.listeners, ...) are listed with a null
        # value, as Kafka does: tools that show "all" configs expect every key.
        rendered = None if value is None else key.render(value)
        source = STATIC_BROKER_CONFIG if name in broker.config.set else DEFAULT_CONFIG
        result.append({
            "name": name, "value": None if key.sensitive else rendered, "read_only": True,
            "config_source": source, "is_sensitive": key.sensitive,
            "synonyms": [{"name": name, "value": None if key.sensitive else rendered, "source": source}]
            if synonyms else [],
            "config_type": TYPE_CODES.get(key.type, 0), "documentation": key.doc or None,
        })
    return result


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
        if resource.resource_type == TOPIC:
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
                entry["configs"] = broker_configs(broker, keys, synonyms)
        elif resource.resource_type == BROKER_LOGGER:
            entry["configs"] = []
        else:
            entry.update(error_code=ErrorCode.invalid_request,
                         error_message=f"Unsupported resource type {resource.resource_type}")
        results.append(entry)
    return {"results": results}
