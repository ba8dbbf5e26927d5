"""Helpers of the observability tests: a broker with its admin listener, scraping and
parsing /metrics, promtool, and a real Prometheus server process."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.support.broker import BrokerProcess, free_port
from tests.support.process import ServiceProcess

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$')
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


class AdminBroker(BrokerProcess):
    """A broker whose admin listener (`admin.listener`) is on a free port."""

    def __init__(self, data_dir: Path, overrides: dict[str, str] | None = None) -> None:
        self.admin_port = free_port()
        super().__init__(data_dir, {"admin.listener": f"http://127.0.0.1:{self.admin_port}",
                                    **(overrides or {})})

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"


def admin_broker(data_dir: Path, overrides: dict[str, str] | None = None) -> AdminBroker:
    broker = AdminBroker(data_dir, overrides)
    broker.start()
    return broker


def get(url: str, accept: str | None = None, timeout: float = 30) -> tuple[int, str, str]:
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read().decode()


def get_json(url: str) -> tuple[int, Any]:
    status, _type, body = get(url)
    return status, json.loads(body)


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    result = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        labels = dict(_LABEL.findall(match.group(3) or ""))
        result.append((match.group(1), labels, float(match.group(4))))
    return result


def value(text: str, name: str, **labels: str) -> float | None:
    for sample_name, sample_labels, sample_value in samples(text):
        if sample_name == name and sample_labels == labels:
            return sample_value
    return None


def promtool_check(text: str) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: run scripts/setup.sh --test (installs Debian's prometheus)"
    result = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, f"promtool check metrics failed:\n{result.stdout}{result.stderr}"


class PrometheusProcess(ServiceProcess):
    """Debian's Prometheus server on a free port, scraping the given targets every second."""

    what = "prometheus"

    def __init__(self, workdir: Path, targets: dict[str, str]) -> None:
        self.workdir = workdir
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        jobs = []
        for job, url in targets.items():
            parts = urllib.parse.urlsplit(url)
            jobs.append(f"  - job_name: {job}\n    metrics_path: {parts.path or '/metrics'}\n"
                        f"    static_configs:\n      - targets: ['{parts.netloc}']\n")
        self.config = workdir / "prometheus.yml"
        self.config.write_text("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                               "scrape_configs:\n" + "".join(jobs))
        super().__init__(workdir / "prometheus.log")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> PrometheusProcess:
        binary = shutil.which("prometheus")
        assert binary, "prometheus is missing: run scripts/setup.sh --test (installs Debian's prometheus)"

        def ready() -> bool:
            return get(self.url + "/-/ready", timeout=2)[0] == 200

        self.spawn([binary, f"--config.file={self.config}", f"--storage.tsdb.path={self.workdir / 'tsdb'}",
                    f"--web.listen-address=127.0.0.1:{self.port}"], ready, timeout)
        return self

    def query(self, expression: str) -> list[tuple[dict[str, str], float]]:
        """An instant query through Prometheus's HTTP API: [(labels, value)]."""
        status, body = get_json(f"{self.url}/api/v1/query?" + urllib.parse.urlencode({"query": expression}))
        assert status == 200 and body["status"] == "success", body
        return [(item["metric"], float(item["value"][1])) for item in body["data"]["result"]]

    def targets_up(self) -> dict[str, str]:
        _status, body = get_json(self.url + "/api/v1/targets")
        return {t["labels"]["job"]: t["health"] for t in body["data"]["activeTargets"]}
