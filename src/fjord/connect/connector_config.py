"""The keys every connector config has (Kafka's ConnectorConfig / Source- / SinkConnectorConfig),
and `validate`, which answers in Kafka's ConfigInfos shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fjord.connect.api import SinkConnector, SourceConnector
from fjord.connect.config_def import (
    ConfigDef,
    ConfigException,
    ConfigValue,
    Importance,
    Type,
    at_least,
    config_key_info,
    valid_regex,
    valid_string,
)
from fjord.connect.plugins import PluginNotFound, Plugins

COMMON_GROUP = "Common"
TRANSFORMS_GROUP = "Transforms"
PREDICATES_GROUP = "Predicates"
ERROR_GROUP = "Error Handling"


def _common() -> ConfigDef:
    return (
        ConfigDef()
        .define("name", Type.STRING, "", None, Importance.HIGH,
                "Globally unique name to use for this connector.", COMMON_GROUP, 1,
                display_name="Connector name")
        .define("connector.class", Type.STRING, validator=None, importance=Importance.HIGH,
                documentation="Name or alias of the class for this connector.",
                group=COMMON_GROUP, order_in_group=2, display_name="Connector class")
        .define("tasks.max", Type.INT, 1, at_least(1), Importance.HIGH,
                "Maximum number of tasks to use for this connector.", COMMON_GROUP, 3,
                display_name="Tasks max")
        .define("key.converter", Type.CLASS, None, None, Importance.LOW,
                "Converter class used to convert between Kafka Connect format and the serialized "
                "form that is written to Kafka.", COMMON_GROUP, 4, display_name="Key converter class")
        .define("value.converter", Type.CLASS, None, None, Importance.LOW,
                "Converter class for values.", COMMON_GROUP, 5, display_name="Value converter class")
        .define("header.converter", Type.CLASS, None, None, Importance.LOW,
                "HeaderConverter class.", COMMON_GROUP, 6, display_name="Header converter class")
        .define("transforms", Type.LIST, "", None, Importance.LOW,
                "Aliases for the transformations to be applied to records.", TRANSFORMS_GROUP, 7,
                display_name="Transforms")
        .define("predicates", Type.LIST, "", None, Importance.LOW,
                "Aliases for the predicates used by transformations.", PREDICATES_GROUP, 8,
                display_name="Predicates")
        .define("config.action.reload", Type.STRING, "restart",
                valid_string("none", "restart", case_sensitive=False), Importance.LOW,
                "The action that Connect should take on the connector when changes in external "
                "configuration providers result in a change in the connector's configuration "
                "properties.", COMMON_GROUP, 9, display_name="Reload Action")
        .define("errors.retry.timeout", Type.LONG, 0, None, Importance.MEDIUM,
                "The maximum duration in milliseconds that a failed operation will be reattempted.",
                ERROR_GROUP, 1, display_name="Retry Timeout for Errors")
        .define("errors.retry.delay.max.ms", Type.LONG, 60000, None, Importance.MEDIUM,
                "The maximum duration in milliseconds between consecutive retry attempts.",
                ERROR_GROUP, 2, display_name="Maximum Delay Between Retries for Errors")
        .define("errors.tolerance", Type.STRING, "none",
                valid_string("none", "all", case_sensitive=False), Importance.MEDIUM,
                "Behavior for tolerating errors during connector operation.", ERROR_GROUP, 3,
                display_name="Error Tolerance")
        .define("errors.log.enable", Type.BOOLEAN, False, None, Importance.MEDIUM,
                "If true, write each error and the details of the failed operation to the log.",
                ERROR_GROUP, 4, display_name="Log Errors")
        .define("errors.log.include.messages", Type.BOOLEAN, False, None, Importance.MEDIUM,
                "Whether to include in the log the Connect record that resulted in a failure.",
                ERROR_GROUP, 5, display_name="Log Error Details")
    )


def source_config_def() -> ConfigDef:
    return (
        _common()
        .define("topic.creation.groups", Type.LIST, "", None, Importance.LOW,
                "Groups of configurations for topics created by source connectors", "Topic Creation",
                1)
        .define("exactly.once.support", Type.STRING, "requested",
                valid_string("requested", "required", case_sensitive=False), Importance.MEDIUM,
                "Whether exactly-once support is required for this connector.", "Exactly Once", 1)
        .define("transaction.boundary", Type.STRING, "poll",
                valid_string("poll", "interval", "connector", case_sensitive=False),
                Importance.MEDIUM, "Where transaction boundaries are drawn.", "Exactly Once", 2)
        .define("offsets.storage.topic", Type.STRING, None, None, Importance.LOW,
                "The name of a separate offsets topic to use for this connector.", "Offsets", 1)
    )


def sink_config_def() -> ConfigDef:
    return (
        _common()
        .define("topics", Type.LIST, "", None, Importance.HIGH,
                "List of topics to consume, separated by commas", COMMON_GROUP, 4,
                display_name="Topics")
        .define("topics.regex", Type.STRING, "", valid_regex, Importance.HIGH,
                "Regular expression giving topics to consume.", COMMON_GROUP, 4,
                display_name="Topics regex")
        .define("errors.deadletterqueue.topic.name", Type.STRING, "", None, Importance.MEDIUM,
                "The name of the topic to be used as the dead letter queue (DLQ) for messages that "
                "result in an error when processed by this sink connector, or its transformations "
                "or converters.", ERROR_GROUP, 6, display_name="Dead Letter Queue Topic Name")
        .define("errors.deadletterqueue.topic.replication.factor", Type.SHORT, 3, None,
                Importance.MEDIUM, "Replication factor used to create the dead letter queue topic "
                "when it doesn't already exist.", ERROR_GROUP, 7,
                display_name="Dead Letter Queue Topic Replication Factor")
        .define("errors.deadletterqueue.context.headers.enable", Type.BOOLEAN, False, None,
                Importance.MEDIUM, "If true, add headers containing error context to the messages "
                "written to the dead letter queue.", ERROR_GROUP, 8,
                display_name="Enable Error Context Headers")
    )


def _value_json(value: ConfigValue) -> dict[str, Any]:
    raw = value.value
    if isinstance(raw, list):
        raw = ",".join(str(item) for item in raw)
    elif isinstance(raw, bool):
        raw = "true" if raw else "false"
    elif raw is not None:
        raw = str(raw)
    return {"name": value.name, "value": raw, "recommended_values": value.recommended_values,
            "errors": value.errors, "visible": value.visible}


def validate_connector_config(plugins: Plugins, config: Mapping[str, str]) -> dict[str, Any]:
    """ConfigInfos: {name, error_count, groups, configs: [{definition, value}]}."""
    class_name = str(config.get("connector.class") or "")
    try:
        cls = plugins.connector_class(class_name)
    except PluginNotFound as exc:
        raise ConfigException(str(exc)) from exc
    connector = cls()
    base = source_config_def() if issubclass(cls, SourceConnector) else sink_config_def()
    results = base.validate(config)
    by_name = {value.name: value for value in results}
    if issubclass(cls, SinkConnector):
        topics = [t.strip() for t in str(config.get("topics", "")).split(",") if t.strip()]
        regex = str(config.get("topics.regex", "")).strip()
        if topics and regex:
            message = ("topics and topics.regex are mutually exclusive options, but both are set.")
            by_name["topics"].add_error(message)
            by_name["topics.regex"].add_error(message)
        elif not topics and not regex:
            message = "Must configure one of topics or topics.regex"
            by_name["topics"].add_error(message)
            by_name["topics.regex"].add_error(message)
        dlq = str(config.get("errors.deadletterqueue.topic.name", "")).strip()
        if dlq and dlq in topics:
            by_name["errors.deadletterqueue.topic.name"].add_error(
                f"The DLQ topic '{dlq}' may not be included in the list of topics ('topics') to "
                "consume from")
    # transforms / predicates must be resolvable and configurable
    from fjord.connect.transform_chain import TransformationChain
    try:
        TransformationChain.from_config(config)
    except Exception as exc:
        by_name["transforms"].add_error(str(exc))
    definitions = base.config_keys()
    connector_def = connector.config()
    connector_results = connector.validate(config)
    entries = [(definitions[v.name], v) for v in results]
    connector_keys = connector_def.config_keys()
    for value in connector_results:
        key = connector_keys.get(value.name)
        if value.name in by_name:
            # a connector may add its own errors to common keys (e.g. `topics`)
            by_name[value.name].errors.extend(e for e in value.errors
                                              if e not in by_name[value.name].errors)
        elif key is not None:
            entries.append((key, value))
    error_count = sum(len(v.errors) for _, v in entries)
    groups = base.groups() + [g for g in connector_def.groups() if g not in base.groups()]
    return {
        "name": plugins.desc(class_name).class_name,
        "error_count": error_count,
        "groups": groups,
        "configs": [{"definition": config_key_info(key), "value": _value_json(value)}
                    for key, value in entries],
    }


def validation_errors(infos: Mapping[str, Any]) -> list[str]:
    out = []
    for item in infos["configs"]:
        for error in item["value"]["errors"]:
            name = item["value"]["name"]
            out.append(error if name in error else f"{name}: {error}")
    return out


def plugin_config_keys(plugins: Plugins, name: str) -> list[dict[str, Any]]:
    """`GET /connector-plugins/{name}/config`: a connector's own keys followed by the framework's
    (source or sink connector config), as Kafka 4.1 lists them; for a transformation, predicate
    or converter, the keys of its `config()`."""
    try:
        cls = plugins.connector_class(name)
    except PluginNotFound:
        other = plugins.other_plugin(name)
        return [config_key_info(key) for key in other().config().config_keys().values()]
    own = cls().config().config_keys()
    base = source_config_def() if issubclass(cls, SourceConnector) else sink_config_def()
    keys = [*own.values(), *(key for name_, key in base.config_keys().items() if name_ not in own)]
    return [config_key_info(key) for key in keys]
