#!/usr/bin/env bash
# Benchmark: `RUNTIME run --bundle B ID` of a busybox `true` bundle for runc, crun and jocker-runtime.
#
# Why: `run` (create + start + wait + delete) of a process that exits at once is the fixed cost
# a runtime adds to every container; the same bundle, the same machine and the same hyperfine
# run make the ratios meaningful (runtime-contract.md: runc ~27 ms, crun ~7 ms here).
#
# Usage:  bench/runtime_run.sh
# Env:    RUNS=50 WARMUP=5 BENCH_OUT=bench/out PY=.venv/bin/python
#         RUNTIMES="runc crun jocker" (any subset, in that order; also jocker-venv: the same
#         launcher run by the venv's interpreter instead of the one setup.sh chose for it)
#         SPEC=runc (default: `runc spec`) or SPEC=docker (what jockerd generates for
#         `docker run busybox true`: seccomp profile, device rules, masked paths, sysctls)
#         MODE=hyperfine (default) or MODE=interleaved (bench/interleave.py: each round runs
#         every runtime once, in a shuffled order, so load drifting on a shared machine hits
#         all of them alike; RUNS rounds after WARMUP; ratios to the first runtime)
# Needs:  hyperfine, runc and/or crun, busybox-static, util-linux (unshare), root.
#
# The bundle: rootfs = /bin/busybox + a `true` symlink, config.json = `runc spec` with
# args ["true"] and terminal false. Its default namespaces give every container its own
# network namespace; nothing configures networking.
# SPEC=docker: config.json = jockerd.bundle.generate_spec for this host (Docker's default
# seccomp profile, capabilities, device cgroup rules, masked/readonly paths, sysctls), minus
# `cgroupsPath`: Docker's /jocker/<id> would name one cgroup for every run of the shared
# bundle, so each runtime uses its default, the container ID, as for the runc bundle; and with
# ociVersion 1.0.2-dev, as `runc spec` writes, since crun 1.8 refuses 1.2.0.
#
# Fairness: crun refuses this cgroup v1 hybrid host while the unified cgroup2 mount is visible
# (shared/runtime-contract.md). Wrapping only crun in `unshare -m` would bill it for the
# wrapper, so the whole hyperfine run happens in one private mount namespace with
# /sys/fs/cgroup/unified unmounted (only in that namespace), and every runtime sees the same
# pure cgroup v1 host. Each runtime gets its own --root state dir under $BENCH_OUT.
#
# IDs: each timed run uses `NAME-$$-$RANDOM` (the shell's pid is unique while it runs); `run`
# without --detach deletes its container on exit, and --cleanup force-deletes any leftover
# (`list -q` + `delete --force` in every runtime's root) after each command's runs.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$REPO/.venv/bin/python}
OUT=${BENCH_OUT:-$REPO/bench/out}
RUNS=${RUNS:-50}
WARMUP=${WARMUP:-5}
RUNTIMES=${RUNTIMES:-"runc crun jocker"}
SPEC=${SPEC:-runc}
MODE=${MODE:-hyperfine}
UNIFIED=/sys/fs/cgroup/unified

if [[ $(id -u) != 0 ]]; then
    echo "runtime_run.sh: run as root" >&2
    exit 1
fi

# Re-exec once inside a private mount namespace with the unified hierarchy hidden.
if [[ -z ${RUNTIME_RUN_INNER:-} ]] && mountpoint -q "$UNIFIED"; then
    export RUNTIME_RUN_INNER=1
    exec unshare -m --propagation private sh -c 'umount "$1" && shift && exec "$@"' sh "$UNIFIED" "$0" "$@"
fi

command -v hyperfine >/dev/null || { echo "runtime_run.sh: hyperfine not found" >&2; exit 1; }
[[ -x /bin/busybox ]] || { echo "runtime_run.sh: /bin/busybox not found (busybox-static)" >&2; exit 1; }

case $SPEC in
runc) WORK=$OUT/runtime_run ;;
docker) WORK=$OUT/runtime_run_docker ;;
*) echo "runtime_run.sh: SPEC must be runc or docker" >&2; exit 1 ;;
esac
BUNDLE=$WORK/bundle
rm -rf "$WORK" && mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/proc" "$BUNDLE/rootfs/dev" "$BUNDLE/rootfs/sys"
cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
ln -s busybox "$BUNDLE/rootfs/bin/true"

