#!/usr/bin/env bash
# Build the libFuzzer targets in tests/fuzz and run each for a while.
#
# usage: tests/fuzz/run.sh [SECONDS_PER_TARGET]    (default 60)
#
# Needs clang with libFuzzer (Debian: clang, libclang-rt-<ver>-dev) and the
# project's -dev packages (pkg-config jansson libcurl libcrypto inih). Builds
# and fuzzes in a temporary directory: the source tree and the seed corpora
# in tests/fuzz/corpus/<target>/ are never modified. Prints one line per
# target, then "N passed, M failed"; exits non-zero if any target failed or
# did not build. Environment: FUZZ_CC (default clang), FUZZ_KEEP=1 keeps the
# temporary directory (it is always kept when a target fails: the crash
# inputs are in it).
set -uo pipefail

usage() {
	echo "usage: $0 [SECONDS_PER_TARGET]" >&2
	exit 2
}

[ $# -le 1 ] || usage
secs=${1:-60}
case $secs in '' | *[!0-9]* | 0) usage ;; esac

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd) || exit 2
cd "$root" || exit 2

# target -> the src/*.c it needs (never main.c or fs.c).
targets=(efs_decode ovh_error config names mounts)
declare -A sources=(
	[efs_decode]="src/api/efs.c src/api/efs_model.c src/common/efs_time.c src/common/calendar.c src/common/names.c src/common/strindex.c src/common/utf8.c src/api/ovh.c src/api/ovh_report.c src/api/http.c src/api/auth.c src/api/retry.c src/api/guard.c src/common/op.c src/common/clock.c src/common/log.c"
	[ovh_error]="src/api/ovh.c src/api/ovh_report.c src/api/http.c src/api/auth.c src/api/retry.c src/api/guard.c src/common/op.c src/common/clock.c src/common/log.c src/common/utf8.c"
	[config]="src/api/config.c"
	[names]="src/common/names.c src/common/strindex.c src/common/utf8.c"
	[mounts]="src/common/mounts.c src/common/mountinfo.c src/common/log.c src/common/utf8.c"
)

cc=${FUZZ_CC:-clang}
work=$(mktemp -d "${TMPDIR:-/tmp}/ovhsnapfs-fuzz.XXXXXX") || exit 2
keep=${FUZZ_KEEP:-0}
cleanup() {
	[ "$keep" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/include" "$work/bin" "$work/corpus" "$work/artifacts" "$work/log" "$work/tmp"
# src/api/http.c includes autotools' generated header.
printf '#define PACKAGE_VERSION "fuzz"\n' >"$work/include/build_config.h"

cflags=(-g -O1 "-fsanitize=fuzzer,address,undefined" -fno-sanitize-recover=undefined
	-D_GNU_SOURCE -std=c11 -Isrc/common -Isrc/api -Isrc/fs -Isrc/auto -Isrc/versions -I"$work/include" -pthread)
pkg_ok=1
if ! pkgflags=$(pkg-config --cflags --libs jansson libcurl libcrypto inih 2>"$work/log/pkg-config"); then
	pkg_ok=0
fi

# Leak detection on whatever the caller's ASAN_OPTIONS say (later options win).
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1:halt_on_error=1"

# Guard against a target that hangs beyond libFuzzer's own -timeout.
guard=()
if command -v timeout >/dev/null; then
	guard=(timeout --kill-after=30 $((secs * 2 + 120)))
fi

hex() {
	od -An -v -tx1 "$1" | tr -d ' \n' | cut -c1-4096
}

passed=0
failed=0
for t in "${targets[@]}"; do
	bin="$work/bin/fuzz_$t"
	log="$work/log/$t.log"

	if [ "$pkg_ok" = 0 ]; then
		echo "fuzz $t: FAILED (pkg-config)"
		sed 's/^/    /' "$work/log/pkg-config"
		failed=$((failed + 1))
		continue
	fi
	# shellcheck disable=SC2086 # word splitting of the source list and pkg-config flags
	if ! "$cc" "${cflags[@]}" -o "$bin" "tests/fuzz/fuzz_$t.c" ${sources[$t]} \
		$pkgflags -lm >"$work/log/$t.build" 2>&1; then
		echo "fuzz $t: FAILED (build)"
		tail -n 30 "$work/log/$t.build" | sed 's/^/    /'
		failed=$((failed + 1))
		continue
	fi

	corpus="$work/corpus/$t"
	mkdir -p "$corpus"
	if [ -d "tests/fuzz/corpus/$t" ]; then
		cp -R "tests/fuzz/corpus/$t/." "$corpus/"
	fi

	# -close_fd_mask=2: the modules' own log lines go nowhere; libFuzzer and
	# the sanitizers keep reporting on the real stderr.
	# TMPDIR: fuzz_config's scratch file and HOME stay in the work directory.
	TMPDIR="$work/tmp" "${guard[@]}" "$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 \
		-rss_limit_mb=2048 -close_fd_mask=2 -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/$t-" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(sed -n 's/^Done \([0-9][0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	artifacts=("$work/artifacts/$t-"*)
	if [ "$rc" = 0 ] && [ -n "$runs" ] && [ ! -e "${artifacts[0]}" ]; then
		echo "fuzz $t: ok ($runs runs)"
		passed=$((passed + 1))
		continue
	fi

	echo "fuzz $t: FAILED (exit status $rc)"
	tail -n 60 "$log" | sed 's/^/    /'
	for a in "${artifacts[@]}"; do
		[ -e "$a" ] || continue
		echo "    input $a ($(wc -c <"$a") bytes), hex: $(hex "$a")"
		echo "    reproduce: build as above, then run: fuzz_$t $a"
	done
	failed=$((failed + 1))
	keep=1
done

[ "$keep" = 1 ] && echo "fuzz work directory kept: $work"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
