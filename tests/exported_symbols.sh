#!/usr/bin/env bash
# exported_symbols.sh — the shared library exports exactly the functions the public header declares.
set -euo pipefail
lib=$1 header=$2
declared=$(grep -oE 'SC_EXPORT [^(]*\bsc_[a-z_]+\(' "$header" | grep -oE 'sc_[a-z_]+\($' | tr -d '(' | sort)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRW]$/ {print $3}' | sed 's/@.*//' | sort)
if [[ "$declared" != "$exported" ]]; then
  echo "declared in $header but not exported, or exported but not declared:"
  diff <(echo "$declared") <(echo "$exported") || true
  exit 1
fi
echo "$(echo "$exported" | wc -l) symbols exported, all declared in the header"
