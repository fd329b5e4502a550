"""Adaptive prefetch at the default options: a walk is loaded ahead, a single call is not.

Call counts from the simulator's log, and the status file's prefetch counters; no timings.
"""

import json
import time
import uuid

from conftest import SVC, WWW, fscall, fsop, ls, run

SHARES = "/storage/netapp/%s/share?detail=true" % SVC
WWW_LIST = "/storage/netapp/%s/share/%s/snapshot?detail=true" % (SVC, WWW)
SETTLE = 0.5  # a background load, had one been queued, would have been sent by then


def status(m):
    return json.loads(fscall("read", m / ".ovhsnapfs").decode())


def prefetch(m):
    return status(m)["prefetch"]


def listings(calls):
    return [c for c in calls if c[0] == "GET" and c[1].endswith("?detail=true")]


def wide_seed(shares=8, snapshots=2):
    """One service of many shares: room for a window to grow, or not."""
    def uid(*n):
        return str(uuid.UUID(int=(0xabc << 100) | (n[0] << 48) | (n[1] << 24) | n[2]))
    return [{"id": uid(1, 0, 0), "name": "wide", "shares": [
        {"id": uid(2, h, 0), "name": "share%d" % h, "mountPointName": "share%d" % h,
         "snapshots": [{"id": uid(3, h, j), "name": "snap%d" % j, "status": "available",
                        "createdAt": "2026-11-2%dT00:00:00Z" % j, "type": "manual"}
                       for j in range(snapshots)]}
        for h in range(shares)]}]


def test_ls_of_a_service_makes_its_one_call(mnt, sim):
    before = status(mnt)["api"]["calls"]
    sim.clear_log()
    assert "www" in ls(mnt / "efs-prod")
    time.sleep(SETTLE)
    assert sim.calls() == [("GET", SHARES)]
    after = status(mnt)
    assert after["api"]["calls"] == before + 1  # what the status file shows a user
    assert after["prefetch"]["loads"] == 0


def test_ls_of_one_snapshots_directory_makes_its_calls_only(mnt, sim):
    sim.clear_log()
    assert "before-upgrade" in ls(mnt / "efs-prod/www/.snapshots")
    time.sleep(SETTLE)
    assert sim.calls() == [("GET", SHARES), ("GET", WWW_LIST)]
    assert prefetch(mnt)["loads"] == 0


def test_stat_of_one_snapshot_makes_its_calls_only(mnt, sim):
    sim.clear_log()
    assert fsop("stat", mnt / "efs-prod/www/.snapshots/before-upgrade") == "0"
    time.sleep(SETTLE)
    assert sim.calls() == [("GET", SHARES), ("GET", WWW_LIST)]
    assert prefetch(mnt)["loads"] == 0


def _mkdir_rmdir(m, sim, name):
    sim.clear_log()
    d = m / "efs-prod/www/.snapshots" / name
    assert fsop("mkdir", d) == "0"
    assert fsop("rmdir", d) == "0"
    time.sleep(SETTLE)
    return sim.calls()


def test_mkdir_then_rmdir_makes_the_calls_it_made_without_prefetch(mounts, sim):
    off = mounts(["prefetch=0"])
    without = _mkdir_rmdir(off, sim, "script-a")
    off.unmount()
    m = mounts()
    calls = _mkdir_rmdir(m, sim, "script-b")
    assert listings(calls) == listings(without)
    assert len(calls) == len(without)
    assert prefetch(m)["loads"] == 0


def test_cold_find_loads_ahead_once_per_directory_and_wastes_nothing(mounts, sim):
    m = mounts(["cache_ttl=2"])  # waste is told once cache_ttl has passed
    sim.clear_log()
    res = run(["find", str(m.path)], timeout=60)
    assert res.returncode == 0 and "before-upgrade/info.json" in res.stdout
    calls = sim.calls()
    assert len(calls) == len(set(calls))  # no directory asked twice
    shares = [c for c in calls if c[1].endswith("/share?detail=true")]
    snaps = [c for c in calls if c[1].endswith("/snapshot?detail=true")]
    assert len(shares) == 2 and len(snaps) == 4 and len(calls) == 6
    time.sleep(2.5)
    p = prefetch(m)
    assert p["loads"] > 0  # the walk was seen and loaded ahead
    assert p["waste"] == 0 and p["hits"] == p["loads"]


def test_cold_find_of_a_wide_service_makes_no_call_it_does_not_use(mounts, sim):
    sim.seed(wide_seed(shares=12))
    m = mounts(["cache_ttl=3"])
    sim.clear_log()
    assert run(["find", str(m.path)], timeout=60).returncode == 0
    calls = sim.calls()
    assert len(calls) == len(set(calls)) == 1 + 12  # its share list, 12 snapshot lists
    time.sleep(3.5)
    p = prefetch(m)
    assert p["loads"] >= 8 and p["waste"] == 0


def test_ls_l_of_a_service_then_of_a_share_wastes_at_most_the_first_window(mounts, sim):
    # Kernel timeouts 0: every lstat of ls -l reaches the daemon, the worst case. The
    # lstats of 8 shares look at them without going into them: no walk, and were one seen,
    # no more than its first window (2) would be loaded ahead unused.
    sim.seed(wide_seed())
    opts = ["entry_timeout=0", "attr_timeout=0", "cache_ttl=2"]
    off = mounts(opts + ["prefetch=0"])
    sim.clear_log()
    run(["ls", "-l", str(off / "wide")])
    run(["ls", "-l", str(off / "wide/share0")])
    without = len(sim.calls())
    off.unmount()
    m = mounts(opts)
    sim.clear_log()
    assert run(["ls", "-l", str(m / "wide")]).returncode == 0
    assert run(["ls", "-l", str(m / "wide/share0")]).returncode == 0
    time.sleep(SETTLE)
    assert without <= len(sim.calls()) <= without + 2
    time.sleep(2.5)
    assert prefetch(m)["waste"] <= 2


def test_prefetch_0_loads_nothing_ahead_of_a_find(mounts, sim):
    m = mounts(["prefetch=0"])
    sim.clear_log()
    assert run(["find", str(m.path)], timeout=60).returncode == 0
    time.sleep(SETTLE)
    assert len(sim.calls()) == 6 and prefetch(m) == {"loads": 0, "hits": 0, "waste": 0}


def test_the_prefetch_counters_are_in_the_metrics_file(mounts, sim, tmp_path):
    prom = tmp_path / "ovhsnapfs.prom"
    m = mounts(["metrics_file=%s" % prom])
    run(["find", str(m.path)], timeout=60)
    m.unmount()  # the last write
    text = prom.read_text()
    for name in ("prefetch_loads_total", "prefetch_hits_total", "prefetch_waste_total"):
        assert "\novhsnapfs_%s " % name in text
