#!/usr/bin/env bash
# The demo: build ovhsnapfs and mount a demo EFS account served by the bundled OVH API
# simulator, no OVH account needed. Run as root on Debian 13 or 12 (not root, it runs itself
# through sudo when sudo exists):
#   contrib/demo.sh          install what it needs, build, start the simulator, mount on
#                            /tmp/ovhsnapfs-demo/mnt
#   contrib/demo.sh stop     unmount and stop the simulator
# It prints one line per step; apt's and make's output go to log files, shown on failure.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null && exec sudo --preserve-env=OVHSNAPFS_DEMO_DIR -- "$0" "$@"
	echo "demo.sh: run it as root" >&2
	exit 1
fi

top=$(cd "$(dirname "$0")/.." && pwd)
state=${OVHSNAPFS_DEMO_DIR:-/tmp/ovhsnapfs-demo}
mnt=$state/mnt

stop() {
	if mountpoint -q "$mnt" 2>/dev/null; then
		fusermount3 -u "$mnt" || umount -l "$mnt"
	fi
	if [ -f "$state/sim.pid" ]; then
		kill "$(cat "$state/sim.pid")" 2>/dev/null || true
		rm -f "$state/sim.pid"
	fi
	echo "demo stopped"
}

# Run "$@" with its output in log file $1 (under $state), shown only if it fails.
logged() {
	local log=$state/$1
	shift
	"$@" >"$log" 2>&1 && return 0
	tail -40 "$log" >&2
	echo "demo.sh: failed: $* (whole log: $log)" >&2
	exit 1
}

if [ "${1:-}" = "stop" ]; then
	stop
	exit 0
fi

mkdir -p "$mnt"
stop >/dev/null
echo "demo: checking the build dependencies (apt-get; log: $state/install.log)"
logged install.log "$top/contrib/install-deps.sh"
echo "demo: building ovhsnapfs in $top/build (log: $state/build.log)"
cd "$top"
[ -x configure ] || logged autoreconf.log autoreconf -fi
mkdir -p build
logged build.log bash -c 'cd build && { [ -f Makefile ] || ../configure; } && make -j"$(nproc)"'

rm -f "$state/sim.port"
nohup /usr/bin/python3 "$top/tests/sim/ovhsim.py" --port 0 --port-file "$state/sim.port" \
	--quiet >"$state/sim.log" 2>&1 </dev/null &
echo $! >"$state/sim.pid"
for _ in $(seq 100); do
	[ -s "$state/sim.port" ] && break
	sleep 0.1
done
[ -s "$state/sim.port" ] || { cat "$state/sim.log" >&2; echo "demo.sh: the simulator did not start" >&2; exit 1; }
url="http://127.0.0.1:$(cat "$state/sim.port")/1.0"
echo "demo: started the OVH API simulator at $url (log: $state/sim.log)"

# The simulator's demo credentials; a real ovh.conf looks the same (see README.md).
umask 077
cat >"$state/ovh.conf" <<CONF
[default]
endpoint=$url

[$url]
application_key=demo-ak
application_secret=demo-as
consumer_key=demo-ck
CONF

"$top/build/src/ovhsnapfs" "$url" "$mnt" -o "config=$state/ovh.conf,cache_ttl=10,wait=30"
cat <<MSG
Mounted the demo EFS account on $mnt (simulator at $url).
Try:
  ls $mnt
  ls -l $mnt/efs-prod/www/.snapshots
  cat $mnt/efs-prod/www/.snapshots/before-upgrade/info.json
  mkdir $mnt/efs-prod/www/.snapshots/my-first-snapshot
  mv $mnt/efs-prod/www/.snapshots/my-first-snapshot $mnt/efs-prod/www/.snapshots/renamed
  rmdir $mnt/efs-prod/www/.snapshots/renamed
Stop it with: $0 stop
MSG
