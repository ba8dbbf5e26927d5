"""KIP-405's RemoteStorageManager over Fjord's object stores (a folder or S3).

Object names: `<prefix><topic>-<topic id>/<partition>/<20-digit base offset>-<segment id>.log`
and `.indexes`. The segment id is fresh for every copy attempt, so a retried copy never
overwrites objects a reader might be using, and what a crashed attempt left behind is known
by its id and deleted. Every method blocks: callers run them in worker threads.
"""

from __future__ import annotations

from dataclasses import replace

import crc32c

from fjord.objectstore.store import ObjectNotFound, ObjectStore, StoreError
from fjord.storage.remote.metadata import RemoteLogSegmentMetadata
from fjord.storage.remote.segment_data import LogSegmentData


class RemoteStorageError(Exception):
    """A remote operation failed (store unreachable, refused, or data corrupt or missing)."""


class CorruptRemoteData(RemoteStorageError):
    """A remote object's bytes do not match their CRC: never served."""


class RemoteStorageManager:
    def __init__(self, store: ObjectStore, prefix: str = "") -> None:
        self.store = store
        self.prefix = prefix

    def partition_prefix(self, topic: str, topic_id: str, partition: int) -> str:
        return f"{self.prefix}{topic}-{topic_id}/{partition}/"

    def keys(self, meta: RemoteLogSegmentMetadata) -> tuple[str, str]:
        stem = (self.partition_prefix(meta.topic, meta.topic_id, meta.partition)
                + f"{meta.start_offset:020d}-{meta.segment_id}")
        return f"{stem}.log", f"{stem}.indexes"

    def copy_log_segment_data(self, meta: RemoteLogSegmentMetadata, data: LogSegmentData
                              ) -> RemoteLogSegmentMetadata:
        """Upload both objects; returns the metadata completed with sizes, sections and CRCs.
        The segment becomes visible only when the caller records it COPY_SEGMENT_FINISHED."""
        log_key, index_key = self.keys(meta)
        try:
            log_crc = data.log_crc()
            with data.log_file() as file:
                self.store.put_file(log_key, file)
            indexes, sections = data.indexes()
            self.store.put(index_key, indexes)
        except (StoreError, OSError) as exc:
            raise RemoteStorageError(f"copy of segment {meta.start_offset} of "
                                     f"{meta.topic}-{meta.partition} failed: {exc}") from exc
        return replace(meta, segment_size=data.size, log_crc=log_crc,
                       indexes_size=len(indexes), indexes_crc=crc32c.crc32c(indexes),
                       sections=sections)

    def fetch_indexes(self, meta: RemoteLogSegmentMetadata) -> bytes:
        _, index_key = self.keys(meta)
        try:
            blob = self.store.get(index_key)
        except ObjectNotFound as exc:
            raise CorruptRemoteData(f"remote index object {index_key} is missing") from exc
        except StoreError as exc:
            raise RemoteStorageError(f"cannot read {index_key}: {exc}") from exc
        if len(blob) != meta.indexes_size or crc32c.crc32c(blob) != meta.indexes_crc:
            raise CorruptRemoteData(f"remote index object {index_key} fails its CRC check "
                                    f"({len(blob)} bytes, expected {meta.indexes_size})")
        return blob

    def fetch_log_range(self, meta: RemoteLogSegmentMetadata, start: int, length: int) -> bytes:
        log_key, _ = self.keys(meta)
        try:
            return self.store.get_range(log_key, start, length)
        except ObjectNotFound as exc:
            raise CorruptRemoteData(f"remote segment object {log_key} is missing") from exc
        except StoreError as exc:
            raise RemoteStorageError(f"cannot read {log_key}: {exc}") from exc

    def delete_log_segment_data(self, meta: RemoteLogSegmentMetadata) -> None:
        """Idempotent: deleting what is already gone succeeds (as S3 does)."""
        for key in self.keys(meta):
            try:
                self.store.delete(key)
            except StoreError as exc:
                raise RemoteStorageError(f"cannot delete {key}: {exc}") from exc

    def close(self) -> None:
        self.store.close()
