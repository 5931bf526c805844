#!/usr/bin/env bash
# Builds the pinned local control plane (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the Go module proxy into a cache outside the repo,
# once per pinned version set, and prints the directory that holds the binaries.
#
#   hack/k8s-tools.sh          build if needed, then print the bin directory
#   hack/k8s-tools.sh dir      print the bin directory without building
#
# The cache key names the versions and hashes the tools modules, so a changed pin builds
# a new set beside the old one. Builds happen in a temporary directory that is renamed
# into place, under a lock, so concurrent runs never see or leave a half-built set.
set -euo pipefail

# Bump when the way the binaries are built changes (flags, list of commands).
readonly RECIPE=1
readonly MIN_GO_MINOR=26
readonly MIN_FREE_MB=6000

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
k8s_mod="$root/hack/tools/k8s"
kwok_mod="$root/hack/tools/kwok"

die() {
	echo "k8s-tools: $*" >&2
	exit 1
}

mod_version() { # module go.mod-file
	awk -v m="$1" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$2"
}

k8s_version=$(mod_version k8s.io/kubernetes "$k8s_mod/go.mod")
etcd_version=$(mod_version go.etcd.io/etcd/server/v3 "$k8s_mod/go.mod")
kwok_version=$(mod_version sigs.k8s.io/kwok "$kwok_mod/go.mod")
[ -n "$k8s_version" ] && [ -n "$etcd_version" ] && [ -n "$kwok_version" ] ||
	die "cannot read the pinned versions from hack/tools/*/go.mod"

inputs_hash=$(cd "$root/hack/tools" && cat k8s/go.mod k8s/go.sum k8s/cmd/etcd/main.go kwok/go.mod kwok/go.sum |
	{ cat; echo "recipe=$RECIPE"; } | sha256sum | cut -c1-10)
cache_root="${XDG_CACHE_HOME:-$HOME/.cache}/flok/k8s"
key="k8s-${k8s_version}_etcd-${etcd_version}_kwok-${kwok_version}_${inputs_hash}"
final="$cache_root/$key"

if [ "${1:-}" = dir ]; then
	echo "$final/bin"
	exit 0
fi
if [ -x "$final/bin/kube-apiserver" ]; then
	echo "$final/bin"
	exit 0
fi

check_prerequisites() {
	command -v go >/dev/null || die "Go is not installed; install Go 1.$MIN_GO_MINOR or newer (https://go.dev/doc/install)"
	local minor
	minor=$(go env GOVERSION | sed -nE 's/^go1\.([0-9]+).*/\1/p')
	[ -n "$minor" ] && [ "$minor" -ge "$MIN_GO_MINOR" ] ||
		die "Go $(go env GOVERSION) is too old: Kubernetes ${k8s_version} needs Go 1.$MIN_GO_MINOR or newer"
	command -v flock >/dev/null || die "flock is missing; install util-linux (apt-get install util-linux)"
	mkdir -p "$cache_root" || die "cannot create the cache directory $cache_root"
	local dir free
	for dir in "$cache_root" "$(go env GOCACHE)" "$(go env GOMODCACHE)"; do
		mkdir -p "$dir" 2>/dev/null || true
		free=$(df -Pm "$dir" | awk 'NR == 2 { print $4 }')
		[ "${free:-0}" -ge "$MIN_FREE_MB" ] ||
			die "only ${free} MB free under $dir; a cold build needs about ${MIN_FREE_MB} MB (free some space or set XDG_CACHE_HOME/GOCACHE elsewhere)"
	done
}

build() { # dest-dir log-file
	local dest=$1 log=$2 version_pkg ldflags
	ldflags="-s -w"
	for version_pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		ldflags+=" -X $version_pkg.gitVersion=${k8s_version}"
		ldflags+=" -X $version_pkg.gitMajor=$(echo "${k8s_version#v}" | cut -d. -f1)"
		ldflags+=" -X $version_pkg.gitMinor=$(echo "${k8s_version#v}" | cut -d. -f2)"
		ldflags+=" -X $version_pkg.gitTreeState=clean"
	done
	echo "k8s-tools: building Kubernetes ${k8s_version} and etcd ${etcd_version} (cold: ~8 min on 2 cores; log: $log)" >&2
	(cd "$k8s_mod" && GOFLAGS=-buildvcs=false go build -trimpath -ldflags "$ldflags" -o "$dest/" \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl ./cmd/etcd) >>"$log" 2>&1 ||
		return 1
	echo "k8s-tools: building kwok ${kwok_version} (cold: ~2 min)" >&2
	(cd "$kwok_mod" && GOFLAGS=-buildvcs=false go build -trimpath -ldflags "-s -w" -o "$dest/" \
		sigs.k8s.io/kwok/cmd/kwok) >>"$log" 2>&1 || return 1
	# kwok's stage definitions ship in its module; keep them beside the binary.
	cp -r "$(cd "$kwok_mod" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage" "$dest/../kwok-stages"
	chmod -R u+w "$dest/../kwok-stages"
}

check_prerequisites
exec 9>"$cache_root/.lock"
flock 9
if [ ! -x "$final/bin/kube-apiserver" ]; then
	start=$(date +%s)
	tmp=$(mktemp -d "$cache_root/.build-XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	log="$cache_root/build-$key.log"
	: >"$log"
	if ! build "$tmp/bin" "$log"; then
		echo "k8s-tools: the build failed; the last lines of $log:" >&2
		tail -n 25 "$log" >&2
		die "fix the cause above (often: no network to the Go module proxy, or no disk space) and run again"
	fi
	mv -T "$tmp" "$final"
	trap - EXIT
	echo "k8s-tools: built in $(($(date +%s) - start)) s into $final" >&2
fi
echo "$final/bin"
