"""The transaction coordinator: transactional ids, their producer epochs and open transactions.

Kafka's protocol, one node: InitProducerId fences older incarnations of a transactional id
(bumping the epoch and aborting what they left open); AddPartitionsToTxn/AddOffsetsToTxn
record what a transaction touches; EndTxn writes COMMIT or ABORT markers into every
partition of it and, on commit, makes its TxnOffsetCommit offsets visible in the group.
Markers are written synchronously, so the PrepareCommit/PrepareAbort states are never
observable from outside and no CONCURRENT_TRANSACTIONS window exists.

State lives in `transactions.json` beside the metadata, replaced atomically on every
change (transactions are few and coarse compared with records). Transactions left open
past their timeout are aborted, and their producer's epoch bumped, as Kafka does.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from kio.schema.errors import ErrorCode

from fjord.coordinator.offsets import CommittedOffset
from fjord.coordinator.producer_ids import ProducerIdManager
from fjord.fsutil import atomic_write
from fjord.storage.logdirs import LogDirError
from fjord.storage.manager import LogManager

log = logging.getLogger("fjord.coordinator.transactions")

FILE_NAME = "transactions.json"
MAX_EPOCH = 32767


class TxnState(StrEnum):
    """Kafka's TransactionState names, as DescribeTransactions and ListTransactions report them."""

    EMPTY = "Empty"
    ONGOING = "Ongoing"
    COMPLETE_COMMIT = "CompleteCommit"
    COMPLETE_ABORT = "CompleteAbort"


class OffsetSink(Protocol):
    def commit(self, group_id: str, entries: dict[tuple[str, int], CommittedOffset]) -> Any: ...


@dataclass
class Transaction:
    transactional_id: str
    producer_id: int
    epoch: int
    timeout_ms: int
    state: TxnState = TxnState.EMPTY
    partitions: set[tuple[str, int]] = field(default_factory=set)
    groups: set[str] = field(default_factory=set)
    # group -> (topic, partition) -> (offset, leader epoch, metadata)
    offsets: dict[str, dict[tuple[str, int], tuple[int, int, str]]] = field(default_factory=dict)
    started_ms: int = 0
    updated_ms: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.transactional_id, "pid": self.producer_id, "epoch": self.epoch,
            "timeout_ms": self.timeout_ms, "state": self.state,
            "partitions": sorted(self.partitions), "groups": sorted(self.groups),
            "offsets": {g: [[t, p, *v] for (t, p), v in o.items()] for g, o in self.offsets.items()},
            "started_ms": self.started_ms, "updated_ms": self.updated_ms,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Transaction:
        """One entry of transactions.json; ValueError (naming the problem) if malformed."""
        try:
            return cls._from_json(raw)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"malformed transaction entry ({type(exc).__name__}: {exc})") from None

    @classmethod
    def _from_json(cls, raw: dict[str, Any]) -> Transaction:
        if not isinstance(raw["id"], str) or not isinstance(raw["state"], str):
            raise ValueError("id and state must be strings")
        return cls(
            raw["id"], int(raw["pid"]), int(raw["epoch"]), int(raw["timeout_ms"]),
            TxnState(raw["state"]),
            {(t, int(p)) for t, p in raw["partitions"]}, set(raw["groups"]),
            {g: {(t, int(p)): (int(o), int(e), m) for t, p, o, e, m in rows}
             for g, rows in raw["offsets"].items()},
            int(raw.get("started_ms", 0)), int(raw.get("updated_ms", 0)),
        )


class TxnError(Exception):
    def __init__(self, code: ErrorCode, message: str = "") -> None:
        super().__init__(message or code.name)
        self.code = code


def _ms() -> int:
    return int(time.time() * 1000)


