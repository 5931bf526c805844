#!/usr/bin/env bash
# Installs Debian's chromium when it is missing: the console's browser tests drive it.
# Prints the browser's path.
set -euo pipefail

for name in chromium chromium-browser; do
	if path=$(command -v "$name"); then
		echo "$path"
		exit 0
	fi
done
if ! command -v apt-get >/dev/null; then
	echo "browser.sh: chromium is missing and there is no apt-get to install it; install Chromium and put it on PATH" >&2
	exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "browser.sh: installing chromium from Debian's packages (once)" >&2
$sudo apt-get update -qq >&2
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium >&2
command -v chromium
