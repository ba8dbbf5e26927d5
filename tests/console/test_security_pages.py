"""The ACL and user pages against a real broker with Kafka's StandardAuthorizer: what the form
adds is what DescribeAcls returns, and a SCRAM password is sent but never shown."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.control.support import ControlProcess
from tests.support.broker import BrokerProcess


def test_acls_and_users(tmp_path: Path) -> None:
    broker = BrokerProcess(tmp_path / "kafka", {
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:ANONYMOUS"}).start()
    control = ControlProcess(tmp_path / "control", extra=["--register", f"secure={broker.bootstrap}"]).start()
    try:
        with httpx.Client(base_url=control.url + "/console", timeout=60, follow_redirects=True) as web:
            clusters = httpx.get(control.url + "/v1/clusters").json()["clusterInfoList"]
            cid = clusters[0]["clusterArn"].rsplit("/", 1)[-1]
            acl = {"principal": "User:alice", "host": "*", "resource_type": "TOPIC", "name": "orders",
                   "pattern": "PREFIXED", "operation": "READ", "permission": "ALLOW"}
            created = web.post(f"/c/{cid}/acls", data=acl)
            assert "ACL created" in created.text, created.text[-2000:]
            page = web.get(f"/c/{cid}/security").text
            assert "<td>User:alice</td>" in page and "<td>PREFIXED</td>" in page and "<td>READ</td>" in page
            refused = web.post(f"/c/{cid}/acls", data={**acl, "principal": "alice"})
            assert "the principal must look like User:alice" in refused.text
            saved = web.post(f"/c/{cid}/users", data={"user": "bob", "password": "hunter2-secret",
                                                      "mechanism": "SCRAM_SHA_256"})
            assert "user bob saved" in saved.text
            page = saved.text  # the redirect looks the saved user up by name
            assert "<td>bob</td>" in page and "SCRAM_SHA_256 (8192 iterations)" in page
            assert "hunter2-secret" not in page
            deleted = web.post(f"/c/{cid}/acls", data={**acl, "delete": "1"})
            assert "1 ACL(s) deleted" in deleted.text
            assert "<td>User:alice</td>" not in web.get(f"/c/{cid}/security").text
    finally:
        control.stop()
        broker.stop()
