#!/usr/bin/env bash
# Install what building ovhsnapfs needs on Debian 13 (trixie) or Debian 12 (bookworm); with
# --tests, also what its test suite needs (lintian and debhelper for the package stage).
# Every name is one both releases have: no version in a package name (libclang-rt-dev is
# the sanitizer runtime of the release's default clang, 14 on 12, 19 on 13). Run as root
# (or it runs itself through sudo). Safe to run again.
set -euo pipefail

packages=(build-essential autoconf automake pkgconf
          libfuse3-dev fuse3 libcurl4-openssl-dev libjansson-dev libssl-dev libinih-dev
          ca-certificates python3)
if [ "${1:-}" = "--tests" ]; then
	packages+=(libcmocka-dev python3-pytest valgrind clang clang-format libclang-rt-dev
		   util-linux procps attr gdb)
fi
# tests/package.sh, the test suite's Debian package stage (promtool: the alerting rules);
# tests/boot.sh, its boot stage (debootstrap, systemd-nspawn).
[ "${1:-}" = "--tests" ] && packages+=(lintian debhelper prometheus debootstrap systemd-container)

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && exec sudo -- "$0" "$@"
	echo "install-deps.sh: run it as root" >&2
	exit 1
fi
missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
