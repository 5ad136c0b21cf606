#!/usr/bin/env bash
# dev.sh — set up a Debian 12 machine, build, and run the demo (`demo`) or every test (`test`).
#
#   tools/dev.sh demo   install packages, build, run the local-mode demo
#   tools/dev.sh test   install packages, build plain and with ASan+UBSan, run every
#                       test in both; the last line is "N passed, N failed[, N skipped]"
#
# Run as root (it installs packages). Build directories: build/ and build-asan/.
set -euo pipefail

cd "$(dirname "$0")/.."

packages=(
  gcc g++ pkg-config meson ninja-build python3
  liburcu-dev libxxhash-dev catch2 liblmdb-dev
  libsystemd-dev systemd dbus-daemon util-linux
  systemtap-sdt-dev
  man-db groff-base # the man pages' test formats every page
  clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev
  libclang-rt-14-dev # libFuzzer, for the peer-link frame fuzzer
  libsodium-dev      # the peer links' HMAC challenge
  etcd-server etcd-client libcurl4-openssl-dev libjson-c-dev # distributed mode's control plane: etcd, its JSON gateway
  iproute2 iptables # the cluster tests: a node per network namespace, cut off with DROP rules
  libnetfilter-queue-dev # and slowed down: the kernel has no netem, a test program delays an NFQUEUE
  redis-server # supercache-bench --cluster's peer for replicated writes: Redis with one replica
  prometheus # promtool, which checks the Prometheus export
)

install_packages() {
  local missing=()
  for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "== installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# build DIR [meson options...]: configure once, then build.
# build DIR [TARGET...] -- [MESON OPTION...]: configure DIR, then build the targets named (all when none).
build() {
  local dir=$1 targets=()
  shift
  while (($#)) && [[ $1 != -- ]]; do
    targets+=("$1")
    shift
  done
  (($#)) && shift
  if [[ ! -f $dir/build.ninja ]]; then
    meson setup "$dir" "$@" >/dev/null
  else
    meson configure "$dir" "$@" >/dev/null
  fi
  ninja -C "$dir" "${targets[@]}" >/dev/null
}

# Count Catch2 test cases (a test program that is not Catch2 counts as one) from meson's log.
summarize() {
  python3 - "$@" <<'EOF'
import json, re, sys

passed = failed = skipped = 0
for log in sys.argv[1:]:
    for line in open(log):
        t = json.loads(line)
        out = t.get("stdout") or ""
        ok = t["result"] == "OK"
        skips = len(re.findall(r"SKIPPED:", out))
        m = re.search(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)", out)
        f = re.search(r"test cases:\s*(\d+)\s*\|(?:\s*(\d+) passed)?(?:\s*\|)?(?:\s*(\d+) failed)?", out)
        if t["result"] == "SKIP":
            skipped += 1
        elif m:
            passed += int(m.group(1)) - skips
            skipped += skips
            failed += 0 if ok else 1  # e.g. a leak or crash reported after the summary
        elif f:
            passed += int(f.group(2) or 0) - skips
            skipped += skips
            failed += int(f.group(3) or 0) or (0 if ok else 1)
        elif ok:
            passed += 1
        else:
            failed += 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
EOF
}

run_tests() {
  local status=0 logs=()
  for dir in build build-asan; do
    echo "== tests in $dir"
    meson test -C "$dir" --print-errorlogs --num-processes 2 || status=1
    logs+=("$dir/meson-logs/testlog.json")
  done
  summarize "${logs[@]}" || status=1
  return $status
}

case ${1:-} in
demo)
  install_packages
  # The demo needs the library and the example only; the test command builds everything.
  build build examples/supercache-local-mode-example --
  exec build/examples/supercache-local-mode-example
  ;;
test)
  install_packages
  echo "== building build/ (plain) and build-asan/ (ASan+UBSan)"
  build build -- -Dtest_hooks=true -Dbpf=enabled
  build build-asan -- -Dtest_hooks=true -Dbpf=enabled -Db_sanitize=address,undefined -Db_lundef=false
  run_tests
  ;;
*)
  echo "usage: $0 demo|test" >&2
  exit 2
  ;;
esac
