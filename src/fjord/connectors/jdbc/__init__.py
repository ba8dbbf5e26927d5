"""JDBC source and sink connectors under Confluent's class names and configuration keys."""
