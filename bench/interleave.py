"""Time shell commands interleaved: every round runs each command once, in a shuffled order.

Why not only hyperfine: it runs all the runs of one command, then all of the next, so on a
shared machine whose load drifts (other people's tests, 2 cores) a ratio between two blocks
measures the drift as much as the commands. Interleaved, every command sees the same load.

Usage:  python3 bench/interleave.py ROUNDS WARMUP OUT.json NAME=COMMAND [NAME=COMMAND ...]
Each COMMAND runs through `sh -c`; `{i}` in it becomes a unique token per run (container IDs).
Prints median, mean, min and quartiles per command (ms) and the ratios of medians and means to
the first command; writes the samples to OUT.json.
"""

from __future__ import annotations

import json
import random
import statistics
import subprocess
import sys
import time


def main(argv: list[str]) -> int:
    rounds, warmup, out = int(argv[0]), int(argv[1]), argv[2]
    commands = dict(arg.split("=", 1) for arg in argv[3:])
    names = list(commands)
    samples: dict[str, list[float]] = {name: [] for name in names}
    counter = 0
    for round_ in range(warmup + rounds):
        order = names[:]
        random.shuffle(order)
        for name in order:
            counter += 1
            command = commands[name].replace("{i}", f"{counter}-{time.monotonic_ns()}")
            start = time.perf_counter()
            done = subprocess.run(["sh", "-c", command], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            elapsed = (time.perf_counter() - start) * 1000
            if done.returncode != 0:
                sys.stderr.write(f"{name} failed ({done.returncode}): {done.stderr.decode()[-300:]}\n")
                return 1
            if round_ >= warmup:
                samples[name].append(elapsed)
    summary = {}
    for name in names:
        values = sorted(samples[name])
        summary[name] = {
            "median": statistics.median(values),
            "mean": statistics.fmean(values),
            "min": values[0],
            "p25": values[len(values) // 4],
            "p75": values[3 * len(values) // 4],
            "runs": len(values),
        }
        s = summary[name]
        print(
            f"{name:>11}: median {s['median']:6.1f} ms  mean {s['mean']:6.1f}  min {s['min']:6.1f}  "
            f"p25 {s['p25']:6.1f}  p75 {s['p75']:6.1f}  ({s['runs']} runs)"
        )
    first = names[0]
    for name in names[1:]:
        print(
            f"ratio {name} / {first}: median {summary[name]['median'] / summary[first]['median']:.2f}x"
            f"  mean {summary[name]['mean'] / summary[first]['mean']:.2f}x"
        )
    with open(out, "w") as f:
        json.dump({"summary": summary, "samples": samples}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
