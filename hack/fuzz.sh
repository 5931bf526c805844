#!/usr/bin/env bash
# Runs every Go fuzz target of the module for FUZZ_TIME each (default 3m), one after
# another, and prints how many inputs each tried. A failing input is kept by Go under
# the package's testdata/fuzz/<target>/ — commit it with the fix: from then on
# `go test` runs it every time. The table is also written to .local/fuzz.tsv.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzz_time=${FUZZ_TIME:-3m}
mkdir -p .local
report=.local/fuzz.tsv
printf 'package\ttarget\texecutions\tresult\n' >"$report"
failed=0
# Only packages whose tests declare a fuzz target: listing every package's tests
# would build the end-to-end suites too.
for pkg in $(grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		log=$(mktemp)
		result=ok
		if ! go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzz_time" "$pkg" >"$log" 2>&1; then
			result=FAILED
			failed=1
			cat "$log"
		fi
		execs=$(grep -o 'execs: [0-9]*' "$log" | tail -1 | cut -d' ' -f2 || true)
		printf '%s\t%s\t%s\t%s\n' "${pkg#./}" "$target" "${execs:-0}" "$result" | tee -a "$report"
		rm -f "$log"
	done
done
column -t -s $'\t' "$report"
exit "$failed"
