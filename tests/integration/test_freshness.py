"""Per-share freshness in the status and metrics files, and -o metrics_refresh=."""

import calendar
import time

from conftest import SVC, WWW, ls
from test_status import prom, status

WWW_DIR = "efs-prod/www/.snapshots"
NEWEST_WWW = "2026-11-26T08:05:00Z"  # the second "dup", the newest available


def epoch(text):
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def shares(m):
    return {(s["service"], s["share"]): s for s in status(m)["shares"]}


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_status_counts_snapshots_by_type_and_the_newest_after_a_mkdir(mnt, sim):
    assert status(mnt)["shares"] == []  # no snapshot listing known yet
    ls(mnt / WWW_DIR)
    www = shares(mnt)[("efs-prod", "www")]
    assert www["share_id"] == WWW and www["service_id"] == SVC
    assert www["snapshots"] == {"automatic": 2, "manual": 4, "system": 0}
    assert www["newest_snapshot"] == NEWEST_WWW
    assert www["newest_snapshot_timestamp"] == epoch(NEWEST_WWW)
    assert ("efs-prod", "db") not in shares(mnt)  # never listed: not known
    sim.clear_log()
    (mnt / WWW_DIR / "fresh").mkdir()
    made = [s for s in sim.snapshots() if s["name"] == "fresh"][0]
    www = shares(mnt)[("efs-prod", "www")]
    assert www["snapshots"] == {"automatic": 2, "manual": 5, "system": 0}
    assert www["newest_snapshot"] == made["createdAt"]
    # The status file costs no call, the gauges included.
    assert [c[0] for c in sim.calls()] == ["POST"] + ["GET"] * (len(sim.calls()) - 1)
    status(mnt)
    assert len(sim.calls()) == len(sim.log())


def test_metrics_refresh_covers_every_share_and_sees_a_remote_change(tmp_path, mounts, sim):
    path = tmp_path / "ovhsnapfs.prom"
    m = mounts(["metrics_file=%s" % path, "metrics_refresh=2", "cache_ttl=1"])
    every = {("efs-prod", "www"), ("efs-prod", "db"), ("efs-prod", "logs"),
             ("efs-backup", "archive")}
    wait_until(lambda: set(shares(m)) == every, 30, "not every share was read")
    assert shares(m)[("efs-prod", "db")]["snapshots"] == {"automatic": 1, "manual": 1,
                                                          "system": 1}
    listed = [r["path"] for r in sim.log() if r["path"].endswith("/snapshot")]
    assert len(set(listed)) == 4  # nobody ran ls: the refresh read each share
    # A snapshot made elsewhere (another host, the control panel) shows without an ls.
    state = sim.state()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    state[0]["shares"][1]["snapshots"].append(
        {"name": "remote", "createdAt": stamp, "type": "manual"})
    sim.seed(state)
    wait_until(lambda: shares(m)[("efs-prod", "db")]["newest_snapshot"] == stamp, 30,
               "the refresh did not see the new snapshot")
    line = 'ovhsnapfs_share_newest_snapshot_timestamp_seconds{service="efs-prod",share="db"}'
    wait_until(lambda: prom(path).get(line) == epoch(stamp), 20, "metrics file not rewritten")
    samples = prom(path)
    assert samples['ovhsnapfs_share_snapshots{service="efs-prod",share="db",type="manual"}'] == 2
    assert samples['ovhsnapfs_share_snapshots{service="efs-backup",share="archive",'
                   'type="automatic"}'] == 1
    assert not [k for k in samples if "remote" in k or "daily-" in k]  # no snapshot names


def test_bad_metrics_refresh_values_are_refused_in_one_line(tmp_path, sim):
    from conftest import write_config
    from test_start import ERR_PREFIX, start_fails
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    for opt in ["metrics_refresh=0.5", "metrics_refresh=-1", "metrics_refresh=nan",
                "metrics_refresh=15m", "metrics_refresh=1e9"]:
        err = start_fails(tmp_path, ["MNT", "-o", "config=%s,%s" % (conf, opt)])
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(ERR_PREFIX), (opt, err)
        assert "metrics_refresh" in lines[0], (opt, err)
    assert sim.calls() == []


def test_without_metrics_file_nothing_is_read_in_the_background(mounts, sim):
    m = mounts(["metrics_refresh=1"])
    sim.clear_log()
    time.sleep(3)  # several ticks of a refresh that must not run
    assert sim.calls() == []
    assert status(m)["shares"] == []
