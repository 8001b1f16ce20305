#!/usr/bin/env bash
# Benchmark: `jocker ps` vs `docker ps` against the same jockerd (start-up dominates both).
#
# Why: every CLI command pays its interpreter's start-up and imports before its one or two
# requests; the docker CLI (a Go binary) is the reference. Target: jocker within 4x.
#
# Usage:  bench/cli_startup.sh
# Env:    RUNS=30 WARMUP=3 BENCH_OUT=bench/out
# Needs:  hyperfine, the docker CLI, unshare + ip, root; .venv/bin/jocker (setup.sh's launcher).
# jockerd runs in its own network namespace with its own roots under $BENCH_OUT/cli-run.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
OUT=${BENCH_OUT:-$REPO/bench/out}
RUN=$OUT/cli-run
RUNS=${RUNS:-30}
WARMUP=${WARMUP:-3}
mkdir -p "$RUN"
echo '{}' > "$RUN/daemon.json"
unshare --net -- sh -c 'ip link set lo up && exec "$@"' jockerd "$REPO/.venv/bin/python" -m jockerd \
    --host "unix://$RUN/jocker.sock" --data-root "$RUN/data" --exec-root "$RUN/exec" \
    --config-file "$RUN/daemon.json" >"$RUN/jockerd.log" 2>&1 &
DAEMON=$!
trap 'kill $DAEMON 2>/dev/null; wait $DAEMON 2>/dev/null || true' EXIT
export DOCKER_HOST=unix://$RUN/jocker.sock
for _ in $(seq 100); do curl -sf --unix-socket "$RUN/jocker.sock" http://x/_ping >/dev/null && break; sleep 0.1; done
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-json "$OUT/cli_startup.json" \
    "$REPO/.venv/bin/jocker ps" "docker ps"
"$REPO/.venv/bin/python" -IS -X importtime -c \
    "import sys; sys.path[:0] = ['$REPO']; from jocker_cli.__main__ import main; main(['ps'])" 2>&1 >/dev/null |
    sort -t'|' -k2 -n | tail -5
