"""AlterConfigs (33) and IncrementalAlterConfigs (44) for topics.

AlterConfigs versions: v0-v2
IncrementalAlterConfigs versions: v0-v1

Version notes:
* AlterConfigs v1: same as v0 (throttle on quota violation)
* AlterConfigs v2: flexible versions
* IncrementalAlterConfigs v1: flexible versions
* both: TOPIC resources only; BROKER and BROKER_LOGGER resources are refused with a message

AlterConfigs replaces a topic's whole set of overrides (Kafka's legacy semantics);
the incremental form sets, deletes, appends to or subtracts from single keys. Dynamic
broker configs are refused with a message pointing at server.properties.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker.apis.describe_configs import BROKER, TOPIC
from fjord.broker.context import RequestContext
from fjord.broker.registry import api
from fjord.broker.state import BrokerState, TopicError
from fjord.config.broker import TOPIC_KEYS

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3


def _apply(broker: BrokerState, resource: Any, validate_only: bool,
           change: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"error_code": 0, "error_message": None,
                             "resource_type": resource.resource_type,
                             "resource_name": resource.resource_name}
    if resource.resource_type == BROKER:
        entry.update(error_code=ErrorCode.invalid_request,
                     error_message="Dynamic broker configs are not supported: set them in "
                                   "server.properties and restart the broker")
        return entry
    if resource.resource_type != TOPIC:
        entry.update(error_code=ErrorCode.invalid_request,
                     error_message=f"Unsupported resource type {resource.resource_type}")
        return entry
    info = broker.metadata.topics.get(resource.resource_name)
    if info is None:
        entry.update(error_code=ErrorCode.unknown_topic_or_partition,
                     error_message=f"Topic '{resource.resource_name}' does not exist.")
        return entry
    try:
        configs = change(dict(info.configs))
        broker.set_topic_configs(info.name, configs, validate_only)
    except TopicError as exc:
        entry.update(error_code=exc.code, error_message=exc.message)
    return entry


@api(33, "AlterConfigs", 0, 2)
async def alter(ctx: RequestContext, request: Any) -> dict[str, Any]:
    responses = []
    for resource in request.resources:
        def replace(_old: dict[str, str], resource: Any = resource) -> dict[str, str]:
            return {c.name: c.value for c in resource.configs if c.value is not None}

        responses.append(_apply(ctx.broker, resource, request.validate_only, replace))
    return {"responses": responses}


@api(44, "IncrementalAlterConfigs", 0, 1)
async def incremental(ctx: RequestContext, request: Any) -> dict[str, Any]:
    responses = []
    for resource in request.resources:
        def edit(configs: dict[str, str], resource: Any = resource) -> dict[str, str]:
            for item in resource.configs:
                if item.name not in TOPIC_KEYS:
                    raise TopicError(ErrorCode.invalid_config,
                                     str(TOPIC_KEYS.unknown(item.name, "topic")))
                op = item.config_operation
                if op == SET:
                    if item.value is None:
                        raise TopicError(ErrorCode.invalid_request,
                                         f"Null value not supported for {item.name}")
                    configs[item.name] = item.value
                elif op == DELETE:
                    configs.pop(item.name, None)
                elif op in (APPEND, SUBTRACT):
                    if TOPIC_KEYS[item.name].type != "list":
                        raise TopicError(ErrorCode.invalid_config,
                                         f"Config value append/subtract is not allowed for "
                                         f"config key {item.name} which is not a list")
                    current = [v for v in configs.get(item.name, "").split(",") if v]
                    values = [v for v in (item.value or "").split(",") if v]
                    if op == APPEND:
                        current += [v for v in values if v not in current]
                    else:
                        current = [v for v in current if v not in values]
                    configs[item.name] = ",".join(current)
                else:
                    raise TopicError(ErrorCode.invalid_request, f"Unknown operation {op}")
            return configs

        responses.append(_apply(ctx.broker, resource, request.validate_only, edit))
    return {"responses": responses}
