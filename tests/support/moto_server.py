"""A real S3-protocol server (`moto[server]`) on 127.0.0.1, for tests and benchmarks.

Started as a subprocess, like the broker. Authentication is switched on after an IAM user
and its access key are created, so the store really checks credentials: a wrong key gets
S3's InvalidAccessKeyId, exactly as from AWS or MinIO.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.broker import free_port

ADMIN_POLICY = json.dumps({"Version": "2012-10-17",
                           "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@dataclass
class S3Credentials:
    access_key: str
    secret_key: str


class MotoServer:
    def __init__(self, log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.credentials: S3Credentials | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30.0, auth: bool = True) -> MotoServer:
        """Start the server; with auth=False any credentials are accepted (a restarted server
        then takes the keys a client already holds)."""
        log = open(self.log_path, "ab")  # noqa: SIM115 - owned by the process
        env = dict(os.environ, PYTHONUNBUFFERED="1", AWS_DEFAULT_REGION="us-east-1")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log, stderr=log, env=env)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.proc.returncode}: "
                                   f"{self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"moto server did not listen within {timeout}s")
        self.credentials = self._enable_auth() if auth else S3Credentials("anykey", "anysecret")
        return self

    def _client(self, service: str, access_key: str = "bootstrap", secret_key: str = "bootstrap") -> Any:
        import boto3

        return boto3.client(service, endpoint_url=self.endpoint, region_name="us-east-1",
                            aws_access_key_id=access_key, aws_secret_access_key=secret_key)

    def _enable_auth(self) -> S3Credentials:
        iam = self._client("iam")
        iam.create_user(UserName="fjord")
        iam.put_user_policy(UserName="fjord", PolicyName="all", PolicyDocument=ADMIN_POLICY)
        key = iam.create_access_key(UserName="fjord")["AccessKey"]
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset-auth", data=b"0",
                                         method="POST", headers={"Content-Type": "text/plain"})
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200
        return S3Credentials(key["AccessKeyId"], key["SecretAccessKey"])

    def s3(self) -> Any:
        """An authenticated boto3 S3 client (for test setup: making buckets, inspecting)."""
        assert self.credentials is not None
        return self._client("s3", self.credentials.access_key, self.credentials.secret_key)

    def create_bucket(self, name: str) -> None:
        self.s3().create_bucket(Bucket=name)

    def store_options(self) -> dict[str, str]:
        """Connector config keys that point a store at this server."""
        assert self.credentials is not None
        return {"s3.endpoint": self.endpoint, "s3.region": "us-east-1",
                "aws.access.key.id": self.credentials.access_key,
                "aws.secret.access.key": self.credentials.secret_key,
                "s3.path.style.access.enabled": "true"}

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
