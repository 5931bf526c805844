#!/usr/bin/env bash
# Builds the pinned controller-gen (hack/tools/controller-gen) into the cache, once per
# version, and prints its path.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mod="$root/hack/tools/controller-gen"
version=$(awk '$1 == "require" && $2 == "sigs.k8s.io/controller-tools" { print $3 }' "$mod/go.mod")
[ -n "$version" ] || { echo "controller-gen.sh: no controller-tools version in $mod/go.mod" >&2; exit 1; }
bin="${XDG_CACHE_HOME:-$HOME/.cache}/flok/tools/controller-gen-$version"
if [ ! -x "$bin" ]; then
	mkdir -p "$(dirname "$bin")"
	tmp=$(mktemp "$bin.XXXXXX")
	trap 'rm -f "$tmp"' EXIT
	echo "controller-gen.sh: building controller-gen $version" >&2
	(cd "$mod" && GOFLAGS=-buildvcs=false go build -o "$tmp" sigs.k8s.io/controller-tools/cmd/controller-gen)
	mv -f "$tmp" "$bin"
	trap - EXIT
fi
echo "$bin"
