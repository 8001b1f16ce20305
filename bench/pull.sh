#!/usr/bin/env bash
# Benchmark: `docker pull` of a ~100 MB multi-layer image from a local registry into jockerd vs
# `skopeo copy` into an OCI layout plus `umoci unpack`, in the same run.
#
# Why: a pull is "fetch blobs over HTTP, check their digests, unpack the layers". skopeo (Go,
# containers/image) fetching into an OCI layout and umoci (Go) unpacking it do exactly that with
# mature tools, so the ratio (jocker / skopeo+umoci) says how much jocker's Python pull costs.
# jockerd flushes the filesystem (syncfs) before it names a pulled image, so `skopeo-umoci-sync`
# (then `sync -f`) is the like-for-like baseline; plain `skopeo-umoci` leaves its files in the
# page cache.
#
# Usage:  bench/pull.sh
# Env:    RUNS=5 WARMUP=1 SIZE_MB=100 BENCH_OUT=bench/out JOCKERD=.venv/bin/jockerd
#         DOCKERD=1  (optional: also time a Docker Engine, Debian's dockerd, pulling the same image)
# Needs:  hyperfine, docker-registry, skopeo, umoci, curl, unshare/nsenter + ip, the docker CLI, root.
#
# Network safety: the registry, jockerd (and dockerd) run in one private network namespace held
# by a sleeping process (`unshare -n`, only `lo` up); skopeo enters it with `nsenter --net`. The
# docker CLI talks to the daemons over their unix sockets. Between timed runs the image is removed
# (`docker rmi -f`: jockerd then collects its blobs and layers) or the OCI layout deleted.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=$REPO/.venv/bin/python
JOCKERD=${JOCKERD:-$REPO/.venv/bin/jockerd}
OUT=${BENCH_OUT:-$REPO/bench/out}
RUNS=${RUNS:-5}
WARMUP=${WARMUP:-1}
SIZE_MB=${SIZE_MB:-100}
TAG=jocker-bench/big:latest
PORT=5000 # free by construction: the namespace is ours alone

IMAGE=$OUT/big-${SIZE_MB}mb.tar # shared with bench/load_image.sh
RUN=$OUT/pull-run
SOCK=$RUN/jocker.sock
OCI=$RUN/skopeo-umoci
REF=127.0.0.1:$PORT/bench/big:latest
mkdir -p "$OUT"

for tool in hyperfine docker-registry skopeo umoci curl docker; do
    command -v "$tool" >/dev/null || { echo "pull.sh: $tool not found (./setup.sh --no-start)" >&2; exit 1; }
done
[[ -x $JOCKERD ]] || { echo "pull.sh: $JOCKERD not found (pip install -e . ?)" >&2; exit 1; }

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

rm -rf "$RUN" && mkdir -p "$RUN/registry"
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}
trap cleanup EXIT
trap 'exit 130' INT TERM

wait_for() { # wait_for WHAT CMD...: up to 30 s
    local what=$1; shift
    for _ in $(seq 150); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
    echo "pull.sh: $what did not come up" >&2
    exit 1
}

# 2. The namespace, the registry, the seeded image.
unshare -n sh -c 'ip link set lo up && exec sleep infinity' &
HOLDER=$!
PIDS+=("$HOLDER")
NS=(nsenter "--net=/proc/$HOLDER/ns/net" --)
wait_for "the network namespace" sh -c "[ \"\$(readlink /proc/$HOLDER/ns/net)\" != \"\$(readlink /proc/self/ns/net)\" ] && ${NS[*]} ip -o link show lo | grep -q UP"
cat >"$RUN/registry/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $RUN/registry/storage
http:
  addr: 127.0.0.1:$PORT
  secret: bench
EOF
"${NS[@]}" docker-registry serve "$RUN/registry/config.yml" >"$OUT/pull-registry.log" 2>&1 &
PIDS+=($!)
wait_for "the registry" "${NS[@]}" curl -sf "http://127.0.0.1:$PORT/v2/"
echo "== seeding $REF from $IMAGE"
"${NS[@]}" skopeo --insecure-policy copy -q --dest-tls-verify=false "docker-archive:$IMAGE" "docker://$REF"
COMPRESSED=$(du -sm "$RUN/registry/storage" | cut -f1)
echo "== image $IMAGE_ID: $(du -m "$IMAGE" | cut -f1) MiB uncompressed, ${COMPRESSED} MiB in the registry (gzip)"

