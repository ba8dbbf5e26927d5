"""kcat (Debian's build, librdkafka 2.0.x) against a real broker: produce, consume, list
offsets and metadata with kcat for every codec; kcat has no admin mode, so topics are
created, configured and deleted with confluent-kafka's AdminClient.

kcat's producer cannot give records their own headers or timestamps: it adds the same
headers (-H) to every record of an invocation and librdkafka stamps CreateTime at produce.
So each partition is produced by its own invocation with headers naming the partition,
and timestamps are checked to lie within the produce window and never go backwards.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time

import pytest
from confluent_kafka.admin import (
    AdminClient,
    AlterConfigOpType,
    ConfigEntry,
    ConfigResource,
    NewTopic,
)

from tests.compat.support import (
    ALTERED_CONFIG,
    CODECS,
    DataSet,
    Record,
    Stopwatch,
    check_records,
    check_stored_codec,
    topic_name,
)
from tests.support.broker import BrokerProcess

FORMAT = r"%p\t%o\t%T\t%k\t%h\t%s\n"


def kcat(*args: str, stdin: bytes | None = None, timeout: float = 120) -> str:
    binary = shutil.which("kcat")
    assert binary, "kcat is missing: run `bash scripts/setup.sh --test` (installs it with apt-get)"
    result = subprocess.run([binary, *args], input=stdin, capture_output=True, timeout=timeout)
    assert result.returncode == 0, f"kcat {' '.join(args)} failed: {result.stderr.decode()}"
    return result.stdout.decode()


def headers_for(partition: int) -> tuple[tuple[str, bytes], ...]:
    return (("partition", b"%d" % partition), ("origin", b"kcat"))


def produce(bootstrap: str, topic: str, codec: str, data: DataSet) -> None:
    lines: dict[int, list[bytes]] = {p: [] for p in range(data.partitions)}
    for _i, partition, key, value, _headers, _ts in data.items():
        lines[partition].append(key + b"\t" + value + b"\n")
    for partition, chunk in lines.items():
        header_args = [arg for name, value in headers_for(partition)
                       for arg in ("-H", f"{name}={value.decode()}")]
        kcat("-P", "-b", bootstrap, "-t", topic, "-p", str(partition), "-K", "\t", *header_args,
             "-X", f"compression.codec={codec}", "-X", "linger.ms=10", "-X", "acks=all",
             stdin=b"".join(chunk))


def consume(bootstrap: str, topic: str, partitions: int) -> list[Record]:
    read: list[Record] = []
    for partition in range(partitions):
        out = kcat("-C", "-b", bootstrap, "-t", topic, "-p", str(partition), "-o", "beginning",
                   "-e", "-q", "-f", FORMAT)
        for line in out.splitlines():
            part, offset, ts, key, headers, value = line.split("\t")
            pairs = tuple((n, v.encode()) for n, _, v in (h.partition("=") for h in headers.split(",")))
            read.append(Record(int(part), int(offset), key.encode(), value.encode(), pairs, int(ts)))
    return read


def query(bootstrap: str, topic: str, partitions: int, ts: int) -> dict[int, int]:
    """kcat -Q: one ListOffsets for every partition (-1 latest, -2 earliest, else a time)."""
    args = [a for p in range(partitions) for a in ("-t", f"{topic}:{p}:{ts}")]
    answers = {}
    for line in kcat("-Q", "-b", bootstrap, *args).splitlines():
        # "<topic> [<partition>] offset <n>"
        _name, part, _word, offset = line.split()
        answers[int(part.strip("[]"))] = int(offset)
    return answers


@pytest.mark.parametrize("codec", CODECS)
def test_kcat_round_trip(broker: BrokerProcess, codec: str) -> None:
    data = DataSet()
    topic = topic_name("kcat", codec)
    watch = Stopwatch(f"kcat {codec}")
    admin = AdminClient({"bootstrap.servers": broker.bootstrap})
    admin.create_topics([NewTopic(topic, data.partitions, 1)])[topic].result(10)
    metadata = json.loads(kcat("-L", "-J", "-b", broker.bootstrap, "-t", topic))
    [described] = [t for t in metadata["topics"] if t["topic"] == topic]
    assert sorted(p["partition"] for p in described["partitions"]) == list(range(data.partitions))
    watch.lap("create")

    started = int(time.time() * 1000)
    produce(broker.bootstrap, topic, codec, data)
    finished = int(time.time() * 1000)
    watch.lap("produce")

    read = consume(broker.bootstrap, topic, data.partitions)
    by_partition: dict[int, list[Record]] = {p: [] for p in range(data.partitions)}
    for record in read:
        by_partition[record.partition].append(record)
    for partition, records in by_partition.items():
        stamps = [r.timestamp for r in records]
        assert stamps == sorted(stamps), f"partition {partition}: timestamps go backwards"
        assert not stamps or (started <= stamps[0] and stamps[-1] <= finished)
    expected = {
        p: [r._replace(headers=headers_for(p), timestamp=0) for r in records]
        for p, records in data.expected().items()
    }
    check_records(expected, [r._replace(timestamp=0) for r in read])
    check_stored_codec(broker.data_dir, topic, codec)
    watch.lap("consume+check")

    counts = data.per_partition()
    assert query(broker.bootstrap, topic, data.partitions, -2) == dict.fromkeys(counts, 0)
    assert query(broker.bootstrap, topic, data.partitions, -1) == counts
    # A time from the middle of partition 1; every partition must answer its first
    # record at or after it, as read back above (-1 where none is: partition 0 was
    # produced entirely before partition 1).
    middle = by_partition[1][len(by_partition[1]) // 2].timestamp
    want = {p: next((r.offset for r in records if r.timestamp >= middle), -1)
            for p, records in by_partition.items()}
    assert want[0] == -1 and want[1] > 0
    assert query(broker.bootstrap, topic, data.partitions, middle) == want
    assert query(broker.bootstrap, topic, data.partitions, finished + 60_000) == dict.fromkeys(counts, -1)

    resource = ConfigResource(ConfigResource.Type.TOPIC, topic)
    name, value = ALTERED_CONFIG
    resource.add_incremental_config(ConfigEntry(name, value,
                                                incremental_operation=AlterConfigOpType.SET))
    admin.incremental_alter_configs([resource])[resource].result(10)
    described_configs = admin.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, topic)])
    assert next(iter(described_configs.values())).result(10)[name].value == value
    admin.delete_topics([topic])[topic].result(10)
    metadata = json.loads(kcat("-L", "-J", "-b", broker.bootstrap))
    assert topic not in [t["topic"] for t in metadata["topics"]]
    watch.lap("admin")
    watch.report()
