"""Change data capture connectors under Debezium's class names, keys and record envelope."""
