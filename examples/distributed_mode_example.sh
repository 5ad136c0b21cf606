#!/usr/bin/env bash
# distributed_mode_example.sh — a three-node cluster on this machine, and the distributed-mode example
# run against it: three etcd members and three supercached on loopback addresses, a private D-Bus
# daemon for their management API, each node's cache in its own segment (dm-n1, dm-n2, dm-n3). Once
# every partition has its primary and its replica, it runs supercache-distributed-mode-example, prints
# each coordinator's health, and stops everything, removing what it made.
#
#   examples/distributed_mode_example.sh [BUILD_DIR]      (default: build; as root)
#
# The nodes are in sync mode with two copies of each partition: docs/distributed.md says what that
# guarantees, and packaging/distributed/ how to run the same on three hosts under systemd.
set -euo pipefail
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
case $build in /*) ;; *) build=$root/$build ;; esac
daemon=$build/coordinator/supercached
cli=$build/tools/cli/supercache
example=$build/examples/supercache-distributed-mode-example
work=$(mktemp -d /tmp/supercache-distributed-XXXXXX)
cluster=dm-$$
parts=8
pids=()

stop_all() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	for i in 1 2 3; do "$cli" --name "dm-n$i" destroy --yes >/dev/null 2>&1 || true; done
	rm -rf "$work"
}
trap stop_all EXIT

# Until "$@" succeeds, every 100 ms for at most $1 s; else say what did not come up, with the logs.
wait_for() {
	local what=$1 seconds=$2 tries
	shift 2
	for ((tries = seconds * 10; tries > 0; tries--)); do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
	done
	echo "distributed_mode_example: $what did not come up within $seconds s" >&2
	tail -n 20 "$work"/*.log >&2 || true
	return 1
}

# etcd: three members, clients on 127.0.0.1:2378N, peers on 127.0.0.1:2388N.
initial=e1=http://127.0.0.1:23881,e2=http://127.0.0.1:23882,e3=http://127.0.0.1:23883
endpoints=http://127.0.0.1:23781,http://127.0.0.1:23782,http://127.0.0.1:23783
for i in 1 2 3; do
	etcd --name "e$i" --data-dir "$work/e$i" \
		--listen-client-urls "http://127.0.0.1:2378$i" --advertise-client-urls "http://127.0.0.1:2378$i" \
		--listen-peer-urls "http://127.0.0.1:2388$i" --initial-advertise-peer-urls "http://127.0.0.1:2388$i" \
		--initial-cluster "$initial" --initial-cluster-token "$cluster" --initial-cluster-state new \
		--logger zap --log-outputs stderr >"$work/etcd$i.log" 2>&1 &
	pids+=($!)
done
wait_for "etcd" 30 etcdctl --endpoints "$endpoints" endpoint health

# The coordinators' bus, and the secret their peer links prove themselves with.
mkfifo "$work/bus.address"
dbus-daemon --session --nofork --nopidfile --print-address=3 3>"$work/bus.address" 2>"$work/dbus.log" &
pids+=($!)
read -r bus <"$work/bus.address"
head -c 64 /dev/urandom >"$work/cluster.secret"
chmod 0600 "$work/cluster.secret"

for i in 1 2 3; do
	"$daemon" --name "dm-n$i" --bus-address "$bus" --cluster distributed --cluster-name "$cluster" \
		--node-name "n$i" --listen "127.0.0.1:718$i" --etcd-endpoints "$endpoints" \
		--secret-file "$work/cluster.secret" --num-partition "$parts" --replication-factor 2 \
		--replication-mode sync --memory-limit 64M >"$work/n$i.log" 2>&1 &
	pids+=($!)
done

# Every node's map: each partition with a primary and two replicas. Then every peer link up.
placed() {
	local i n
	for i in 1 2 3; do
		n=$("$cli" --name "dm-n$i" cluster map | awk 'NR > 2 && $3 != "-" && $4 ~ /^[^,]+,[^,]+$/' | wc -l)
		[ "$n" -eq "$parts" ] || return 1
	done
}
linked() {
	local i
	for i in 1 2 3; do
		"$cli" --name "dm-n$i" --bus-address "$bus" --json cluster status | grep -q '"unreachable_nodes":\[\]' ||
			return 1
	done
}
wait_for "the partition map" 60 placed
wait_for "the peer links" 30 linked

"$example" dm-n1 dm-n2 dm-n3
echo "== health, from each node's coordinator (D-Bus)"
for i in 1 2 3; do "$cli" --name "dm-n$i" --bus-address "$bus" cluster status; done
