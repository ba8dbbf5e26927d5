"""The console in real Chromium, end to end against real processes: a broker, a Connect worker,
the control plane; every step screenshotted (tmp dir `artifacts/`, or $FJORD_CONSOLE_ARTIFACTS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

from tests.connect.support import WorkerProcess
from tests.console.support import Journey, browser_page
from tests.control.support import ControlProcess
from tests.support.broker import BrokerProcess, free_port

XSS = "<img src=x onerror=alert(1)>"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    root = tmp_path_factory.mktemp("journey")
    admin_url = f"http://127.0.0.1:{free_port()}"
    broker = BrokerProcess(root / "kafka", {"offsets.topic.num.partitions": "3",
                                            "admin.listener": admin_url}).start()
    worker = WorkerProcess(root / "connect", broker.bootstrap).start()
    register = f"journey={broker.bootstrap};{worker.url};{admin_url}"
    control = ControlProcess(root / "control", extra=["--register", register]).start()
    try:
        yield {"root": root, "broker": broker, "worker": worker, "control": control}
    finally:
        control.stop()
        worker.stop()
        broker.stop()


def prepare_lagging_group(bootstrap: str) -> None:
    """100 records, and a real group `billing` that consumed and committed 40 of them."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    admin.create_topics([NewTopic("invoices", 1, 1)])["invoices"].result(15)
    producer = Producer({"bootstrap.servers": bootstrap})
    for i in range(100):
        producer.produce("invoices", key=str(i).encode(), value=json.dumps({"n": i}).encode())
    assert producer.flush(30) == 0
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "billing",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    consumer.assign([TopicPartition("invoices", 0, 0)])
    consumed = 0
    deadline = time.monotonic() + 60
    while consumed < 40 and time.monotonic() < deadline:
        message = consumer.poll(1.0)
        if message is not None and message.error() is None:
            consumed += 1
    assert consumed == 40
    consumer.commit(offsets=[TopicPartition("invoices", 0, 40)], asynchronous=False)
    consumer.close()


def create_backup_rule(stack: dict[str, Any]) -> None:
    broker, worker = stack["broker"], stack["worker"]
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic("ledger", 1, 1)])["ledger"].result(15)
    producer = Producer({"bootstrap.servers": broker.bootstrap})
    for i in range(20):
        producer.produce("ledger", value=f"entry {i}".encode())
    assert producer.flush(30) == 0
    folder = stack["root"] / "backups"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "fjord.cli.main", "backup", "create", "nightly", "--topics", "ledger",
         "--to", f"file://{folder}/ledger/", "--interval", "10s", "--connect", worker.url,
         "--bootstrap-server", broker.bootstrap], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr


def rows_text(journey: Journey, selector: str = "#messages tbody tr.record") -> list[str]:
    return [row.inner_text() for row in journey.page.locator(selector).all()]


def search(journey: Journey, **fields: str) -> list[str]:
    page = journey.page
    for name in ("key", "header", "value", "jsonpath", "offset"):
        page.fill(f"#search [name={name}]", fields.get(name, ""))
    page.click("#search button:text('Search')")
    page.wait_for_load_state("load")
    return rows_text(journey)


