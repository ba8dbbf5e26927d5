"""Producer ids for idempotent (and later transactional) producers.

Ids are reserved from the metadata store in blocks, so the store is written once per
block rather than once per producer, and an id is never handed out twice across restarts.
"""

from __future__ import annotations

from fjord.metadata.store import MetadataStore

BLOCK = 1000


class ProducerIdManager:
    def __init__(self, store: MetadataStore) -> None:
        self.store = store
        self._next = 0
        self._end = 0

    def next_id(self) -> int:
        if self._next >= self._end:
            self._next = self.store.allocate_producer_ids(BLOCK)
            self._end = self._next + BLOCK
        value = self._next
        self._next += 1
        return value
