#!/usr/bin/env bash
# nemesis.sh — the long fault run: writes, primary and quorum reads and queue calls from a client on each of
# three nodes under EPISODES nemesis episodes (kill -9, SIGSTOP, iptables cuts, a killed primary, a
# cut from etcd alone, delay), the history checked as tests/test_nemesis.cpp does. Its last figures go in docs/distributed.md.
#
#   tests/nemesis.sh [EPISODES [BUILD_DIR]]     (default 100, build)
set -euo pipefail
episodes=${1:-100}
build=${2:-build}
cd "$(dirname "$0")/.."
# About 4 s an episode: the test's own limit grows with the count.
SCTEST_EPISODES=$episodes meson test -C "$build" nemesis --print-errorlogs \
  --timeout-multiplier $(((episodes + 19) / 20)) --verbose 2>&1 |
  grep -E "episodes \(|All tests passed|test cases|FAILED|violation" || true
