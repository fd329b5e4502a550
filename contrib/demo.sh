#!/usr/bin/env bash
# The demo: build ovhsnapfs and mount a demo EFS account served by the bundled OVH API
# simulator, no OVH account needed. Run as root on Debian 12:
#   sudo contrib/demo.sh          build, start the simulator, mount on /tmp/ovhsnapfs-demo/mnt
#   sudo contrib/demo.sh stop     unmount and stop the simulator
set -euo pipefail

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

if [ "${1:-}" = "stop" ]; then
	stop
	exit 0
fi

"$top/contrib/install-deps.sh"
cd "$top"
[ -x configure ] || autoreconf -fi >/dev/null
mkdir -p build
(cd build && { [ -f Makefile ] || ../configure >/dev/null; } && make -j"$(nproc)" >/dev/null)

mkdir -p "$mnt"
stop >/dev/null
rm -f "$state/sim.port"
nohup /usr/bin/python3 "$top/tests/sim/ovhsim.py" --port 0 --port-file "$state/sim.port" \
	--quiet >"$state/sim.log" 2>&1 </dev/null &
echo $! >"$state/sim.pid"
for _ in $(seq 100); do
	[ -s "$state/sim.port" ] && break
	sleep 0.1
done
url="http://127.0.0.1:$(cat "$state/sim.port")/1.0"

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
Stop it with: sudo $0 stop
MSG
