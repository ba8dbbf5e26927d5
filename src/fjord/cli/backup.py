"""Back topics up to object storage on a schedule, and restore them: `fjord backup ...`.

A backup rule is an object-storage sink connector in a Kafka Connect cluster; this command
is a thin client of the Connect REST API (`--connect`, default http://127.0.0.1:8083), so a
rule lives and survives exactly as a connector does. It reaches Kafka only to check that
topics exist and to create a restore's target topic, which the REST API cannot do.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from fjord.backup import restore as restoring
from fjord.backup.rules import (
    RuleError,
    StoreSettings,
    check_store,
    check_topics,
    format_interval,
    is_rule,
    open_rule_store,
    parse_interval,
    rule_config,
)
from fjord.cli.output import COMMAND_CONFIG, CONNECT, client_settings
from fjord.connect.rest_client import AlreadyExists, ConnectClient, ConnectError
from fjord.connectors.objectstore import config as cfg
from fjord.connectors.objectstore.runlog import read_runs
from fjord.objectstore.store import StoreError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console()
if not console.is_terminal:  # piped output: full URLs and errors, not a table cut at 80 columns
    console = Console(width=250)

ConnectOpt = CONNECT
BootstrapOpt = typer.Option("127.0.0.1:9092", "--bootstrap-server", envvar="FJORD_BOOTSTRAP_SERVERS",
                            help="Kafka, only to check topics exist / create a restore target.")


def fail(message: str) -> typer.Exit:
    typer.echo(f"fjord backup: {message}", err=True)
    return typer.Exit(1)


def _client(url: str) -> ConnectClient:
    return ConnectClient(url)


def _rule(client: ConnectClient, name: str) -> dict[str, str]:
    try:
        config = client.config(name)
    except ConnectError as exc:
        if exc.status == 404:
            raise fail(f"no backup rule named {name!r}") from None
        raise fail(str(exc)) from None
    if not is_rule(config):
        raise fail(f"connector {name!r} is not a backup rule ({config.get('connector.class')})")
    return config


def _store_settings(to: str, endpoint: str | None, region: str | None, access_key: str | None,
                    secret_key: str | None, path_style: bool | None) -> StoreSettings:
    return StoreSettings(to, endpoint, region, access_key, secret_key, path_style)


@app.command("create")
def create(
    name: str = typer.Argument(..., help="Rule name (the connector's name)."),
    topics: str = typer.Option(None, "--topics", help="Comma-separated topics."),
    topics_regex: str = typer.Option(None, "--topics-regex", help="Topics matching this regex."),
    to: str = typer.Option(..., "--to", help="s3://bucket/prefix/ or file:///dir/prefix/"),
    endpoint: str = typer.Option(None, "--endpoint", help="S3-compatible endpoint URL."),
    region: str = typer.Option(None, "--region"),
    access_key: str = typer.Option(None, "--access-key", help="Else the worker's AWS credentials."),
    secret_key: str = typer.Option(None, "--secret-key"),
    path_style: bool = typer.Option(None, "--path-style/--virtual-hosted", help="S3 addressing."),
    interval: str = typer.Option("5m", "--interval", help="A run every this long (>= 10s)."),
    start: str = typer.Option("earliest", "--start", help="earliest | latest | OFFSET | ISO-TIME"),
    fmt: str = typer.Option("jsonl", "--format", help="jsonl | avro | parquet"),
    compression: str = typer.Option("none", "--compression", help="none | gzip | zstd"),
    flush_size: int = typer.Option(None, "--flush-size", help="Records per object at most."),
    tasks: int = typer.Option(1, "--tasks", min=1),
    bootstrap: str = BootstrapOpt,
    command_config: Path | None = COMMAND_CONFIG,
    connect: str = ConnectOpt,
) -> None:
    """Create a backup rule; refused with one line if anything about it cannot work."""
    if bool(topics) == bool(topics_regex):
        raise fail("give exactly one of --topics or --topics-regex")
    topic_list = [t.strip() for t in (topics or "").split(",") if t.strip()]
    try:
        interval_ms = parse_interval(interval)
        store = _store_settings(to, endpoint, region, access_key, secret_key, path_style)
        config = rule_config(name, store, topic_list, topics_regex, interval_ms, start, fmt,
                             compression, flush_size, tasks)
        check_store(config)
        if topic_list:
            check_topics(bootstrap, topic_list, security=client_settings(bootstrap, command_config))
    except (RuleError, ValueError) as exc:
        raise fail(str(exc)) from None
    client = _client(connect)
    try:
        client.create(name, config)
    except ConnectError as exc:
        message = (f"a rule named {name!r} exists" if isinstance(exc, AlreadyExists)
                   else str(exc).splitlines()[0])
        raise fail(message) from None
    console.print(f"backup rule [bold]{name}[/] created: {topics or topics_regex} → {to} every "
                  f"{format_interval(interval_ms)}, starting at {start}")


def _rules(client: ConnectClient) -> dict[str, Any]:
    try:
        everything = client.connectors_expanded()
    except ConnectError as exc:
        raise fail(str(exc)) from None
    return {name: entry for name, entry in sorted(everything.items())
            if is_rule(entry.get("info", {}).get("config", {}))}


def _state(entry: dict[str, Any]) -> str:
    status = entry.get("status", {})
    state = status.get("connector", {}).get("state", "?")
    failed = [t for t in status.get("tasks", []) if t.get("state") == "FAILED"]
    return "FAILED" if failed else state


@app.command("list")
def list_rules(connect: str = ConnectOpt) -> None:
    """Every backup rule with its state, topics, destination and interval."""
    table = Table("NAME", "STATE", "TOPICS", "DESTINATION", "INTERVAL", "START", box=None)
    for name, entry in _rules(_client(connect)).items():
        config = entry["info"]["config"]
        table.add_row(name, _state(entry), config.get("topics") or f"/{config.get('topics.regex')}/",
                      config.get(cfg.STORE_URL, ""),
                      format_interval(int(config.get(cfg.INTERVAL_MS, "300000"))),
                      config.get(cfg.START, "earliest"))
    console.print(table)


def _fmt_time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone().strftime("%Y-%m-%d %H:%M:%S")


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "kB", "MB", "GB"):  # decimal units, as rich's progress columns
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{n} B"


@app.command("describe")
def describe(name: str = typer.Argument(...),
             runs: int = typer.Option(20, "--runs", help="How many of the latest runs to show."),
             connect: str = ConnectOpt) -> None:
    """A rule's settings, state and run history (time, records, bytes, objects, errors)."""
    client = _client(connect)
    config = _rule(client, name)
    try:
        status = client.status(name)
    except ConnectError as exc:
        raise fail(str(exc)) from None
    console.print(f"[bold]{name}[/]  {status['connector']['state']}")
    for label, value in (
            ("topics", config.get("topics") or f"regex {config.get('topics.regex')}"),
            ("destination", config.get(cfg.STORE_URL)),
            ("endpoint", config.get("s3.endpoint") or "-"),
            ("interval", format_interval(int(config.get(cfg.INTERVAL_MS, "300000")))),
            ("start", config.get(cfg.START, "earliest")),
            ("format", f"{config.get(cfg.FORMAT, 'jsonl')} ({config.get(cfg.COMPRESSION, 'none')})")):
        console.print(f"  {label:<12} {value}")
    for task in status.get("tasks", []):
        line = f"  task {task['id']:<7} {task['state']} on {task.get('worker_id', '?')}"
        console.print(line)
        if task.get("trace"):
            console.print(f"    {task['trace'].strip().splitlines()[-1]}")
    location, store = open_rule_store(config)
    try:
        history = read_runs(store, location.prefix, name, runs)
    except StoreError as exc:
        console.print(f"run history unavailable: {exc}")
        return
    table = Table("RUN", "TASK", "STATUS", "RECORDS", "BYTES", "OBJECTS", "ERRORS", box=None)
    for run in history:
        table.add_row(_fmt_time(run.started_ms), str(run.task), run.status, str(run.records),
                      _size(run.bytes), str(run.objects), "; ".join(run.errors) or "-")
    console.print(f"runs (latest {len(history)}):")
    console.print(table)


