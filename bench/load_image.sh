#!/usr/bin/env bash
# Benchmark: `docker load -i big.tar` into jockerd vs GNU tar extracting the same layers.
#
# Why: loading an image is mostly "read a tar, write files"; GNU tar doing exactly that on the
# same layers is the floor. The ratio (jocker / tar) tells how much the daemon adds (hashing,
# HTTP streaming, bookkeeping, fsync), run on the same machine in the same run. jockerd flushes
# the filesystem (syncfs) before it names a loaded image, so `tar-extract-sync` (tar, then
# `sync -f`) is the like-for-like floor; plain `tar-extract` leaves its files in the page cache.
#
# Usage:  bench/load_image.sh [--baseline-only]
# Env:    RUNS=5 WARMUP=1 SIZE_MB=100 BENCH_OUT=bench/out JOCKERD=.venv/bin/jockerd
#         DOCKERD_SOCK=/path/docker.sock  (optional: also time a real Docker Engine's load)
# Needs:  hyperfine, GNU tar, curl, unshare + ip (util-linux, iproute2), the docker CLI, root.
#
# jockerd runs in its own network namespace (house rule for anything that starts it), with its
# own data/exec roots under $BENCH_OUT/run, and is stopped on exit. Between timed runs the
# image is removed with `docker rmi -f` (hyperfine --prepare); if jockerd keeps layers after
# rmi, later loads hit a fast path, so compare the first-run time in the JSON too.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=$REPO/.venv/bin/python
JOCKERD=${JOCKERD:-$REPO/.venv/bin/jockerd}
OUT=${BENCH_OUT:-$REPO/bench/out}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
SIZE_MB=${SIZE_MB:-100}
TAG=jocker-bench/big:latest
BASELINE_ONLY=0
[[ ${1:-} == --baseline-only ]] && BASELINE_ONLY=1

IMAGE=$OUT/big-${SIZE_MB}mb.tar
LAYERS=$OUT/layers-${SIZE_MB}mb # one uncompressed layer tar per image layer
RUN=$OUT/run                    # jockerd roots + tar extraction target, same filesystem
SOCK=$RUN/jocker.sock
EXTRACT=$RUN/tar-extract
mkdir -p "$OUT"

for tool in hyperfine tar; do
    command -v "$tool" >/dev/null || { echo "load_image.sh: $tool not found" >&2; exit 1; }
done

