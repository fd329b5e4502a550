#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 13 or 12 machine: install the dependencies (as
# root), build, and run every test twice, in a normal build and in an ASan+UBSan build:
#   unit tests (cmocka), simulator tests, integration tests (real FUSE mounts against
#   the bundled OVH API simulator); the unit, stress and interrupt tests once more under
#   ThreadSanitizer; then `make distcheck`, then the Debian package
#   (tests/package.sh: build, lintian, install, an /etc/fstab mount, purge), then the package
#   booted under systemd in a minimal root of this machine's release (tests/boot.sh).
# Not root: it runs itself again through sudo when sudo exists.
# Ends with the line "N passed, M failed"; exits non-zero when anything failed.
#
# OVHSNAPFS_STAGES chooses stages (default: all but releases): format unit integration
# chaos asan tsan fuzz distcheck package boot releases. OVHSNAPFS_RELEASES (e.g. "trixie"; CI sets
# it) adds the releases stage: each release's suite in a pristine root of its own
# (tests/release-root.sh).
set -uo pipefail

# Root is needed (apt, FUSE mounts, the package stage): go through sudo where it exists.
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then
	exec sudo --preserve-env=OVHSNAPFS_SKIP_APT,OVHSNAPFS_FUZZ_SECONDS,OVHSNAPFS_CHAOS_SECONDS,OVHSNAPFS_CHAOS_SEEDS,OVHSNAPFS_STAGES,OVHSNAPFS_RELEASES -- bash "$0" "$@"
fi

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
results=$(mktemp -d)
chmod 0755 "$results" # the sanitizer report directories in it take reports of every user
trap 'rm -rf "$results"' EXIT
passed=0
failed=0

# Each stage begins with "=== NAME" and ends with "--- NAME: N s", what it cost.
stage_name=
stage_t0=$SECONDS
stage_end() {
	[ -n "$stage_name" ] && printf -- '--- %s: %d s\n' "$stage_name" $((SECONDS - stage_t0))
	stage_name=
}
say() {
	stage_end
	stage_name=$*
	stage_t0=$SECONDS
	printf '\n=== %s\n' "$*"
}
stages=${OVHSNAPFS_STAGES:-format unit integration chaos asan tsan fuzz distcheck package boot}
[ -n "${OVHSNAPFS_RELEASES:-}" ] && [ -z "${OVHSNAPFS_STAGES:-}" ] && stages+=" releases"
want() { [[ " ${stages//,/ } " == *" $1 "* ]]; }
fail_stage() { echo "FAILED: $1"; failed=$((failed + 1)); }

if [ "$(id -u)" -eq 0 ] && [ -z "${OVHSNAPFS_SKIP_APT:-}" ]; then
	say "dependencies"
	t0=$SECONDS
	if ! contrib/install-deps.sh --tests >"$results/deps.log" 2>&1; then
		tail -40 "$results/deps.log"
		echo "cannot install dependencies"
		echo "0 passed, 1 failed"
		exit 1
	fi
	echo "dependencies: installed ($((SECONDS - t0)) s; $(. /etc/os-release && echo "$PRETTY_NAME"))"
fi
PYTHON=/usr/bin/python3

# pytest starts in a mount namespace of its own (it never enters one: a setns back would
# leave a chroot): the tests' mounts are not seen by the machine's other mounts, and one a
# crash left goes with the namespace. Private propagation needs "/" to be a mount point;
# where it is not (a plain chroot), the namespace keeps the propagation it was given.
private_ns=(unshare --mount --propagation private)
if ! "${private_ns[@]}" true 2>/dev/null; then
	private_ns=(unshare --mount --propagation unchanged)
	echo "note: / is not a mount point (a chroot?): test mounts propagate as / does"
fi
wrap=() # a command run_pytest runs pytest under (setarch for TSan)

# Count cmocka's "[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s)" lines.
count_unit() {
	local dir=$1 p f
	p=$(cat "$dir"/tests/unit/*/*.log 2>/dev/null | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' |
		awk '{s+=$1} END {print s+0}')
	f=$(cat "$dir"/tests/unit/*/*.log 2>/dev/null | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' |
		awk '{s+=$1} END {print s+0}')
	passed=$((passed + p))
	failed=$((failed + f))
	echo "unit tests ($dir): $p passed, $f failed"
}

# Count a pytest run from its JUnit XML.
run_pytest() {
	local name=$1
	shift
	local xml="$results/$name.xml"
	timeout 1800 "${private_ns[@]}" "${wrap[@]}" "$PYTHON" -m pytest -q -p no:cacheprovider --junitxml="$xml" "$@"
	local rc=$?
	if [ ! -s "$xml" ]; then
		fail_stage "$name (no report, exit $rc)"
		return
	fi
	read -r p f < <("$PYTHON" - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
t = sum(int(s.get("tests", 0)) for s in suites)
bad = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
skip = sum(int(s.get("skipped", 0)) for s in suites)
print(t - bad - skip, bad)
PY
	)
	passed=$((passed + p))
	failed=$((failed + f))
	echo "$name: $p passed, $f failed"
}

