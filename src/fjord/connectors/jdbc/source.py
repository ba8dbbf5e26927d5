"""JdbcSourceConnector: tables (or one query) polled into topics named `topic.prefix + table`.

The connector lists the tables once at start (and again every `table.poll.interval.ms`,
asking for new task configs when the set changed) and spreads them over `tasks.max` tasks.
Each task keeps one connection; when the database goes away it reconnects with
`connection.attempts` / `connection.backoff.ms` and fails the task with the database's
reason only when those are used up. Offsets are Confluent's maps, so `GET /offsets` and
`PATCH /offsets` look the same as with Confluent's connector.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any

from fjord.connect.api import ConnectException, SourceConnector, SourceRecord, SourceTask, Task
from fjord.connect.config_def import ConfigDef, ConfigValue
from fjord.connectors.jdbc.config import SOURCE_CONFIG, check_connection, provider_from
from fjord.connectors.jdbc.connection import ConnectionProvider, reason
from fjord.connectors.jdbc.querier import BULK, INCREMENTING, TIMESTAMP, TableQuerier

log = logging.getLogger(__name__)
VERSION = "10.8.0-fjord"
TABLES_CONFIG = "tables"


def _included(props: Mapping[str, Any], tables: list[str]) -> list[str]:
    include = list(props.get("table.include.list") or props.get("table.whitelist") or [])
    exclude = list(props.get("table.exclude.list") or props.get("table.blacklist") or [])

    def match(table: str, names: list[str]) -> bool:
        return table in names or table.rsplit(".", 1)[-1] in names

    if include:
        return [t for t in tables if match(t, include)]
    return [t for t in tables if not match(t, exclude)]


def _check_mode(parsed: Mapping[str, Any]) -> None:
    mode = parsed["mode"]
    if not mode:
        raise ConnectException("Invalid value for configuration mode: set mode to bulk, "
                               "incrementing, timestamp or timestamp+incrementing")
    if mode in (INCREMENTING, "timestamp+incrementing") and not parsed["incrementing.column.name"]:
        raise ConnectException(f"mode={mode} needs incrementing.column.name (a strictly "
                               "increasing, non-null column such as an auto-increment id)")
    if mode in (TIMESTAMP, "timestamp+incrementing") and not parsed["timestamp.column.name"]:
        raise ConnectException(f"mode={mode} needs timestamp.column.name")
    if parsed["query"] and (parsed["table.whitelist"] or parsed["table.include.list"]):
        raise ConnectException("query and table.whitelist/table.include.list are mutually exclusive")


class JdbcSourceConnector(SourceConnector):
    def __init__(self) -> None:
        self._props: dict[str, str] = {}
        self._tables: list[str] = []
        self._stop = threading.Event()
        self._monitor: threading.Thread | None = None

    def version(self) -> str:
        return VERSION

    def config(self) -> ConfigDef:
        return SOURCE_CONFIG

    def validate(self, connector_configs: Mapping[str, str]) -> list[ConfigValue]:
        results = super().validate(connector_configs)
        try:
            _check_mode(SOURCE_CONFIG.parse(connector_configs))
        except Exception as exc:
            by_name = {v.name: v for v in results}
            by_name["mode"].add_error(str(exc))
        return check_connection(results, connector_configs)

    def start(self, props: dict[str, str]) -> None:
        parsed = SOURCE_CONFIG.parse(props)
        _check_mode(parsed)
        self._props = dict(props)
        self._stop.clear()
        if parsed["query"]:
            self._tables = []
            return
        self._tables = self._list_tables(parsed)
        interval = int(parsed["table.poll.interval.ms"]) / 1000.0
        self._monitor = threading.Thread(target=self._watch_tables, args=(parsed, interval),
                                         name="jdbc-table-monitor", daemon=True)
        self._monitor.start()

    def _list_tables(self, parsed: Mapping[str, Any]) -> list[str]:
        provider = provider_from(parsed)
        conn = provider.open_once()
        try:
            return _included(parsed, provider.dialect.list_tables(conn))
        finally:
            conn.close()

    def _watch_tables(self, parsed: Mapping[str, Any], interval: float) -> None:
        """New or dropped tables change the task configs, as Confluent's TableMonitorThread does."""
        while not self._stop.wait(interval):
            try:
                tables = self._list_tables(parsed)
            except Exception as exc:
                log.warning("JDBC source: cannot list tables: %s", reason(exc))
                continue
            if tables != self._tables:
                log.info("JDBC source: tables changed to %s", tables)
                self._tables = tables
                self.context.request_task_reconfiguration()

    def task_class(self) -> type[Task]:
        return JdbcSourceTask

    def task_configs(self, max_tasks: int) -> list[dict[str, str]]:
        if self._props.get("query"):
            return [dict(self._props)]
        groups = min(max_tasks, len(self._tables))
        if groups == 0:
            return []
        configs = []
        for index in range(groups):
            assigned = self._tables[index::groups]
            configs.append({**self._props, TABLES_CONFIG: ",".join(assigned)})
        return configs

    def stop(self) -> None:
        self._stop.set()

    def alter_offsets(self, connector_config: Mapping[str, str],
                      offsets: Mapping[Any, Mapping[str, Any] | None]) -> bool:
        return True


