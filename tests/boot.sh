#!/usr/bin/env bash
# The package under a real systemd: tests/boot.sh SUITE  (SUITE: trixie, bookworm), as root.
# It installs the .deb in a minimal root of SUITE with systemd, sets it up as a new user would
# (/etc/ovh.conf, the README's fstab line, /etc/default/ovhsnapfs-auto, an enabled timer) plus
# the bundled API simulator as a service ordered before network-online.target, and boots it
# twice with systemd-nspawn --boot. A probe service (tests/boot-probe.sh, installed in the
# root) checks from inside and writes a report, then powers off; this script asserts from the
# report and from the root's journal:
#   boot 1: the fstab mount is up and ls works through it; ovhsnapfs-auto@hourly.service
#     creates a snapshot in every share and prunes; its lines are in journalctl -u, with their
#     priorities; the timer has a next elapse; the hardened unit runs the hooks (a file under
#     /var/lib, fsfreeze's CAP_SYS_ADMIN); no unit failed; "systemctl stop" during a pre hook
#     runs the post hook; poweroff unmounts cleanly (no "Failed unmounting", no process of the
#     mount unit left "running after unit stopped").
#   boot 2, the simulator down: the boot still reaches multi-user thanks to nofail; the only
#     failed unit is mnt-efs.mount.
# Not tried: x-systemd.automount (no autofs in a container). And, before booting,
# systemd-analyze security --offline=true rates ovhsnapfs-auto@.service
# at most 3.0 (the root's systemd: 257 on Debian 13).
#
# The .deb: OVHSNAPFS_BOOT_DEB, or built here with contrib/build-deb.sh (then SUITE must be
# this machine's release). The root: OVHSNAPFS_BOOT_ROOT (an existing root of SUITE, e.g. the
# one tests/release-root.sh made: used, left to its owner), or made here from Debian's mirror
# (tests/debroot.sh) and deleted at the end. Every step is bounded; the machine is killed by
# PID at the end, whatever happened. Without systemd-nspawn (package systemd-container, which
# it installs) it fails, never skips. Last line: "boot-SUITE: N passed, M failed".
set -uo pipefail

suite=${1:?usage: tests/boot.sh SUITE}
top=$(cd "$(dirname "$0")/.." && pwd)
name=boot-$suite
passed=0
failed=0
say() { printf '%s: %s\n' "$name" "$*"; }
ok() {
	say "ok: $*"
	passed=$((passed + 1))
}
bad() {
	say "FAILED: $*"
	failed=$((failed + 1))
}
finish_counts() {
	echo "$name: $passed passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}
die() {
	bad "$*"
	finish_counts
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, nspawn)"
. "$top/tests/debroot.sh"
export DEBIAN_FRONTEND=noninteractive
if ! command -v systemd-nspawn >/dev/null; then
	say "installing systemd-container (systemd-nspawn)"
	timeout 600 apt-get install -y -qq --no-install-recommends systemd-container >/dev/null 2>&1
fi
command -v systemd-nspawn >/dev/null || die "no systemd-nspawn (apt-get install systemd-container)"
[ -c /dev/fuse ] || die "no /dev/fuse on this machine"

work=$(mktemp -d "${TMPDIR:-/var/tmp}/ovhsnapfs-boot.XXXXXX") || die "mktemp"
root=${OVHSNAPFS_BOOT_ROOT:-}
own_root=
machine= # the PID of the running systemd-nspawn

# Every process of the machine by PID (nspawn's descendants, then nspawn), the root's mounts,
# the root when made here.
descendants() {
	local pid
	for pid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		descendants "$pid"
		echo "$pid"
	done
}
cleanup() {
	if [ -n "$machine" ]; then
		kill -9 $(descendants "$machine") "$machine" 2>/dev/null
		wait "$machine" 2>/dev/null
	fi
	if [ -n "$own_root" ]; then
		debroot_remove "$root"
	elif [ -n "$root" ]; then
		debroot_kill "$root"
		debroot_umount "$root/proc"
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$SECONDS
# The package.
deb=${OVHSNAPFS_BOOT_DEB:-}
if [ -z "$deb" ]; then
	host=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ "$host" = "$suite" ] || die "this machine is $host: build the .deb on $suite (OVHSNAPFS_BOOT_DEB)"
	timeout 1200 "$top/contrib/build-deb.sh" "$work/deb" >"$work/build.log" 2>&1 ||
		{ tail -30 "$work/build.log"; die "contrib/build-deb.sh"; }
	deb=$(ls "$work"/deb/ovhsnapfs_*_"$(dpkg --print-architecture)".deb) || die "no .deb built"
	say ".deb built in $((SECONDS - t0)) s"
fi
[ -f "$deb" ] || die "no .deb at $deb"

# The root.
t1=$SECONDS
if [ -z "$root" ]; then
	root=$(mktemp -d "${TMPDIR:-/var/tmp}/ovhsnapfs-boot-$suite.XXXXXX") || die "mktemp"
	chmod 0755 "$root"
	own_root=1
	debroot_make "$suite" "$root" systemd,systemd-sysv,dbus,python3 || die "no $suite root"
fi
in_root() { timeout 600 chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 "$@"; }
cp "$deb" "$root/root/ovhsnapfs.deb"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc" || die "mount $root/proc"
{ in_root apt-get update -qq &&
	in_root apt-get install -y -qq --no-install-recommends systemd systemd-sysv dbus python3 \
		/root/ovhsnapfs.deb; } >"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log"; die "apt-get install in the root"; }
