"""Debezium PostgreSQL connector keys, with Debezium's names and defaults."""

from __future__ import annotations

from fjord.connect.config_def import ConfigDef, Importance, Type, at_least, non_empty_string, valid_string

CONFIG = (
    ConfigDef()
    .define("database.hostname", Type.STRING, validator=non_empty_string,
            importance=Importance.HIGH, group="Connection")
    .define("database.port", Type.INT, 5432, importance=Importance.HIGH, group="Connection")
    .define("database.user", Type.STRING, validator=non_empty_string, importance=Importance.HIGH,
            group="Connection")
    .define("database.password", Type.PASSWORD, None, importance=Importance.HIGH,
            group="Connection")
    .define("database.dbname", Type.STRING, validator=non_empty_string, importance=Importance.HIGH,
            group="Connection")
    .define("database.connect.timeout.ms", Type.LONG, 30000, at_least(1000), Importance.LOW,
            group="Connection")
    .define("topic.prefix", Type.STRING, validator=non_empty_string, importance=Importance.HIGH,
            documentation="Prefix of every topic: <prefix>.<schema>.<table>", group="Connector")
    .define("plugin.name", Type.STRING, "pgoutput", valid_string("pgoutput", "decoderbufs"),
            Importance.MEDIUM, group="Replication")
    .define("slot.name", Type.STRING, "debezium", importance=Importance.MEDIUM, group="Replication")
    .define("slot.drop.on.stop", Type.BOOLEAN, False, importance=Importance.LOW,
            group="Replication")
    .define("publication.name", Type.STRING, "dbz_publication", importance=Importance.MEDIUM,
            group="Replication")
    .define("publication.autocreate.mode", Type.STRING, "all_tables",
            valid_string("all_tables", "filtered", "disabled", "no_tables"), Importance.LOW,
            group="Replication")
    .define("snapshot.mode", Type.STRING, "initial",
            valid_string("initial", "always", "never", "no_data", "initial_only", "when_needed"),
            Importance.MEDIUM, group="Connector")
    .define("table.include.list", Type.LIST, "", importance=Importance.HIGH, group="Filters")
    .define("table.exclude.list", Type.LIST, "", importance=Importance.MEDIUM, group="Filters")
    .define("schema.include.list", Type.LIST, "", importance=Importance.MEDIUM, group="Filters")
    .define("schema.exclude.list", Type.LIST, "", importance=Importance.MEDIUM, group="Filters")
    .define("tombstones.on.delete", Type.BOOLEAN, True, importance=Importance.MEDIUM,
            group="Connector")
    .define("time.precision.mode", Type.STRING, "adaptive",
            valid_string("adaptive", "adaptive_time_microseconds", "connect"), Importance.MEDIUM,
            group="Connector")
    .define("decimal.handling.mode", Type.STRING, "precise",
            valid_string("precise", "double", "string"), Importance.MEDIUM, group="Connector")
    .define("heartbeat.interval.ms", Type.INT, 0, at_least(0), Importance.MEDIUM,
            group="Connector")
    .define("heartbeat.action.query", Type.STRING, "", importance=Importance.LOW,
            group="Connector")
    .define("topic.heartbeat.prefix", Type.STRING, "__debezium-heartbeat",
            importance=Importance.LOW, group="Connector")
    .define("max.batch.size", Type.INT, 2048, at_least(1), Importance.MEDIUM, group="Connector")
    .define("poll.interval.ms", Type.LONG, 500, at_least(1), Importance.MEDIUM, group="Connector")
    .define("errors.max.retries", Type.INT, -1, at_least(-1), Importance.LOW, group="Connector")
    .define("errors.retry.delay.initial.ms", Type.LONG, 300, at_least(1), Importance.LOW,
            group="Connector")
    .define("errors.retry.delay.max.ms", Type.LONG, 10000, at_least(1), Importance.LOW,
            group="Connector")
)
