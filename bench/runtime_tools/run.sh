#!/usr/bin/env bash
# Run every OCI runtime-tools validation program (built by build.sh) against one runtime.
#
# Usage:  bench/runtime_tools/run.sh [--name LABEL] [--only REGEX] RUNTIME_ARGV...
#   bench/runtime_tools/run.sh runc
#   bench/runtime_tools/run.sh crun
#   bench/runtime_tools/run.sh /work/main/.venv/bin/python -m jockerd.runtime      (label: jocker)
# Env:    BENCH_OUT=bench/out  TEST_TIMEOUT=60 (seconds per validation program)
#         HIDE_UNIFIED=auto|1|0 (hide /sys/fs/cgroup/unified: auto = only for crun)
# Output: $BENCH_OUT/runtime-tools/results/LABEL/{NAME.tap,NAME.err,NAME.rc,NAME.secs,summary.tsv}
#         and a per-test table with totals (tap_summary.py). Compare two runs with compare.sh.
#
# The suite calls the runtime as `$RUNTIME verb ...` with RUNTIME a single path, so an argv of
# more than one word (or jocker's) gets a wrapper script in $OUT/wrappers/LABEL. Each program
# runs in $OUT (it needs ./runtimetest and ./rootfs-amd64.tar.gz there) under `timeout`.
#
# Isolation: the whole run happens in a new network namespace and a new mount namespace
# (`unshare -n -m --propagation slave`). The suite's containers get network namespaces of their
# own anyway, but if a runtime under test failed to create one, its sysctl tests
# (net.ipv4.ip_forward=1) would otherwise reach the host. The mount namespace receives the
# host's mounts but sends none back: runc 1.1.5 leaks a container's /proc, /sys and /dev mounts
# into its caller's namespace in linux_rootfs_propagation (rootfsPropagation "shared"), which
# must not land on the host. On this cgroup v1 hybrid host crun refuses to run while the
# unified cgroup2 mount is visible (shared/runtime-contract.md), so for crun (HIDE_UNIFIED)
# /sys/fs/cgroup/unified is unmounted inside that namespace. Containers a program leaks (IDs are UUIDs) are force-deleted after it,
# and the temporary bundles it leaves in /tmp (ocitest*, oci-pid*) are removed.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${BENCH_OUT:-$REPO/bench/out}/runtime-tools
TEST_TIMEOUT=${TEST_TIMEOUT:-60}
HIDE_UNIFIED=${HIDE_UNIFIED:-auto}
UNIFIED=/sys/fs/cgroup/unified
PY=$(command -v python3)

LABEL=
ONLY=
while [[ $# -gt 0 ]]; do
    case $1 in
        --name) LABEL=$2; shift 2 ;;
        --only) ONLY=$2; shift 2 ;;
        --) shift; break ;;
        -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        *) break ;;
    esac
