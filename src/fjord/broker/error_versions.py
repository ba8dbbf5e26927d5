"""Error codes a request's version may carry, and what older versions get instead.

Kafka adds error codes with request versions: a client that sent an older version cannot
decode a newer code and reports an unknown error (aiokafka reported "UnknownError" for a
fenced producer's AddPartitionsToTxn v0). KIP-588 introduced PRODUCER_FENCED (90) at
InitProducerId v4, AddPartitionsToTxn v2, AddOffsetsToTxn v2 and EndTxn v2; Kafka's
KafkaApis answers older versions INVALID_PRODUCER_EPOCH (47), which those clients treat the
same way. TxnOffsetCommit never carries PRODUCER_FENCED (Kafka maps it to
INVALID_PRODUCER_EPOCH for every version), nor does Produce. KIP-890's TRANSACTION_ABORTABLE
is not listed because Fjord never sends it. One table, applied to every response by the
server, so a handler cannot forget it.
"""

from __future__ import annotations

from typing import Any

from kio.schema.errors import ErrorCode

# api key -> error code -> (first version that may carry it, what older versions get)
_FENCED = ErrorCode.producer_fenced
_EPOCH = ErrorCode.invalid_producer_epoch
INTRODUCED: dict[int, dict[int, tuple[int, ErrorCode]]] = {
    0: {_FENCED: (1 << 15, _EPOCH)},  # Produce: never
    22: {_FENCED: (4, _EPOCH)},  # InitProducerId
    24: {_FENCED: (2, _EPOCH)},  # AddPartitionsToTxn
    25: {_FENCED: (2, _EPOCH)},  # AddOffsetsToTxn
    26: {_FENCED: (2, _EPOCH)},  # EndTxn
    28: {_FENCED: (1 << 15, _EPOCH)},  # TxnOffsetCommit: never
}


def for_version(api_key: int, version: int, code: int) -> int:
    """The code to send a client of `version` for `code`."""
    rule = INTRODUCED.get(api_key, {}).get(code)
    if rule is None or version >= rule[0]:
        return code
    return rule[1]


def downgrade(api_key: int, version: int, body: Any) -> None:
    """Rewrite, in place, every `*error_code` field of a response body for its version."""
    if api_key not in INTRODUCED:
        return
    _walk(api_key, version, body)


def _walk(api_key: int, version: int, node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key.endswith("error_code") and isinstance(value, int):
                node[key] = for_version(api_key, version, value)
            elif isinstance(value, (dict, list)):
                _walk(api_key, version, value)
    elif isinstance(node, list):
        for item in node:
            if isinstance(item, (dict, list)):
                _walk(api_key, version, item)
