#!/usr/bin/env python3
"""TAP consumer for the runtime-tools validation results written by run.sh (stdlib only).

  tap_summary.py summarize RESULTS_DIR        per-test table + totals; writes RESULTS_DIR/summary.tsv
  tap_summary.py compare RESULTS_A RESULTS_B  tests that pass for A but not for B (and the reverse)

RESULTS_DIR holds, per validation program NAME: NAME.tap (its stdout), NAME.err, NAME.rc (exit
code) and NAME.secs (wall time). A test's status follows the suite's own conventions (no result
line means nothing went wrong: the negative tests such as process_rlimits_fail print nothing
when the runtime errs as it must):
  FAIL     a failing assertion ("not ok" without TODO), a YAML "error" block that follows no
           result line (how hooks, poststart, prestart_fail ... report), or a non-zero exit
           (util.Fatal: e.g. the runtime could not create the container)
  ERROR    the program panicked (a suite bug or an environment it does not expect)
  TIMEOUT  killed by run.sh's timeout (exit 124 or 137)
  SKIP     every assertion skipped
  PASS     anything else, including no output at all
TODO assertions (the suite marks what it cannot check yet) count separately, never as failures.
"""

from __future__ import annotations

import contextlib
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

RESULT = re.compile(r"^(not ok|ok)\b\s*(\d+)?\s*(?:-\s*)?([^#]*)(?:#\s*(\w+)\b\s*(.*))?$")
PLAN = re.compile(r"^1\.\.(\d+)")
YAML_ERROR = re.compile(r'^\s+"error": (".*")')


@dataclass
class TestResult:
    name: str
    status: str
    passed: int
    failed: int
    skipped: int
    todo: int
    planned: int | None
    rc: int
    seconds: float
    first_failure: str


def parse(name: str, tap: str, rc: int, seconds: float, stderr: str = "") -> TestResult:
    passed = failed = skipped = todo = 0
    planned: int | None = None
    first_failure = ""
    attached = False  # the YAML block being read follows a result line
    in_yaml = False
    for line in tap.splitlines():
        if line.strip() == "---":
            in_yaml = True
            continue
        if line.strip() == "...":
            in_yaml = False
            attached = False
            continue
        if in_yaml:
            if not attached and (m := YAML_ERROR.match(line)):
                # An error block after no result line: how several programs report a failed check.
                failed += 1
                with contextlib.suppress(ValueError):
                    first_failure = first_failure or json.loads(m[1]).splitlines()[0]
            continue
        if line.startswith("#"):
            continue
        if m := PLAN.match(line):  # programs may print several TAP streams: plans add up
            planned = (planned or 0) + int(m[1])
            continue
        m = RESULT.match(line)
        if not m:
            continue
        attached = True
        ok, description, directive = m[1] == "ok", m[3].strip(), (m[4] or "").upper()
        if directive == "SKIP":
            skipped += 1
        elif directive == "TODO":
            todo += 1
        elif ok:
            passed += 1
        else:
            failed += 1
            first_failure = first_failure or description
    count = passed + failed + skipped + todo
    err_lines = [line for line in stderr.splitlines() if line.strip()]
    if rc in (124, 137):
        status = "TIMEOUT"
    elif rc == 2 and "panic:" in stderr:
        status = "ERROR"
        first_failure = next((line for line in err_lines if line.startswith("panic:")), "panic")
    elif failed or rc != 0 or (planned is not None and count and planned != count):
        status = "FAIL"
        if not first_failure:
            first_failure = f"exit {rc}: {err_lines[-1]}" if rc and err_lines else f"exit {rc}"
    elif passed == 0 and skipped:
        status = "SKIP"
    else:
        status = "PASS"
    return TestResult(name, status, passed, failed, skipped, todo, planned, rc, seconds, first_failure)


