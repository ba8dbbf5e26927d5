"""One Kafka request over a plain socket, for the admin calls confluent-kafka does not expose
(DescribeConfigs of broker defaults, ListOffsets EARLIEST_LOCAL / LATEST_TIERED,
DescribeLogDirs, client quotas). Frames are built with fjord.protocol.codec, so they are
exactly what a Kafka client sends; any Kafka broker answers them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fjord.cli.output import TIMEOUT, client_settings, fail
from fjord.connect.wire import ClientSecurity, WireConnection


def call(bootstrap: str, api_key: int, version: int, body: dict[str, Any],
         command_config: Path | None = None) -> Any:
    """One request; with --command-config the connection does TLS and SASL as configured."""
    host, _, port = bootstrap.split(",")[0].rpartition(":")
    try:
        security = ClientSecurity(client_settings(bootstrap, command_config))
        connection = WireConnection(host, int(port), TIMEOUT, security, client_id="fjord-cli")
        try:
            return connection.request(api_key, {**body}, TIMEOUT, version=version)
        finally:
            connection.close()
    except (OSError, ValueError) as exc:
        fail(f"cannot reach the broker at {bootstrap}: {exc}")
