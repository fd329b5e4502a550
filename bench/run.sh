#!/bin/bash
# ovhsnapfs benchmark: one command, prints one table (see bench/README.md).
#
#   sudo bench/run.sh [--out FILE] [--bin PATH] [--versions-bin PATH] [--only 1,3]
#                     [--budget SECONDS] [--sim-nagle]
#
# Needs root, /dev/fuse, fusermount3, a C compiler, pkg-config and libfuse3's headers.
# Builds memfs and statloop (and ovhsnapfs when no up-to-date build exists) in a temporary
# directory, never in the tree. Every process it starts and every mount it makes is
# stopped/unmounted by PID and path on the way out, also on failure and Ctrl-C.
# Exit status: 0 when every figure was measured (a missed target is not a failure).
# shellcheck disable=SC2317  # cleanup and its helpers run from traps
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
OUT=""
BIN="${OVHSNAPFS_BIN:-}"
VERSIONS="${OVHSNAPFS_VERSIONS_BIN:-}"
ONLY=""
NAGLE=""
BUDGET=320     # seconds of measurements; figures that would not fit are skipped
HARD_LIMIT=420 # seconds; past this the driver is stopped, whatever it is doing

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
	case "$1" in
	--out) OUT=$2; shift 2 ;;
	--out=*) OUT=${1#--out=}; shift ;;
	--bin) BIN=$2; shift 2 ;;
	--bin=*) BIN=${1#--bin=}; shift ;;
	--versions-bin) VERSIONS=$2; shift 2 ;;
	--versions-bin=*) VERSIONS=${1#--versions-bin=}; shift ;;
	--only) ONLY=$2; shift 2 ;;
	--only=*) ONLY=${1#--only=}; shift ;;
	--sim-nagle) NAGLE=1; shift ;;
	--budget) BUDGET=$2; shift 2 ;;
	--budget=*) BUDGET=${1#--budget=}; shift ;;
	-h|--help) usage; exit 0 ;;
	*) echo "bench: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
done
if [ -n "$OUT" ]; then
	case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
fi

[ "$(id -u)" = 0 ] || { echo "bench: run as root (it mounts FUSE filesystems)" >&2; exit 2; }
[ -c /dev/fuse ] || { echo "bench: /dev/fuse is missing" >&2; exit 2; }
for tool in cc pkg-config fusermount3 find ls unshare diff; do
	command -v "$tool" >/dev/null || { echo "bench: $tool is missing" >&2; exit 2; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)

WORK=$(mktemp -d /tmp/ovhsnapfs-bench.XXXXXX) || exit 2
DRIVER=""
WATCHDOG=""

