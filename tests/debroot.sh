# debroot: a pristine minimal Debian root from Debian's mirror, for tests/release-root.sh and
# tests/boot.sh (sourced, not run). It owns making the root and removing it:
#   debroot_make SUITE DIR [PACKAGES]   debootstrap --variant=minbase SUITE into DIR, with the
#                                       release's -updates and -security suites in its
#                                       sources.list, as a fresh install has them; PACKAGES
#                                       (comma-separated) installed by debootstrap too.
#   debroot_kill DIR                    kill, by PID, every process whose root is in DIR
#   debroot_umount DIR                  unmount everything under DIR (and DIR), deepest first
#   debroot_remove DIR                  the three: kill, unmount, delete (not when a mount stays)
# The caller defines say (one line of progress). Environment: OVHSNAPFS_MIRROR (default
# http://deb.debian.org/debian), OVHSNAPFS_SECURITY_MIRROR (default
# http://deb.debian.org/debian-security).

debroot_mirror=${OVHSNAPFS_MIRROR:-http://deb.debian.org/debian}
debroot_security=${OVHSNAPFS_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

debroot_make() {
	local suite=$1 dir=$2 include=${3:-} log
	if ! command -v debootstrap >/dev/null; then
		say "installing debootstrap"
		{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
			debootstrap >/dev/null; } 2>&1 || return 1
	fi
	log=$(mktemp)
	say "making a minimal $suite root from $debroot_mirror${include:+ (with $include)}"
	if ! timeout 1200 debootstrap --variant=minbase ${include:+--include="$include"} \
		"$suite" "$dir" "$debroot_mirror" >"$log" 2>&1; then
		tail -20 "$log"
		rm -f "$log"
		say "debootstrap $suite from $debroot_mirror failed (is the mirror reachable?)"
		return 1
	fi
	rm -f "$log"
	cat >"$dir/etc/apt/sources.list" <<EOS
deb $debroot_mirror $suite main
deb $debroot_mirror $suite-updates main
deb $debroot_security $suite-security main
EOS
}

debroot_kill() {
	local dir=$1 pid link n
	for n in 1 2 3; do
		for pid in $(ls /proc | grep -E '^[0-9]+$'); do
			link=$(readlink "/proc/$pid/root" 2>/dev/null) || continue
			case "$link" in "$dir" | "$dir"/*) kill -9 "$pid" 2>/dev/null ;; esac
		done
		sleep 0.2
	done
}

debroot_umount() {
	local dir=$1 m
	awk -v r="$dir" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
}

debroot_remove() {
	local dir=$1
	debroot_kill "$dir"
	debroot_umount "$dir"
	if awk -v r="$dir" 'index($5, r "/") == 1 || $5 == r { found = 1 } END { exit !found }' \
		/proc/self/mountinfo; then
		say "still mounted under $dir: not deleted"
	else
		rm -rf --one-file-system "$dir"
	fi
}