# 1. The image: deterministic (seed 0), built once and reused.
if [[ ! -s $IMAGE ]]; then
    echo "== building $IMAGE (${SIZE_MB} MiB)"
    (cd "$REPO" && "$PY" -c 'import sys; from images.testimages import big_image
info = big_image(sys.argv[1], int(sys.argv[2]), sys.argv[3]); print(info.id)' "$IMAGE" "$SIZE_MB" "$TAG")
fi
IMAGE_ID=$("$PY" - "$IMAGE" <<'EOF'
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as tf:
    print("sha256:" + json.load(tf.extractfile("manifest.json"))[0]["Config"].rsplit("/", 1)[1])
EOF
)

# 2. The layers as plain files, in manifest order, for the tar baseline.
if [[ ! -d $LAYERS ]]; then
    rm -rf "$LAYERS.tmp" && mkdir -p "$LAYERS.tmp/archive"
    tar -xf "$IMAGE" -C "$LAYERS.tmp/archive"
    "$PY" - "$LAYERS.tmp" <<'EOF'
import json, os, sys
root = sys.argv[1]
manifest = json.load(open(os.path.join(root, "archive", "manifest.json")))[0]
for i, layer in enumerate(manifest["Layers"]):
    os.rename(os.path.join(root, "archive", layer), os.path.join(root, f"{i:02d}.tar"))
EOF
    rm -rf "$LAYERS.tmp/archive" && mv "$LAYERS.tmp" "$LAYERS"
fi
NLAYERS=$(find "$LAYERS" -name '*.tar' | wc -l)
echo "== image $IMAGE_ID: $(du -m "$IMAGE" | cut -f1) MiB, $NLAYERS layers"

rm -rf "$RUN" && mkdir -p "$RUN"
# One directory per layer, like a snapshotter's layers/<id>/diff.
TAR_CMD="rm -rf $EXTRACT && for l in $LAYERS/*.tar; do d=$EXTRACT/\$(basename \$l .tar); mkdir -p \$d && tar -xf \$l -C \$d; done"

report() { # report JSON: print mean ± stddev per command and the ratio
    "$PY" - "$1" <<'EOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
for name, r in res.items():
    print(f"{name:>12}: mean {r['mean']:.3f}s ± {r['stddev'] or 0:.3f}s  "
          f"min {r['min']:.3f}s  first {r['times'][0]:.3f}s  ({len(r['times'])} runs)")
for baseline in ("tar-extract", "tar-extract-sync", "dockerd-load"):
    if "jocker-load" in res and baseline in res:
        ratio = res["jocker-load"]["mean"] / res[baseline]["mean"]
        print(f"ratio jocker-load / {baseline} = {ratio:.2f}x")
EOF
}

if [[ $BASELINE_ONLY == 1 ]]; then
    hyperfine --runs "$RUNS" --warmup "$WARMUP" \
        --prepare "sync" --command-name tar-extract "$TAR_CMD" \
        --cleanup "rm -rf $EXTRACT" \
        --export-json "$OUT/load_image.baseline.json"
    report "$OUT/load_image.baseline.json"
    exit 0
fi

# 3. Our own jockerd, in its own network namespace; stopped by the trap whatever happens.
[[ -x $JOCKERD ]] || { echo "load_image.sh: $JOCKERD not found (pip install -e . ?)" >&2; exit 1; }
JPID=
stop_jockerd() {
    [[ -n $JPID ]] || return 0
    kill -TERM "$JPID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$JPID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$JPID" 2>/dev/null || true
    wait "$JPID" 2>/dev/null || true
    JPID=
}
trap stop_jockerd EXIT
trap 'exit 130' INT TERM

# unshare without --fork execs: $! is jockerd's own pid once sh execs it.
unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
    "$JOCKERD" --host "unix://$SOCK" --data-root "$RUN/data" --exec-root "$RUN/exec" \
    --pidfile "$RUN/jockerd.pid" >"$OUT/jockerd.log" 2>&1 &
JPID=$!
for i in $(seq 150); do # up to 30 s
    curl -sf --max-time 1 --unix-socket "$SOCK" http://x/_ping >/dev/null 2>&1 && break
    if ! kill -0 "$JPID" 2>/dev/null || [[ $i == 150 ]]; then
        echo "load_image.sh: jockerd did not come up; tail of $OUT/jockerd.log:" >&2
        tail -n 30 "$OUT/jockerd.log" >&2
        exit 1
    fi
    sleep 0.2
done
export DOCKER_HOST=unix://$SOCK
echo "== jockerd pid $JPID on $SOCK"

# 4. One checked load first: the benchmark is meaningless if the load does not really work.
docker load -i "$IMAGE"
GOT=$(docker image inspect --format '{{.Id}}' "$TAG")
[[ $GOT == "$IMAGE_ID" ]] || { echo "load_image.sh: loaded $GOT, expected $IMAGE_ID" >&2; exit 1; }
docker rmi -f "$TAG" >/dev/null

RMI="docker rmi -f $TAG >/dev/null 2>&1 || true; sync"
# Optional: a real Docker Engine started by hand (in its own network namespace) as a reference.
REFERENCE=()
if [[ -n ${DOCKERD_SOCK:-} ]]; then
    DRMI="docker -H unix://$DOCKERD_SOCK rmi -f $TAG >/dev/null 2>&1 || true; sync"
    REFERENCE=(--prepare "$DRMI" --command-name dockerd-load "docker -H unix://$DOCKERD_SOCK load -q -i $IMAGE")
fi
hyperfine --runs "$RUNS" --warmup "$WARMUP" "${REFERENCE[@]}" \
    --prepare "$RMI" --command-name jocker-load "docker load -q -i $IMAGE" \
    --prepare "rm -rf $EXTRACT; sync" --command-name tar-extract "$TAR_CMD" \
    --prepare "rm -rf $EXTRACT; sync" --command-name tar-extract-sync "$TAR_CMD && sync -f $EXTRACT" \
    --cleanup "$RMI; rm -rf $EXTRACT" \
    --export-json "$OUT/load_image.json"
report "$OUT/load_image.json"
grep -E 'VmHWM|VmRSS' "/proc/$JPID/status" | sed 's/^/jockerd /' || true