class JdbcSourceTask(SourceTask):
    def __init__(self) -> None:
        self._queriers: list[TableQuerier] = []
        self._provider: ConnectionProvider | None = None
        self._stopped = threading.Event()
        self._batch = 100

    def version(self) -> str:
        return VERSION

    def start(self, props: dict[str, str]) -> None:
        parsed = SOURCE_CONFIG.parse(props)
        _check_mode(parsed)
        self._stopped.clear()
        self._provider = provider_from(parsed)
        self._batch = int(parsed["batch.max.rows"])
        mode = str(parsed["mode"])
        prefix = str(parsed["topic.prefix"] or "")
        query = str(parsed["query"] or "") or None
        tables = [t for t in str(props.get(TABLES_CONFIG, "")).split(",") if t] if not query else []
        reader = self.context.offset_storage_reader()
        common: dict[str, Any] = {
            "mode": mode, "incrementing.column.name": parsed["incrementing.column.name"]}

        def make(table: str | None) -> TableQuerier:
            partition = {"protocol": "1", "table": table} if table else {"query": "query"}
            stored = reader.offset(partition) if mode != BULK else None
            if stored is None and table and mode != BULK:
                stored = reader.offset({"table": table})  # Confluent's older partition shape
            assert self._provider is not None
            return TableQuerier(
                self._provider.dialect, table=table, query=query, mode=mode,
                topic=prefix + (table.rsplit(".", 1)[-1] if table else ""),
                incrementing_column=str(common["incrementing.column.name"]),
                timestamp_columns=list(parsed["timestamp.column.name"] or []),
                numeric_mapping="best_fit" if parsed["numeric.precision.mapping"] and
                parsed["numeric.mapping"] == "none" else str(parsed["numeric.mapping"]),
                validate_non_null=bool(parsed["validate.non.null"]) and not query,
                delay_ms=int(parsed["timestamp.delay.interval.ms"]),
                poll_interval_ms=int(parsed["poll.interval.ms"]),
                query_suffix=str(parsed["query.suffix"] or ""),
                timestamp_initial=parsed["timestamp.initial"], stored_offset=stored)

        self._queriers = [make(None)] if query else [make(t) for t in tables]

    def poll(self) -> list[SourceRecord] | None:
        provider = self._provider
        if provider is None or not self._queriers:
            self._stopped.wait(0.5)
            return None
        due = [q for q in self._queriers if q.due()]
        if not due:
            import time
            wait = min(q.next_query_at for q in self._queriers) - time.monotonic()
            self._stopped.wait(max(0.0, min(wait, 0.5)))
            return None
        querier = min(due, key=lambda q: q.next_query_at)
        try:
            conn = provider.get()
            return querier.poll(conn, self._batch)
        except ConnectException:
            raise
        except Exception as exc:
            if not provider.is_connection_error(exc):
                try:
                    provider.get().rollback()
                except Exception:
                    provider.discard()
                raise ConnectException(f"Failed to read {querier.table or 'query'}: {reason(exc)}") \
                    from exc
            # The database went away mid-poll: reconnect (bounded by connection.attempts) and
            # re-read from the last offset handed to the worker.
            log.warning("JDBC source lost its connection: %s", reason(exc))
            provider.discard()
            for each in self._queriers:
                each.reset()
            return None

    def stop(self) -> None:
        self._stopped.set()
        if self._provider is not None:
            self._provider.close()