def load(results: Path) -> list[TestResult]:
    out = []
    for tap in sorted(results.glob("*.tap")):
        name = tap.stem
        rc_file, secs_file, err_file = (results / f"{name}.{ext}" for ext in ("rc", "secs", "err"))
        rc = int(rc_file.read_text().strip() or 0) if rc_file.exists() else 0
        seconds = float(secs_file.read_text().strip() or 0) if secs_file.exists() else 0.0
        stderr = err_file.read_text(errors="replace") if err_file.exists() else ""
        out.append(parse(name, tap.read_text(errors="replace"), rc, seconds, stderr))
    return out


def summarize(results: Path) -> int:
    rows = load(results)
    if not rows:
        print(f"no *.tap results in {results}", file=sys.stderr)
        return 1
    header = "test\tstatus\tpass\tfail\tskip\ttodo\tplanned\trc\tseconds\tfirst_failure"
    lines = [header]
    print(f"{'test':<40} {'status':<8} {'pass':>4} {'fail':>4} {'skip':>4} {'todo':>4} {'secs':>6}")
    for r in rows:
        counts = f"{r.passed:>4} {r.failed:>4} {r.skipped:>4} {r.todo:>4}"
        print(f"{r.name:<40} {r.status:<8} {counts} {r.seconds:>6.1f}")
        planned = "" if r.planned is None else str(r.planned)
        lines.append(
            f"{r.name}\t{r.status}\t{r.passed}\t{r.failed}\t{r.skipped}\t{r.todo}\t{planned}\t{r.rc}\t"
            f"{r.seconds:.2f}\t{r.first_failure}"
        )
    (results / "summary.tsv").write_text("\n".join(lines) + "\n")
    by_status: dict[str, int] = {}
    for r in rows:
        by_status[r.status] = by_status.get(r.status, 0) + 1
    statuses = ", ".join(f"{k} {v}" for k, v in sorted(by_status.items()))
    print(
        f"TOTAL {len(rows)} tests: {statuses}; assertions: {sum(r.passed for r in rows)} passed, "
        f"{sum(r.failed for r in rows)} failed, {sum(r.skipped for r in rows)} skipped, "
        f"{sum(r.todo for r in rows)} todo; {sum(r.seconds for r in rows):.0f}s"
    )
    return 0


def compare(a_dir: Path, b_dir: Path) -> int:
    a = {r.name: r for r in load(a_dir)}
    b = {r.name: r for r in load(b_dir)}
    an, bn = a_dir.name, b_dir.name
    width = max([len(n) for n in a | b] + [4])

    def table(title: str, names: list[str]) -> None:
        print(f"== {title}: {len(names)}")
        if not names:
            return
        print(f"{'test':<{width}}  {an:<16} {bn:<16} first failure ({bn})")
        for n in names:
            ra, rb = a.get(n), b.get(n)
            ca = f"{ra.status} {ra.passed}/{ra.passed + ra.failed}" if ra else "-"
            cb = f"{rb.status} {rb.passed}/{rb.passed + rb.failed}" if rb else "-"
            print(f"{n:<{width}}  {ca:<16} {cb:<16} {(rb.first_failure if rb else '')[:70]}")

    names = sorted(a | b)
    table(
        f"pass for {an}, not for {bn}",
        [n for n in names if n in a and a[n].status == "PASS" and (n not in b or b[n].status != "PASS")],
    )
    table(
        f"pass for {bn}, not for {an}",
        [n for n in names if n in b and b[n].status == "PASS" and (n not in a or a[n].status != "PASS")],
    )
    for label, rows in ((an, a), (bn, b)):
        ok = sum(1 for r in rows.values() if r.status == "PASS")
        asserts = sum(r.passed for r in rows.values()), sum(r.failed for r in rows.values())
        print(f"{label}: {ok}/{len(rows)} tests pass; assertions {asserts[0]} passed, {asserts[1]} failed")
    return 0


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "summarize":
        return summarize(Path(argv[1]))
    if len(argv) == 3 and argv[0] == "compare":
        return compare(Path(argv[1]), Path(argv[2]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
