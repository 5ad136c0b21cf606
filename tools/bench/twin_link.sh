#!/usr/bin/env bash
# twin_link.sh — links static archives into one relocatable object whose only global definition is one symbol.
#
#   twin_link.sh OUTPUT SYMBOL OBJCOPY NM CC... -- ARCHIVE...
#
# supercache-bench carries two private copies of libsupercache (probes
# compiled in and compiled out) beside the shared one it links against. Each
# copy is partially linked, whole, with a copy of the bench's system for it
# into one object; every symbol but the system struct (SYMBOL) is then made
# local, so that the copies' sc_* functions and their private state bind
# within their own object and never clash with the other copy's or the
# shared library's.
#
# One more may stay: _.stapsdt.base, which <sys/sdt.h> defines weak and
# hidden in a COMDAT group in every object with a probe, for the probe notes
# to refer to. The final link keeps one copy of the group and discards the
# rest; were it local, the notes of a discarded copy would refer to a
# discarded section and the link would fail.
set -euo pipefail

if (($# < 7)); then
	echo "usage: twin_link.sh OUTPUT SYMBOL OBJCOPY NM CC... -- ARCHIVE..." >&2
	exit 2
fi
out=$1 keep=$2 objcopy=$3 nm=$4
shift 4
cc=()
while (($#)) && [[ $1 != -- ]]; do
	cc+=("$1")
	shift
done
shift # the --

tmp=$out.tmp
trap 'rm -f "$tmp"' EXIT

# -nostdlib: a partial link takes no start files or libc; the bench's own link adds them once.
"${cc[@]}" -r -nostdlib -o "$tmp" -Wl,--whole-archive "$@" -Wl,--no-whole-archive
# The code's start on a page: where the bench's link happens to place each
# twin then shifts neither copy's code against pages, cache lines and fetch
# windows differently from the other's. (On a cache line only, two copies of
# the same code measured put up to 1.3% apart, one copy ahead in 7 runs of 8.)
"$objcopy" --keep-global-symbol="$keep" --keep-global-symbol=_.stapsdt.base \
	--set-section-alignment .text=4096 "$tmp"

# nm reads LTO objects' own symbol tables too, which objcopy cannot rewrite:
# a twin built with LTO by mistake shows here as every sc_* still global.
globals=$("$nm" --extern-only --defined-only "$tmp" | awk '{ print $NF }')
extra=$(grep -Fxv -e "$keep" -e _.stapsdt.base <<<"$globals" || true)
if [[ -n $extra ]]; then
	echo "twin_link.sh: $out would define more than $keep: ${extra//$'\n'/ }" >&2
	exit 1
fi
if ! grep -Fxq -e "$keep" <<<"$globals"; then
	echo "twin_link.sh: $out does not define $keep" >&2
	exit 1
fi
mv "$tmp" "$out"
