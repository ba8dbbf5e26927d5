"""The standard Prometheus process metrics (the names every Grafana process panel uses),
read from the kernel at scrape time."""

from __future__ import annotations

import os
import resource
import time

from fjord.observability.exposition import Family, counter, gauge

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _start_time() -> float:
    """Process start in Unix seconds, from /proc (boot time + start ticks)."""
    try:
        with open("/proc/self/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        with open("/proc/stat", "rb") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith(b"btime"))
        return boot + int(fields[19]) / _TICKS
    except (OSError, StopIteration, IndexError, ValueError):
        return time.time()


START_TIME = _start_time()


def process_families() -> list[Family]:
    times = os.times()
    cpu = counter("process_cpu_seconds", "Total user and system CPU time spent in seconds.")
    cpu.add(times.user + times.system, suffix="_total")
    families = [cpu]
    try:
        with open("/proc/self/statm", "rb") as handle:
            virtual, resident = (int(v) for v in handle.read().split()[:2])
        rss = gauge("process_resident_memory_bytes", "Resident memory size in bytes.")
        rss.add(resident * _PAGE)
        vms = gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.")
        vms.add(virtual * _PAGE)
        families += [rss, vms]
    except OSError:
        pass
    try:
        fds = gauge("process_open_fds", "Number of open file descriptors.")
        fds.add(len(os.listdir("/proc/self/fd")))
        families.append(fds)
    except OSError:
        pass
    limit = gauge("process_max_fds", "Maximum number of open file descriptors.")
    limit.add(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    start = gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
    start.add(START_TIME)
    return [*families, limit, start]
