"""Kafka Connect-compatible runtime: connector API, worker, herders, REST, converters, transforms."""
