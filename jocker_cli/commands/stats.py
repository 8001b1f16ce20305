"""`jocker stats`: container resource usage computed client-side from the stats JSON, as docker does
(CPU % from the cpu/precpu deltas, memory without the page cache, summed network and block I/O)."""

from __future__ import annotations

import sys
import threading

from jocker_cli.client import CliError
from jocker_cli.commands import add_format

USAGE = "[OPTIONS] [CONTAINER...]"
ARGS = (0, None)
DEFAULT = (
    "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}"
)
HEADERS = {"ID": "CONTAINER ID", "Container": "CONTAINER", "Name": "NAME", "CPUPerc": "CPU %",
           "MemUsage": "MEM USAGE / LIMIT", "MemPerc": "MEM %", "NetIO": "NET I/O", "BlockIO": "BLOCK I/O",
           "PIDs": "PIDS"}  # fmt: skip


def add_arguments(parser) -> None:
    parser.add_argument(
        "-a", "--all", action="store_true", help="Show all containers (default shows just running)"
    )
    add_format(parser)
    parser.add_argument(
        "--no-stream", action="store_true", help="Disable streaming stats and only pull the first result"
    )
    parser.add_argument("--no-trunc", action="store_true", help="Do not truncate output")


class StatsRow:
    def __init__(self, container: str, stats: dict, trunc: bool) -> None:
        self.Container = container
        self.s = stats
        self.trunc = trunc

    @property
    def ID(self) -> str:
        ident = self.s.get("id") or ""
        return ident[:12] if self.trunc else ident

    @property
    def Name(self) -> str:
        name = self.s.get("name") or ""
        return name[1:] if name.startswith("/") else name or "--"

    def _cpu(self) -> float:
        cpu = self.s.get("cpu_stats") or {}
        pre = self.s.get("precpu_stats") or {}
        usage = (cpu.get("cpu_usage") or {}).get("total_usage", 0)
        pre_usage = (pre.get("cpu_usage") or {}).get("total_usage", 0)
        system = cpu.get("system_cpu_usage", 0) - pre.get("system_cpu_usage", 0)
        online = cpu.get("online_cpus") or len((cpu.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
        delta = usage - pre_usage
        return delta / system * online * 100.0 if system > 0 and delta > 0 else 0.0

    def _memory(self) -> tuple[float, float]:
        memory = self.s.get("memory_stats") or {}
        usage = memory.get("usage", 0)
        details = memory.get("stats") or {}
        for key in ("total_inactive_file", "inactive_file"):
            if key in details and details[key] < usage:
                usage -= details[key]
                break
        return usage, memory.get("limit", 0)

    @property
    def CPUPerc(self) -> str:
        return f"{self._cpu():.2f}%"

    @property
    def MemUsage(self) -> str:
        from jocker_cli.output import bytes_size

        usage, limit = self._memory()
        return f"{bytes_size(usage)} / {bytes_size(limit)}"

    @property
    def MemPerc(self) -> str:
        usage, limit = self._memory()
        return f"{usage / limit * 100:.2f}%" if limit else "0.00%"

    @property
    def NetIO(self) -> str:
        from jocker_cli.output import human_size

        networks = (self.s.get("networks") or {}).values()
        rx = sum(n.get("rx_bytes", 0) for n in networks)
        tx = sum(n.get("tx_bytes", 0) for n in networks)
        return f"{human_size(rx, 3)} / {human_size(tx, 3)}"

    @property
    def BlockIO(self) -> str:
        from jocker_cli.output import human_size

        entries = (self.s.get("blkio_stats") or {}).get("io_service_bytes_recursive") or []
        read = sum(e.get("value", 0) for e in entries if (e.get("op") or "").lower().startswith("r"))
        write = sum(e.get("value", 0) for e in entries if (e.get("op") or "").lower().startswith("w"))
        return f"{human_size(read, 3)} / {human_size(write, 3)}"

    @property
    def PIDs(self) -> str:
        return str((self.s.get("pids_stats") or {}).get("current", 0))

    def to_json(self) -> dict:
        keys = ("BlockIO", "CPUPerc", "Container", "ID", "MemPerc", "MemUsage", "Name", "NetIO", "PIDs")
        return {k: getattr(self, k) for k in keys}


def run(args, client) -> int:
    import time

    from jocker_cli.output import render

    names = list(args.positionals)
    if not names:
        listing = client.get_json("/containers/json", {"all": "1" if args.all else None})
        names = [c["Id"][:12] for c in listing]
    latest: dict[str, dict] = {}
    errors: dict[str, str] = {}
    lock = threading.Lock()

    def collect(name: str) -> None:
        try:
            response = client.request("GET", f"/containers/{name}/stats",
                                      params={"stream": "0" if args.no_stream else "1"})  # fmt: skip
            for stats in response.iter_json():
                with lock:
                    latest[name] = stats
        except CliError as e:
            with lock:
                errors[name] = e.message

    threads = [threading.Thread(target=collect, args=(name,), daemon=True) for name in names]
    for thread in threads:
        thread.start()
    if args.no_stream:
        for thread in threads:
            thread.join()
        for name in names:
            if name in errors:
                raise CliError(errors[name])
        render([StatsRow(n, latest[n], not args.no_trunc) for n in names if n in latest], args.format, DEFAULT,  # noqa: E501
               headers=HEADERS)  # fmt: skip
        return 0
    try:
        while True:
            time.sleep(0.5)
            with lock:
                rows = [StatsRow(n, latest[n], not args.no_trunc) for n in names if n in latest]
            sys.stdout.write("\x1b[2J\x1b[H")
            render(rows, args.format, DEFAULT, headers=HEADERS)
            sys.stdout.flush()
            if not any(t.is_alive() for t in threads):
                return 0
    except KeyboardInterrupt:
        return 0