# 3. jockerd in the same namespace.
echo '{}' >"$RUN/daemon.json"
"${NS[@]}" "$JOCKERD" --host "unix://$SOCK" --data-root "$RUN/data" --exec-root "$RUN/exec" \
    --pidfile "$RUN/jockerd.pid" --config-file "$RUN/daemon.json" >"$OUT/pull-jockerd.log" 2>&1 &
JPID=$!
PIDS+=("$JPID")
wait_for "jockerd" curl -sf --max-time 1 --unix-socket "$SOCK" http://x/_ping
export DOCKER_HOST=unix://$SOCK

# 4. One checked pull first: the benchmark is meaningless if the pull does not really work.
docker pull "$REF"
GOT=$(docker image inspect --format '{{.Id}}' "$REF")
[[ $GOT == "$IMAGE_ID" ]] || { echo "pull.sh: pulled $GOT, expected $IMAGE_ID" >&2; exit 1; }
docker rmi -f "$REF" >/dev/null

RMI="docker rmi -f $REF >/dev/null 2>&1 || true; sync"
SKOPEO="${NS[*]} skopeo --insecure-policy copy -q --src-tls-verify=false docker://$REF oci:$OCI/layout:big"
UMOCI="umoci unpack --image $OCI/layout:big $OCI/bundle >/dev/null"
REFERENCE=()
if [[ ${DOCKERD:-0} == 1 ]] && command -v dockerd >/dev/null; then
    DSOCK=$RUN/docker.sock
    "${NS[@]}" dockerd --data-root "$RUN/dockerd" --exec-root "$RUN/dockerd-exec" -H "unix://$DSOCK" \
        --pidfile "$RUN/dockerd.pid" --bridge none --iptables=false --ip-masq=false \
        >"$OUT/pull-dockerd.log" 2>&1 &
    PIDS+=($!)
    wait_for "dockerd" curl -sf --max-time 1 --unix-socket "$DSOCK" http://x/_ping
    DRMI="docker -H unix://$DSOCK rmi -f $REF >/dev/null 2>&1 || true; sync"
    REFERENCE=(--prepare "$DRMI" --command-name dockerd-pull "docker -H unix://$DSOCK pull -q $REF")
fi

hyperfine --runs "$RUNS" --warmup "$WARMUP" "${REFERENCE[@]}" \
    --prepare "$RMI" --command-name jocker-pull "docker pull -q $REF" \
    --prepare "rm -rf $OCI; mkdir -p $OCI; sync" --command-name skopeo-umoci "$SKOPEO && $UMOCI" \
    --prepare "rm -rf $OCI; mkdir -p $OCI; sync" --command-name skopeo-umoci-sync "$SKOPEO && $UMOCI && sync -f $OCI" \
    --prepare "rm -rf $OCI; mkdir -p $OCI; sync" --command-name skopeo-only "$SKOPEO" \
    --cleanup "$RMI; rm -rf $OCI" \
    --export-json "$OUT/pull.json"

"$PY" - "$OUT/pull.json" <<'EOF'
import json, sys
res = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
for name, r in res.items():
    print(f"{name:>18}: mean {r['mean']:.3f}s ± {r['stddev'] or 0:.3f}s  "
          f"min {r['min']:.3f}s  first {r['times'][0]:.3f}s  ({len(r['times'])} runs)")
for baseline in ("skopeo-umoci", "skopeo-umoci-sync", "dockerd-pull"):
    if "jocker-pull" in res and baseline in res:
        print(f"ratio jocker-pull / {baseline} = {res['jocker-pull']['mean'] / res[baseline]['mean']:.2f}x")
EOF
grep -E 'VmHWM' "/proc/$JPID/status" | sed 's/^/jockerd /' || true
