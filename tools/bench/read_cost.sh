#!/bin/sh
# read_cost.sh — instructions per call of each one-key read: supercache-read-cost under callgrind, each
# loop's inclusive count divided by its calls (the loop's own few instructions per call included).
# Usage: read_cost.sh path/to/supercache-read-cost [keys]   (valgrind needed; the release build is the one
# docs/benchmarks.md quotes)
set -eu
driver=$1
keys=${2:-10000}
out=$(mktemp /tmp/read-cost.XXXXXX)
trap 'rm -f "$out"' EXIT
calls=$(valgrind --tool=callgrind --callgrind-out-file="$out" "$driver" "$keys" 2>/dev/null |
	sed -n 's/.*: \([0-9]*\) calls of each read$/\1/p')
[ -n "$calls" ] || { echo "read_cost.sh: the driver did not finish" >&2; exit 1; }
callgrind_annotate --inclusive=yes "$out" 2>/dev/null |
	awk -v calls="$calls" '/loop_[a-z_]*/ {
		gsub(",", "", $1)
		for (i = 1; i <= NF; i++) if ($i ~ /loop_/) { name = $i; sub(/.*:/, "", name); sub(/[ (].*/, "", name) }
		if ($1 > 0 && !seen[name]++)
			printf "%-18s %8.0f instructions per call\n", name, $1 / calls
	}'
