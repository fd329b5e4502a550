#!/usr/bin/env bash
# The "Debian package" stage of tests/run.sh, as root on Debian 13 or 12: build the package from
# this tree (contrib/build-deb.sh), check it with lintian (any error or warning fails), install
# it with apt-get, run the smoke test that the autopkgtest runs (contrib/debian/tests/smoke:
# an /etc/fstab mount with /usr/bin/ovhsnapfs against the simulator, in a private mount
# namespace), then purge it and check that none of its files is left.
# The package is purged on exit, on failure too. A version of ovhsnapfs installed before
# is replaced, and purged with it. Exits 0 when every step passed.
# OVHSNAPFS_DEB_KEEP=DIR keeps a copy of the .deb in DIR.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "package: needs root"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ovhsnapfs-package.XXXXXX")
export DEBIAN_FRONTEND=noninteractive

purge() {
	dpkg-query -W -f='${db:Status-Abbrev}' ovhsnapfs 2>/dev/null | grep -q '^.[^n]' || return 0
	apt-get purge -y -qq ovhsnapfs >"$tmp/purge.log" 2>&1
}
finish() {
	purge || cat "$tmp/purge.log"
	rm -rf "$tmp"
}
trap finish EXIT
fail() {
	echo "package: FAILED: $*"
	exit 1
}

mkdir "$tmp/out"
"$top/contrib/build-deb.sh" "$tmp/out" || fail "contrib/build-deb.sh"
deb=$(ls "$tmp"/out/ovhsnapfs_*_"$(dpkg --print-architecture)".deb) || fail "no .deb built"
changes=$(ls "$tmp"/out/ovhsnapfs_*.changes) || fail "no .changes built"
# OVHSNAPFS_DEB_KEEP=DIR: a copy of the .deb there, for the boot stage (tests/boot.sh).
[ -z "${OVHSNAPFS_DEB_KEEP:-}" ] || { mkdir -p "$OVHSNAPFS_DEB_KEEP" && cp "$deb" "$OVHSNAPFS_DEB_KEEP/"; }

# Depends from shlibs: the libfuse3 of this release (libfuse3-4 on 13, libfuse3-3 on 12).
fuselib=$(dpkg-query -W -f='${Package} ${Status}\n' 'libfuse3-[0-9]*' 2>/dev/null |
	awk '/install ok installed/ { print $1; exit }')
deps=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $deps"
[ -n "$fuselib" ] && [[ ", $deps" == *", $fuselib "* ]] || fail "Depends does not name ${fuselib:-libfuse3}"

command -v lintian >/dev/null || fail "lintian is not installed (contrib/install-deps.sh --tests)"
lintian --fail-on error,warning "$changes" 2>&1 | grep -v '^running with root privileges' |
	tee "$tmp/lintian.out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "lintian reported errors or warnings"
echo "lintian: no error, no warning"

purge || { cat "$tmp/purge.log"; fail "cannot purge the ovhsnapfs installed before"; }
apt-get install -y -qq "$deb" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log"; fail "apt-get install $deb"; }
dpkg -L ovhsnapfs | sort -r >"$tmp/files"
# Units where this release's systemd.pc says: /usr/lib/systemd/system on 13, /lib/... on 12.
units=$(pkg-config --variable=systemdsystemunitdir systemd) && [ -n "$units" ] ||
	fail "no systemd.pc (a build dependency)"
echo "systemd units: $units"
doc=/usr/share/doc/ovhsnapfs
for f in /usr/bin/ovhsnapfs /usr/share/man/man1/ovhsnapfs.1.gz \
	/usr/bin/ovhsnapfs-auto /usr/share/man/man1/ovhsnapfs-auto.1.gz \
	/usr/bin/ovhsnapfs-versions /usr/share/man/man1/ovhsnapfs-versions.1.gz \
	/usr/share/man/man7/ovhsnapfs.7.gz \
	/usr/sbin/umount.fuse.ovhsnapfs /usr/share/man/man8/umount.fuse.ovhsnapfs.8.gz \
	/usr/share/bash-completion/completions/ovhsnapfs \
	/usr/share/bash-completion/completions/ovhsnapfs-auto \
	/usr/share/bash-completion/completions/ovhsnapfs-versions \
	"$units/ovhsnapfs-auto@.service" "$units/ovhsnapfs-auto-daily.timer" \
	"$units/ovhsnapfs-auto-gfs.timer" \
	$doc/README.md.gz $doc/changelog.gz $doc/copyright $doc/examples/fstab.example \
	$doc/examples/ovh.conf.example $doc/examples/ovhsnapfs-auto.cron \
	$doc/examples/mnt-efs.mount /usr/share/ovhsnapfs/prometheus/ovhsnapfs.rules.yml \
	/usr/share/ovhsnapfs/prometheus/ovhsnapfs.rules.test.yml; do
	grep -qx "$f" "$tmp/files" || fail "the package lacks $f"
done
/usr/bin/ovhsnapfs --version >/dev/null || fail "/usr/bin/ovhsnapfs --version"
/usr/bin/ovhsnapfs-versions --version >/dev/null || fail "/usr/bin/ovhsnapfs-versions --version"
# Units are installed, never enabled: no link to them in /etc/systemd.
enabled=$(find /etc/systemd -lname '*ovhsnapfs*' 2>/dev/null)
[ -z "$enabled" ] || fail "installing enabled units: $enabled"
echo "installed $(basename "$deb"): $(grep -c . "$tmp/files") paths"

bash "$top/contrib/debian/tests/smoke" || fail "smoke test"

# The alerting rules as installed: valid (promtool check rules) and doing what their unit
# tests say (promtool test rules).
command -v promtool >/dev/null || fail "promtool is not installed (contrib/install-deps.sh --tests: prometheus)"
(cd /usr/share/ovhsnapfs/prometheus && timeout 120 promtool check rules ovhsnapfs.rules.yml &&
	timeout 120 promtool test rules ovhsnapfs.rules.test.yml) || fail "promtool: the alerting rules"
echo "promtool: the rules check and pass their tests"

purge || { cat "$tmp/purge.log"; fail "apt-get purge ovhsnapfs"; }
left=0
while read -r f; do
	[ "$f" = /. ] && continue
	if [ -d "$f" ]; then
		# A directory may stay when another package owns it too.
		dpkg-query -S "$f" >/dev/null 2>&1 && continue
	elif [ ! -e "$f" ] && [ ! -L "$f" ]; then
		continue
	fi
	echo "left after purge: $f"
	left=$((left + 1))
done <"$tmp/files"
[ "$left" -eq 0 ] || fail "$left paths left after apt-get purge"
echo "purged: no file of the package left"
echo "package: passed"