@app.command("edit")
def edit(
    name: str = typer.Argument(...),
    topics: str = typer.Option(None, "--topics"),
    topics_regex: str = typer.Option(None, "--topics-regex"),
    to: str = typer.Option(None, "--to"),
    endpoint: str = typer.Option(None, "--endpoint"),
    region: str = typer.Option(None, "--region"),
    access_key: str = typer.Option(None, "--access-key"),
    secret_key: str = typer.Option(None, "--secret-key"),
    interval: str = typer.Option(None, "--interval"),
    start: str = typer.Option(None, "--start"),
    fmt: str = typer.Option(None, "--format"),
    compression: str = typer.Option(None, "--compression"),
    flush_size: int = typer.Option(None, "--flush-size"),
    bootstrap: str = BootstrapOpt,
    connect: str = ConnectOpt,
) -> None:
    """Change a rule; partitions already backed up continue after their last object."""
    client = _client(connect)
    config = _rule(client, name)
    changes: dict[str, str | None] = {}
    try:
        if topics is not None:
            topic_list = [t.strip() for t in topics.split(",") if t.strip()]
            check_topics(bootstrap, topic_list)
            changes.update({"topics": ",".join(topic_list), "topics.regex": None})
        if topics_regex is not None:
            changes.update({"topics.regex": topics_regex, "topics": None})
        for key, value in ((cfg.STORE_URL, to), ("s3.endpoint", endpoint), ("s3.region", region),
                           ("aws.access.key.id", access_key), ("aws.secret.access.key", secret_key),
                           (cfg.FORMAT, fmt), (cfg.COMPRESSION, compression)):
            if value is not None:
                changes[key] = value
        if interval is not None:
            changes[cfg.INTERVAL_MS] = str(parse_interval(interval))
        if start is not None:
            position = cfg.StartPosition.parse(start)
            changes[cfg.START] = start
            changes["consumer.override.auto.offset.reset"] = "latest" if position.kind == "latest" \
                else "earliest"
        if flush_size is not None:
            changes[cfg.FLUSH_SIZE] = str(flush_size)
        if not changes:
            raise RuleError("nothing to change")
        updated = {k: v for k, v in {**config, **changes}.items() if v is not None}
        if any(k in changes for k in (cfg.STORE_URL, "s3.endpoint", "s3.region", "aws.access.key.id",
                                      "aws.secret.access.key")):
            check_store(updated)
    except (RuleError, ValueError) as exc:
        raise fail(str(exc)) from None
    try:
        client.put_config(name, {k: str(v) for k, v in updated.items()})
    except ConnectError as exc:
        raise fail(str(exc).splitlines()[0]) from None
    console.print(f"backup rule [bold]{name}[/] updated: {', '.join(sorted(changes))}")


