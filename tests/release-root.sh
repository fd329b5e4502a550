#!/usr/bin/env bash
# The test suite on another Debian release, in a pristine minimal root made for the run:
#   tests/release-root.sh SUITE        (SUITE: trixie, bookworm, ...)
# as root. It makes the root from Debian's mirror (debootstrap --variant=minbase, with the
# release's -updates and -security suites, as a fresh install has them), copies this
# checkout's tracked files into /root/project there, binds /dev, /proc and /sys, and runs
# in it, exactly as a new user would, the README's test command with the stages a release
# needs proved: contrib/install-deps.sh --tests, the -Werror build, the format check, the
# unit tests, the simulator and integration tests (normal build, interrupts included), the
# chaos runs and the Debian package stage; then that stage's .deb is booted under systemd in
# the same root (tests/boot.sh; OVHSNAPFS_RELEASE_NO_BOOT=1 skips it). The sanitizer, fuzzing
# and distcheck stages run on the host.
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
. "$top/tests/debroot.sh"

root=$(mktemp -d "${TMPDIR:-/var/tmp}/ovhsnapfs-$suite.XXXXXX") || die "mktemp"
chmod 0755 "$root" # "/" of the new system: mktemp's 0700 would shut other users out

# Every process whose root is in $root, by PID; then every mount under it, deepest first.
trap 'debroot_remove "$root"' EXIT
trap 'exit 130' INT TERM

t0=$SECONDS
debroot_make "$suite" "$root" || die "no $suite root"
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
	OVHSNAPFS_STAGES="$stages" OVHSNAPFS_DEB_KEEP=/root/debs \
	/bin/bash -c 'cd /root/project && tests/run.sh' 2>&1 | tee "$out"
line=$(tail -1 "$out")
rm -f "$out"
read -r p f < <(echo "$line" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
[ -n "${p:-}" ] || die "the run in the $suite root ended without a count"

# The package stage's .deb booted under systemd in this same root (tests/boot.sh): no
# second debootstrap. The chroot's processes and mounts go first (nspawn mounts its own).
if [[ " $stages " == *" package "* ]] && [ -z "${OVHSNAPFS_RELEASE_NO_BOOT:-}" ]; then
	debroot_kill "$root"
	for m in run dev sys proc; do debroot_umount "$root/$m"; done
	t1=$SECONDS
	deb=$(ls "$root"/root/debs/ovhsnapfs_*.deb 2>/dev/null | head -1)
	out=$(mktemp)
	OVHSNAPFS_BOOT_ROOT=$root OVHSNAPFS_BOOT_DEB=$deb bash "$top/tests/boot.sh" "$suite" 2>&1 | tee "$out"
	read -r bp bf < <(tail -1 "$out" | sed -n 's/^boot-[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
	rm -f "$out"
	if [ -n "${bp:-}" ]; then
		p=$((p + bp))
		f=$((f + bf))
	else
		say "FAILED: the boot test ended without a count"
		f=$((f + 1))
	fi
	say "boot test: $((SECONDS - t1)) s"
fi
say "$((SECONDS - t0)) s in all"
echo "$name: $p passed, $f failed"
[ "$f" -eq 0 ]
