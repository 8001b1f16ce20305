#!/usr/bin/env bash
# Compare two runtimes' validation results side by side.
#
# Usage:  bench/runtime_tools/compare.sh A B        e.g.  compare.sh runc jocker
# A and B are labels run.sh used (results in $BENCH_OUT/runtime-tools/results/LABEL). Prints
# the tests that pass for A but not for B (what B must fix), the reverse, and the totals.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
RESULTS=${BENCH_OUT:-$REPO/bench/out}/runtime-tools/results
[[ $# == 2 ]] || { echo "usage: $0 LABEL_A LABEL_B (labels under $RESULTS)" >&2; exit 2; }
for label in "$1" "$2"; do
    [[ -d $RESULTS/$label ]] || { echo "compare.sh: no results for $label; run run.sh first" >&2; exit 1; }
done
exec python3 "$REPO/bench/runtime_tools/tap_summary.py" compare "$RESULTS/$1" "$RESULTS/$2"
