#!/usr/bin/env bash
# Benchmark: containers through the docker CLI against jockerd, vs the OCI runtime alone
# (runc, crun; no daemon) and vs Docker Engine (dockerd 20.10, optional), in one run.
#
# What is compared (hyperfine; each group in one invocation, repeated ROUNDS times, so every
# ratio is same-run):
#   run      `docker run --rm busybox true`: jockerd (default runtime jocker-runtime), jockerd
#            with `--runtime runc`, Docker Engine; baselines `runc run` / `crun run` of a
#            busybox `true` bundle (the bundle of bench/runtime_run.sh: `runc spec`, own
#            namespaces, no seccomp, no overlay: the runtime's floor, not a like-for-like run).
#   exec     `docker exec C true` on a running `sleep` container (jocker-runtime and runc
#            containers), Docker Engine; baseline `runc exec ID true` on a `runc run -d` container.
#   create   `docker rm $(docker create busybox true)`; baseline `runc create` + `runc delete`
#            (runc 1.1 sleeps 100 ms in `delete` of a created container, after its SIGKILL;
#            `docker create` starts no process at all, so that baseline is not a floor).
#   ps       `docker ps -a` / `docker ps` with 100 containers present vs `docker ps -a` on a
#            second, empty jockerd (0 containers: the floor of CLI + HTTP round trip), Docker
#            Engine with 100 containers, the same listing with curl (no CLI: the daemon's
#            share), and `docker --version` (the CLI's own start-up, no daemon contacted).
# Then `phases`: the API calls of a `docker run --rm`, timed one by one over the socket
# (create, start, exit, removal; exec create/start/inspect), against jockerd and dockerd;
# and `timeline` (needs perf): when each process of a `docker run --rm` (CLI, shim, runtime
# create/start/delete, the container's `true`) starts and exits, from sched tracepoints,
# median ms after the CLI's exec. "X#2" is the 2nd exec of X in a run; "(forked)" a child
# of X that exited without exec'ing (a shim's daemonized half, a runtime's helper);
# "docker#1 connect#N" the CLI's connections (1: ping + create, 2: attach, 3: start). Then
# the time spent per run in fsync/fdatasync/syncfs/mount/umount, by process.
#
# Reading the numbers: each group prints mean ± sd per command (and each round's mean: a
# round far off the others was disturbed by other work) and ratios "X / Y = r";
# r > 1 means X is slower. jockerd / runc-direct is what the daemon + shim + docker CLI add
# on top of the reference runtime; jockerd / dockerd is the issue's target (< 1, well under).
# Hyperfine JSON and markdown go to $BENCH_OUT/containers-<group>.{json,md}, the summary to
# $BENCH_OUT/containers-summary.txt, the daemons' logs next to them.
#
# Usage:  bench/containers.sh [--no-dockerd]
#         As root, from anywhere, after `./setup.sh --no-start`; no jockerd needs to be running
#         (the script starts its own). About 3 minutes with the defaults and Docker Engine;
#         the numbers are printed and saved in bench/out/containers-summary.txt.
# Env:    RUNS=10 WARMUP=2 ROUNDS=3 (RUNS timed runs per command per round)
#         BENCH_OUT=bench/out WORK=/tmp/jocker-bench PY=.venv/bin/python
#         DOCKERD=auto|0|1  (auto: compare with Docker Engine when dockerd is installed;
#                            0 or --no-dockerd: skip it; 1: fail if it cannot be started)
#         PS_COUNT=100 PS_MODE=running|created (100 `sleep 1000` containers, or created only)
#         PHASE_RUNS=20 TIMELINE_RUNS=10 GROUPS_TO_RUN="run exec create ps phases timeline"
#         HYPERFINE_EXTRA="--show-output" (more hyperfine arguments, for debugging)
# Needs:  root, hyperfine, the docker CLI, runc (crun optional), curl, unshare + ip,
#         busybox-static, perf (optional, for `timeline`), and images/out/busybox.tar
#         (`./setup.sh --no-start` builds it).
#
# House rules: every daemon started here (two jockerds, dockerd) runs in its own network
# namespace (`unshare --net`, loopback only) with its data/exec roots under $WORK; nothing
# touches the host's network. Containers get their own network namespace (loopback only) in
# both engines: dockerd runs with `--bridge none`, and its `docker run` without --network
# then gives the same loopback-only namespace as jockerd's default, so no --network flag is
# passed to either. The EXIT trap removes every container (jockerd, dockerd, runc), stops the
# daemons, unmounts whatever is left under $WORK and deletes it.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
PY=${PY:-$REPO/.venv/bin/python}
JOCKERD=${JOCKERD:-$REPO/.venv/bin/jockerd}
OUT=${BENCH_OUT:-$REPO/bench/out}
WORK=${WORK:-/tmp/jocker-bench}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}
ROUNDS=${ROUNDS:-3}
PS_COUNT=${PS_COUNT:-100}
PS_MODE=${PS_MODE:-running}
PHASE_RUNS=${PHASE_RUNS:-20}
TIMELINE_RUNS=${TIMELINE_RUNS:-10}
GROUPS_TO_RUN=${GROUPS_TO_RUN:-"run exec create ps phases timeline"}
DOCKERD_MODE=${DOCKERD:-auto}
[[ ${1:-} == --no-dockerd ]] && DOCKERD_MODE=0
IMAGE_TAR=$REPO/images/out/busybox.tar