# Our processes only: a PID is signalled only if its command line names $WORK.
ours() {
	[ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -qF "$WORK"
}
mounted() { awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/self/mounts; }

cleanup() {
	trap - EXIT INT TERM HUP
	[ -n "$WATCHDOG" ] && kill "$WATCHDOG" 2>/dev/null
	if [ -n "$DRIVER" ] && kill -0 "$DRIVER" 2>/dev/null; then
		kill -TERM "$DRIVER" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$DRIVER" 2>/dev/null || break; sleep 0.2; done
		kill -KILL "$DRIVER" 2>/dev/null
	fi
	wait 2>/dev/null
	# Whatever the driver left: daemons and simulators first (a dead FUSE daemon makes
	# its mount return ENOTCONN instead of hanging), then the mounts.
	if [ -f "$WORK/pids" ]; then
		local pids=()
		while read -r pid; do
			[ -n "$pid" ] && ours "$pid" && pids+=("$pid")
		done <"$WORK/pids"
		if [ ${#pids[@]} -gt 0 ]; then
			kill -TERM "${pids[@]}" 2>/dev/null
			for _ in $(seq 25); do
				local alive=0
				for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
				[ "$alive" = 0 ] && break
				sleep 0.2
			done
			for pid in "${pids[@]}"; do ours "$pid" && kill -KILL "$pid" 2>/dev/null; done
		fi
	fi
	if [ -f "$WORK/mounts" ]; then
		while read -r m; do
			[ -n "$m" ] || continue
			mounted "$m" && { fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null; }
		done <"$WORK/mounts"
	fi
	# Never recurse into a mount that is still there.
	if awk -v w="$WORK/" 'index($2, w) == 1 { found = 1 } END { exit !found }' /proc/self/mounts
	then
		echo "bench: mounts are left under $WORK; not removing it" >&2
	else
		rm -rf --one-file-system "$WORK"
	fi
}
trap cleanup EXIT
trap 'echo "bench: interrupted" >&2; exit 130' INT TERM HUP

# ---- build ----
CFLAGS="-O2 -Wall"
FUSE_FLAGS=$(pkg-config --cflags --libs fuse3) || { echo "bench: libfuse3 development files missing" >&2; exit 2; }
# shellcheck disable=SC2086  # word splitting of the flags is wanted
{ cc $CFLAGS "$HERE/memfs.c" -o "$WORK/memfs" $FUSE_FLAGS &&
	cc $CFLAGS "$HERE/statloop.c" -o "$WORK/statloop"; } || exit 2

# ovhsnapfs: --bin / OVHSNAPFS_BIN, else build/src/ovhsnapfs when no source is newer,
# else a fresh build of a copy of the working tree in $WORK.
if [ -z "$BIN" ]; then
	CAND="$REPO/build/src/ovhsnapfs"
	if [ -x "$CAND" ] && [ -z "$(find "$REPO/src" "$REPO/configure.ac" "$REPO/Makefile.am" -newer "$CAND" -print -quit)" ]; then
		BIN=$CAND
	else
		echo "bench: no up-to-date build/src/ovhsnapfs; building a copy of the tree in $WORK" >&2
		mkdir -p "$WORK/src-copy"
		tar -C "$REPO" --exclude=./.git --exclude='./build*' --exclude=./autom4te.cache \
			--warning=no-file-changed -cf - . | tar -C "$WORK/src-copy" -xf - || exit 2
		(cd "$WORK/src-copy" && autoreconf -fi >"$WORK/build.log" 2>&1 &&
			./configure >>"$WORK/build.log" 2>&1 &&
			make -j"$(nproc)" src/ovhsnapfs src/ovhsnapfs-versions >>"$WORK/build.log" 2>&1) ||
			{ echo "bench: building ovhsnapfs failed:" >&2; tail -20 "$WORK/build.log" >&2; exit 2; }
		BIN="$WORK/src-copy/src/ovhsnapfs"
	fi
fi
[ -x "$BIN" ] || { echo "bench: $BIN is not an executable" >&2; exit 2; }
echo "bench: ovhsnapfs binary $BIN" >&2
# Figure 6: ovhsnapfs-versions beside it (--versions-bin / OVHSNAPFS_VERSIONS_BIN to choose).
VERSIONS=${VERSIONS:-$(dirname "$BIN")/ovhsnapfs-versions}

# ---- measure ----
ARGS=(--work "$WORK" --bin "$BIN" --memfs "$WORK/memfs" --statloop "$WORK/statloop"
	--versions "$VERSIONS" --budget "$BUDGET")
[ -n "$OUT" ] && ARGS+=(--out "$OUT")
[ -n "$ONLY" ] && ARGS+=(--only "$ONLY")
[ -n "$NAGLE" ] && ARGS+=(--sim-nagle)
"$PY" "$HERE/bench.py" "${ARGS[@]}" &
DRIVER=$!
(
	trap 'kill "$S" 2>/dev/null; exit 0' TERM
	sleep "$HARD_LIMIT" &
	S=$!
	wait "$S" && { echo "bench: over ${HARD_LIMIT}s, stopping" >&2; kill -TERM "$DRIVER"; }
) 2>/dev/null &
WATCHDOG=$!
wait "$DRIVER"
RC=$?
DRIVER=""
exit $RC
