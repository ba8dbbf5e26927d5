"""Dynamic broker configs (KIP-226): the BROKER config resource changed at runtime, for this
broker (resource name = its id) or as the cluster-wide default (resource name ""), kept in
the cluster metadata so they survive a restart, and applied at once — topic logs take the
new defaults, the admin endpoint the new metrics level, clients the new advertised address.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from kio.schema.errors import ErrorCode

from fjord.config.broker import BROKER_KEYS
from fjord.config.definitions import ConfigError

if TYPE_CHECKING:
    from fjord.broker.state import BrokerState

log = logging.getLogger("fjord.config")

EXTRA_KEY = "dynamic_broker_configs"  # where the metadata store keeps them: scope -> key -> value


class BrokerConfigError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def stored(state: BrokerState) -> dict[str, dict[str, str]]:
    raw = state.metadata.extra.get(EXTRA_KEY, {})
    return {scope: dict(values) for scope, values in raw.items()}


def check_scope(state: BrokerState, scope: str) -> None:
    if scope not in ("", str(state.node_id)):
        raise BrokerConfigError(ErrorCode.invalid_request,
                                f"Unexpected broker id, expected {state.node_id} or empty string, "
                                f"but received {scope}")


def _listed(names: set[str]) -> str:
    return "[" + ", ".join(sorted(names)) + "]"


def validate(scope: str, values: dict[str, str], changed: set[str]) -> None:
    """Kafka's checks (DynamicBrokerConfig.validateConfigs), answered with INVALID_REQUEST."""
    unknown = [name for name in changed if name not in BROKER_KEYS]
    if unknown:
        raise BrokerConfigError(ErrorCode.invalid_request, str(BROKER_KEYS.unknown(unknown[0], "broker")))
    static = {name for name in changed if not BROKER_KEYS[name].dynamic}
    if static:
        raise BrokerConfigError(ErrorCode.invalid_request,
                                f"Cannot update these configs dynamically: {_listed(static)}")
    if scope == "":
        per_broker = {name for name in changed if BROKER_KEYS[name].per_broker}
        if per_broker:
            raise BrokerConfigError(ErrorCode.invalid_request,
                                    "Cannot update these configs at default cluster level, broker id "
                                    f"must be specified: {_listed(per_broker)}")
    for name, value in values.items():
        try:
            BROKER_KEYS[name].parse(value)
        except ConfigError as exc:
            raise BrokerConfigError(ErrorCode.invalid_request, str(exc)) from None


def alter(state: BrokerState, scope: str, edit: Callable[[dict[str, str]], dict[str, str]],
          validate_only: bool) -> None:
    """Change the dynamic configs of one scope: `edit` gets the current ones, returns the new."""
    check_scope(state, scope)
    everything = stored(state)
    current = everything.get(scope, {})
    wanted = edit(dict(current))
    changed = {k for k in set(current) | set(wanted) if current.get(k) != wanted.get(k)}
    validate(scope, wanted, changed)
    if validate_only or not changed:
        return
    if wanted:
        everything[scope] = wanted
    else:
        everything.pop(scope, None)
    previous = state.metadata.extra.get(EXTRA_KEY)
    state.metadata.extra[EXTRA_KEY] = everything
    try:
        state.metadata.save_extra(EXTRA_KEY)
    except OSError as exc:
        state.metadata.extra[EXTRA_KEY] = previous  # memory and disk must agree
        raise BrokerConfigError(ErrorCode.kafka_storage_error,
                                f"Cannot persist the broker configs: {exc}") from None
    apply(state)
    where = "the cluster default" if scope == "" else f"broker {scope}"
    for name in sorted(changed):
        log.info("dynamic config %s of %s is now %s", name, where,
                 wanted.get(name, "(deleted)") if not BROKER_KEYS[name].sensitive else "[hidden]")


def apply(state: BrokerState) -> None:
    """Make the stored dynamic configs effective everywhere they are read from a cache."""
    state.config.load_dynamic(stored(state))
    for name, info in state.metadata.topics.items():
        state.logs.reconfigure(name, state.log_config(info))
    if state.on_reconfigure is not None:
        state.on_reconfigure()
