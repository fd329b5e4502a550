#!/usr/bin/env bash
# The test suite on another Debian release, in a pristine minimal root made for the run:
#   tests/release-root.sh SUITE        (SUITE: trixie, bookworm, ...)
# as root. It makes the root from Debian's mirror (debootstrap --variant=minbase, with the
# release's -updates and -security suites, as a fresh install has them), copies this
# checkout's tracked files into /root/project there, binds /dev, /proc and /sys, and runs
# in it, exactly as a new user would, the README's test command with the stages a release
# needs proved: contrib/install-deps.sh --tests, the -Werror build, the format check, the
# unit tests, the simulator and integration tests (normal build, interrupts included), the
# chaos runs and the Debian package stage. The sanitizer, fuzzing and distcheck stages run on
# the host.
#
# The root is a chroot: the tests inside never leave it (no setns). At the end, whatever
# happened, every process whose root is in it is killed by its PID, everything mounted
# under it is unmounted and it is deleted. Without a mirror it fails loudly; it never skips.
# Its last line is "debian-SUITE: N passed, M failed" (the inner run's counts; a stage
# that could not run counts as one failure). Environment: OVHSNAPFS_MIRROR (default
# http://deb.debian.org/debian), OVHSNAPFS_SECURITY_MIRROR (default
# http://deb.debian.org/debian-security), OVHSNAPFS_RELEASE_STAGES (the inner stages).
set -uo pipefail

suite=${1:?usage: tests/release-root.sh SUITE}
mirror=${OVHSNAPFS_MIRROR:-http://deb.debian.org/debian}
security=${OVHSNAPFS_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
stages=${OVHSNAPFS_RELEASE_STAGES:-format unit integration chaos package}
top=$(cd "$(dirname "$0")/.." && pwd)
name=debian-$suite

say() { printf '%s: %s\n' "$name" "$*"; }
die() {
	say "FAILED: $*"
	echo "$name: 0 passed, 1 failed"
	exit 1
}

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap, chroot, mounts)"
if ! command -v debootstrap >/dev/null; then
	say "installing debootstrap"
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		debootstrap >/dev/null; } 2>&1 || die "cannot install debootstrap"
fi

root=$(mktemp -d "${TMPDIR:-/var/tmp}/ovhsnapfs-$suite.XXXXXX") || die "mktemp"
chmod 0755 "$root" # "/" of the new system: mktemp's 0700 would shut other users out

# Every process whose root is in $root, by PID; then every mount under it, deepest first.
cleanup() {
	local pid link n
	for n in 1 2 3; do
		for pid in $(ls /proc | grep -E '^[0-9]+$'); do
			link=$(readlink "/proc/$pid/root" 2>/dev/null) || continue
			case "$link" in "$root" | "$root"/*) kill -9 "$pid" 2>/dev/null ;; esac
		done
		sleep 0.2
	done
	awk -v r="$root" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo |
		sort -r | while read -r m; do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	if awk -v r="$root" 'index($5, r "/") == 1 { found = 1 } END { exit !found }' \
		/proc/self/mountinfo; then
		say "still mounted under $root: not deleted"
	else
		rm -rf --one-file-system "$root"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$SECONDS
say "making a minimal $suite root from $mirror"
if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.log" 2>&1; then
	tail -20 "$root.log"
	rm -f "$root.log"
	die "debootstrap $suite from $mirror failed (is the mirror reachable?)"
fi
rm -f "$root.log"
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb $security $suite-security main
EOF
say "root made in $((SECONDS - t0)) s: $(. "$root/etc/os-release" && echo "$PRETTY_NAME")"

# The checkout: the files git tracks, as they are in the working tree.
mkdir -p "$root/root/project"
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached | while IFS= read -r -d '' f; do
		if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
	done | tar --null -T - -cf -) | tar -xf - -C "$root/root/project"
else
	tar -C "$top" --exclude=./.git --exclude='./build*' -cf - . | tar -xf - -C "$root/root/project"
fi

# The root a mount point of its own (private), as in a container: a test's private mount
# namespace (unshare --mount --propagation private) needs "/" to be one.
mount --bind "$root" "$root" && mount --make-private "$root" &&
	mount -t proc proc "$root/proc" &&
	mount --rbind /sys "$root/sys" && mount --make-rslave "$root/sys" &&
	mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" &&
	mount -t tmpfs -o mode=0755 tmpfs "$root/run" || die "cannot mount /proc, /sys, /dev, /run"

# The README's test command, as root in the new root, with a clean environment.
out=$(mktemp)
chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	OVHSNAPFS_STAGES="$stages" \
	/bin/bash -c 'cd /root/project && tests/run.sh' 2>&1 | tee "$out"
line=$(tail -1 "$out")
rm -f "$out"
read -r p f < <(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
[ -n "${p:-}" ] || die "the run in the $suite root ended without a count"
say "$((SECONDS - t0)) s in all"
echo "$name: $p passed, $f failed"
[ "$f" -eq 0 ]