def reload_until(journey: Journey, predicate: Any, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"page never showed what was expected: {journey.page.url}"
        time.sleep(1)
        journey.page.reload()


def test_console_journey(stack: dict[str, Any], tmp_path: Path) -> None:
    prepare_lagging_group(stack["broker"].bootstrap)
    create_backup_rule(stack)
    source_file = stack["root"] / "source.txt"
    source_file.write_text("line one\nline two\n")
    artifacts = Path(os.environ.get("FJORD_CONSOLE_ARTIFACTS") or tmp_path / "artifacts")
    with browser_page(artifacts) as journey:
        page = journey.page
        page.goto(stack["control"].url + "/console/")
        page.wait_for_selector("#clusters .state-active", timeout=60_000)
        journey.shot("clusters")

        page.click("#clusters a:text('journey')")
        page.wait_for_selector("h1:has-text('journey')")
        # The broker's admin listener feeds live charts (sampled every 2 s by the page).
        page.wait_for_selector("svg[data-chart=memory_bytes] polyline", state="attached")
        page.wait_for_selector("svg[data-chart=bytes_in] polyline", state="attached")
        assert page.locator("#broker-facts tbody tr").count() == 1
        journey.shot("cluster")

        # Create a topic from the form.
        page.click("nav a:text('Topics')")
        page.fill("#create-topic [name=name]", "orders")
        page.fill("#create-topic [name=partitions]", "3")
        page.click("#create-topic button")
        page.wait_for_selector("h1:has-text('Topic orders')")
        assert page.locator("#partitions tbody tr").count() == 3
        journey.shot("topic-created")

        # Produce a record with a key and a header, and one whose value is markup.
        page.click("a:text('Browse messages')")
        page.fill("#produce [name=key]", "order-42")
        page.fill("#produce [name=headers]", "trace-id=abc-123")
        page.fill("#produce [name=value]", json.dumps({"customer": {"tier": "gold"}, "amount": 125}))
        page.click("#produce button")
        page.wait_for_selector(".notice:has-text('produced to partition')")
        page.fill("#produce [name=key]", "plain")
        page.fill("#produce [name=headers]", "")
        page.fill("#produce [name=value]", XSS)
        page.click("#produce button")
        page.wait_for_selector(".notice:has-text('produced to partition')")
        journey.shot("produced")

        # Find it by key, by header and by a JSONPath filter.
        found = search(journey, key="order-42")
        assert len(found) == 1 and "order-42" in found[0]
        journey.shot("found-by-key")
        found = search(journey, header="trace-id=abc-123")
        assert len(found) == 1 and "abc-123" in found[0]
        journey.shot("found-by-header")
        found = search(journey, jsonpath="$[?(@.customer.tier == 'gold')]")
        assert len(found) == 1 and "order-42" in found[0]
        assert search(journey, jsonpath="$[?(@.amount > 1000)]") == []
        journey.shot("found-by-jsonpath")
        search(journey, jsonpath="$[?(@.customer.tier == 'gold')]")

        def export(label: str) -> Any:
            href = page.locator(f"a:text('{label}')").get_attribute("href") or ""
            return page.request.get(stack["control"].url + href)
        exported = export("Export JSON")
        assert [r["key"] for r in exported.json()] == ["order-42"]
        assert exported.json()[0]["headers"] == [{"key": "trace-id", "value": "abc-123"}]
        csv_export = export("Export CSV")
        assert csv_export.text().splitlines()[0] == "partition,offset,timestamp,key,value,headers"

        # Live tail: a record produced now appears without a reload.
        search(journey)
        page.click("#tail-toggle")
        page.wait_for_selector("#tail-toggle:text('Stop tail')")
        time.sleep(1.5)  # the tail's consumer is assigned at the end of each partition
        producer = Producer({"bootstrap.servers": stack["broker"].bootstrap})
        producer.produce("orders", key=b"tailed", value=b"fresh off the wire")
        assert producer.flush(30) == 0
        page.wait_for_selector("#messages tr.live td.value pre:text('fresh off the wire')")
        journey.shot("live-tail")
        page.click("#tail-toggle")

        # Markup in a value is text: no element is created and no script runs.
        found = search(journey, key="plain")
        assert len(found) == 1
        assert page.locator("#messages td.value pre").first.inner_text() == XSS
        assert page.locator("#messages img").count() == 0
        journey.shot("markup-as-text")

        # A real consumer group's lag: 60, reset to earliest after a dry run, then 100.
        page.click("nav a:text('Consumer groups')")
        page.click("#groups a:text('billing')")
        assert page.inner_text("#total-lag") == "60"
        assert page.locator("#lag th:text('Lag (s)')").count() == 1  # time lag from the broker
        journey.shot("group-lag-60")
        page.select_option("#reset [name=to]", "earliest")
        page.click("#reset button[name=dry]")
        page.wait_for_selector("#plan")
        assert page.locator("#plan tbody tr td").nth(3).inner_text() == "0"
        assert page.inner_text("#total-lag") == "60"  # a dry run changes nothing
        journey.shot("reset-dry-run")
        page.click("#reset button[name=apply]")
        page.wait_for_selector(".notice:has-text('reset to earliest')")
        assert page.inner_text("#total-lag") == "100"
        journey.shot("group-lag-100")

        # A file source connector from the form built from its ConfigDef, then RUNNING.
        page.click("nav a:text('Connect')")
        page.locator("#plugins tr", has_text="FileStreamSourceConnector").locator("a").click()
        page.fill("#connector-form [name=name]", "lines-in")
        page.fill("#connector-form [name='cfg:file']", str(source_file))
        page.fill("#connector-form [name='cfg:topic']", "lines")
        journey.shot("connector-form")
        page.click("#connector-form button")
        page.wait_for_selector("h1:has-text('Connector lines-in')")
        reload_until(journey, lambda: page.locator("#connector-state").inner_text() == "RUNNING"
                     and page.locator("#tasks .state-running").count() == 1)
        reload_until(journey, lambda: page.locator("#offsets tbody tr td code").count() >= 2)
        assert "position" in page.inner_text("#offsets")  # FileStreamSource's own offset key
        journey.shot("connector-running")

        # A backup rule's runs.
        page.click("nav a:text('Backups')")
        page.click("#rules a:text('nightly')")
        reload_until(journey, lambda: page.locator("#runs tbody tr td .state").count() > 0, 90)
        journey.shot("backup-runs")

        # Restore it into a new topic, following the progress page until it is done.
        page.fill("#restore [name=to_topic]", "ledger-restored")
        page.click("#restore button")
        page.wait_for_selector("h1:has-text('Restore of nightly')")
        page.wait_for_selector("#restore-state:text('finished')", timeout=120_000)
        assert page.inner_text("#restored-records") == "20"
        journey.shot("restore-finished")

        page.goto(stack["control"].url + "/console/configurations")
        journey.shot("configurations")
        journey.check()
