#!/usr/bin/env bash
# Build the Debian package of ovhsnapfs from this source tree, on Debian 13 or 12:
#   contrib/build-deb.sh [OUTDIR]        (OUTDIR: default the current directory)
# then, as root: apt install ./ovhsnapfs_*.deb
#
# It copies the files git tracks (as they are in the working tree; the whole tree when
# it is not a git checkout) into a temporary directory, adds contrib/debian there as
# debian/, and runs dpkg-buildpackage in it. Nothing is written outside that directory
# but the results, in OUTDIR: ovhsnapfs_VERSION_ARCH.deb, .changes and .buildinfo, and
# the source package (.dsc, .tar.xz). Run as root, it first installs the missing build
# dependencies (apt-get build-dep); otherwise it says which are missing.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-.}
mkdir -p "$out"
out=$(cd "$out" && pwd)
log() { echo "build-deb: $*"; }

version=$(sed -n 's/^AC_INIT(\[ovhsnapfs\], *\[\([^]]*\)\].*/\1/p' "$top/configure.ac")
changelog=$(sed -n '1s/^ovhsnapfs (\([^)]*\)).*/\1/p' "$top/contrib/debian/changelog")
if [ -z "$version" ] || [ "$version" != "$changelog" ]; then
	echo "build-deb: configure.ac says version '$version', contrib/debian/changelog" \
		"'$changelog': add a changelog entry (dch -v $version)" >&2
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ovhsnapfs-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/ovhsnapfs-$version
mkdir "$src"

# The source: what git tracks, or the whole tree outside git.
if git -C "$top" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$top" && git ls-files -z --cached | while IFS= read -r -d '' f; do
		if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
	done | tar --null -T - -cf -) | tar -xf - -C "$src"
else
	tar -C "$top" --exclude=./.git --exclude='./build*' --exclude='./ovhsnapfs_*' \
		--exclude=./autom4te.cache -cf - . | tar -xf - -C "$src"
fi
cp -a "$src/contrib/debian" "$src/debian"

# Build dependencies.
if ! command -v dpkg-checkbuilddeps >/dev/null || ! (cd "$src" && dpkg-checkbuilddeps 2>/dev/null); then
	if [ "$(id -u)" -ne 0 ]; then
		(cd "$src" && dpkg-checkbuilddeps) || true
		echo "build-deb: missing build dependencies (above): run it as root, or install them" >&2
		exit 1
	fi
	log "installing the build dependencies with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	if ! { apt-get update -qq &&
		apt-get install -y -qq --no-install-recommends dpkg-dev &&
		apt-get build-dep -y -qq --no-install-recommends "$src"; } >"$tmp/apt.log" 2>&1; then
		cat "$tmp/apt.log" >&2
		echo "build-deb: cannot install the build dependencies" >&2
		exit 1
	fi
fi

# The build: binary and source, unsigned, no -dbgsym package.
log "building ovhsnapfs $version in $src"
export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }noddebs parallel=$(nproc)"
if ! (cd "$src" && dpkg-buildpackage --no-sign) >"$tmp/build.log" 2>&1; then
	tail -60 "$tmp/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (last 60 lines above)" >&2
	exit 1
fi
find "$tmp" -maxdepth 1 -type f -name "ovhsnapfs_$version*" -exec cp -t "$out" {} +
for f in "$out"/ovhsnapfs_"$version"_*.deb; do
	log "built $f"
done
