"""`fjord configurations` / `fjord clusters` against a real control plane, and its access rule:
a token is enforced when given, and required off loopback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from tests.control.support import ControlProcess


def fjord(control: ControlProcess, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "fjord.cli.main", *args, "--endpoint-url", control.url],
                          capture_output=True, text=True, timeout=60,
                          env={**os.environ, "FJORD_CONTROL_TOKEN": control.token or ""})


def test_configurations_cli_and_diff(control: ControlProcess, tmp_path: Path) -> None:
    v1, v2 = tmp_path / "v1.properties", tmp_path / "v2.properties"
    v1.write_text("num.partitions=2\nlog.retention.hours=100\ndelete.topic.enable=true\n")
    v2.write_text("num.partitions=4\nlog.retention.hours=100\nauto.create.topics.enable=false\n")
    assert fjord(control, "configurations", "create-configuration", "--name", "cli-base",
                 "--server-properties", f"fileb://{v1}").returncode == 0
    assert fjord(control, "configurations", "update-configuration", "--arn", "cli-base",
                 "--server-properties", f"fileb://{v2}").returncode == 0
    listed = fjord(control, "configurations", "list-configuration-revisions", "--arn", "cli-base")
    assert [line.split()[0] for line in listed.stdout.splitlines()[1:]] == ["1", "2"]
    diff = fjord(control, "configurations", "diff", "--arn", "cli-base", "--from", "1", "--to", "2")
    assert diff.returncode == 0, diff.stderr
    assert diff.stdout.splitlines() == ["+ auto.create.topics.enable=false",
                                        "- delete.topic.enable=true",
                                        "~ num.partitions: 2 -> 4"]
    shown = fjord(control, "configurations", "describe-configuration-revision", "--arn", "cli-base",
                  "--revision", "1")
    assert shown.stdout == v1.read_text()
    bad = tmp_path / "bad.properties"
    bad.write_text("log.retention.hourz=1\n")
    refused = fjord(control, "configurations", "create-configuration", "--name", "bad",
                    "--server-properties", f"fileb://{bad}")
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("Error: BadRequestException: Unknown broker configuration "
                                      "'log.retention.hourz' (did you mean log.retention.hours?)")
    missing = fjord(control, "clusters", "describe-cluster", "--cluster-arn", "nope")
    assert missing.returncode == 1 and "no cluster named nope" in missing.stderr


def test_token_is_enforced(tmp_path: Path) -> None:
    control = ControlProcess(tmp_path / "data", token="s3cret").start()
    try:
        denied = httpx.get(control.url + "/v1/clusters")
        assert denied.status_code == 401
        assert denied.headers["x-amzn-ErrorType"] == "UnauthorizedException"
        assert httpx.get(control.url + "/console/").status_code == 401
        ok = httpx.get(control.url + "/v1/clusters", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200 and ok.json() == {"clusterInfoList": []}
        assert httpx.get(control.url + "/console/", auth=("anyone", "s3cret")).status_code == 200
        assert httpx.get(control.url + "/v1/clusters", auth=("anyone", "wrong")).status_code == 401
        listed = fjord(control, "clusters", "list-clusters")
        assert listed.returncode == 0, listed.stderr
    finally:
        control.stop()


def test_off_loopback_needs_a_token(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "fjord.cli.main", "control", "--listener",
                             "http://0.0.0.0:1", "--data-dir", str(tmp_path)],
                            capture_output=True, text=True, timeout=60,
                            env={k: v for k, v in os.environ.items() if k != "FJORD_CONTROL_TOKEN"})
    assert result.returncode == 1
    assert "needs --token or FJORD_CONTROL_TOKEN" in result.stderr


def test_boto3_signs_with_the_token_as_its_secret_key(tmp_path: Path) -> None:
    """Off loopback boto3 works unchanged: SigV4 with the API token as the secret access key."""
    import boto3
    import pytest

    control = ControlProcess(tmp_path / "data", token="s3cret").start()
    try:
        def client(secret: str):  # type: ignore[no-untyped-def]
            return boto3.client("kafka", endpoint_url=control.url, region_name="eu-west-1",
                                aws_access_key_id="anything", aws_secret_access_key=secret)
        kafka = client("s3cret")
        created = kafka.create_configuration(Name="signed", ServerProperties=b"num.partitions=2\n")
        assert kafka.describe_configuration(Arn=created["Arn"])["Name"] == "signed"  # ARN in the path
        assert [r["Revision"] for r in kafka.list_configuration_revisions(
            Arn=created["Arn"], MaxResults=5)["Revisions"]] == [1]  # a query string
        with pytest.raises(kafka.exceptions.NotFoundException):
            kafka.describe_cluster(ClusterArn="arn:aws:kafka:local:000000000000:cluster/x/y")
        wrong = client("not-the-token")
        with pytest.raises(wrong.exceptions.UnauthorizedException):
            wrong.list_clusters()
    finally:
        control.stop()