umount "$root/proc"
say "root ready in $((SECONDS - t1)) s: $(. "$root/etc/os-release" && echo "$PRETTY_NAME"), $(in_root systemctl --version | head -1)"

# Exposure of the installed service, by the root's systemd-analyze.
unit=$(in_root dpkg -L ovhsnapfs | grep '/ovhsnapfs-auto@\.service$') || die "the package has no ovhsnapfs-auto@.service"
cp "$root$unit" "$root/root/ovhsnapfs-auto@hourly.service"
in_root systemd-analyze security --offline=true --threshold=30 /root/ovhsnapfs-auto@hourly.service \
	>"$work/security.out" 2>&1
rc=$?
exposure=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$work/security.out")
if [ "$rc" -eq 0 ] && [ -n "$exposure" ]; then
	ok "systemd-analyze security: ovhsnapfs-auto@.service exposure $exposure (at most 3.0)"
else
	grep '✗' "$work/security.out" | head -30
	bad "systemd-analyze security: exposure ${exposure:-unknown} (exit $rc): more than 3.0"
fi

# The setup, as the README says, with the simulator for the OVH API.
port=8471
url=http://127.0.0.1:$port/1.0
mkdir -p "$root/usr/local/lib/ovhsim" "$root/mnt/efs" "$root/var/log/journal" \
	"$root/etc/ovhsnapfs-boot"
install -m 0644 "$top/tests/sim/ovhsim.py" "$root/usr/local/lib/ovhsim/ovhsim.py"
install -m 0755 "$top/tests/boot-probe.sh" "$root/usr/local/sbin/ovhsnapfs-boot-probe"
(umask 077 && printf '[default]\nendpoint=%s\n\n[%s]\napplication_key=demo-ak\napplication_secret=demo-as\nconsumer_key=demo-ck\n' \
	"$url" "$url" >"$root/etc/ovh.conf")
# README's line, the simulator's URL for ovh-eu.
grep -q ' /mnt/efs ' "$root/etc/fstab" 2>/dev/null ||
	printf '%s  /mnt/efs  fuse.ovhsnapfs  _netdev,nofail,config=/etc/ovh.conf  0  0\n' "$url" >>"$root/etc/fstab"
cat >"$root/etc/default/ovhsnapfs-auto" <<'EOF'
OVHSNAPFS_AUTO_DIRS=/mnt/efs
OVHSNAPFS_AUTO_KEEP_hourly=1
OVHSNAPFS_AUTO_HOOKS_gfs=--pre /usr/local/sbin/ovhsnapfs-boot-hook --post /usr/local/sbin/ovhsnapfs-boot-hook --hook-timeout 120
EOF
# The hooks: a file under /var/lib per call, and fsfreeze's capability check (on /run, a tmpfs:
# "not supported" with CAP_SYS_ADMIN, "not permitted" without; nothing is frozen).
cat >"$root/usr/local/sbin/ovhsnapfs-boot-hook" <<'EOF'
#!/bin/sh
d=/var/lib/ovhsnapfs-boot
mkdir -p $d
phase=${OVHSNAPFS_RESULT:+post}
phase=${phase:-pre}
echo "$phase ${OVHSNAPFS_SHARE:-?} ${OVHSNAPFS_RESULT:-}" >>$d/hooks
if [ $phase = pre ]; then
	[ -e /run/ovhsnapfs-boot-fail ] && [ "$OVHSNAPFS_SHARE" = logs ] && exit 1
	fsfreeze -f /run >$d/fsfreeze 2>&1
	if [ -e /run/ovhsnapfs-boot-slow ]; then
		touch /run/ovhsnapfs-boot-waiting
		sleep 100
	fi
fi
exit 0
EOF
chmod 0755 "$root/usr/local/sbin/ovhsnapfs-boot-hook"
cat >"$root/etc/systemd/system/ovhsim.service" <<EOF
[Unit]
Description=OVH API simulator (ovhsnapfs boot test)
Before=network-online.target
Wants=network-online.target

