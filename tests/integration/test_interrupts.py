"""Every wait ends when the user says so: Ctrl-C, kill -9, SIGTERM, umount.

The simulator keeps new snapshots `creating` and deleted ones `deleting` for a minute, so a
mkdir or rmdir waits (wait=) the way it does against a slow API. Each test interrupts such a
wait the way a user would and checks what the user sees: the process gone at once, the
listing, the daemon's state, and the exact API calls (one POST, one DELETE, nothing after).
"""

import os
import signal
import subprocess
import time

import pytest

from conftest import DB, SVC, WWW, is_mounted, ls, run

WWW_DIR = "efs-prod/www/.snapshots"
SLOW = 60  # seconds the simulator keeps a snapshot creating or deleting
OPTIONS = ["wait=120", "rate=0"]
SNAP_ONE = r"/snapshot/[0-9a-fA-F-]+$"


def proc_state(pid):
    """The state letter of /proc/PID/stat (R, S, D, Z...), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def wait_for(what, timeout=10, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = what()
        if value:
            return value
        time.sleep(step)
    return what()


@pytest.fixture
def tools():
    """Factory: tools(argv) -> a running Popen of a real tool; all are killed afterwards."""
    started = []

    def start(argv):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.poll() is None:
            p.kill()
    for p in started:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass  # stuck in the kernel: the mount's teardown (umount -l, kill) frees it


@pytest.fixture
def slow_sim(sim):
    sim.config(create_delay=SLOW, delete_delay=SLOW)
    return sim


def posts(sim):
    return sim.calls("POST", suffix="/snapshot")


def deletes(sim):
    return sim.calls("DELETE")


def polls(sim, snap_id):
    return sim.calls("GET", suffix="/snapshot/" + snap_id)


def start_waiting_mkdir(tools, sim, path):
    """A mkdir that has sent its POST and is waiting for the snapshot to be available."""
    p = tools(["mkdir", str(path)])
    assert wait_for(lambda: posts(sim)), "no POST was sent"
    time.sleep(0.7)  # into the status polls
    assert p.poll() is None, "mkdir did not wait: %r" % (p.communicate(),)
    assert proc_state(p.pid) in ("S", "D")  # asleep in the kernel, on the FUSE request
    return p


def stop_within(p, sig, seconds):
    """Send sig; the time until the process is gone (it must be, within seconds)."""
    t0 = time.monotonic()
    p.send_signal(sig)
    try:
        p.wait(seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError("still there %ss after signal %d (state %s)"
                             % (seconds, sig, proc_state(p.pid)))
    return time.monotonic() - t0


def created(sim, name, share=WWW):
    return [s for s in sim.snapshots(share=share) if s["name"] == name]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_mkdir_returns_at_once_and_its_snapshot_stays(mounts, slow_sim, tools, sig):
    m = mounts(OPTIONS)
    p = start_waiting_mkdir(tools, slow_sim, m / WWW_DIR / "nightly")
    elapsed = stop_within(p, sig, 3)
    assert elapsed < 1.5, elapsed  # the daemon answers within a second

    # What was sent stands: exactly one POST, the snapshot is being created, and listed.
    snaps = created(slow_sim, "nightly")
    assert len(snaps) == 1 and snaps[0]["status"] == "creating", snaps
    assert len(posts(slow_sim)) == 1
    assert "nightly" in ls(m / WWW_DIR, timeout=5)
    assert '"status": "creating"' in (m / WWW_DIR / "nightly/info.json").read_text()
    # And nothing more is sent for the interrupted call: its polls stopped.
    snap_id = snaps[0]["id"]
    before = len(polls(slow_sim, snap_id))
    time.sleep(1.5)
    assert len(polls(slow_sim, snap_id)) == before
    assert len(posts(slow_sim)) == 1
    assert m.alive()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_rmdir_returns_at_once_and_its_snapshot_stays_gone(mounts, slow_sim, tools,
                                                                       sig):
    m = mounts(OPTIONS)
    assert "before-upgrade" in ls(m / WWW_DIR)
    p = tools(["rmdir", str(m / WWW_DIR / "before-upgrade")])
    assert wait_for(lambda: deletes(slow_sim)), "no DELETE was sent"
    time.sleep(0.7)
    assert p.poll() is None and proc_state(p.pid) in ("S", "D")
    elapsed = stop_within(p, sig, 3)
    assert elapsed < 1.5, elapsed

    snaps = created(slow_sim, "before-upgrade")
    assert len(snaps) == 1 and snaps[0]["status"] == "deleting", snaps
    assert len(deletes(slow_sim)) == 1
    assert "before-upgrade" not in ls(m / WWW_DIR, timeout=5)
    before = len(polls(slow_sim, snaps[0]["id"]))
    time.sleep(1.5)
    assert len(polls(slow_sim, snaps[0]["id"])) == before
    assert len(deletes(slow_sim)) == 1
    assert m.alive()


def test_mkdir_interrupted_before_its_post_sends_nothing(mounts, slow_sim, tools):
    """The listing it needs first hangs; Ctrl-C then: no POST is ever sent."""
    m = mounts(OPTIONS)
    slow_sim.fault(method="GET", path=r"/share/%s/snapshot$" % DB, action="hang", seconds=8)
    p = tools(["mkdir", str(m / "efs-prod/db/.snapshots/never")])
    assert wait_for(lambda: slow_sim.calls("GET", suffix="/share/%s/snapshot" % DB))
    time.sleep(0.3)
    assert p.poll() is None
    assert stop_within(p, signal.SIGINT, 3) < 1.5
    time.sleep(8.5)  # the hung listing has answered by now: the mkdir must not go on
    assert posts(slow_sim) == []
    assert created(slow_sim, "never", share=DB) == []
    assert m.alive()


def test_waits_tolerate_an_api_that_lags_a_few_polls(mounts, sim):
    """A GET right after the POST that answers 404, a DELETE whose first polls say available."""
    sim.config(create_delay=1.5, delete_delay=1.5)
    m = mounts(OPTIONS)
    sim.fault(method="GET", path=SNAP_ONE, action="status", status=404, times=2)
    assert run(["mkdir", str(m / WWW_DIR / "lagged")], timeout=30).returncode == 0
    snap = created(sim, "lagged")[0]
    assert snap["status"] == "available"
    available = dict(snap)
    sim.fault(method="GET", path=SNAP_ONE, action="status", status=200, body=available, times=2)
    res = run(["rmdir", str(m / WWW_DIR / "lagged")], timeout=30)
    assert res.returncode == 0, res.stderr
    assert created(sim, "lagged") == []
    assert len(posts(sim)) == 1 and len(deletes(sim)) == 1
    assert "lagged" not in ls(m / WWW_DIR)
