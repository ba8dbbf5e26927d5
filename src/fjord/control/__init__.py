"""The managed layer: clusters, configurations and revisions, operations, behind MSK's HTTP API."""
