"""A peer's own test suite as a compatibility gate: kafka-python's integration tests
(producer, consumer, admin) run against a Fjord broker process.

kafka-python's sdist ships those tests; they talk to an external broker when KAFKA_URI
is set. The runner downloads the sdist matching the installed kafka-python into
`.cache/peer/` (once), adds the two files the sdist lacks (see kafka_python_service.py),
runs the suite in a subprocess with JUnit XML output, and requires every test on
kafka_python_allowlist.txt to pass. Tests that do not pass are explained in FINDINGS.md.
"""

from __future__ import annotations

import importlib.metadata
import os
import shutil
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.support.broker import BrokerFactory

HERE = Path(__file__).parent
REPO = HERE.parent.parent
CACHE = Path(os.environ.get("FJORD_PEER_CACHE", REPO / ".cache" / "peer"))
ALLOWLIST = HERE / "kafka_python_allowlist.txt"
SUITE = [
    "test/integration/test_producer_integration.py",
    "test/integration/test_consumer_integration.py",
    "test/integration/test_admin_integration.py",
]
# The Kafka version the tests assume of the broker: it selects their expectations
# (KRaft-only tests skip below 4.0) and the version clients must infer from ApiVersions.
KAFKA_VERSION = "3.9.0"
# What kafka-python's own test broker sets (servers/resources/default/kafka.properties in
# its repository), where Fjord has the key: tests rely on 4 default partitions and on
# session timeouts below Kafka's default minimum of 6 s.
PEER_BROKER_CONFIG = {
    "num.partitions": "4",
    "group.min.session.timeout.ms": "1000",
    "group.initial.rebalance.delay.ms": "0",
    "offsets.topic.num.partitions": "2",
    # Its broker runs an ACL authorizer that allows what no ACL covers: the ACL tests need one,
    # and every other test then runs through the authorizer's checks.
    "authorizer.class.name": "kafka.security.authorizer.AclAuthorizer",
    "allow.everyone.if.no.acl.found": "true",
}


def kafka_python_sources() -> Path:
    version = importlib.metadata.version("kafka-python")
    root = CACHE / f"kafka_python-{version}"
    if not (root / "test" / "integration" / "conftest.py").exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-binary", ":all:", "--no-deps",
             f"kafka-python=={version}", "-d", str(CACHE)],
            check=True, timeout=300,
        )
        with tarfile.open(CACHE / f"kafka_python-{version}.tar.gz") as archive:
            archive.extractall(CACHE, filter="data")
    # `test` must be a package, or Python's own stdlib `test` package shadows it.
    (root / "test" / "__init__.py").touch()
    shutil.copyfile(HERE / "kafka_python_service.py", root / "test" / "service.py")
    return root


def outcomes(junit: Path) -> dict[str, tuple[str, str]]:
    """test id (`module::name`) -> (outcome, message)."""
    result: dict[str, tuple[str, str]] = {}
    for case in ET.parse(junit).iter("testcase"):
        test_id = f"{case.get('classname', '').rsplit('.', 1)[-1]}::{case.get('name')}"
        outcome, message = "passed", ""
        for tag in ("failure", "error", "skipped"):
            element = case.find(tag)
            if element is not None:
                outcome, message = tag, (element.get("message") or "").splitlines()[0][:200]
                break
        result.setdefault(test_id, (outcome, message))
        if outcome != "passed":  # a teardown error reports the test a second time
            result[test_id] = (outcome, message)
    return result


def allowlist() -> list[str]:
    lines = (line.split("#", 1)[0].strip() for line in ALLOWLIST.read_text().splitlines())
    return [line for line in lines if line]


def test_kafka_python_integration_suite(broker_factory: BrokerFactory,
                                        tmp_path: Path) -> None:
    sources = kafka_python_sources()
    broker = broker_factory(PEER_BROKER_CONFIG)
    junit = tmp_path / "kafka-python.xml"
    kafka_root = tmp_path / "kafka-root"  # the fixtures insist it exists; nothing runs from it
    kafka_root.mkdir()
    env = dict(os.environ, KAFKA_URI=f"tcp://{broker.bootstrap}", KAFKA_VERSION=KAFKA_VERSION,
               KAFKA_ROOT=str(kafka_root))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", *SUITE, "-q", "-p", "no:cacheprovider", "--tb=native",
         "--timeout=60", "--timeout-method=signal", "-o", "log_level=INFO",
         f"--junitxml={junit}"],
        cwd=sources, env=env, capture_output=True, text=True, timeout=900,
    )
    assert junit.exists(), f"the peer suite did not run:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    results = outcomes(junit)
    wanted = allowlist()
    failing = {t: results.get(t, ("missing", "not collected")) for t in wanted
               if results.get(t, ("missing",))[0] != "passed"}
    passed_unlisted = sorted(t for t, (o, _) in results.items() if o == "passed" and t not in wanted)
    not_passed = {t: r for t, r in results.items() if r[0] != "passed"}
    print(f"kafka-python {importlib.metadata.version('kafka-python')} integration suite: "
          f"{sum(o == 'passed' for o, _ in results.values())}/{len(results)} passed; "
          f"{len(wanted)} on the allow-list")
    for test_id, (outcome, message) in sorted(not_passed.items()):
        print(f"  {outcome}: {test_id}: {message}")
    if passed_unlisted:
        print("  passing but not on the allow-list:", *passed_unlisted, sep="\n    ")
    assert failing == {}, "allow-listed peer tests did not pass:\n" + "\n".join(
        f"{t}: {o}: {m}" for t, (o, m) in failing.items())
    assert broker.alive()