@app.command("pause")
def pause(name: str = typer.Argument(...), connect: str = ConnectOpt) -> None:
    """Stop running a rule until resumed; it continues where it stopped."""
    client = _client(connect)
    _rule(client, name)
    client.pause(name)
    console.print(f"backup rule [bold]{name}[/] paused")


@app.command("resume")
def resume(name: str = typer.Argument(...), connect: str = ConnectOpt) -> None:
    client = _client(connect)
    _rule(client, name)
    client.resume(name)
    console.print(f"backup rule [bold]{name}[/] resumed")


@app.command("delete")
def delete(name: str = typer.Argument(...), connect: str = ConnectOpt) -> None:
    """Delete a rule. The objects it wrote stay where they are (restore with --from)."""
    client = _client(connect)
    config = _rule(client, name)
    client.delete(name)
    console.print(f"backup rule [bold]{name}[/] deleted; its data stays at {config.get(cfg.STORE_URL)}")


def _time_ms(text: str | None) -> int:
    if not text:
        return -1
    try:
        return cfg.parse_time_ms(text)
    except ValueError:
        raise fail(f"{text!r} is not an ISO-8601 time") from None


@app.command("restore")
def restore(
    name: str = typer.Argument(None, help="The backup rule (or use --from for a deleted one)."),
    to_topic: str = typer.Option(None, "--to-topic", help="Target topic (default: the original)."),
    topic: str = typer.Option(None, "--topic", help="Which backed-up topic, if the rule has several."),
    from_time: str = typer.Option(None, "--from-time", help="Only records at or after (ISO-8601)."),
    to_time: str = typer.Option(None, "--to-time", help="Only records before (ISO-8601)."),
    source_url: str = typer.Option(None, "--from", help="A backup location instead of a rule."),
    endpoint: str = typer.Option(None, "--endpoint"),
    access_key: str = typer.Option(None, "--access-key"),
    secret_key: str = typer.Option(None, "--secret-key"),
    tasks: int = typer.Option(1, "--tasks", min=1),
    timeout: float = typer.Option(3600, "--timeout", help="Give up waiting after this many seconds."),
    bootstrap: str = BootstrapOpt,
    connect: str = ConnectOpt,
) -> None:
    """Put a backup back into a topic: same partitions, keys, values, headers, timestamps, order."""
    client = _client(connect)
    if source_url:
        store_config = StoreSettings(source_url, endpoint, None, access_key, secret_key).config()
        rule = name or "backup"
    elif name:
        store_config = dict(_rule(client, name))
        rule = name
    else:
        raise fail("name a backup rule, or give --from LOCATION")
    from_ms, to_ms = _time_ms(from_time), _time_ms(to_time)
    try:
        location, store = open_rule_store(store_config)
        the_plan = restoring.plan(store, location.prefix, [topic] if topic else None)
        if len(the_plan.topics) > 1:
            raise RuleError(f"the backup holds {', '.join(the_plan.topics)}: choose one with --topic")
        source = the_plan.topics[0]
        target = to_topic or source
        created = restoring.ensure_target_topic(bootstrap, target, the_plan.partitions[source])
    except (RuleError, StoreError) as exc:
        raise fail(str(exc)) from None
    connector = restoring.restore_name(rule)
    restoring.clear_progress(store, location.prefix, connector)
    try:
        client.create(connector, restoring.restore_config(connector, store_config, source, target,
                                                          from_ms, to_ms, tasks,
                                                          the_plan.partitions[source]))
    except ConnectError as exc:
        raise fail(str(exc).splitlines()[0]) from None
    console.print(f"restoring {source} ({the_plan.objects} objects, {_size(the_plan.object_bytes)}) "
                  f"into {'new topic ' if created else ''}{target} with connector {connector}")
    ok = _follow(client, store, location.prefix, connector, timeout)
    raise typer.Exit(0 if ok else 1)


