#!/bin/bash
# The probe of tests/boot.sh, run inside the booted machine by ovhsnapfs-boot-probe.service:
# it waits for the boot to finish, checks what a user would, writes one line per check to
# /var/lib/ovhsnapfs-boot/report ("ok: ...", "FAIL: ...", "note: ..."; "done" last), then
# powers the machine off. /etc/ovhsnapfs-boot/mode says which boot this is: "up" (the API
# simulator runs) or "down" (it does not). Every wait is bounded.
set -u
out=/var/lib/ovhsnapfs-boot
mkdir -p "$out"
report=$out/report
: >"$report"
ok() { echo "ok: $*" >>"$report"; }
fail() { echo "FAIL: $*" >>"$report"; }
note() { echo "note: $*" >>"$report"; }
finish() {
	echo done >>"$report"
	sync
	systemctl poweroff --no-block
	exit 0
}
mode=$(cat /etc/ovhsnapfs-boot/mode)
mnt=/mnt/efs

state=$(timeout 120 systemctl is-system-running --wait)
failed=$(systemctl list-units --failed --plain --no-legend | awk '{ print $1 }' | tr '\n' ' ')
failed=${failed% }

if [ "$mode" = down ]; then
	# nofail: the boot goes on and finishes; the mount cannot come without the API.
	case "$state" in
	running | degraded) ok "the boot finished with the API down (nofail): $state" ;;
	*) fail "the boot with the API down did not finish: $state" ;;
	esac
	systemctl is-active -q multi-user.target && ok "multi-user.target reached" ||
		fail "multi-user.target not reached"
	mount_state=$(systemctl show -P ActiveState mnt-efs.mount)
	note "mnt-efs.mount: $mount_state; failed units: ${failed:-none}"
	! mountpoint -q $mnt && ok "$mnt is not mounted (the API is down)" || fail "$mnt mounted with the API down?"
	case "$failed" in
	"" | mnt-efs.mount) ok "failed units: ${failed:-none} (at most mnt-efs.mount)" ;;
	*) fail "failed units: $failed (only mnt-efs.mount may fail)" ;;
	esac
	finish
fi

[ "$state" = running ] && ok "the boot finished: running" || fail "the boot finished as: $state (failed: ${failed:-none})"

# The fstab mount, up at boot.
if findmnt -n -t fuse.ovhsnapfs $mnt >/dev/null; then
	ok "$mnt mounted at boot ($(findmnt -n -o SOURCE,FSTYPE $mnt | tr -s ' '))"
else
	fail "$mnt not mounted at boot ($(systemctl show -P ActiveState mnt-efs.mount))"
	finish
fi
services=$(timeout 60 ls $mnt | tr '\n' ' ')
[ "$services" = "efs-backup efs-prod " ] && ok "ls $mnt: $services" || fail "ls $mnt: '$services'"
snaps=$mnt/efs-prod/www/.snapshots
timeout 60 ls $snaps | grep -qx before-upgrade && ok "ls $snaps lists before-upgrade" || fail "ls $snaps: $(ls $snaps)"

# A timer's run: one snapshot in every share, and the prune (KEEP_hourly=1 in /etc/default).
old=auto-hourly-2020-01-01-0000
timeout 120 mkdir $snaps/$old || fail "mkdir $snaps/$old"
if timeout 300 systemctl start ovhsnapfs-auto@hourly.service; then
	ok "systemctl start ovhsnapfs-auto@hourly.service: succeeded"
else
	fail "systemctl start ovhsnapfs-auto@hourly.service: $(systemctl show -P Result ovhsnapfs-auto@hourly.service)"
fi
shares=0
made=0
for d in $mnt/*/*/.snapshots; do
	shares=$((shares + 1))
	ls "$d" | grep -q '^auto-hourly-20[0-9][0-9]-' && made=$((made + 1))
done
[ "$shares" -gt 0 ] && [ "$made" -eq "$shares" ] && ok "a new auto-hourly snapshot in each of the $shares shares" ||
	fail "auto-hourly snapshots in $made of $shares shares"
! ls $snaps | grep -qx $old && ok "pruned: $old deleted (keep 1)" || fail "$old still there"
# Its lines in the journal, with their priorities (stdout: info).
journalctl -u ovhsnapfs-auto@hourly.service -o json --no-pager >$out/hourly.json
python3 - $out/hourly.json >$out/hourly.lines <<'PY'
import json, sys
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("SYSLOG_IDENTIFIER") == "ovhsnapfs-auto":
        print(e.get("PRIORITY"), e.get("MESSAGE"))
PY
grep -q '^6 .*efs-prod/www.*auto-hourly-' $out/hourly.lines &&
	ok "journalctl -u ovhsnapfs-auto@hourly: its lines at priority 6 (info): $(grep -c . $out/hourly.lines) lines" ||
	fail "journalctl -u ovhsnapfs-auto@hourly: $(head -5 $out/hourly.lines)"
grep -q "$old" $out/hourly.lines && ok "the journal says $old went" || fail "no line about deleting $old"

# The timer, listed with its next elapse.
systemctl list-timers --all --no-pager >$out/timers
line=$(grep 'ovhsnapfs-auto-hourly.timer' $out/timers)
next=$(systemctl show -P NextElapseUSecRealtime ovhsnapfs-auto-hourly.timer)
[ -n "$line" ] && [ -n "$next" ] && [ "${line:0:1}" != - ] && ok "list-timers: ovhsnapfs-auto-hourly.timer, next $next" ||
	fail "list-timers: '$line' (next: '$next')"

