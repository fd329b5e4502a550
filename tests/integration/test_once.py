"""Exactly once: a POST whose answer was lost is reconciled by listing, never sent again."""

import signal
import subprocess
import time

from conftest import fsop, ls, run, signal_when_waiting

WWW_DIR = "efs-prod/www/.snapshots"
SNAP_LIST = r"/share/[^/]+/snapshot$"
CREATE = r"/snapshot$"


def named(sim, name):
    return [s for s in sim.snapshots() if s["name"] == name]


def wait_until(predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_a_post_carried_out_after_the_client_gave_up_makes_one_snapshot(mounts, sim):
    """timeout=1: the POST times out at 1 s, the listing is read for 1 s more, then EIO.
    The API creates the snapshot at 4 s; the user's retry then finds it: EEXIST."""
    m = mounts(["timeout=1"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=CREATE, action="late", seconds=4)
    t0 = time.time()
    assert fsop("mkdir", m / WWW_DIR / "late") == "EIO"
    assert time.time() - t0 < 3.5
    assert named(sim, "late") == []
    assert "may still appear" in m.log()
    assert wait_until(lambda: len(named(sim, "late")) == 1, timeout=8)
    # The share's listing was dropped: the retry asks the API and finds the late one.
    assert fsop("mkdir", m / WWW_DIR / "late") == "EEXIST"
    assert "late" in ls(m / WWW_DIR)
    assert len(sim.calls("POST")) == 1
    time.sleep(0.5)
    assert len(named(sim, "late")) == 1


def test_a_late_post_within_the_reconcile_bound_succeeds(mounts, sim):
    """timeout=2: the POST times out at 2 s, the API creates it at 3 s, the listing shows it."""
    m = mounts(["timeout=2"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=CREATE, action="late", seconds=3)
    assert fsop("mkdir", m / WWW_DIR / "slow") == "0"
    assert len(sim.calls("POST")) == 1
    assert len(named(sim, "slow")) == 1 and named(sim, "slow")[0]["status"] == "available"
    assert "slow" in ls(m / WWW_DIR)
    assert "the snapshot exists" in m.log()


def test_a_reconciling_listing_that_answers_404_is_not_an_absence(mounts, sim):
    m = mounts(["timeout=1"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=CREATE, action="drop")
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=404, times=-1)
    assert fsop("mkdir", m / WWW_DIR / "unsure") == "EIO"
    assert len(sim.calls("POST")) == 1
    assert len(sim.calls("GET", contains="/snapshot?")) >= 2  # it kept looking
    sim.admin("POST", "faults/clear", {})
    assert named(sim, "unsure") == []


def test_ctrl_c_ends_a_reconcile_at_once_and_nothing_is_sent_again(mounts, sim):
    """timeout=10: the reconcile would list for 10 s; SIGINT ends the mkdir within a second."""
    m = mounts(["timeout=10"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=CREATE, action="drop")
    p = subprocess.Popen(["mkdir", str(m / WWW_DIR / "stopped")], stderr=subprocess.PIPE)
    try:
        assert wait_until(lambda: len(sim.calls("GET", contains="/snapshot?")) >= 1, 5)
        signal_when_waiting(p, signal.SIGINT)
        t0 = time.time()
        p.wait(5)
        assert time.time() - t0 < 1.5 and p.returncode != 0
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    time.sleep(1.0)
    assert len(sim.calls("POST")) == 1
    assert named(sim, "stopped") == []
    assert fsop("mkdir", m / WWW_DIR / "later") == "0"  # the daemon is fine


def test_a_put_carried_out_late_is_confirmed_by_a_get_not_sent_again(mounts, sim):
    """timeout=1: the PUT is cut at 1 s; the API carries it out at 2 s. Sent again at once,
    it could land after the user's next change: ovhsnapfs reads the snapshot instead until
    the change shows, and one PUT is all the API gets."""
    m = mounts(["timeout=1"])
    snap = m / WWW_DIR / "before-upgrade"
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="PUT", path=r"/snapshot/[^/]+$", action="late", seconds=2)
    res = run(["setfattr", "-n", "user.ovh.description", "-v", "first", str(snap)], timeout=20)
    assert res.returncode == 0, res.stderr
    assert len(sim.calls("PUT")) == 1, m.log()
    assert named(sim, "before-upgrade")[0]["description"] == "first"
    res = run(["setfattr", "-n", "user.ovh.description", "-v", "second", str(snap)], timeout=20)
    assert res.returncode == 0, res.stderr
    time.sleep(2.5)  # past any late copy of the first
    assert named(sim, "before-upgrade")[0]["description"] == "second"
    assert len(sim.calls("PUT")) == 2