def _follow(client: ConnectClient, store: Any, prefix: str, connector: str, timeout: float) -> bool:
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

    started = time.monotonic()
    columns = (TextColumn("[bold]restore"), BarColumn(), DownloadColumn(),
               TextColumn("{task.fields[records]} records"), TimeRemainingColumn())
    quiet = not console.is_terminal and os.environ.get("FJORD_PROGRESS") != "1"
    with Progress(*columns, console=console, disable=quiet) as bar:
        job = bar.add_task("restore", total=None, records=0)
        while True:
            progress = restoring.read_progress(store, prefix, connector)
            bar.update(job, total=progress.object_bytes_total or None,
                       completed=restoring.completed_bytes(progress), records=progress.records)
            try:
                status = client.status(connector)
            except ConnectError as exc:
                console.print(f"restore status unavailable: {exc}")
                status = {}
            failed = [t for t in status.get("tasks", []) if t.get("state") == "FAILED"]
            if failed:
                trace = (failed[0].get("trace") or "").strip().splitlines()
                console.print(f"restore failed: {trace[-1] if trace else 'task failed'}")
                console.print(f"connector {connector} left in place for inspection")
                return False
            expected = len(status.get("tasks", []))
            if expected and progress.tasks_reporting >= expected and progress.tasks_finished >= expected:
                break
            if time.monotonic() - started > timeout:
                console.print(f"restore still running after {timeout:.0f}s; connector {connector} "
                              "continues in the background")
                return False
            time.sleep(0.5)
    elapsed = time.monotonic() - started
    client.delete(connector)  # done: nothing left for it to do
    console.print(f"restored {progress.records} records ({_size(progress.bytes)} of keys and values) "
                  f"in {elapsed:.1f}s")
    return True
