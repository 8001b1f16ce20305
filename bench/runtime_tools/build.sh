#!/usr/bin/env bash
# Build the OCI runtime-tools validation suite offline, from Debian's source package.
#
# Output ($BENCH_OUT/runtime-tools, default bench/out/runtime-tools, gitignored):
#   runtimetest                 static in-container checker (upstream `make runtimetest`)
#   validation/<name>.t         one TAP program per upstream validation/<name>/ (`make validation-executables`)
#   rootfs-amd64.tar.gz         the suite's busybox rootfs, untarred into every bundle
#   VERSION                     what was built
# Run them with bench/runtime_tools/run.sh; the .t programs expect runtimetest and the rootfs
# tarball in their working directory and the runtime in $RUNTIME.
#
# Where the source comes from: Debian's -dev package ships only the library half of
# runtime-tools (its debian/rules excludes cmd/ and validation/), and bookworm's source tarball
# is not served here; trixie's source package (upstream commit e931285, "0.9.0.109") is. It is
# fetched with `apt-get source --download-only` through a private apt configuration under
# $OUT/apt (the system's sources.list is not touched) and checked against a pinned sha256.
# Set RUNTIME_TOOLS_SRC=/path/to/runtime-tools to build another checkout instead.
#
# Dependencies: Debian's golang-go (1.19) and golang-*-dev packages, in GOPATH mode
# (GO111MODULE=off, GOPATH=$OUT/gopath:/usr/share/gocode: the Debian way). The one library
# Debian does not package, github.com/mndrix/tap-go, is replaced by bench/runtime_tools/tapgo,
# a minimal implementation of the calls the suite makes.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${BENCH_OUT:-$REPO/bench/out}/runtime-tools
SRC_PKG=golang-github-opencontainers-runtime-tools
SRC_VERSION=0.9.0.109.ge931285-1
ORIG=${SRC_PKG}_0.9.0.109.ge931285.orig.tar.xz
ORIG_SHA256=203989a1ea98cf2aaced79155bbda09270b20db19b03376dde91ab12e5e6a0fe
DEBS=(golang-go golang-github-google-uuid-dev golang-github-mrunalp-fileutils-dev golang-github-urfave-cli-dev
      golang-github-hashicorp-go-multierror-dev golang-github-blang-semver-dev golang-github-xeipuuv-gojsonschema-dev
      golang-github-opencontainers-specs-dev golang-github-opencontainers-selinux-dev golang-gocapability-dev
      golang-golang-x-sys-dev golang-github-sirupsen-logrus-dev)

log() { echo "build.sh: $*" >&2; }

# 1. Debian packages (go and the libraries the suite imports).
missing=()
for p in "${DEBS[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    [[ $(id -u) == 0 ]] || { log "missing Debian packages (run as root to install): ${missing[*]}"; exit 1; }
    log "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# 2. The source tree.
mkdir -p "$OUT"
if [[ -n ${RUNTIME_TOOLS_SRC:-} ]]; then
    SRC=$(cd "$RUNTIME_TOOLS_SRC" && pwd)
    DESC="$SRC (RUNTIME_TOOLS_SRC)"
else
    mkdir -p "$OUT/src"
    if ! echo "$ORIG_SHA256  $OUT/src/$ORIG" | sha256sum -c --status 2>/dev/null; then
        log "fetching Debian source package $SRC_PKG $SRC_VERSION"
        mkdir -p "$OUT/apt/lists/partial"
        cat >"$OUT/apt/src.sources" <<'EOF'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        APT=(-o "Dir::Etc::SourceList=$OUT/apt/src.sources" -o "Dir::Etc::SourceParts=$OUT/apt/none"
             -o "Dir::State::Lists=$OUT/apt/lists" -o "APT::Sandbox::User=root")
        timeout 300 apt-get "${APT[@]}" update -qq >&2
        # The .dsc may be refused by the mirror; the tarball is what we need, checked below.
        (cd "$OUT/src" && timeout 300 apt-get "${APT[@]}" source --download-only "$SRC_PKG=$SRC_VERSION" >&2) || true
        echo "$ORIG_SHA256  $OUT/src/$ORIG" | sha256sum -c --status || {
            log "could not fetch $ORIG (or its sha256 differs); set RUNTIME_TOOLS_SRC to a runtime-tools checkout"
            exit 1
        }
    fi
    rm -rf "$OUT/src/tree" && mkdir -p "$OUT/src/tree"
    tar -xf "$OUT/src/$ORIG" -C "$OUT/src/tree" --strip-components=1
    SRC=$OUT/src/tree
    DESC="Debian source $SRC_PKG $SRC_VERSION (upstream commit e931285)"
fi
[[ -d $SRC/validation && -d $SRC/cmd/runtimetest ]] || { log "$SRC has no validation/ or cmd/runtimetest"; exit 1; }

# 3. A private GOPATH: the suite at its import path, the tap-go stand-in; the rest from Debian.
GOPATH_DIR=$OUT/gopath
rm -rf "$GOPATH_DIR"
mkdir -p "$GOPATH_DIR/src/github.com/opencontainers" "$GOPATH_DIR/src/github.com/mndrix/tap-go"
ln -s "$SRC" "$GOPATH_DIR/src/github.com/opencontainers/runtime-tools"
cp "$REPO/bench/runtime_tools/tapgo/tap.go" "$GOPATH_DIR/src/github.com/mndrix/tap-go/tap.go"
export GO111MODULE=off GOPATH=$GOPATH_DIR:/usr/share/gocode GOCACHE=$OUT/gocache GOFLAGS= GOPROXY=off CGO_ENABLED=1

# 4. Build: the same flags as upstream's Makefile (runtimetest static: it runs in the busybox rootfs).
cd "$GOPATH_DIR/src/github.com/opencontainers/runtime-tools"
log "building runtimetest"
go build -tags "netgo osusergo" -ldflags "-extldflags -static" -o "$OUT/runtimetest" ./cmd/runtimetest
rm -rf "$OUT/validation" && mkdir -p "$OUT/validation"
built=0
failed=()
for dir in validation/*/; do
    name=$(basename "$dir")
    [[ $name == util ]] && continue
    if go build -o "$OUT/validation/$name.t" "./validation/$name"; then
        built=$((built + 1))
    else
        failed+=("$name")
    fi
done
cp "$SRC/rootfs-amd64.tar.gz" "$OUT/rootfs-amd64.tar.gz"
printf '%s\ngo: %s\nbuilt: %s validation programs\n' "$DESC" "$(go version)" "$built" >"$OUT/VERSION"
log "built runtimetest and $built validation programs into $OUT"
if [[ ${#failed[@]} -gt 0 ]]; then
    log "failed to build: ${failed[*]}"
    exit 1
fi