class TransactionCoordinator:
    def __init__(self, directory: Path, producer_ids: ProducerIdManager, logs: LogManager,
                 max_timeout_ms: int, offsets: OffsetSink | None = None,
                 id_expiration_ms: int = 604_800_000) -> None:
        self.id_expiration_ms = id_expiration_ms
        self.path = directory / FILE_NAME
        self.producer_ids = producer_ids
        self.logs = logs
        self.max_timeout_ms = max_timeout_ms
        self.offsets = offsets
        self.txns: dict[str, Transaction] = {}
        if self.path.exists():
            try:
                entries = json.loads(self.path.read_text())
                if not isinstance(entries, list):
                    raise ValueError("not a list of transactions")
                loaded = [Transaction.from_json(raw) for raw in entries]
            except (ValueError, UnicodeDecodeError) as exc:
                raise LogDirError(
                    f"{self.path} is not valid transaction state ({exc}); restore it from a "
                    f"backup, or move it aside to start without the open transactions it "
                    f"records (they would then never be aborted)") from None
            for txn in loaded:
                self.txns[txn.transactional_id] = txn

    def _save(self) -> None:
        atomic_write(self.path, json.dumps([t.to_json() for t in self.txns.values()]))

    # --- the APIs ------------------------------------------------------------------------

    def init_producer_id(self, transactional_id: str, timeout_ms: int, producer_id: int = -1,
                         epoch: int = -1) -> tuple[int, int]:
        if not 0 < timeout_ms <= self.max_timeout_ms:
            raise TxnError(ErrorCode.invalid_transaction_timeout,
                           f"transaction timeout {timeout_ms} ms is not in (0, "
                           f"transaction.max.timeout.ms={self.max_timeout_ms}]")
        txn = self.txns.get(transactional_id)
        if txn is None:
            txn = Transaction(transactional_id, self.producer_ids.next_id(), 0, timeout_ms)
            self.txns[transactional_id] = txn
        else:
            if producer_id >= 0 and (producer_id, epoch) != (txn.producer_id, txn.epoch):
                raise TxnError(ErrorCode.producer_fenced, "a newer producer owns this id")
            # The new epoch comes first, so the ABORT markers of what the old incarnation
            # left open carry it and fence the old producer in every partition.
            if txn.epoch >= MAX_EPOCH - 1:
                if txn.state == TxnState.ONGOING:
                    txn.epoch += 1
                    self._complete(txn, commit=False)
                txn.producer_id, txn.epoch = self.producer_ids.next_id(), 0
            else:
                txn.epoch += 1
                if txn.state == TxnState.ONGOING:
                    self._complete(txn, commit=False)
            txn.timeout_ms = timeout_ms
            txn.state = TxnState.EMPTY
        txn.updated_ms = _ms()
        self._save()
        return txn.producer_id, txn.epoch

    def _owned(self, transactional_id: str, producer_id: int, epoch: int) -> Transaction:
        txn = self.txns.get(transactional_id)
        if txn is None or txn.producer_id != producer_id:
            raise TxnError(ErrorCode.invalid_producer_id_mapping,
                           "the producer id does not belong to this transactional id")
        if epoch < txn.epoch:
            raise TxnError(ErrorCode.producer_fenced, "a newer producer owns this id")
        if epoch > txn.epoch:
            raise TxnError(ErrorCode.invalid_producer_epoch, "unknown producer epoch")
        txn.updated_ms = _ms()
        return txn

    def _begin(self, txn: Transaction) -> None:
        if txn.state != TxnState.ONGOING:
            txn.state = TxnState.ONGOING
            txn.partitions.clear()
            txn.groups.clear()
            txn.offsets.clear()
            txn.started_ms = _ms()

    def add_partitions(self, transactional_id: str, producer_id: int, epoch: int,
                       partitions: list[tuple[str, int]]) -> dict[tuple[str, int], ErrorCode]:
        txn = self._owned(transactional_id, producer_id, epoch)
        missing = [tp for tp in partitions if self.logs.get(*tp) is None]
        if missing:
            return {tp: (ErrorCode.unknown_topic_or_partition if tp in missing
                         else ErrorCode.operation_not_attempted) for tp in partitions}
        self._begin(txn)
        txn.partitions.update(partitions)
        self._save()
        return {tp: ErrorCode.none for tp in partitions}

    def add_offsets(self, transactional_id: str, producer_id: int, epoch: int, group: str) -> None:
        txn = self._owned(transactional_id, producer_id, epoch)
        self._begin(txn)
        txn.groups.add(group)
        self._save()

    def stage_offsets(self, transactional_id: str, producer_id: int, epoch: int, group: str,
                      offsets: dict[tuple[str, int], tuple[int, int, str]]) -> None:
        txn = self._owned(transactional_id, producer_id, epoch)
        if txn.state != TxnState.ONGOING or group not in txn.groups:
            raise TxnError(ErrorCode.invalid_txn_state,
                           f"group {group} was not added to the transaction (AddOffsetsToTxn)")
        txn.offsets.setdefault(group, {}).update(offsets)
        self._save()

    def end(self, transactional_id: str, producer_id: int, epoch: int, commit: bool) -> None:
        txn = self._owned(transactional_id, producer_id, epoch)
        if txn.state != TxnState.ONGOING:
            done = TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT
            if txn.state == done:
                return  # a retried EndTxn for what already completed
            raise TxnError(ErrorCode.invalid_txn_state,
                           f"no transaction is ongoing (state {txn.state})")
        self._complete(txn, commit)
        self._save()

    def _complete(self, txn: Transaction, commit: bool) -> None:
        now = _ms()
        for topic, partition in sorted(txn.partitions):
            plog = self.logs.get(topic, partition)
            if plog is None:
                continue  # deleted while the transaction was open
            plog.append_marker(txn.producer_id, txn.epoch, commit, now)
        if commit and self.offsets is not None:
            for group, staged in txn.offsets.items():
                entries = {tp: CommittedOffset(offset, leader_epoch, metadata, now)
                           for tp, (offset, leader_epoch, metadata) in staged.items()}
                if entries:
                    self.offsets.commit(group, entries)
        txn.state = TxnState.COMPLETE_COMMIT if commit else TxnState.COMPLETE_ABORT
        txn.partitions.clear()
        txn.groups.clear()
        txn.offsets.clear()
        log.debug("transaction %s %s", txn.transactional_id, "committed" if commit else "aborted")

    # --- timeouts -------------------------------------------------------------------------

    def abort_expired(self, now_ms: int) -> list[str]:
        expired = [t for t in self.txns.values()
                   if t.state == TxnState.ONGOING and now_ms - t.started_ms > t.timeout_ms]
        for txn in expired:
            log.info("aborting transaction %s: open longer than %d ms", txn.transactional_id,
                     txn.timeout_ms)
            txn.epoch += 1  # the ABORT markers carry the new epoch: the late producer is fenced
            self._complete(txn, commit=False)
        # transactional.id.expiration.ms: forget ids whose producer has gone quiet.
        stale = [t.transactional_id for t in self.txns.values()
                 if t.state != TxnState.ONGOING and now_ms - t.updated_ms > self.id_expiration_ms]
        for txn_id in stale:
            del self.txns[txn_id]
        if expired or stale:
            self._save()
        return [t.transactional_id for t in expired]

    def background(self) -> list[tuple[str, float, Callable[[], object]]]:
        """The loops the broker runs for this coordinator: (name, interval s, tick)."""
        return [("transactions", 1.0, self.expire)]

    def expire(self) -> None:
        """Abort transactions past their timeout; forget ids past their expiration."""
        self.abort_expired(_ms())

    def stop(self) -> None:
        """Nothing outlives the broker: markers are written synchronously."""

    def describe(self) -> list[Transaction]:
        return list(self.txns.values())