[Service]
ExecStart=/usr/bin/python3 /usr/local/lib/ovhsim/ovhsim.py --port $port --port-file /run/ovhsim.port --quiet --create-delay 0.5 --delete-delay 0.5
ExecStartPost=/bin/sh -c 'for i in \$(seq 100); do [ -s /run/ovhsim.port ] && exit 0; sleep 0.1; done; exit 1'

[Install]
WantedBy=network-online.target
EOF
# Type=simple, not oneshot: the boot is finished while it runs, so that it can wait for
# "systemctl is-system-running" to say so.
cat >"$root/etc/systemd/system/ovhsnapfs-boot-probe.service" <<'EOF'
[Unit]
Description=ovhsnapfs boot test probe
After=remote-fs.target mnt-efs.mount ovhsim.service

[Service]
ExecStart=/usr/local/sbin/ovhsnapfs-boot-probe
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
EOF
in_root systemctl enable ovhsim.service ovhsnapfs-boot-probe.service ovhsnapfs-auto-hourly.timer \
	>"$work/enable.log" 2>&1 || { cat "$work/enable.log"; die "systemctl enable"; }

# The machine has a network of its own (--private-network: loopback only), so the simulator's
# fixed port is its own too.
# boot MODE: one boot, the probe in MODE (up or down); its report in $work/report-MODE, the
# journal of that boot in $work/journal-MODE.
boot() {
	local mode=$1 b0=$SECONDS rc
	echo "$mode" >"$root/etc/ovhsnapfs-boot/mode"
	rm -f "$root/var/lib/ovhsnapfs-boot/report"
	timeout -k 10 240 systemd-nspawn --quiet --boot --register=no --keep-unit --link-journal=no --private-network \
		--bind=/dev/fuse -E SYSTEMD_CGROUP_ENABLE_LEGACY_FORCE=1 --machine="ovhsnapfs-boot-$suite" \
		-D "$root" >"$work/console-$mode" 2>&1 </dev/null &
	machine=$!
	wait "$machine"
	rc=$?
	machine=
	say "boot ($mode): $((SECONDS - b0)) s, systemd-nspawn exit $rc"
	[ "$rc" -ne 124 ] && [ "$rc" -ne 137 ] || bad "boot ($mode): the machine did not power off in 240 s"
	cp "$root/var/lib/ovhsnapfs-boot/report" "$work/report-$mode" 2>/dev/null || : >"$work/report-$mode"
	in_root journalctl -D /var/log/journal -b -1 -o short-monotonic --no-pager >"$work/journal-$mode" 2>&1 ||
		in_root journalctl -D /var/log/journal -b -o short-monotonic --no-pager >"$work/journal-$mode" 2>&1
	# The report's lines count: "ok: ..." passed, "FAIL: ..." failed.
	grep -q '^done$' "$work/report-$mode" || {
		tail -40 "$work/console-$mode"
		bad "boot ($mode): the probe wrote no complete report"
	}
	while read -r line; do
		case "$line" in
		ok:*) ok "($mode) ${line#ok: }" ;;
		FAIL:*) bad "($mode) ${line#FAIL: }" ;;
		note:*) say "($mode) $line" ;;
		esac
	done <"$work/report-$mode"
}

boot up
j=$work/journal-up
if grep -q 'Failed unmounting' "$j"; then
	grep 'Failed unmounting' "$j"
	bad "poweroff: Failed unmounting"
else
	ok "poweroff: no \"Failed unmounting\""
fi
if grep -q 'remains running after unit stopped' "$j"; then
	grep 'remains running after unit stopped' "$j"
	bad "unmount: a process of a unit outlived its stop (the daemon must exit before mnt-efs.mount is stopped)"
else
	ok "unmount (3 stops of mnt-efs.mount, then poweroff): no process left \"running after unit stopped\""
fi
grep -q 'Unmounted.*mnt/efs\|mnt-efs.mount: Deactivated successfully' "$j" &&
	ok "poweroff: /mnt/efs unmounted" || bad "poweroff: no sign in the journal that /mnt/efs was unmounted"

# Boot 2: the API is down.
in_root systemctl disable ovhsim.service >"$work/enable.log" 2>&1 || { cat "$work/enable.log"; bad "systemctl disable ovhsim"; }
boot down

say "$((SECONDS - t0)) s in all"
if [ "$failed" -ne 0 ]; then
	for f in "$work"/journal-*; do
		echo "--- $(basename "$f") (ovhsnapfs, mounts, failures)"
		grep -E 'ovhsnapfs|mnt-efs|[Ff]ailed|remains running' "$f" | tail -60
	done
fi
finish_counts
