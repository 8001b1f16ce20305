"""The stats() shape both managers fill: the `data` of runc's `events --stats` (runc types/events.go).

Field names are runc's JSON names exactly (note `ioQueueRecursive`, `throttledPeriods`,
`percpu_kernel`). Unlike Go's omitempty, every key is always present, with 0, [] or {} when the
controller is absent or not enabled, so readers need no defaults. Units: cpu in nanoseconds,
memory in bytes; a limit of "max" reads as 2**64-1 for memory (as runc) and 0 for pids.
"""

from __future__ import annotations

UNLIMITED = 2**64 - 1


def memory_entry(limit: int = 0, usage: int = 0, max_usage: int = 0, failcnt: int = 0) -> dict:
    return {"limit": limit, "usage": usage, "max": max_usage, "failcnt": failcnt}


def empty_stats() -> dict:
    return {
        "cpu": {
            "usage": {
                "total": 0,
                "percpu": [],
                "percpu_kernel": [],
                "percpu_user": [],
                "kernel": 0,
                "user": 0,
            },
            "throttling": {"periods": 0, "throttledPeriods": 0, "throttledTime": 0},
        },
        "memory": {
            "cache": 0,
            "usage": memory_entry(),
            "swap": memory_entry(),
            "kernel": memory_entry(),
            "kernelTCP": memory_entry(),
            "raw": {},
        },
        "pids": {"current": 0, "limit": 0},
        "blkio": {
            "ioServiceBytesRecursive": [],
            "ioServicedRecursive": [],
            "ioQueueRecursive": [],
            "ioServiceTimeRecursive": [],
            "ioWaitTimeRecursive": [],
            "ioMergedRecursive": [],
            "ioTimeRecursive": [],
            "sectorsRecursive": [],
        },
        "hugetlb": {},
    }


def parse_flat(text: str | None) -> dict[str, int]:
    """A flat keyed file ("key value" per line: memory.stat, cpu.stat) → {key: value}."""
    values = {}
    for line in (text or "").splitlines():
        key, _, value = line.partition(" ")
        if value.strip().lstrip("-").isdigit():
            values[key] = int(value)
    return values


def parse_blkio(text: str | None) -> list[dict]:
    """v1 blkio stat lines ("8:0 Read 4096", "8:0 4096"; the "Total N" line skipped) → entries."""
    entries = []
    for line in (text or "").splitlines():
        fields = line.split()
        if len(fields) < 2 or ":" not in fields[0]:
            continue
        major, _, minor = fields[0].partition(":")
        op = fields[1] if len(fields) == 3 else ""
        entries.append({"major": int(major), "minor": int(minor), "op": op, "value": int(fields[-1])})
    return entries


def parse_io_stat(text: str | None) -> tuple[list[dict], list[dict]]:
    """v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 …") → (service bytes, serviced) entries.

    Mapped to the v1 tables as runc's fs2/io.go does; keys without a v1 equivalent are skipped.
    """
    table = {"rbytes": (0, "Read"), "wbytes": (0, "Write"), "rios": (1, "Read"), "wios": (1, "Write")}
    out: tuple[list[dict], list[dict]] = ([], [])
    for line in (text or "").splitlines():
        device, *items = line.split()
        major, sep, minor = device.partition(":")
        if not sep:
            continue
        for item in items:
            key, _, value = item.partition("=")
            if key in table:
                index, op = table[key]
                entry = {"major": int(major), "minor": int(minor), "op": op, "value": int(value)}
                out[index].append(entry)
    return out
