"""Stand-in for kafka-python's `test/service.py`, which its sdist does not ship.

The integration fixtures import ExternalService (used when KAFKA_URI points at a running
broker: our case) and SpawnedService (used to launch a Kafka JVM: never our case). The
runner copies this file to `test/service.py` of the unpacked sdist.
"""

from __future__ import annotations

from typing import Any


class ExternalService:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass

    def dump_logs(self) -> None:
        pass

    def wait_for(self, pattern: str, timeout: float = 30) -> bool:
        return True


class SpawnedService:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the Fjord peer runner points kafka-python's tests at a running broker "
                           "(KAFKA_URI); spawning a Kafka JVM is not supported")