die() { echo "containers.sh: $*" >&2; exit 1; }
note() { echo "== $*"; }
wants() { [[ " $GROUPS_TO_RUN " == *" $1 "* ]]; }

[[ $(id -u) == 0 ]] || die "run as root"
for tool in hyperfine docker runc curl unshare ip findmnt; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
[[ -x /bin/busybox ]] || die "/bin/busybox not found (busybox-static)"
[[ -s $IMAGE_TAR ]] || die "$IMAGE_TAR missing: run ./setup.sh --no-start"
[[ -x $JOCKERD ]] || die "$JOCKERD not found (./setup.sh --no-start)"
case $PS_MODE in running | created) ;; *) die "PS_MODE must be running or created" ;; esac
# The shim's sockets live in EXEC_ROOT/shim/<64-hex id>/control.sock, 107 bytes at most, and
# EXEC_ROOT is $WORK/j/x: $WORK may have 20 characters.
((${#WORK} <= 20)) || die "WORK=$WORK is too long for the shim's socket paths (20 chars max)"

RUNC=$(command -v runc)
CRUN=$(command -v crun || true)
DOCKERD_BIN=$(command -v dockerd || true)

J=$WORK/j         # the measured jockerd
E=$WORK/e         # an empty jockerd: `docker ps` with 0 containers
RD=$WORK/rd       # Docker Engine
BUNDLE=$WORK/bundle
SLEEP_BUNDLE=$WORK/bundle-sleep
RUNC_ROOT=$WORK/runc
CRUN_ROOT=$WORK/crun
JSOCK=unix://$J/docker.sock
ESOCK=unix://$E/docker.sock
DSOCK=unix://$RD/docker.sock
SUMMARY=$OUT/containers-summary.txt
FAILS=$OUT/containers-failures.txt # one line per failed timed run of a daemon command
ERRORS=$OUT/containers-errors.log  # their stderr

# -- cleanup (EXIT trap): containers, daemons, runtime state, mounts, directories ----------------

PIDS=() # daemons started here
daemon_pid() { if [[ -s $1 ]]; then cat "$1"; fi; }

remove_containers() { # $1: docker host
    local ids
    ids=$(timeout 20 docker -H "$1" ps -aq 2>/dev/null) || return 0
    [[ -z $ids ]] && return 0
    # shellcheck disable=SC2086  # one ID per word
    timeout 120 docker -H "$1" rm -f $ids >/dev/null 2>&1 || true
}

stop_pid() { # $1: pid; TERM, wait up to 20 s, KILL
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    echo "containers.sh: pid $pid ignored SIGTERM, killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
}

mounts_under() { findmnt -rn -o TARGET | grep -F "$WORK/" | sort -r || true; }

cleanup() {
    local rc=$?
    set +e
    trap - EXIT INT TERM
    note "cleanup"
    for sock in "$JSOCK" "$ESOCK"; do remove_containers "$sock"; done
    [[ -n ${DOCKERD_PID:-} ]] && remove_containers "$DSOCK"
    for root in "$RUNC_ROOT" "$CRUN_ROOT"; do
        [[ -d $root ]] || continue
        local bin=$RUNC
        [[ $root == "$CRUN_ROOT" ]] && bin=$CRUN
        [[ -n $bin ]] || continue
        for id in $("$bin" --root "$root" list -q 2>/dev/null); do "$bin" --root "$root" delete --force "$id" >/dev/null 2>&1; done
    done
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; wait "$pid" 2>/dev/null; done
    # Shims outlive jockerd by design: any left (a failed rm) are killed by their own pid files.
    for f in "$J"/x/shim/*/shim.pid "$E"/x/shim/*/shim.pid; do
        [[ -s $f ]] && kill -KILL "$(cat "$f")" 2>/dev/null
    done
    local left
    left=$(mounts_under)
    if [[ -n $left ]]; then
        while read -r m; do umount "$m" 2>/dev/null || umount -l "$m"; done <<<"$left"
    fi
    left=$(mounts_under)
    if [[ -n $left ]]; then
        echo "containers.sh: mounts left under $WORK, not deleting it:" >&2
        echo "$left" >&2
    else
        rm -rf --one-file-system "$WORK"
    fi
    exit "$rc"
}

# A previous run that died hard: unmount and delete its leftovers first (nothing of it runs:
# its daemons' pid files are checked).
for pidfile in "$J/pid" "$E/pid" "$RD/pid"; do
    pid=$(daemon_pid "$pidfile")
    [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && die "a daemon of a previous run is alive (pid $pid, $pidfile)"
done
if [[ -e $WORK ]]; then
    while read -r m; do [[ -n $m ]] && { umount "$m" 2>/dev/null || umount -l "$m"; }; done <<<"$(mounts_under)"
    [[ -z $(mounts_under) ]] || die "mounts left under $WORK from a previous run"
    rm -rf --one-file-system "$WORK"
fi
mkdir -p "$WORK" "$OUT"
rm -f "$OUT"/containers-*.json "$OUT"/containers-*.md "$OUT"/containers-*.txt # a previous run's
: >"$FAILS"
: >"$ERRORS"
trap cleanup EXIT
trap 'exit 130' INT TERM

# -- daemons -----------------------------------------------------------------------------------

wait_ping() { # $1: socket path, $2: pid, $3: log, $4: name
    for i in $(seq 150); do # up to 30 s
        curl -sf --max-time 1 --unix-socket "$1" http://x/_ping >/dev/null 2>&1 && return 0
        if ! kill -0 "$2" 2>/dev/null || [[ $i == 150 ]]; then
            echo "containers.sh: $4 did not come up; tail of $3:" >&2
            tail -n 30 "$3" >&2
            return 1
        fi
        sleep 0.2
    done
}

start_jockerd() { # $1: dir, $2: log name; sets LAST_PID
    local dir=$1 log=$OUT/$2
    mkdir -p "$dir"
    # unshare without --fork execs: $! is the daemon's own pid once sh execs it.
    unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh \
        "$JOCKERD" --host "unix://$dir/docker.sock" --data-root "$dir/data" --exec-root "$dir/x" \
        --pidfile "$dir/pid" >"$log" 2>&1 &
    LAST_PID=$!
    PIDS+=("$LAST_PID")
    wait_ping "$dir/docker.sock" "$LAST_PID" "$log" "jockerd ($dir)"
}

start_jockerd "$J" containers.jockerd.log
note "jockerd pid $LAST_PID on $JSOCK ($(cd "$REPO" && git describe --always --dirty))"
start_jockerd "$E" containers.jockerd-empty.log
note "empty jockerd pid $LAST_PID on $ESOCK"
docker -H "$JSOCK" load -q -i "$IMAGE_TAR" >/dev/null

DOCKERD_PID=
DOCKERD_NOTE=""
if [[ $DOCKERD_MODE == 0 ]]; then
    DOCKERD_NOTE="Docker Engine comparison skipped (DOCKERD=0 / --no-dockerd)"
elif [[ -z $DOCKERD_BIN ]]; then
    [[ $DOCKERD_MODE == 1 ]] && die "DOCKERD=1 but dockerd is not installed"
    DOCKERD_NOTE="Docker Engine comparison skipped: dockerd is not installed"
else
    mkdir -p "$RD"
    unshare --net -- sh -c 'ip link set lo up && exec "$@"' sh \
        "$DOCKERD_BIN" --data-root "$RD/data" --exec-root "$RD/exec" -H "$DSOCK" --pidfile "$RD/pid" \
        --bridge none --iptables=false --ip-masq=false >"$OUT/containers.dockerd.log" 2>&1 &
    DOCKERD_PID=$!
    PIDS+=("$DOCKERD_PID")
    if wait_ping "$RD/docker.sock" "$DOCKERD_PID" "$OUT/containers.dockerd.log" dockerd &&
        docker -H "$DSOCK" load -q -i "$IMAGE_TAR" >/dev/null &&
        docker -H "$DSOCK" run --rm busybox true; then
        note "dockerd $("$DOCKERD_BIN" --version | cut -d' ' -f3 | tr -d ,) pid $DOCKERD_PID on $DSOCK"
    else
        [[ $DOCKERD_MODE == 1 ]] && die "dockerd could not start or run busybox"
        DOCKERD_NOTE="Docker Engine comparison skipped: dockerd failed (see $OUT/containers.dockerd.log)"
        remove_containers "$DSOCK"
        stop_pid "$DOCKERD_PID"
        DOCKERD_PID=
    fi
fi
[[ -n $DOCKERD_NOTE ]] && note "$DOCKERD_NOTE"

# -- bundles for the runtime baselines (as bench/runtime_run.sh: `runc spec`, busybox-static) ---

mkdir -p "$BUNDLE/rootfs/bin" "$BUNDLE/rootfs/proc" "$BUNDLE/rootfs/dev" "$BUNDLE/rootfs/sys" \
    "$SLEEP_BUNDLE" "$RUNC_ROOT" "$CRUN_ROOT"
cp /bin/busybox "$BUNDLE/rootfs/bin/busybox"
ln -s busybox "$BUNDLE/rootfs/bin/true"
ln -s busybox "$BUNDLE/rootfs/bin/sleep"
"$RUNC" spec --bundle "$BUNDLE"
"$PY" - "$BUNDLE" "$SLEEP_BUNDLE" <<'EOF'
import json, os, sys
bundle, sleep_bundle = sys.argv[1:]
spec = json.load(open(os.path.join(bundle, "config.json")))
spec["process"]["terminal"] = False
spec["process"]["args"] = ["true"]
json.dump(spec, open(os.path.join(bundle, "config.json"), "w"), indent=2)
spec["process"]["args"] = ["sleep", "1000"]
spec["root"]["path"] = os.path.join(bundle, "rootfs")  # the same read-only rootfs
json.dump(spec, open(os.path.join(sleep_bundle, "config.json"), "w"), indent=2)
EOF

CRUN_OK=0
CRUN_NOTE=""
if [[ -z $CRUN ]]; then
    CRUN_NOTE="crun: not installed, skipped"
elif out=$(timeout 30 "$CRUN" --root "$CRUN_ROOT" run --bundle "$BUNDLE" check-crun 2>&1 </dev/null); then
    CRUN_OK=1
else
    CRUN_NOTE="crun: checked run failed, skipped: $(echo "$out" | tail -n 1)"
    "$CRUN" --root "$CRUN_ROOT" delete --force check-crun >/dev/null 2>&1 || true
fi
[[ -n $CRUN_NOTE ]] && note "$CRUN_NOTE"
"$RUNC" --root "$RUNC_ROOT" run --bundle "$BUNDLE" check-runc </dev/null

# -- groups ------------------------------------------------------------------------------------

SWEEP_RUNTIMES="for id in \$($RUNC --root $RUNC_ROOT list -q); do $RUNC --root $RUNC_ROOT delete --force \$id; done"
# hyperfine runs all the runs of one command, then the next: on a shared machine a burst of
# other work lands on one command. ROUNDS repeats the whole group (RUNS each time) and the
# rounds' samples are merged per command into containers-GROUP.json/.md (the per-round
# exports stay as containers-GROUP.rN.*).
bench() { # $1: group, then hyperfine's command arguments
    local group=$1 r parts=()
    shift
    for r in $(seq "$ROUNDS"); do
        note "hyperfine: $group, round $r of $ROUNDS (runs $RUNS, warmup $WARMUP)"
        # shellcheck disable=SC2086  # HYPERFINE_EXTRA: extra words, e.g. --show-output
        hyperfine --runs "$RUNS" --warmup "$WARMUP" ${HYPERFINE_EXTRA:-} \
            --export-json "$OUT/containers-$group.r$r.json" --export-markdown "$OUT/containers-$group.r$r.md" "$@"
        parts+=("$OUT/containers-$group.r$r.json")
    done
    "$PY" - "$OUT/containers-$group" "${parts[@]}" <<'EOF'
import json, statistics, sys
out, parts = sys.argv[1], sys.argv[2:]
merged = {}
for part in parts:
    for r in json.load(open(part))["results"]:
        m = merged.setdefault(r["command"], {"command": r["command"], "times": [], "user": [], "system": [], "round_means": []})
        m["times"] += r["times"]
        m["user"].append(r["user"])
        m["system"].append(r["system"])
        m["round_means"].append(r["mean"])
results = []
for m in merged.values():
    t = m["times"]
    results.append({"command": m["command"], "mean": statistics.fmean(t),
                    "stddev": statistics.stdev(t) if len(t) > 1 else None, "median": statistics.median(t),
                    "user": statistics.fmean(m["user"]), "system": statistics.fmean(m["system"]),
                    "min": min(t), "max": max(t), "times": t, "round_means": m["round_means"]})
json.dump({"results": results}, open(out + ".json", "w"), indent=1)
fastest = min(r["mean"] for r in results)
with open(out + ".md", "w") as f:
    f.write("| Command | Mean [ms] | Median [ms] | Min [ms] | Max [ms] | Relative |\n|:---|---:|---:|---:|---:|---:|\n")
    for r in results:
        f.write(f"| `{r['command']}` | {r['mean'] * 1e3:.1f} ± {(r['stddev'] or 0) * 1e3:.1f} | {r['median'] * 1e3:.1f} "
                f"| {r['min'] * 1e3:.1f} | {r['max'] * 1e3:.1f} | {r['mean'] / fastest:.2f} |\n")
EOF
}

# A daemon command's failed run is counted, not fatal: `docker run --rm --runtime runc` on
# jockerd fails now and then (a race between the daemon's `runc start` and the shim's
# `runc delete` after a fast exit, see docs/performance.md); hyperfine would abort the whole
# group. The summary prints the failure counts; their runs' times stay in the statistics.
counted() { # $1: command name, $2: command
    echo "$2 2>>$ERRORS || echo $1 >>$FAILS"
}
D=() # the Docker Engine commands, added to a group when dockerd runs

if wants run; then
    D=()
    [[ -n $DOCKERD_PID ]] && D=(--command-name dockerd-run "$(counted dockerd-run "docker -H $DSOCK run --rm busybox true")")
    C=()
    [[ $CRUN_OK == 1 ]] && C=(--command-name crun-run "$CRUN --root $CRUN_ROOT run --bundle $BUNDLE crun-\$\$ </dev/null")
    bench run --cleanup "{ $SWEEP_RUNTIMES; } >/dev/null 2>&1 || true" \
        --command-name jocker-run "$(counted jocker-run "docker -H $JSOCK run --rm busybox true")" \
        --command-name jocker-run-runc "$(counted jocker-run-runc "docker -H $JSOCK run --rm --runtime runc busybox true")" \
        "${D[@]}" \
        --command-name runc-run "$RUNC --root $RUNC_ROOT run --bundle $BUNDLE runc-\$\$ </dev/null" \
        "${C[@]}"
fi

if wants exec; then
    docker -H "$JSOCK" run -d --name bench-exec busybox sleep 1000 >/dev/null
    docker -H "$JSOCK" run -d --name bench-exec-runc --runtime runc busybox sleep 1000 >/dev/null
    "$RUNC" --root "$RUNC_ROOT" run -d --bundle "$SLEEP_BUNDLE" bench-exec </dev/null >/dev/null 2>&1
    D=()
    if [[ -n $DOCKERD_PID ]]; then
        docker -H "$DSOCK" run -d --name bench-exec busybox sleep 1000 >/dev/null
        D=(--command-name dockerd-exec "$(counted dockerd-exec "docker -H $DSOCK exec bench-exec true")")
    fi
    bench exec \
        --command-name jocker-exec "$(counted jocker-exec "docker -H $JSOCK exec bench-exec true")" \
        --command-name jocker-exec-runc "$(counted jocker-exec-runc "docker -H $JSOCK exec bench-exec-runc true")" \
        "${D[@]}" \
        --command-name runc-exec "$RUNC --root $RUNC_ROOT exec bench-exec true"
    docker -H "$JSOCK" rm -f bench-exec bench-exec-runc >/dev/null
    "$RUNC" --root "$RUNC_ROOT" delete --force bench-exec
    [[ -n $DOCKERD_PID ]] && docker -H "$DSOCK" rm -f bench-exec >/dev/null
fi

if wants create; then
    D=()
    [[ -n $DOCKERD_PID ]] && D=(--command-name dockerd-create-rm "$(counted dockerd-create-rm "docker -H $DSOCK rm \$(docker -H $DSOCK create busybox true)")")
    bench create --cleanup "{ $SWEEP_RUNTIMES; } >/dev/null 2>&1 || true" \
        --command-name jocker-create-rm "$(counted jocker-create-rm "docker -H $JSOCK rm \$(docker -H $JSOCK create busybox true)")" \
        "${D[@]}" \
        --command-name runc-create-delete "$RUNC --root $RUNC_ROOT create --bundle $BUNDLE runc-\$\$ </dev/null >/dev/null 2>&1 && $RUNC --root $RUNC_ROOT delete runc-\$\$"
fi

PS_NOTE=""
TIMELINE_NOTE=""
if wants ps; then
    make_containers() { # $1: docker host, $2: name for messages; PS_COUNT containers, PS_MODE
        local i n verb=create
        [[ $PS_MODE == running ]] && verb="run -d"
        for i in $(seq "$PS_COUNT"); do
            # shellcheck disable=SC2086  # verb: one or two words
            docker -H "$1" $verb --name "bench-ps-$i" busybox sleep 1000 >/dev/null
        done
        n=$(docker -H "$1" ps -aq | wc -l)
        [[ $n == "$PS_COUNT" ]] || die "expected $PS_COUNT containers, $2 lists $n"
    }
    note "creating $PS_COUNT containers ($PS_MODE) in jockerd${DOCKERD_PID:+ and in dockerd}"
    free_before=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
    make_containers "$JSOCK" jockerd
    free_after=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
    PS_NOTE="$PS_COUNT containers $PS_MODE; jockerd's took $(((free_before - free_after) / 1024)) MiB of MemAvailable"
    D=()
    if [[ -n $DOCKERD_PID ]]; then
        make_containers "$DSOCK" dockerd
        free_dockerd=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
        PS_NOTE+=", dockerd's $(((free_after - free_dockerd) / 1024)) MiB"
        D=(--command-name "dockerd-ps-a-$PS_COUNT" "docker -H $DSOCK ps -a")
    fi
    note "$PS_NOTE"
    P=()
    [[ $PS_MODE == running ]] && P=(--command-name "jocker-ps-$PS_COUNT" "docker -H $JSOCK ps")
    # The same listing without the CLI: GET /containers/json?all=1 with curl.
    API="http://localhost/v1.41/containers/json?all=1"
    bench ps \
        --command-name "jocker-ps-a-$PS_COUNT" "docker -H $JSOCK ps -a" \
        "${P[@]}" \
        --command-name jocker-ps-a-0 "docker -H $ESOCK ps -a" \
        "${D[@]}" \
        --command-name "jocker-api-ps-a-$PS_COUNT" "curl -sf --unix-socket $J/docker.sock $API" \
        --command-name jocker-api-ps-a-0 "curl -sf --unix-socket $E/docker.sock $API" \
        --command-name docker-cli-version "docker --version"
    note "removing the $PS_COUNT containers"
    remove_containers "$JSOCK"
    [[ -n $DOCKERD_PID ]] && remove_containers "$DSOCK"
fi

# -- phases: the API calls of `docker run --rm` and `docker exec`, one by one ------------------

if wants phases; then
    SOCKETS=("jocker=$J/docker.sock")
    [[ -n $DOCKERD_PID ]] && SOCKETS+=("dockerd=$RD/docker.sock")
    note "phases: the API calls of docker run --rm / docker exec, $PHASE_RUNS runs each (median ms)"
    "$PY" - "$PHASE_RUNS" "$OUT/containers-phases.json" "${SOCKETS[@]}" <<'EOF'
import http.client, json, socket, statistics, sys, time

RUNS, OUT, TARGETS = int(sys.argv[1]), sys.argv[2], [a.split("=", 1) for a in sys.argv[3:]]
API = "/v1.41"  # dockerd 20.10's version; jockerd serves it too


class Conn(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.unix_path)


def send(sock, method, url, body=None):
    """Send a request; return the connection (read its response later)."""
    c = Conn(sock)
    data = json.dumps(body).encode() if body is not None else None
    c.request(method, API + url, body=data, headers={"Content-Type": "application/json"} if data else {})
    return c


def finish(c, ok=(200, 201, 204)):
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status not in ok:
        raise RuntimeError(f"{r.status} {data[:200]!r}")
    return json.loads(data) if data and r.getheader("Content-Type", "").startswith("application/json") else data


def call(sock, method, url, body=None):
    return finish(send(sock, method, url, body))


def run_rm(sock):
    """What `docker run --rm` asks (minus ping/attach): create, wait(removed), start, wait answered."""
    t0 = time.perf_counter()
    cid = call(sock, "POST", "/containers/create", {"Image": "busybox", "Cmd": ["true"], "HostConfig": {"AutoRemove": True}})["Id"]
    t1 = time.perf_counter()
    w = send(sock, "POST", f"/containers/{cid}/wait?condition=removed")
    resp = w.getresponse()  # headers come first, the body once the container is gone
    t2 = time.perf_counter()
    call(sock, "POST", f"/containers/{cid}/start")
    t3 = time.perf_counter()
    resp.read()
    w.close()
    t4 = time.perf_counter()
    return {"create": t1 - t0, "wait-open": t2 - t1, "start": t3 - t2, "exit+auto-remove": t4 - t3, "total": t4 - t0}


def run_steps(sock):
    """The same without AutoRemove: exit and removal apart (wait next-exit, then DELETE)."""
    t0 = time.perf_counter()
    cid = call(sock, "POST", "/containers/create", {"Image": "busybox", "Cmd": ["true"]})["Id"]
    t1 = time.perf_counter()
    w = send(sock, "POST", f"/containers/{cid}/wait?condition=next-exit")
    resp = w.getresponse()
    t2 = time.perf_counter()
    call(sock, "POST", f"/containers/{cid}/start")
    t3 = time.perf_counter()
    resp.read()
    w.close()
    t4 = time.perf_counter()
    call(sock, "DELETE", f"/containers/{cid}")
    t5 = time.perf_counter()
    return {"create": t1 - t0, "start": t3 - t2, "exit (start answered -> wait answered)": t4 - t3,
            "delete": t5 - t4, "total": t5 - t0}


def exec_steps(sock, cid):
    """What `docker exec C true` asks: exec create, exec start (stream until exit), exec inspect."""
    t0 = time.perf_counter()
    eid = call(sock, "POST", f"/containers/{cid}/exec", {"Cmd": ["true"], "AttachStdout": True, "AttachStderr": True})["Id"]
    t1 = time.perf_counter()
    call(sock, "POST", f"/exec/{eid}/start", {"Detach": False, "Tty": False})
    t2 = time.perf_counter()
    code = call(sock, "GET", f"/exec/{eid}/json")["ExitCode"]
    t3 = time.perf_counter()
    assert code == 0, code
    return {"exec create": t1 - t0, "exec start (runs, streams to EOF)": t2 - t1, "exec inspect": t3 - t2, "total": t3 - t0}


def ping(sock):
    t0 = time.perf_counter()
    call(sock, "GET", "/_ping")
    return {"GET /_ping": time.perf_counter() - t0}


results = {}
for name, sock in TARGETS:
    res = results[name] = {}
    c = call(sock, "POST", "/containers/create", {"Image": "busybox", "Cmd": ["sleep", "1000"]})["Id"]
    call(sock, "POST", f"/containers/{c}/start")
    try:
        for label, fn in (("ping", lambda: ping(sock)), ("run --rm", lambda: run_rm(sock)),
                          ("run, then rm", lambda: run_steps(sock)), ("exec", lambda: exec_steps(sock, c))):
            fn()  # warm-up
            samples = [fn() for _ in range(RUNS)]
            res[label] = {k: [s[k] for s in samples] for k in samples[0]}
    finally:
        call(sock, "DELETE", f"/containers/{c}?force=1")
json.dump(results, open(OUT, "w"), indent=1)
names = list(results)
for label in results[names[0]]:
    print(f"{label}:")
    for step in results[names[0]][label]:
        cells = "  ".join(f"{n} {statistics.median(results[n][label][step]) * 1000:7.1f}" for n in names)
        print(f"  {step:<40} {cells}")
EOF
fi

# -- timeline: which process runs when, during `docker run --rm` / `docker exec` (perf) ---------

if wants timeline; then
    if ! command -v perf >/dev/null; then
        TIMELINE_NOTE="timeline skipped: perf is not installed (linux-perf)"
        note "$TIMELINE_NOTE"
    else
        # An exec goes through the container's shim in dockerd (containerd-shim-runc-v2 is
        # not the daemon's descendant any more): follow the shim's tree too.
        shim_of() { # $1: docker host, $2: container; the pid of the parent of its init
            ps -o ppid= -p "$(docker -H "$1" inspect -f '{{.State.Pid}}' "$2")" | tr -d ' '
        }
        JPID=$(daemon_pid "$J/pid")
        docker -H "$JSOCK" run -d --name bench-timeline busybox sleep 1000 >/dev/null
        TARGETS=("jocker=$JPID:docker -H $JSOCK run --rm busybox true"
            "jocker-runc=$JPID:docker -H $JSOCK run --rm --runtime runc busybox true"
            "jocker-exec=$JPID+$(shim_of "$JSOCK" bench-timeline):docker -H $JSOCK exec bench-timeline true")
        if [[ -n $DOCKERD_PID ]]; then
            docker -H "$DSOCK" run -d --name bench-timeline busybox sleep 1000 >/dev/null
            TARGETS+=("dockerd=$DOCKERD_PID:docker -H $DSOCK run --rm busybox true"
                "dockerd-exec=$DOCKERD_PID+$(shim_of "$DSOCK" bench-timeline):docker -H $DSOCK exec bench-timeline true")
        fi
        note "timeline: exec/exit of every process of a docker run --rm / exec, $TIMELINE_RUNS runs each"
        "$PY" - "$TIMELINE_RUNS" "$WORK/perf.data" "${TARGETS[@]}" <<'EOF' | tee "$OUT/containers-timeline.txt"
import os, re, signal, statistics, subprocess, sys, time

# argv: RUNS PERF_DATA NAME=ROOT_PID[+PID...]:COMMAND... (COMMAND: its argv, space-separated).
# The daemon's process tree (the ROOT_PIDs and their descendants) and each CLI run's tree are
# followed through fork events, so other work on the machine is ignored.
RUNS, DATA, TARGETS = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
SLOW = ("fsync", "fdatasync", "syncfs", "mount", "umount")  # blocking calls, timed enter -> exit
EVENTS = ["sched:sched_process_exec", "sched:sched_process_exit", "sched:sched_process_fork",
          "syscalls:sys_enter_connect"]
EVENTS += [f"syscalls:sys_{d}_{c}" for c in SLOW for d in ("enter", "exit")]


def descendants(root):
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    out, todo = {}, [root]
    while todo:
        pid = todo.pop()
        try:
            out[pid] = open(f"/proc/{pid}/comm").read().strip()
        except OSError:
            continue
        todo += children.get(pid, [])
    return out


LINE = re.compile(r"^\s*\S.*?\s(\d+)/(\d+)\s+([\d.]+):\s+(?:sched:sched_process_|syscalls:sys_(enter|exit)_)(\w+):\s?(.*)$")
FIELD = re.compile(r"(\w+)=(\S+)")


def analyse(path, roots, clis):
    """roots: {pid: comm} of the daemon's tree; clis: the CLI pids, in order.
    Returns per run: [(ms after the CLI's exec, event)] and {(process, syscall): [count, ms]}."""
    text = subprocess.run(["perf", "script", "-i", path, "-F", "comm,pid,tid,time,event,trace"],
                          capture_output=True, text=True, check=True).stdout
    members = set(roots) | set(clis)
    label = {pid: comm for pid, comm in roots.items()}
    parent, entered = {}, {}
    runs = {pid: [] for pid in clis}
    calls = {pid: {} for pid in clis}
    counts = {pid: {} for pid in clis}
    cli_exec, current = {}, None

    def name_of(pid):
        lab, p, suffix = label.get(pid), pid, ""
        while lab is None and p in parent:
            p, suffix = parent[p], " (forked)"
            lab = label.get(p)
        return lab and lab + suffix

    for line in text.splitlines():
        m = LINE.match(line)
        if not m:
            continue
        pid, tid, t, direction, kind, rest = int(m[1]), int(m[2]), float(m[3]) * 1000, m[4], m[5], m[6]
        if kind == "fork":
            if pid in members or tid in members:
                child = int(dict(FIELD.findall(rest))["child_pid"])
                members.add(child)
                parent[child] = pid
            continue
        if pid not in members:
            continue
        if kind == "exec":
            if pid in runs:
                current = pid
                cli_exec[pid] = t
            if current is None:
                continue
            name = os.path.basename(dict(FIELD.findall(rest))["filename"])
            c = counts[current][name] = counts[current].get(name, 0) + 1
            label[pid] = f"{name}#{c}"
            runs[current].append((t - cli_exec[current], f"{label[pid]} exec"))
        elif current is None:
            continue
        elif kind == "exit":
            if "group_dead=true" in rest and name_of(pid):
                runs[current].append((t - cli_exec[current], f"{name_of(pid)} exit"))
        elif kind == "connect":  # the CLI's connections: ping+create, attach, start
            if label.get(pid, "").startswith("docker#"):
                c = counts[current]["connect"] = counts[current].get("connect", 0) + 1
                runs[current].append((t - cli_exec[current], f"{label[pid]} connect#{c}"))
        elif direction == "enter":
            entered[tid] = t
        elif tid in entered:
            key = (re.sub(r"#\d+", "", name_of(pid) or "?"), kind)
            c = calls[current].setdefault(key, [0, 0.0])
            c[0] += 1
            c[1] += t - entered.pop(tid)
    return [runs[pid] for pid in clis], [calls[pid] for pid in clis]


for target in TARGETS:
    name, rest = target.split("=", 1)
    root, command = rest.split(":", 1)
    argv = command.split()
    subprocess.run(argv, check=True)  # warm-up
    roots = {}
    for pid in root.split("+"):
        roots.update(descendants(int(pid)))
    perf = subprocess.Popen(["perf", "record", "-q", "-a", "-o", DATA, "-e", ",".join(EVENTS)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    clis = []
    for _ in range(RUNS):
        p = subprocess.Popen(argv)
        clis.append(p.pid)
        if p.wait() != 0:
            print(f"{name}: run failed", file=sys.stderr)
        time.sleep(0.3)
    time.sleep(0.5)
    perf.send_signal(signal.SIGINT)
    perf.wait()
    runs, calls = analyse(DATA, roots, clis)
    events = {}
    for run in runs:
        seen = set()
        for ms, ev in run:
            if ev not in seen:
                seen.add(ev)
                events.setdefault(ev, []).append(ms)
    print(f"{name}: `{command}`, {RUNS} runs, ms after the CLI's exec (median, min..max)")
    for ev, values in sorted(events.items(), key=lambda kv: statistics.median(kv[1])):
        if len(values) * 2 >= RUNS:
            print(f"  {statistics.median(values):7.1f}  ({min(values):6.1f}..{max(values):6.1f})  {ev}"
                  + ("" if len(values) == RUNS else f"  [{len(values)}/{RUNS} runs]"))
    keys = sorted({k for c in calls for k in c})
    if keys:
        print(f"  blocking calls per run, by process (median count, median / max ms spent in them):")
        for key in keys:
            n = [c.get(key, [0, 0])[0] for c in calls]
            ms = [c.get(key, [0, 0])[1] for c in calls]
            print(f"    {key[0] + ' ' + key[1]:<44} {statistics.median(n):4.0f}  {statistics.median(ms):6.1f} / {max(ms):6.1f}")
EOF
        docker -H "$JSOCK" rm -f bench-timeline >/dev/null
        [[ -n $DOCKERD_PID ]] && docker -H "$DSOCK" rm -f bench-timeline >/dev/null
    fi
fi

# -- summary -------------------------------------------------------------------------------------

{
    echo "containers.sh $(date -u +%Y-%m-%dT%H:%MZ) on $(uname -r), $(nproc) cores; jocker $(cd "$REPO" && git describe --always --dirty)"
    echo "docker CLI $(docker --version | cut -d' ' -f3 | tr -d ,), runc $("$RUNC" --version | head -1 | cut -d' ' -f3)${CRUN:+, crun $("$CRUN" --version | head -1 | cut -d' ' -f3)}"
    [[ -n $DOCKERD_NOTE ]] && echo "$DOCKERD_NOTE"
    [[ -n $CRUN_NOTE ]] && echo "$CRUN_NOTE"
    [[ -n $PS_NOTE ]] && echo "ps: $PS_NOTE"
    [[ -n $TIMELINE_NOTE ]] && echo "$TIMELINE_NOTE"
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (a shared machine: other work skews the means)"
    if [[ -s $FAILS ]]; then
        echo "FAILED timed runs (of $(((RUNS + WARMUP) * ROUNDS)) per command; first errors in $ERRORS):"
        sort "$FAILS" | uniq -c | sed 's/^/  /'
    fi
    "$PY" - "$OUT" "$PS_COUNT" <<'EOF'
import json, os, sys
out, n = sys.argv[1], sys.argv[2]
res = {}
for group in ("run", "exec", "create", "ps"):
    path = os.path.join(out, f"containers-{group}.json")
    if not os.path.exists(path):
        continue
    print(f"[{group}]")
    for r in json.load(open(path))["results"]:
        res[r["command"]] = r
        print(f"  {r['command']:>20}: mean {r['mean'] * 1000:7.1f} ms ± {(r['stddev'] or 0) * 1000:5.1f}  "
              f"median {r['median'] * 1000:7.1f}  min {r['min'] * 1000:7.1f}  ({len(r['times'])} runs)")
        if len(r.get("round_means", [])) > 1:
            print(f"  {'':>20}  round means: " + " ".join(f"{m * 1000:.1f}" for m in r["round_means"]))
pairs = [
    ("jocker-run", "runc-run"), ("jocker-run-runc", "runc-run"), ("jocker-run", "crun-run"),
    ("dockerd-run", "runc-run"), ("jocker-run", "dockerd-run"), ("jocker-run-runc", "dockerd-run"),
    ("jocker-exec", "runc-exec"), ("jocker-exec-runc", "runc-exec"), ("dockerd-exec", "runc-exec"),
    ("jocker-exec", "dockerd-exec"),
    ("jocker-create-rm", "runc-create-delete"), ("dockerd-create-rm", "runc-create-delete"),
    ("jocker-create-rm", "dockerd-create-rm"),
    (f"jocker-ps-a-{n}", "jocker-ps-a-0"), (f"jocker-ps-{n}", "jocker-ps-a-0"),
    (f"jocker-ps-a-{n}", f"dockerd-ps-a-{n}"), (f"jocker-api-ps-a-{n}", "jocker-api-ps-a-0"),
    ("jocker-ps-a-0", "docker-cli-version"),
]
print("[ratios]")
for a, b in pairs:
    if a in res and b in res:
        print(f"  {a} / {b} = {res[a]['mean'] / res[b]['mean']:.2f}x")
EOF
} | tee "$SUMMARY"