# The hardened unit runs the hooks: a file under /var/lib, fsfreeze with CAP_SYS_ADMIN.
rm -f $out/hooks $out/fsfreeze
if timeout 300 systemctl start ovhsnapfs-auto@gfs.service; then
	ok "systemctl start ovhsnapfs-auto@gfs.service (hooks): succeeded"
else
	fail "ovhsnapfs-auto@gfs.service: $(systemctl show -P Result ovhsnapfs-auto@gfs.service)"
fi
pre=$(grep -c '^pre ' $out/hooks 2>/dev/null)
[ "${pre:-0}" -eq "$shares" ] && ok "pre hook ran for the $shares shares, wrote /var/lib" || fail "pre hook: $(cat $out/hooks 2>&1)"
[ "$(grep -c '^post ' $out/hooks 2>/dev/null)" -eq "$shares" ] && ok "post hook ran for each share: $(grep '^post ' $out/hooks | awk '{ print $3 }' | sort -u | tr '\n' ' ')" ||
	fail "post hook: $(cat $out/hooks 2>&1)"
grep -qi 'not supported' $out/fsfreeze && ok "fsfreeze in a hook has CAP_SYS_ADMIN ($(cat $out/fsfreeze))" ||
	fail "fsfreeze in a hook: $(cat $out/fsfreeze 2>&1)"

# A failure's line: priority 3 (err). The pre hook fails for share logs (snapshots of this
# minute go first: a name that exists is not made again, and its hooks do not run).
gfs_clear() { for d in $mnt/*/*/.snapshots/auto-gfs-*; do timeout 60 rmdir "$d" || fail "rmdir $d"; done; }
gfs_clear
touch /run/ovhsnapfs-boot-fail
since=$(date '+%Y-%m-%d %H:%M:%S')
timeout 300 systemctl start ovhsnapfs-auto@gfs.service && fail "ovhsnapfs-auto@gfs.service succeeded with a failing hook"
rm -f /run/ovhsnapfs-boot-fail
line=$(journalctl -u ovhsnapfs-auto@gfs.service --since "$since" -p err -o cat --no-pager | grep 'pre hook failed')
[ -n "$line" ] && ok "a failing hook's line is in journalctl -p err: $line" ||
	fail "no 'pre hook failed' line at priority err (journalctl -u ovhsnapfs-auto@gfs -p err)"
systemctl reset-failed ovhsnapfs-auto@gfs.service

# No unit failed so far.
failed=$(systemctl list-units --failed --plain --no-legend | awk '{ print $1 }' | tr '\n' ' ')
[ -z "$failed" ] && ok "systemctl list-units --failed: none" || fail "failed units: $failed"

# systemctl stop during a pre hook: the post hook runs.
gfs_clear
rm -f $out/hooks /run/ovhsnapfs-boot-waiting
touch /run/ovhsnapfs-boot-slow
systemctl start --no-block ovhsnapfs-auto@gfs.service
for _ in $(seq 300); do
	[ -e /run/ovhsnapfs-boot-waiting ] && break
	sleep 0.1
done
if [ -e /run/ovhsnapfs-boot-waiting ]; then
	timeout 120 systemctl stop ovhsnapfs-auto@gfs.service
	grep -q '^post ' $out/hooks && ok "systemctl stop during the pre hook: the post hook ran ($(grep '^post ' $out/hooks | head -1))" ||
		fail "systemctl stop during the pre hook: no post hook (hooks: $(tr '\n' ';' <$out/hooks))"
	note "after the stop: ovhsnapfs-auto@gfs.service $(systemctl show -P ActiveState ovhsnapfs-auto@gfs.service), result $(systemctl show -P Result ovhsnapfs-auto@gfs.service)"
	systemctl reset-failed ovhsnapfs-auto@gfs.service 2>/dev/null
else
	fail "the pre hook never started"
fi
rm -f /run/ovhsnapfs-boot-slow

# The mount unit stopped and started again, three times: each stop must find the daemon gone
# (no "remains running after unit stopped" in the journal, which tests/boot.sh reads): umount
# runs the package's helper, which waits for the daemon (its pid in the status file) to exit.
[ -x /sbin/umount.fuse.ovhsnapfs ] && ok "umount finds the helper: /sbin/umount.fuse.ovhsnapfs" ||
	fail "no /sbin/umount.fuse.ovhsnapfs"
exited=0
for i in 1 2 3; do
	pid=$(sed -n 's/^ *"pid": \([0-9]*\),$/\1/p' $mnt/.ovhsnapfs)
	timeout 60 systemctl stop mnt-efs.mount || fail "systemctl stop mnt-efs.mount ($i)"
	state=$(awk '/^State:/ { print $2 }' /proc/"${pid:-none}"/status 2>/dev/null)
	[ -n "$pid" ] && { [ -z "$state" ] || [ "$state" = Z ]; } && exited=$((exited + 1)) ||
		note "stop $i: daemon ${pid:-unknown} still there (${state:-?})"
	timeout 60 systemctl start mnt-efs.mount || fail "systemctl start mnt-efs.mount ($i)"
done
[ $exited -eq 3 ] && ok "systemctl stop mnt-efs.mount returned after the daemon had exited, 3 times of 3" ||
	fail "systemctl stop mnt-efs.mount: the daemon had exited $exited times of 3"
timeout 60 ls $mnt >/dev/null && ok "mnt-efs.mount stopped and started 3 times: ls works" || fail "ls $mnt after the restarts"
finish
