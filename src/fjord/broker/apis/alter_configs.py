"""AlterConfigs (33) and IncrementalAlterConfigs (44): topics, the BROKER resource (dynamic
broker configs, per broker id or cluster-wide "") and BROKER_LOGGER (KIP-412, incremental only).

AlterConfigs versions: v0-v2
IncrementalAlterConfigs versions: v0-v1

Version notes:
* AlterConfigs v1: same as v0 (throttle on quota violation)
* AlterConfigs v2: flexible versions
* IncrementalAlterConfigs v1: flexible versions
* both: TOPIC and BROKER resources; BROKER_LOGGER only through IncrementalAlterConfigs

AlterConfigs replaces a resource's whole set of overrides (Kafka's legacy semantics); the
incremental form sets, deletes, appends to or subtracts from single keys.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kio.schema.errors import ErrorCode

from fjord.broker import dynamic_configs
from fjord.broker.apis.describe_configs import BROKER, BROKER_LOGGER, TOPIC
from fjord.broker.context import RequestContext
from fjord.broker.dynamic_configs import BrokerConfigError
from fjord.broker.registry import api
from fjord.broker.security import config_denial
from fjord.broker.state import BrokerState, TopicError
from fjord.config.broker import BROKER_KEYS, TOPIC_KEYS
from fjord.config.definitions import ConfigTable
from fjord.observability import loggers
from fjord.security.acls import Op

SET, DELETE, APPEND, SUBTRACT = 0, 1, 2, 3
OPERATIONS = {SET: "SET", DELETE: "DELETE", APPEND: "APPEND", SUBTRACT: "SUBTRACT"}

Edit = Callable[[dict[str, str]], dict[str, str]]


def _entry(resource: Any, code: ErrorCode = ErrorCode.none, message: str | None = None) -> dict[str, Any]:
    return {"error_code": code, "error_message": message,
            "resource_type": resource.resource_type, "resource_name": resource.resource_name}


def _apply(broker: BrokerState, resource: Any, validate_only: bool, change: Edit) -> dict[str, Any]:
    try:
        if resource.resource_type == BROKER:
            dynamic_configs.alter(broker, resource.resource_name, change, validate_only)
            return _entry(resource)
        if resource.resource_type != TOPIC:
            return _entry(resource, ErrorCode.invalid_request,
                          f"Unsupported resource type {resource.resource_type}")
        info = broker.metadata.topics.get(resource.resource_name)
        if info is None:
            return _entry(resource, ErrorCode.unknown_topic_or_partition,
                          f"Topic '{resource.resource_name}' does not exist.")
        broker.set_topic_configs(info.name, change(dict(info.configs)), validate_only)
    except (TopicError, BrokerConfigError) as exc:
        return _entry(resource, exc.code, exc.message)
    return _entry(resource)


@api(33, "AlterConfigs", 0, 2)
async def alter(ctx: RequestContext, request: Any) -> dict[str, Any]:
    responses = []
    for resource in request.resources:
        denied = config_denial(ctx, resource.resource_type, resource.resource_name, Op.ALTER_CONFIGS)
        if denied is not None:
            responses.append(_entry(resource, denied))
            continue
        if resource.resource_type == BROKER_LOGGER:
            responses.append(_entry(resource, ErrorCode.invalid_request,
                                    "AlterConfigs does not support the BROKER_LOGGER resource: "
                                    "use IncrementalAlterConfigs"))
            continue

        def replace(_old: dict[str, str], resource: Any = resource) -> dict[str, str]:
            return {c.name: c.value for c in resource.configs if c.value is not None}

        responses.append(_apply(ctx.broker, resource, request.validate_only, replace))
    return {"responses": responses}


def _edit(resource: Any, table: ConfigTable, what: str) -> Edit:
    def edit(configs: dict[str, str]) -> dict[str, str]:
        for item in resource.configs:
            if item.name not in table:
                raise TopicError(ErrorCode.invalid_config, str(table.unknown(item.name, what)))
            op = item.config_operation
            if op == SET:
                if item.value is None:
                    raise TopicError(ErrorCode.invalid_request, f"Null value not supported for {item.name}")
                configs[item.name] = item.value
            elif op == DELETE:
                configs.pop(item.name, None)
            elif op in (APPEND, SUBTRACT):
                if table[item.name].type != "list":
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

    return edit


def _alter_loggers(broker: BrokerState, resource: Any, validate_only: bool) -> dict[str, Any]:
    """KIP-412: SET a logger's level or DELETE it (back to its parent's); nothing else."""
    if resource.resource_name != str(broker.node_id):
        return _entry(resource, ErrorCode.invalid_request,
                      f"Unexpected broker id, expected {broker.node_id}, but received "
                      f"{resource.resource_name}")
    try:
        for apply in (False, True):  # validate every item before changing any
            if apply and validate_only:
                break
            for item in resource.configs:
                op = item.config_operation
                if op in (APPEND, SUBTRACT):
                    return _entry(resource, ErrorCode.invalid_request,
                                  f"{OPERATIONS[op]} operation is not allowed for the BROKER_LOGGER "
                                  "resource")
                if op == DELETE and item.name == loggers.ROOT:
                    return _entry(resource, ErrorCode.invalid_request,
                                  "Removing the log level of the root logger is not allowed")
                loggers.set_level(item.name, item.value if op == SET else None, apply)
    except loggers.LoggerConfigError as exc:
        return _entry(resource, ErrorCode.invalid_config, str(exc))
    return _entry(resource)


@api(44, "IncrementalAlterConfigs", 0, 1)
async def incremental(ctx: RequestContext, request: Any) -> dict[str, Any]:
    responses = []
    for resource in request.resources:
        denied = config_denial(ctx, resource.resource_type, resource.resource_name, Op.ALTER_CONFIGS)
        if denied is not None:
            responses.append(_entry(resource, denied))
            continue
        if resource.resource_type == BROKER_LOGGER:
            responses.append(_alter_loggers(ctx.broker, resource, request.validate_only))
            continue
        if resource.resource_type == BROKER:
            edit = _edit(resource, BROKER_KEYS, "broker")
        else:
            edit = _edit(resource, TOPIC_KEYS, "topic")
        responses.append(_apply(ctx.broker, resource, request.validate_only, edit))
    return {"responses": responses}