# A sanitizer stage passes when its report directory stayed empty: check_reports DIR NAME LINES.
check_reports() {
	if ls "$1"/* >/dev/null 2>&1; then
		head -"$3" "$1"/*
		fail_stage "$2 reports"
	else
		echo "$2: no reports"
		passed=$((passed + 1))
	fi
}

build() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(cd "$dir" && "$top/configure" --enable-werror "$@" >configure.out &&
		make -j"$(nproc)" >make.out 2>&1) || {
		tail -50 "$dir/make.out" 2>/dev/null
		fail_stage "build in $dir"
		return 1
	}
}

say "autoreconf"
autoreconf -fi >/dev/null 2>&1 || { autoreconf -fi; echo "0 passed, 1 failed"; exit 1; }

say "normal build ($stages)"
if build build; then
	if want format; then
		if make -C build format-check >"$results/format.out" 2>&1; then
			echo "format: clean ($(clang-format --version | sed 's/.*version \([0-9.]*\).*/clang-format \1/'))"
			passed=$((passed + 1))
		else
			head -40 "$results/format.out"
			fail_stage "clang-format (run: make format)"
		fi
		# src/'s folders call only down (ARCHITECTURE.md, "Layers").
		if bash tests/layers.sh >"$results/layers.out" 2>&1; then
			tail -1 "$results/layers.out"
			passed=$((passed + 1))
		else
			cat "$results/layers.out"
			fail_stage "an include that climbs (tests/layers.sh)"
		fi
	fi
	if want unit; then
		make -C build check >/dev/null 2>&1 || true
		count_unit build
	fi
	if want integration; then
		say "simulator and integration tests"
		OVHSNAPFS_BUILD="$top/build" run_pytest integration tests/sim tests/integration
	fi
	if want chaos; then
		# A few seeds of tests/chaos/run.py; a soak: OVHSNAPFS_CHAOS_SECONDS=600.
		say "chaos runs (seeds ${OVHSNAPFS_CHAOS_SEEDS:-1-3}, ${OVHSNAPFS_CHAOS_SECONDS:-35} s each)"
		OVHSNAPFS_BUILD="$top/build" OVHSNAPFS_CHAOS_SECONDS=${OVHSNAPFS_CHAOS_SECONDS:-35} \
			run_pytest chaos -s tests/chaos/test_chaos.py # -s: each seed's report
	fi
fi

if want asan; then
	say "ASan+UBSan build, unit and integration tests"
	san_logs="$results/sanitizers"
	mkdir -p "$san_logs"
	chmod 1777 "$san_logs" # tests run ovhsnapfs as nobody too (clang 19's ASan must reach it)
	export ASAN_OPTIONS="log_path=$san_logs/asan:detect_leaks=1"
	export UBSAN_OPTIONS="print_stacktrace=1:log_path=$san_logs/ubsan"
	if build build-asan --enable-sanitizers; then
		make -C build-asan check >/dev/null 2>&1 || true
		count_unit build-asan
		OVHSNAPFS_BUILD="$top/build-asan" run_pytest integration-asan tests/integration
	fi
	unset ASAN_OPTIONS UBSAN_OPTIONS
	check_reports "$san_logs" sanitizers 80
fi

if want tsan; then
	say "ThreadSanitizer build: unit, stress, interrupt, versions, freshness, locks, settings and prefetch tests"
	tsan_logs="$results/tsan"
	mkdir -p "$tsan_logs"
	chmod 1777 "$tsan_logs"
	# libfuse and libcurl are Debian's uninstrumented builds: TSan sees their locks (interceptors),
	# not their memory accesses, so no report can come from their own code and none is suppressed.
	export TSAN_OPTIONS="log_path=$tsan_logs/tsan:second_deadlock_stack=1"
	if build build-tsan --enable-tsan; then
		# TSan's shadow memory needs a kernel that maps few random bits (vm.mmap_rnd_bits <= 28);
		# where it does not, run without address randomisation (inherited by every child).
		if ! build-tsan/tests/unit/test_names >/dev/null 2>&1; then
			wrap=(setarch "$(uname -m)" -R)
			echo "TSan: running under setarch -R"
		fi
		"${wrap[@]}" make -C build-tsan check >/dev/null 2>&1 || true
		count_unit build-tsan
		# The per-share lock, SIGHUP, the invalidation queue, the shared token fetch and the
		# confirming GET, from the files that pin them: only these tests of those files.
		locks=(
			test_changes.py::test_mv_answered_null_succeeds_with_one_put_and_no_get
			test_changes.py::test_mkdir_in_one_share_never_waits_for_a_slow_post_in_another
			test_xattr.py::test_description_answered_null_succeeds_with_one_put_and_no_get
			test_stale_names.py::test_rmdir_of_a_creating_snapshot_whose_get_fails_is_eio_not_ebusy
			test_stale_names.py::test_rmdir_refused_busy_whose_checking_get_fails_is_eio_not_ebusy
			test_stale_names.py::test_rmdir_of_a_creating_snapshot_whose_get_hangs_is_etimedout
			test_transport.py::test_http_endpoint_off_loopback_is_refused_before_any_request
			test_transport.py::test_http_endpoint_off_loopback_is_served_with_insecure_http
			test_transport.py::test_a_token_fetch_cut_at_its_first_callers_deadline_fails_no_later_waiter
			test_cache.py::test_sighup_tells_the_kernel_to_forget_what_it_cached
			test_cache.py::test_a_listing_forgotten_after_a_cut_change_is_forgotten_by_the_kernel
			test_cache.py::test_a_load_under_way_at_sighup_is_not_kept
			test_cache.py::test_invalidations_dropped_from_a_full_queue_are_counted_in_the_log
		)
		# Fewer stress operations (60 a worker, not 200): TSan runs the daemon several times slower.
		OVHSNAPFS_BUILD="$top/build-tsan" OVHSNAPFS_STRESS_OPS=60 run_pytest integration-tsan \
			tests/integration/test_stress.py tests/integration/test_interrupts.py \
			tests/integration/test_versions.py tests/integration/test_freshness.py \
			tests/integration/test_settings.py tests/integration/test_prefetch.py \
			"${locks[@]/#/tests/integration/}"
		wrap=()
	fi
	unset TSAN_OPTIONS
	check_reports "$tsan_logs" ThreadSanitizer 120
fi

if want fuzz; then
	say "fuzzing (libFuzzer, ${OVHSNAPFS_FUZZ_SECONDS:-30} s per target)"
	fuzz_out="$results/fuzz.out"
	bash tests/fuzz/run.sh "${OVHSNAPFS_FUZZ_SECONDS:-30}" >"$fuzz_out" 2>&1
	grep '^fuzz ' "$fuzz_out"
	read -r fp ff < <(tail -1 "$fuzz_out" | sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
	if [ -n "${fp:-}" ]; then
		passed=$((passed + fp))
		failed=$((failed + ff))
		[ "$ff" -eq 0 ] || tail -60 "$fuzz_out"
	else
		tail -30 "$fuzz_out"
		fail_stage "fuzzing (no summary)"
	fi
fi

if want distcheck; then
	say "make distcheck"
	if make -C build distcheck >"$results/distcheck.out" 2>&1; then
		echo "distcheck: passed"
		passed=$((passed + 1))
	else
		tail -40 "$results/distcheck.out"
		fail_stage "make distcheck"
	fi
fi

if want package; then
	say "Debian package: build, lintian, install, fstab mount, purge"
	if [ "$(id -u)" -ne 0 ]; then
		echo "package: skipped (needs root)"
	else
		t0=$SECONDS
		if OVHSNAPFS_DEB_KEEP=${OVHSNAPFS_DEB_KEEP:-$results/debs} bash tests/package.sh; then
			passed=$((passed + 1))
		else
			fail_stage "Debian package"
		fi
		echo "package stage: $((SECONDS - t0)) s"
	fi
fi

# The package booted under systemd (systemd-nspawn) in a minimal root of this machine's release.
if want boot; then
	say "boot: the .deb under systemd-nspawn (fstab mount, timers, hooks, hardened unit, shutdown)"
	t0=$SECONDS
	boot_out="$results/boot.out"
	suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	# The package stage's .deb, when it ran; else boot.sh builds one.
	deb=$(ls "${OVHSNAPFS_DEB_KEEP:-$results/debs}"/ovhsnapfs_*.deb 2>/dev/null | head -1)
	OVHSNAPFS_BOOT_DEB=$deb timeout 1800 bash tests/boot.sh "$suite" 2>&1 | tee "$boot_out"
	read -r bp bf < <(tail -1 "$boot_out" | sed -n 's/^boot-[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
	if [ -n "${bp:-}" ]; then
		passed=$((passed + bp))
		failed=$((failed + bf))
	else
		fail_stage "boot (no summary)"
	fi
	echo "boot stage: $((SECONDS - t0)) s"
fi

# Each release of OVHSNAPFS_RELEASES in a pristine root of its own (tests/release-root.sh):
# its counts join these.
if want releases; then
	for suite in ${OVHSNAPFS_RELEASES:-}; do
		say "Debian $suite in a pristine root: install-deps, build, format, unit, integration, package"
		t0=$SECONDS
		rel_out="$results/release-$suite.out"
		bash tests/release-root.sh "$suite" 2>&1 | tee "$rel_out" | sed -n '/^=== \|^--- \|passed, \|FAILED\|^debian-/p'
		read -r rp rf < <(tail -1 "$rel_out" | sed -n 's/^debian-[a-z]*: \([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p')
		if [ -n "${rp:-}" ]; then
			passed=$((passed + rp))
			failed=$((failed + rf))
			[ "$rf" -eq 0 ] || grep -B2 -A30 'FAILED\|^E  \|Error' "$rel_out" | tail -150
		else
			tail -60 "$rel_out"
			fail_stage "Debian $suite root (no summary)"
		fi
		echo "Debian $suite stage: $((SECONDS - t0)) s"
	done
fi

stage_end
echo "--- all: $SECONDS s"
echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
