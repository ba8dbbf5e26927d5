"""The control plane's state in one JSON file, replaced atomically on every change.

One small file is enough: the control plane manages tens of clusters, not millions, and
a rename after fsync means a crash leaves either the old or the new state, never half.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict
from pathlib import Path
from typing import Any

from fjord.control.model import Cluster, Configuration, Operation, Revision, Step
from fjord.fsutil import atomic_write

FILE = "control-plane.json"


class Store:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / FILE
        self.lock = threading.RLock()
        self.clusters: dict[str, Cluster] = {}
        self.configurations: dict[str, Configuration] = {}
        self.operations: dict[str, Operation] = {}
        if self.path.exists():
            self._load(json.loads(self.path.read_text(encoding="utf-8")))

    def cluster_dir(self, cluster: Cluster) -> Path:
        return self.data_dir / "clusters" / cluster.arn.rsplit("/", 1)[-1]

    def _load(self, doc: dict[str, Any]) -> None:
        for item in doc.get("clusters", []):
            cluster = Cluster(**item)
            self.clusters[cluster.arn] = cluster
        for item in doc.get("configurations", []):
            revisions = [Revision(**rev) for rev in item.pop("revisions", [])]
            config = Configuration(**item, revisions=revisions)
            self.configurations[config.arn] = config
        for item in doc.get("operations", []):
            steps = [Step(**step) for step in item.pop("steps", [])]
            for key in ("source_configuration", "target_configuration"):
                if item.get(key) is not None:
                    item[key] = tuple(item[key])
            operation = Operation(**item, steps=steps)
            self.operations[operation.arn] = operation

    def save(self) -> None:
        with self.lock:
            doc = {
                "clusters": [asdict(c) for c in self.clusters.values()],
                "configurations": [asdict(c) for c in self.configurations.values()],
                "operations": [asdict(o) for o in self.operations.values()],
            }
            atomic_write(self.path, json.dumps(doc, indent=1, sort_keys=True))
