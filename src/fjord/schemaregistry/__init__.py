"""A schema registry with Confluent Schema Registry's REST API, storing in the `_schemas` topic."""
