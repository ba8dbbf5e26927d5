"""File → topic → file through one standalone `fjord connect` worker, 1 KB lines.

Starts a real broker and a real worker (processes), writes N lines of 1 KB to the source
file, creates FileStreamSource and FileStreamSink over REST and times until the sink file
holds every line. Prints one JSON object: records/s, MB/s, and the worker's RSS (current
and peak, from /proc).

    python bench/connect_file_throughput.py [--records 50000] [--line-bytes 1024]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.connect.support import WorkerProcess
from tests.support.broker import BrokerProcess


def rss_kib(pid: int) -> tuple[int, int]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def cpu_seconds(pid: int) -> float:
    """utime + stime of the worker: a figure the other load on a shared machine bends less."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def count_lines(path: Path) -> int:
    if not path.exists():
        return 0
    with open(path, "rb") as handle:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: handle.read(1 << 20), b""))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=50000)
    parser.add_argument("--line-bytes", type=int, default=1024)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="fjord-connect-bench-") as tmp:
        base = Path(tmp)
        broker = BrokerProcess(base / "data").start()
        worker = WorkerProcess(base / "worker", broker.bootstrap, props={
            "offset.flush.interval.ms": "10000"}).start()
        try:
            assert worker.proc is not None
            idle_rss, _ = rss_kib(worker.proc.pid)
            source, sink = base / "in.txt", base / "out.txt"
            payload = "x" * (args.line_bytes - 12)
            with open(source, "w") as out:
                for index in range(args.records):
                    out.write(f"{index:010d} {payload}\n")
            started = time.monotonic()
            cpu_before = cpu_seconds(worker.proc.pid)
            for name, config in (
                    ("bench-source", {"connector.class": "FileStreamSource", "file": str(source),
                                      "topic": "bench"}),
                    ("bench-sink", {"connector.class": "FileStreamSink", "file": str(sink),
                                    "topics": "bench"})):
                status, body = worker.call("POST", "/connectors", {"name": name, "config": config})
                assert status == 201, body
            peak_rss = idle_rss
            while count_lines(sink) < args.records:
                if time.monotonic() - started > args.timeout:
                    raise SystemExit(f"timed out: {count_lines(sink)} of {args.records} lines")
                peak_rss = max(peak_rss, rss_kib(worker.proc.pid)[0])
                time.sleep(0.2)
            elapsed = time.monotonic() - started
            cpu = cpu_seconds(worker.proc.pid) - cpu_before
            rss_now, hwm = rss_kib(worker.proc.pid)
            print(json.dumps({
                "bench": "connect_file_throughput", "records": args.records,
                "line_bytes": args.line_bytes, "seconds": round(elapsed, 2),
                "records_per_s": round(args.records / elapsed),
                "mb_per_s": round(args.records * args.line_bytes / elapsed / 1e6, 2),
                "worker_cpu_s": round(cpu, 2),
                "records_per_worker_cpu_s": round(args.records / cpu) if cpu else None,
                "worker_rss_idle_mib": round(idle_rss / 1024, 1),
                "worker_rss_mib": round(max(peak_rss, rss_now) / 1024, 1),
                "worker_rss_peak_hwm_mib": round(hwm / 1024, 1),
            }))
        finally:
            worker.stop()
            broker.stop()


if __name__ == "__main__":
    main()
