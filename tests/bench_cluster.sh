#!/usr/bin/env bash
# bench_cluster.sh BENCH SUPERCACHED — supercache-bench --cluster runs whole on this machine: every
# row measured (Redis included: the set-up installs it), and nothing of its rig left behind. Its
# figures are the benchmark's to judge (docs/benchmarks.md), not this test's.
set -uo pipefail

bench=$1
export SUPERCACHED=$2
[ "$(id -u)" -eq 0 ] || { echo "SKIPPED: --cluster builds network namespaces and needs root"; exit 77; }
for tool in etcd etcdctl dbus-daemon redis-server ip iptables; do
  command -v "$tool" >/dev/null || { echo "FAILED: $tool is not installed (tools/dev.sh installs it)"; exit 1; }
done

out=$("$bench" --cluster --json) || { echo "FAILED: supercache-bench --cluster exited $?"; exit 1; }
echo "$out"
failures=0
for row in "tcp round trip, node 0 to node 1" "put, local cache" "async put, 1 proc" "async put, 2 procs" \
  "async primary read" "async quorum read" "sync put, 1 proc" "sync put, 2 procs" "sync primary read" \
  "sync quorum read" "sync put_batch of 100, 2 procs" "redis SET + WAIT 1 0, 1 proc" "redis SET + WAIT 1 0, 2 procs"; do
  grep -qF "{\"what\":\"$row\",\"p50_ns\":" <<<"$out" || { echo "FAILED: no row \"$row\""; failures=$((failures + 1)); }
done
# Its namespaces, bridge and work directory are gone.
left=$( (ip netns list; ip -o link show; ls -d /tmp/supercache-bench-cluster-* 2>/dev/null) | grep -c "scb[0-9]\|supercache-bench-cluster")
[ "$left" -eq 0 ] || { echo "FAILED: $left objects of the rig left behind"; failures=$((failures + 1)); }
exit $((failures > 0))
