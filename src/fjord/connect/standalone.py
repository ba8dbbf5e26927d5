"""Standalone mode: one worker, connector configs and statuses in memory, source offsets in a file.

Kafka's StandaloneHerder: connectors come from the files named on the command line (and REST),
and nothing is shared with other workers.
"""

from __future__ import annotations

from fjord.connect.abstract_herder import AbstractHerder
from fjord.connect.plugins import Plugins
from fjord.connect.storage.config import MemoryConfigBackingStore
from fjord.connect.storage.offsets import FileOffsetBackingStore, MemoryOffsetBackingStore, OffsetBackingStore
from fjord.connect.storage.status import MemoryStatusBackingStore
from fjord.connect.worker_config import WorkerConfig


class StandaloneHerder(AbstractHerder):
    mode = "standalone"

    def __init__(self, config: WorkerConfig, plugins: Plugins | None = None) -> None:
        filename = config.get("offset.storage.file.filename")
        offsets: OffsetBackingStore = (FileOffsetBackingStore(filename) if filename
                                       else MemoryOffsetBackingStore())
        super().__init__(config, plugins or Plugins(config.plugin_path), offsets,
                         MemoryConfigBackingStore(), MemoryStatusBackingStore())
