#!/usr/bin/env bash
# setup.sh: everything jocker needs on a fresh Debian/Ubuntu machine, as root, then the main job.
#
#   ./setup.sh             install, build the default image, start jockerd, load busybox, run the main job
#   ./setup.sh --no-start  install and build only (what the test command uses)
#
# Installs Debian packages, a venv (.venv, on Debian's python3: it starts faster than pyenv
# builds and the runtime and shim start a Python process per container), the jocker package
# and the offline busybox image. jockerd is started on /var/run/jocker.sock with its data in
# /var/lib/jocker and its log in /var/log/jocker/jockerd.log.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")"
START=1
[ "${1:-}" = "--no-start" ] && START=0

if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: run as root (jockerd needs namespaces, mounts and cgroups)" >&2
    exit 1
fi

# docker-registry (the CNCF distribution registry) and apache2-utils (htpasswd -B): the registry
# tests run the registry binary by hand, with and without basic auth; its service never runs.
packages=(python3 python3-venv python3-dev gcc busybox-static iproute2 skopeo umoci zstd hyperfine curl runc crun libseccomp2 tini tmux
          ca-certificates tar util-linux docker-registry apache2-utils)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ! command -v docker >/dev/null 2>&1; then
    # Only the docker client is used; keep Debian's engine from starting (policy-rc.d) and disable it.
    missing+=(docker.io)
fi
if [ ${#missing[@]} -gt 0 ]; then
    echo ">> installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    policy_added=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
        policy_added=1
    fi
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
    [ "$policy_added" = 1 ] && rm -f /usr/sbin/policy-rc.d
    if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        systemctl disable --now docker.service docker.socket docker-registry.service >/dev/null 2>&1 || true
    fi
    # Without a running systemd, `disable` cannot be asked for: drop what the package enabled.
    rm -f /etc/systemd/system/multi-user.target.wants/docker-registry.service
    update-rc.d docker-registry disable >/dev/null 2>&1 || true
fi

PY=/usr/bin/python3
if [ ! -x .venv/bin/python ]; then
    echo ">> creating .venv with $($PY --version)"
    $PY -m venv .venv
fi
echo ">> installing jocker into .venv"
# editable_mode=compat: a plain path entry in a .pth file. The default editable mode installs an
# import finder that every Python start loads (~28 ms of pathlib/importlib), and the runtime and
# the shim start a Python process per container operation.
.venv/bin/pip install -q --disable-pip-version-check -e '.[test]' --config-settings editable_mode=compat
# jocker-runtime runs once per container operation: replace pip's console script (which starts
# through `site`) with a launcher that skips site (-S), ignores the environment (-I), turns the
# garbage collector off for its short life and imports the runtime's modules from one file
# (jockerd/runtime/codecache.py: the import system costs ~100 us per module here).
# Its interpreter: the system's python3.X of the venv's version if there is one, else the venv's.
# The runtime needs only the standard library, both read the same .pyc files (one bytecode
# version per 3.X), and Debian's build is static with PGO and LTO: a `run` is ~3 ms (~10%) faster
# on it than on the venv's (pyenv: --enable-shared, no PGO); see docs/performance.md.
REPO=$(pwd)
RUNTIME_PY=$REPO/.venv/bin/python
SYSTEM_PY=/usr/bin/python$(.venv/bin/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')
if [ -x "$SYSTEM_PY" ]; then RUNTIME_PY=$SYSTEM_PY; fi
cat > .venv/bin/jocker-runtime <<LAUNCHER
#!$RUNTIME_PY -IS
import gc; gc.disable()
import sys; sys.path.insert(0, "$REPO")
from jockerd.runtime import codecache; codecache.install()
from jockerd.runtime.__main__ import main; sys.exit(main(before_exit=codecache.save))
LAUNCHER
chmod 755 .venv/bin/jocker-runtime
# jocker-shim starts on every `docker run` (and exec): the same kind of launcher. The shim turns
# the collector back on once it is ready, as it then lives as long as its container.
cat > .venv/bin/jocker-shim <<LAUNCHER
#!$REPO/.venv/bin/python -IS
import gc; gc.disable()
import sys; sys.path.insert(0, "$REPO")
from jockerd.shim.__main__ import main; sys.exit(main())
LAUNCHER
chmod 755 .venv/bin/jocker-shim
# jocker (the CLI) starts for every command a user types: the same kind of launcher, with the
# venv's site-packages put on the path by hand (-S skips site; requests-unixsocket lives there
# and is imported only by the transfer commands). See docs/performance.md, "jocker CLI start-up".
SITE=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cat > .venv/bin/jocker <<LAUNCHER
#!$REPO/.venv/bin/python -IS
import sys; sys.path[:0] = ["$REPO", "$SITE"]
from jocker_cli.__main__ import main; sys.exit(main())
LAUNCHER
chmod 755 .venv/bin/jocker
# The runtime starts a Python process per container operation: ship compiled bytecode so no
# start pays for compiling (PYTHONDONTWRITEBYTECODE would otherwise make every start recompile).
.venv/bin/python -m compileall -q jockerd jocker_cli >/dev/null

echo ">> building the default busybox image from $(command -v busybox || echo /bin/busybox)"
mkdir -p images/out
.venv/bin/python images/busybox/build.py --out images/out/busybox.tar

[ "$START" = 1 ] || exit 0

SOCK=/var/run/jocker.sock
export DOCKER_HOST="unix://$SOCK"
if curl -sf --max-time 2 --unix-socket "$SOCK" http://jocker/_ping >/dev/null 2>&1; then
    echo ">> jockerd is already running on $SOCK"
else
    echo ">> starting jockerd (log: /var/log/jocker/jockerd.log)"
    mkdir -p /var/log/jocker
    nohup setsid .venv/bin/jockerd --host "$DOCKER_HOST" >>/var/log/jocker/jockerd.log 2>&1 </dev/null &
    for _ in $(seq 1 100); do
        curl -sf --max-time 1 --unix-socket "$SOCK" http://jocker/_ping >/dev/null 2>&1 && break
        sleep 0.1
    done
    curl -sf --max-time 2 --unix-socket "$SOCK" http://jocker/_ping >/dev/null || {
        echo "jockerd did not start; see /var/log/jocker/jockerd.log" >&2
        tail -20 /var/log/jocker/jockerd.log >&2
        exit 1
    }
fi

echo ">> loading busybox:latest"
docker load -i images/out/busybox.tar

echo ">> main job"
docker version
docker images
docker run --rm busybox echo hello
echo
echo "jockerd is running. Use it with:  export DOCKER_HOST=$DOCKER_HOST"
