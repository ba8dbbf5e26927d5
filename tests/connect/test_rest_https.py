"""The Connect REST API on an `https` listener (Kafka's `listeners=https://…` with
`listeners.https.ssl.*`): served over TLS with a PEM key store, never in the clear, and an
https listener without a key store refuses to start with one line naming the keys."""

from __future__ import annotations

import json
import ssl
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.security.support import make_tls
from tests.support.broker import BrokerProcess, free_port
from tests.support.process import ServiceProcess


class HttpsWorker(ServiceProcess):
    what = "worker"

    def __init__(self, workdir: Path, props: dict[str, str]) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.worker_file = workdir / "worker.properties"
        self.worker_file.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
        super().__init__(workdir / "worker.log")


def worker_props(broker: BrokerProcess, tmp_path: Path, port: int) -> dict[str, str]:
    return {"bootstrap.servers": broker.bootstrap, "listeners": f"https://127.0.0.1:{port}",
            "offset.storage.file.filename": str(tmp_path / "connect.offsets"),
            "key.converter": "org.apache.kafka.connect.storage.StringConverter",
            "value.converter": "org.apache.kafka.connect.storage.StringConverter"}


def test_https_listener_serves_tls_only(broker: BrokerProcess, tmp_path: Path) -> None:
    tls = make_tls(tmp_path / "tls")
    port = free_port()
    props = {**worker_props(broker, tmp_path, port),
             "listeners.https.ssl.keystore.type": "PEM",
             "listeners.https.ssl.keystore.location": str(tls.server_file)}
    worker = HttpsWorker(tmp_path / "worker", props)
    trusting = ssl.create_default_context(cafile=str(tls.ca_file))

    def root() -> dict[str, str]:
        with urllib.request.urlopen(f"https://127.0.0.1:{port}/", timeout=5, context=trusting) as answer:
            return dict(json.loads(answer.read()))

    def serving() -> bool:
        return "version" in root()

    worker.spawn([sys.executable, "-m", "fjord.cli.main", "connect", "standalone",
                  str(worker.worker_file)], serving, 60)
    try:
        assert "version" in root()
        plugins = urllib.request.urlopen(f"https://127.0.0.1:{port}/connector-plugins", timeout=5,
                                         context=trusting)
        assert plugins.status == 200
        # Plain HTTP to the TLS port gets no REST answer.
        with pytest.raises(Exception):  # noqa: B017 - reset, bad status line or closed: any is a refusal
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read()
        # A client that does not trust the worker's CA is refused by TLS itself.
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"https://127.0.0.1:{port}/", timeout=5,
                                   context=ssl.create_default_context())
    finally:
        worker.stop()


def test_https_listener_without_key_store_refuses_to_start(broker: BrokerProcess, tmp_path: Path) -> None:
    props = worker_props(broker, tmp_path, free_port())
    worker_file = tmp_path / "worker.properties"
    worker_file.write_text("".join(f"{k}={v}\n" for k, v in props.items()))
    done = subprocess.run([sys.executable, "-m", "fjord.cli.main", "connect", "standalone",
                           str(worker_file)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "ssl.keystore.location" in done.stderr
    assert "Traceback" not in done.stderr
