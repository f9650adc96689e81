#!/usr/bin/env bash
# Prepares this machine for Hydrofoil and builds it into build/. Idempotent:
# with everything in place it only checks, and the rebuild is incremental.
#   - installs the Debian packages the project, its tests and its demo need
#   - reserves 2 MB hugepages (at least 1 GiB) and mounts hugetlbfs
#   - configures (meson, -Werror) and builds (ninja)
# Environment: HF_BUILD_DIR (default build), HF_MESON_ARGS (extra meson options,
# e.g. "-Db_sanitize=address,undefined").
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
	# build
	gcc g++ meson ninja-build pkg-config clang libclang-rt-14-dev
	libdpdk-dev dpdk-dev libhyperscan-dev libssl-dev libconfig-dev libyaml-dev
	libjansson-dev libcmocka-dev libbenchmark-dev libpcre2-dev
	# benchmark peers: picohttpparser (in libh2o), http-parser, llhttp's C sources
	libh2o-dev libhttp-parser-dev node-llhttp
	# tests and demo: real peers and tools
	iproute2 iputils-ping curl python3-scapy socat hping3 procps tcpdump openssl
	nginx-light haproxy wrk python3-websockets gdb prometheus
	# reading what dpdk-dumpcap (in dpdk-dev, with dpdk-telemetry.py) captures from hydrofoil
	tshark
	# benchmark plots (bench/plot.sh)
	gnuplot-nox
	# instruction counts that a loaded machine does not move (bench/loadgen/memif_callgrind.sh)
	valgrind
	# xDS client: HTTP/2 and protobuf-c, its code generator; the well-known .proto files
	libnghttp2-dev libprotobuf-c-dev protobuf-c-compiler protobuf-compiler libprotobuf-dev
)
# node and npm: the Envoy API protos and the xDS test server come from npm (tests/xds).
# A node from elsewhere (nodesource's package carries its own npm) is taken as it is.
command -v npm >/dev/null 2>&1 || PACKAGES+=(nodejs npm)

log() { printf 'setup: %s\n' "$*"; }

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: $1 needs root (run with sudo)" >&2
		exit 1
	fi
}

missing=()
for p in "${PACKAGES[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	need_root "installing ${missing[*]}"
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
fi

# DPDK wants hugepages; 512 x 2 MB = 1 GiB covers the daemon, the tests and the load generator.
HP=/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages
if [ "$(cat "$HP")" -lt 512 ]; then
	need_root "reserving hugepages"
	echo 512 > "$HP"
	[ "$(cat "$HP")" -ge 512 ] || log "warning: only $(cat "$HP") hugepages could be reserved"
fi
if ! grep -qs ' /dev/hugepages hugetlbfs ' /proc/mounts; then
	need_root "mounting hugetlbfs"
	mkdir -p /dev/hugepages
	mount -t hugetlbfs nodev /dev/hugepages
fi

BUILD=${HF_BUILD_DIR:-build}
# Quiet when all is well; the whole output when a step fails.
quiet() {
	local out
	if ! out=$("$@" 2>&1); then
		printf '%s\n' "$out" >&2
		echo "setup: failed: $*" >&2
		exit 1
	fi
}
# The Envoy API protos (the build generates C from them) and the xDS test server's packages,
# pinned by tests/xds/package-lock.json, into tests/xds/node_modules; again when the lock changes.
if [ ! -f tests/xds/node_modules/.package-lock.json ] ||
   [ tests/xds/package-lock.json -nt tests/xds/node_modules/.package-lock.json ]; then
	log "npm ci in tests/xds"
	quiet npm ci --prefix tests/xds --no-audit --no-fund
fi
# shellcheck disable=SC2086
if [ ! -f "$BUILD/build.ninja" ]; then
	quiet meson setup "$BUILD" -Dwerror=true ${HF_MESON_ARGS:-}
elif [ -n "${HF_MESON_ARGS:-}" ]; then
	quiet meson configure "$BUILD" ${HF_MESON_ARGS}
fi
quiet ninja -C "$BUILD"
log "ready: $BUILD/dataplane/hydrofoil"
