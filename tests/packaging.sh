#!/usr/bin/env bash
# packaging.sh BUILD_DIR SUPERCACHED EXAMPLE_CONFIG — what `meson install` puts on a system
# for supercached: every file in its place, a unit systemd accepts and rates at most 3.0
# for exposure, a system user sysusers creates, directories tmpfiles creates, and an
# example configuration that says exactly the defaults.
set -uo pipefail

build=$1 supercached=$2 example=$3
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
failures=0

fail() {
  echo "FAILED: $*"
  failures=$((failures + 1))
}

# exposure UNIT LABEL: what systemd-analyze security rates the unit (reported), at most 3.0.
exposure() {
  local out status level
  out=$(systemd-analyze security --offline=true --root="$root" --threshold=40 "$1" 2>&1)
  status=$?
  level=$(sed -n "s/.*Overall exposure level for $1: \([0-9.]*\).*/\1/p" <<<"$out")
  echo "systemd-analyze security$2: exposure ${level:-unknown}"
  [[ $status -eq 0 && -n $level ]] || fail "systemd-analyze security$2 (exit $status): $(tail -3 <<<"$out")"
  python3 -c "import sys; sys.exit(0 if float('${level:-99}') <= 3.0 else 1)" || fail "exposure$2 $level is above 3.0"
}

meson install -C "$build" --destdir "$root" --no-rebuild --quiet >/dev/null || fail "meson install"
prefix=$(meson introspect "$build" --buildoptions | python3 -c \
  'import json,sys; print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == "prefix"))')

unit=$root$prefix/lib/systemd/system/supercached@.service
for f in "$unit" \
  "$root$prefix/sbin/supercached" \
  "$root$prefix/share/dbus-1/system.d/org.supercache.Coordinator1.conf" \
  "$root$prefix/lib/sysusers.d/supercache.conf" \
  "$root$prefix/lib/tmpfiles.d/supercache.conf" \
  "$root$prefix/share/doc/supercache/examples/supercache.conf" \
  "$root$prefix/share/man/man8/supercached.8" \
  "$root$prefix/bin/supercache" \
  "$root$prefix/share/man/man1/supercache.1" \
  "$root$prefix/share/man/man3/sc_put.3" \
  "$root$prefix/share/man/man3/sc_put_ttl.3" \
  "$root$prefix/share/man/man7/supercache.7"; do
  [[ -f $f ]] || fail "not installed: ${f#"$root"}"
done

# verify checks that ExecStart= names an executable: point it at the one installed here.
# It exits 0 on lines it ignores, so any output at all is a failure too.
mkdir -p "$root/verify"
sed "s|^ExecStart=/|ExecStart=$root/|" "$unit" >"$root/verify/supercached@.service"
out=$(systemd-analyze verify --man=no "$root/verify/supercached@.service" 2>&1)
status=$?
[[ $status -eq 0 && -z $out ]] || fail "systemd-analyze verify (exit $status): $out"
grep -q "^ExecStart=$prefix/sbin/supercached --name %i$" "$unit" || fail "ExecStart= does not run $prefix/sbin/supercached"

exposure supercached@ci.service ""
for must in "Type=notify" "WatchdogSec=" "User=supercache" "RemoveIPC=no" "ProtectSystem=strict" \
  "NoNewPrivileges=yes" "PrivateTmp=yes"; do
  grep -q "^$must" "$unit" || fail "the unit has no $must"
done
grep -q "^DynamicUser=" "$unit" && fail "the unit sets DynamicUser= (it would remove the segments)"

# A distributed instance: the unit with the network drop-in, as docs/distributed.md installs it.
examples=$root$prefix/share/doc/supercache/examples/distributed
mkdir -p "$root/etc/systemd/system/supercached@cluster.service.d"
cp "$examples/network.conf" "$root/etc/systemd/system/supercached@cluster.service.d/" ||
  fail "not installed: the distributed drop-in"
exposure supercached@cluster.service ", distributed (network drop-in)"
# Each node's example configuration is one supercached accepts (its secret made here).
head -c 64 /dev/urandom >"$root/secret" && chmod 0600 "$root/secret"
for n in 1 2 3; do
  "$supercached" --config "$examples/node$n.conf" --secret-file "$root/secret" --print-config >/dev/null ||
    fail "supercached refuses the example node$n.conf"
done

mkdir -p "$root/etc"
systemd-sysusers --root="$root" "$root$prefix/lib/sysusers.d/supercache.conf" >/dev/null 2>&1 ||
  fail "systemd-sysusers"
grep -q "^supercache:" "$root/etc/passwd" || fail "sysusers made no user supercache"
grep -q "^supercache:" "$root/etc/group" || fail "sysusers made no group supercache"
systemd-tmpfiles --create --root="$root" "$root$prefix/lib/tmpfiles.d/supercache.conf" ||
  fail "systemd-tmpfiles"
[[ -d $root/etc/supercache && -d $root/var/lib/supercache ]] || fail "tmpfiles made no /etc/supercache or /var/lib/supercache"

# The example lists every key with its default value.
if ! diff <("$supercached" --config "$example" --print-config) <("$supercached" --config /dev/null --print-config); then
  fail "the example configuration's values are not the defaults"
fi
for key in $("$supercached" --config /dev/null --print-config | cut -d' ' -f1); do
  grep -q "^$key =" "$example" || fail "the example configuration does not list $key"
done

if ((failures)); then
  echo "$failures failed"
  exit 1
fi
echo "packaging: all checks passed"