RUNC=$(command -v runc || true)
CRUN=$(command -v crun || true)
SPEC_TOOL=${RUNC:-$CRUN}
[[ -n $SPEC_TOOL ]] || { echo "runtime_run.sh: neither runc nor crun is installed" >&2; exit 1; }
if [[ $SPEC == docker ]]; then
    (cd "$REPO" && "$PY" - "$BUNDLE/config.json" <<'EOF'
import json, sys
from jockerd.bundle import generate_spec, host_settings
image = {"config": {"Cmd": ["true"], "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}}
spec = generate_spec("f" * 64, image, {"Image": "busybox", "Cmd": ["true"]}, None, settings=host_settings())
del spec["linux"]["cgroupsPath"]
spec["ociVersion"] = "1.0.2-dev"  # what `runc spec` writes: crun 1.8 refuses "1.2.0"
json.dump(spec, open(sys.argv[1], "w"), indent=2)
EOF
    )
else
    "$SPEC_TOOL" spec --bundle "$BUNDLE"
    "$PY" - "$BUNDLE/config.json" <<'EOF'
import json, sys
path = sys.argv[1]
spec = json.load(open(path))
spec["process"]["args"] = ["true"]
spec["process"]["terminal"] = False
json.dump(spec, open(path, "w"), indent=2)
EOF
fi

# name → argv (a string: hyperfine runs it through sh)
declare -A ARGV
[[ -n $RUNC ]] && ARGV[runc]=$RUNC
[[ -n $CRUN ]] && ARGV[crun]=$CRUN
# The launcher setup.sh installs (python -IS, no site): what the daemon and the shim will call.
if [[ -x $REPO/.venv/bin/jocker-runtime ]]; then
    ARGV[jocker]="$REPO/.venv/bin/jocker-runtime"
    ARGV[jocker-venv]="$PY -IS $REPO/.venv/bin/jocker-runtime"
else
    ARGV[jocker]="$PY -m jockerd.runtime"
fi

HYPERFINE_ARGS=()
INTERLEAVED_ARGS=()
NAMES=()
CLEANUP="" # hyperfine 1.15 takes one --cleanup (run after each command's runs): sweep every root
for name in $RUNTIMES; do
    argv=${ARGV[$name]:-}
    if [[ -z $argv ]]; then
        echo "== $name: not installed, skipped"
        continue
    fi
    root=$WORK/state-$name
    mkdir -p "$root"
    run="cd $REPO && $argv --root $root run --bundle $BUNDLE"
    # One checked run first: a runtime that cannot run the bundle is skipped, not timed.
    if ! out=$(timeout 60 sh -c "$run check-$name" 2>&1); then
        echo "== $name: checked run failed, skipped: $(echo "$out" | tail -n 3)"
        continue
    fi
    NAMES+=("$name")
    CLEANUP+="for id in \$($argv --root $root list -q 2>/dev/null); do $argv --root $root delete --force \$id; done; "
    HYPERFINE_ARGS+=(--command-name "$name" "$run $name-\$\$-\$RANDOM")
    INTERLEAVED_ARGS+=("$name=$run $name-{i}")
done
[[ ${#NAMES[@]} -gt 0 ]] || { echo "runtime_run.sh: no runtime could run the bundle" >&2; exit 1; }

RESULT=$OUT/$(basename "$WORK").json
if [[ $MODE == interleaved ]]; then
    echo "== interleaved ($SPEC bundle): ${NAMES[*]} (rounds $RUNS, warmup $WARMUP)"
    status=0
    "$PY" "$REPO/bench/interleave.py" "$RUNS" "$WARMUP" "$RESULT" "${INTERLEAVED_ARGS[@]}" || status=$?
    sh -c "{ $CLEANUP} >/dev/null 2>&1 || true"
    exit $status
fi
echo "== hyperfine ($SPEC bundle): ${NAMES[*]} (runs $RUNS, warmup $WARMUP)"
hyperfine --runs "$RUNS" --warmup "$WARMUP" --export-json "$RESULT" \
    --cleanup "{ $CLEANUP} >/dev/null 2>&1 || true" "${HYPERFINE_ARGS[@]}"

"$PY" - "$RESULT" <<'EOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
for name, r in res.items():
    print(f"{name:>11}: mean {r['mean'] * 1000:7.1f} ms ± {(r['stddev'] or 0) * 1000:5.1f}  "
          f"min {r['min'] * 1000:6.1f} ms  median {r['median'] * 1000:6.1f} ms  ({len(r['times'])} runs)")
for a, b in (("runc", "crun"), ("jocker", "runc"), ("jocker", "crun"), ("jocker-venv", "runc")):
    if a in res and b in res:
        print(f"ratio {a} / {b} = {res[a]['mean'] / res[b]['mean']:.2f}x")
EOF