done
[[ $# -gt 0 ]] || { sed -n '2,9p' "$0" >&2; exit 2; }
[[ $(id -u) == 0 ]] || { echo "run.sh: run as root" >&2; exit 1; }
[[ -x $OUT/runtimetest && -d $OUT/validation ]] || {
    echo "run.sh: no suite in $OUT; run bench/runtime_tools/build.sh first" >&2
    exit 1
}

ARGV=("$@")
if [[ -z $LABEL ]]; then
    if [[ " ${ARGV[*]} " == *" jockerd.runtime "* || $(basename "${ARGV[0]}") == jocker-runtime ]]; then
        LABEL=jocker
    else
        LABEL=$(basename "${ARGV[0]}")
    fi
fi

# Enter the namespaces once (the re-exec'd script sees RUNTIME_TOOLS_INNER set).
if [[ -z ${RUNTIME_TOOLS_INNER:-} ]]; then
    export RUNTIME_TOOLS_INNER=1
    hide=0
    if [[ $HIDE_UNIFIED == 1 || ($HIDE_UNIFIED == auto && $(basename "${ARGV[0]}") == crun) ]]; then
        mountpoint -q "$UNIFIED" && hide=1
    fi
    exec unshare -n -m --propagation slave \
        sh -c '[ "$1" = 0 ] || umount "$2"; shift 2; exec "$@"' sh "$hide" "$UNIFIED" \
        "$0" --name "$LABEL" --only "$ONLY" -- "${ARGV[@]}"
fi

# The runtime as one executable path.
if [[ ${#ARGV[@]} == 1 && $LABEL != jocker ]]; then
    RUNTIME=$(command -v "${ARGV[0]}") || { echo "run.sh: ${ARGV[0]} not found" >&2; exit 1; }
else
    mkdir -p "$OUT/wrappers"
    RUNTIME=$OUT/wrappers/$LABEL
    {
        echo "#!/bin/sh"
        echo "# run.sh wrapper: the suite runs \$RUNTIME as a single path"
        printf 'exec'
        printf ' %q' "${ARGV[@]}"
        printf ' "$@"\n'
    } >"$RUNTIME"
    chmod 755 "$RUNTIME"
fi
"$RUNTIME" --version >/dev/null 2>&1 || echo "run.sh: warning: '$RUNTIME --version' failed" >&2

RESULTS=$OUT/results/$LABEL
mkdir -p "$RESULTS"
[[ -n $ONLY ]] || rm -f "$RESULTS"/*.tap "$RESULTS"/*.err "$RESULTS"/*.rc "$RESULTS"/*.secs # --only keeps the rest
UUID='^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
list_ids() { timeout 20 "$RUNTIME" list -q 2>/dev/null | grep -E "$UUID" | sort || true; }
list_tmp() { ls -d /tmp/ocitest* /tmp/oci-pid* 2>/dev/null | sort || true; } # the suite's temp bundles

echo "== $LABEL: RUNTIME=$RUNTIME, $(head -n1 "$OUT/VERSION" 2>/dev/null), timeout ${TEST_TIMEOUT}s each"
cd "$OUT"
for prog in validation/*.t; do
    name=$(basename "$prog" .t)
    [[ -z $ONLY || $name =~ $ONLY ]] || continue
    before=$(list_ids)
    tmp_before=$(list_tmp)
    start=$(date +%s.%N)
    rc=0
    # Each program gets its own mount namespace (a slave of this one): a runtime that does its
    # rootfs work in its caller's namespace (a container without a mount namespace, as in
    # linux_ns_itype) then damages only that program's view, not the rest of the run.
    RUNTIME=$RUNTIME unshare -m --propagation slave timeout -k 5 "$TEST_TIMEOUT" "./$prog" \
        >"$RESULTS/$name.tap" 2>"$RESULTS/$name.err" </dev/null || rc=$?
    end=$(date +%s.%N)
    echo "$rc" >"$RESULTS/$name.rc"
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.2f\n", e - s }' >"$RESULTS/$name.secs"
    # Force-delete containers this program left behind (only IDs that appeared during it).
    leaked=$(comm -13 <(echo "$before") <(list_ids))
    for id in $leaked; do
        timeout 20 "$RUNTIME" delete --force "$id" >/dev/null 2>&1 || true
        echo "leaked container $id force-deleted" >>"$RESULTS/$name.err"
    done
    # Leaked bundles may still carry the container's mounts (proc, sysfs, binds): unmount them
    # (in this namespace only) before removing, and never cross into another filesystem.
    comm -13 <(echo "$tmp_before") <(list_tmp) | while read -r dir; do
        [[ -n $dir ]] || continue
        awk -v d="$dir" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
            while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf --one-file-system "$dir" 2>/dev/null || echo "could not remove $dir" >>"$RESULTS/$name.err"
    done
    printf '%-40s rc=%-3s %ss\n' "$name" "$rc" "$(cat "$RESULTS/$name.secs")"
done

"$PY" "$REPO/bench/runtime_tools/tap_summary.py" summarize "$RESULTS"
