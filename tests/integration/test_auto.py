"""ovhsnapfs-auto: labelled snapshots and their rotation, run on a real mount.

Each test mounts ovhsnapfs against the simulator, runs the real ovhsnapfs-auto on the
mounted tree, and checks its output, its exit status and the exact API calls it caused.
"""

import calendar
import datetime
import json
import re
import os
import pty
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import BUILD, DB, SVC, SVC2, WWW, ls, run, sanitizer_env

AUTO = Path(os.environ.get("OVHSNAPFS_AUTO_BIN", BUILD / "src" / "ovhsnapfs-auto"))
SHARE2 = "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0199"


def auto(*args, timeout=120):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(sanitizer_env())
    return run([str(AUTO)] + [str(a) for a in args], timeout=timeout, env=env)


def names_at(t, label="hourly", prefix="auto"):
    return "%s-%s-%s" % (prefix, label, time.strftime("%Y-%m-%d-%H%M", time.gmtime(t)))


def same_minute_ahead(seconds=20):
    """Sleep, if needed, so that the next `seconds` stay within one UTC minute."""
    left = 60 - time.time() % 60
    if left < seconds:
        time.sleep(left + 0.2)


def snap(n, name, created, **kw):
    body = {"id": "2f6d9c3b-8e1a-4b75-a0d4-%012d" % n, "name": name,
            "createdAt": created, "status": "available", "type": "manual"}
    body.update(kw)
    return body


def one_share(snapshots, svc_name="svc", share_name="vol"):
    return [{"id": SVC, "name": svc_name, "shares": [
        {"id": WWW, "name": share_name, "snapshots": snapshots}]}]


def posts(sim):
    return [(path, json.loads(body)) for method, path, body in api_changes(sim)
            if method == "POST"]


def api_changes(sim):
    """POST and DELETE requests, in order, as (method, path, body)."""
    out = []
    for r in sim.log():
        if r["method"] in ("POST", "DELETE") and "/_sim/" not in r["path"]:
            path = r["path"][4:] if r["path"].startswith("/1.0/") else r["path"]
            out.append((r["method"], path, r["body"]))
    return out


def deleted_ids(sim):
    return [p.rsplit("/", 1)[1] for m, p, _ in api_changes(sim) if m == "DELETE"]


def state_names(sim, share=WWW):
    return sorted((s["name"] or s["id"]) for s in sim.snapshots(SVC, share))


# A share's mix: 5 of auto-hourly (one whose name says newest but whose createdAt is the
# oldest), and what must never be touched: another label, another prefix, manual names
# near the pattern, an automatic and a system snapshot named like the label, one still
# creating, and an error one named like another label.
MIX = [
    snap(1, "auto-hourly-2026-11-30-2300", "2026-11-01T00:00:00Z"),  # oldest by createdAt
    snap(2, "auto-hourly-2026-11-30-0100", "2026-11-30T01:00:00Z"),
    snap(3, "auto-hourly-2026-11-30-0200", "2026-11-30T02:00:00Z"),
    snap(4, "auto-hourly-2026-11-30-0300", "2026-11-30T03:00:00Z"),
    snap(5, "auto-hourly-2026-11-30-0400", "2026-11-30T04:00:00Z"),
    snap(10, "auto-daily-2026-11-01-0000", "2026-10-01T00:00:00Z"),
    snap(11, "other-hourly-2026-11-01-0000", "2026-10-01T00:00:00Z"),
    snap(12, "before-upgrade", "2026-10-01T00:00:00Z"),
    snap(13, "auto-hourly-2026-11-01-0000-copy", "2026-10-01T00:00:00Z"),
    snap(14, "auto-hourly-2026-13-01-0000", "2026-10-01T00:00:00Z"),
    snap(15, "auto-hourly-2026-10-01-0000", "2026-10-01T00:00:00Z", type="automatic"),
    snap(16, "auto-hourly-2026-10-01-0100", "2026-10-01T01:00:00Z", type="system"),
    snap(17, "auto-hourly-2026-10-01-0200", "2026-10-01T02:00:00Z", status="creating"),
    snap(18, "xauto-hourly-2026-10-01-0300", "2026-10-01T03:00:00Z", status="error"),
]
# With --keep 3 and a new one: the new one and the two newest stay; 1, 2, 3 go, in order.
PRUNED = ["auto-hourly-2026-11-30-2300", "auto-hourly-2026-11-30-0100",
          "auto-hourly-2026-11-30-0200"]


def test_root_creates_one_snapshot_per_share_with_one_post_each(mnt, sim):
    sim.clear_log()
    t0 = time.time()
    res = auto("--label", "hourly", "--keep", "24", mnt.path)
    assert res.returncode == 0, res.stderr
    assert res.stderr == ""
    name = res.stdout.split()[2]
    assert name in (names_at(t0), names_at(time.time()))
    shares = ["efs-backup/archive", "efs-prod/db", "efs-prod/logs", "efs-prod/www"]
    expected = []
    for share in shares:
        expected += ["created %s %s" % (share, name), "kept %s 1" % share]
    assert res.stdout.splitlines() == expected
    made = posts(sim)
    assert sorted(p for p, _ in made) == sorted(
        "/storage/netapp/%s/share/%s/snapshot" % ids for ids in
        [(SVC2, "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0201"), (SVC, DB),
         (SVC, "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0103"), (SVC, WWW)])
    assert all(body == {"name": name} for _, body in made)
    assert [m for m, _, _ in api_changes(sim)] == ["POST"] * 4
    assert name in ls(mnt / "efs-prod/www/.snapshots")
    assert [s["name"] for s in sim.snapshots(SVC, WWW)].count(name) == 1


def test_a_service_a_share_and_a_snapshots_dir_each_mean_their_shares(mnt, sim):
    sim.clear_log()
    res = auto("--dry-run", "--label", "d", "--keep", "1", mnt / "efs-prod",
               mnt / "efs-backup/archive", mnt / "efs-prod/www/.snapshots")
    assert res.returncode == 0, res.stderr
    # www is reached twice and handled once.
    assert [line.split()[2] for line in res.stdout.splitlines()
            if line.startswith("would create")] == [
        "efs-prod/db", "efs-prod/logs", "efs-prod/www", "efs-backup/archive"]
    assert api_changes(sim) == []


def test_prune_keeps_exactly_the_newest_n_of_its_label(mounts, sim):
    sim.seed(one_share(MIX))
    mnt = mounts()
    sim.clear_log()
    res = auto("--label", "hourly", "--keep", "3", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    name = lines[0].split()[2]
    assert lines == ["created svc/vol %s" % name] + [
        "deleted svc/vol %s" % n for n in PRUNED] + ["kept svc/vol 3"]
    # One POST, then the DELETEs oldest first (by createdAt, not by name).
    changes = api_changes(sim)
    assert [m for m, _, _ in changes] == ["POST", "DELETE", "DELETE", "DELETE"]
    assert deleted_ids(sim) == [MIX[0]["id"], MIX[1]["id"], MIX[2]["id"]]
    left = sorted(s["name"] for s in MIX if s["name"] not in PRUNED) + [name]
    assert state_names(sim) == sorted(left)
    # A second run in another minute would keep 3 as well: nothing more to delete.
    res = auto("--no-create", "--label", "hourly", "--keep", "3", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["kept svc/vol 3"]


def test_dry_run_prints_the_same_plan_and_sends_no_post_or_delete(mounts, sim):
    sim.seed(one_share(MIX))
    mnt = mounts()
    sim.clear_log()
    res = auto("--dry-run", "--label", "hourly", "--keep", "3", mnt / "svc/vol/.snapshots")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    name = lines[0].split()[3]
    assert lines == ["would create svc/vol %s" % name] + [
        "would delete svc/vol %s" % n for n in PRUNED] + ["would keep svc/vol 3"]
    assert api_changes(sim) == []
    assert state_names(sim) == sorted(s["name"] for s in MIX)
    assert name not in ls(mnt / "svc/vol/.snapshots")


def test_other_prefix_and_no_create_rotate_only_their_own(mounts, sim):
    snaps = [snap(20 + i, "db-daily-2026-11-%02d-0000" % i, "2026-11-%02dT00:00:00Z" % i)
             for i in range(1, 6)] + MIX[:2]
    sim.seed(one_share(snaps))
    mnt = mounts()
    sim.clear_log()
    res = auto("--prefix", "db", "--no-create", "--label", "daily", "--keep", "2",
               mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == [
        "deleted svc/vol db-daily-2026-11-%02d-0000" % i for i in (1, 2, 3)] + [
        "kept svc/vol 2"]
    assert [m for m, _, _ in api_changes(sim)] == ["DELETE"] * 3


def test_failed_or_restoring_snapshots_never_push_good_ones_out(mounts, sim):
    # A day of runs whose snapshots all ended in error must not delete the good ones.
    good = [snap(1, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z"),
            snap(2, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z")]
    bad = [snap(3 + i, "auto-hourly-2026-11-02-%02d00" % i, "2026-11-02T%02d:00:00Z" % i,
                status=status)
           for i, status in enumerate(["error", "error", "restoring", "error_deleting"])]
    sim.seed(one_share(good + bad))
    mnt = mounts()
    sim.clear_log()
    res = auto("--no-create", "--label", "hourly", "--keep", "2", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["kept svc/vol 2"]
    assert api_changes(sim) == []
    res = auto("--no-create", "--label", "hourly", "--keep", "1", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["deleted svc/vol auto-hourly-2026-11-01-0100",
                                       "kept svc/vol 1"]
    assert deleted_ids(sim) == [good[0]["id"]]


def test_without_created_at_the_name_gives_the_age(mounts, sim):
    # The mount shows such a snapshot with the time it started as mtime, which would
    # make the oldest ones the newest: kept for ever while the newer ones go.
    snaps = [snap(1, "auto-hourly-2026-11-01-0100", None),
             snap(2, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z"),
             snap(3, "auto-hourly-2026-11-01-0300", "2026-11-01T03:00:00Z"),
             snap(4, "auto-hourly-2026-11-01-0400", "2026-11-01T04:00:00Z")]
    sim.seed(one_share(snaps))
    mnt = mounts()
    sim.clear_log()
    res = auto("--no-create", "--label", "hourly", "--keep", "2", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["deleted svc/vol auto-hourly-2026-11-01-0100",
                                       "deleted svc/vol auto-hourly-2026-11-01-0200",
                                       "kept svc/vol 2"]
    assert deleted_ids(sim) == [snaps[0]["id"], snaps[1]["id"]]


def test_snapshots_sharing_a_name_are_rotated_by_their_ids(mounts, sim):
    dup = "auto-hourly-2026-11-01-0000"
    snaps = [snap(1, dup, "2026-11-01T00:00:00Z"), snap(2, dup, "2026-11-01T00:00:01Z"),
             snap(3, "auto-hourly-2026-11-02-0000", "2026-11-02T00:00:00Z")]
    sim.seed(one_share(snaps))
    mnt = mounts()
    sim.clear_log()
    res = auto("--no-create", "--label", "hourly", "--keep", "1", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["deleted svc/vol %s" % snaps[0]["id"],
                                       "deleted svc/vol %s" % snaps[1]["id"],
                                       "kept svc/vol 1"]
    assert state_names(sim) == ["auto-hourly-2026-11-02-0000"]


def test_a_full_share_deletes_first_then_creates(mounts, sim):
    snaps = [snap(i, "m-%03d" % i, "2026-11-01T00:00:00Z") for i in range(1, 199)]
    snaps += [snap(901, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z"),
              snap(902, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z")]
    sim.seed(one_share(snaps))
    mnt = mounts()
    sim.clear_log()
    res = auto("--label", "hourly", "--keep", "2", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "deleted svc/vol auto-hourly-2026-11-01-0100"
    assert lines[1].startswith("created svc/vol auto-hourly-")
    assert lines[2:] == ["kept svc/vol 2"]
    assert [m for m, _, _ in api_changes(sim)] == ["DELETE", "POST"]
    assert len(sim.snapshots(SVC, WWW)) == 200


def test_a_full_share_with_nothing_to_delete_fails_without_a_call(mounts, sim):
    snaps = [snap(i, "m-%03d" % i, "2026-11-01T00:00:00Z") for i in range(1, 201)]
    sim.seed(one_share(snaps))
    mnt = mounts()
    sim.clear_log()
    res = auto("--label", "hourly", "--keep", "2", mnt / "svc/vol")
    assert res.returncode == 1
    assert "svc/vol: cannot create auto-hourly-" in res.stderr
    assert "limit of 200 snapshots" in res.stderr
    assert res.stdout.splitlines() == ["kept svc/vol 0"]
    assert api_changes(sim) == []


def test_the_apis_limit_refusal_makes_it_delete_then_create_again(mounts, sim):
    snaps = [snap(1, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z"),
             snap(2, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z")]
    # The API counts what the listing cannot show: 198 snapshots being deleted.
    snaps += [snap(100 + i, "going-%03d" % i, "2026-10-01T00:00:00Z", status="deleting")
              for i in range(198)]
    sim.seed(one_share(snaps))
    mnt = mounts()
    sim.clear_log()
    res = auto("--label", "hourly", "--keep", "2", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "deleted svc/vol auto-hourly-2026-11-01-0100"
    assert lines[1].startswith("created svc/vol auto-hourly-")
    assert lines[2:] == ["kept svc/vol 2"]
    assert [m for m, _, _ in api_changes(sim)] == ["POST", "DELETE", "POST"]


def test_two_runs_in_one_minute_make_one_snapshot(mnt, sim):
    same_minute_ahead()
    sim.clear_log()
    www = mnt / "efs-prod/www"
    first = auto("--label", "hourly", "--keep", "24", www)
    assert first.returncode == 0, first.stderr
    name = first.stdout.split()[2]
    second = auto("--label", "hourly", "--keep", "24", www)
    assert second.returncode == 0, second.stderr
    assert second.stderr == ""
    assert second.stdout.splitlines() == ["exists efs-prod/www %s" % name,
                                          "kept efs-prod/www 1"]
    assert len(posts(sim)) == 1
    assert [s["name"] for s in sim.snapshots(SVC, WWW)].count(name) == 1


def test_a_share_whose_post_fails_does_not_stop_the_other(mounts, sim):
    sim.seed([{"id": SVC, "name": "svc", "shares": [
        {"id": WWW, "name": "a", "snapshots": [
            snap(1, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z"),
            snap(2, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z")]},
        {"id": SHARE2, "name": "b", "snapshots": []}]}])
    mnt = mounts()
    sim.clear_log()
    sim.fault(method="POST", path=r"/share/%s/snapshot$" % WWW, action="status", status=403,
              times=-1)
    res = auto("--label", "hourly", "--keep", "1", mnt / "svc")
    assert res.returncode == 1
    err = res.stderr.splitlines()
    assert len(err) == 1 and err[0].startswith("ovhsnapfs-auto: svc/a: cannot create auto-")
    lines = res.stdout.splitlines()
    # a: no new snapshot, so its newest existing one stays; b: done.
    assert lines[0] == "deleted svc/a auto-hourly-2026-11-01-0100"
    assert lines[1] == "kept svc/a 1"
    assert lines[2].startswith("created svc/b auto-hourly-")
    assert lines[3] == "kept svc/b 1"
    assert state_names(sim, WWW) == ["auto-hourly-2026-11-01-0200"]
    assert len(sim.snapshots(SVC, SHARE2)) == 1


def auto_journal(tmp_path, *args):
    """ovhsnapfs-auto as a systemd service runs it: stderr is the journal stream
    (JOURNAL_STREAM names its file). Returns (exit status, stdout, stderr)."""
    import subprocess
    err_path = tmp_path / "journal-stream"
    with open(err_path, "w") as err:
        st = os.fstat(err.fileno())
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "JOURNAL_STREAM": "%d:%d" % (st.st_dev, st.st_ino)}
        env.update(sanitizer_env())
        res = subprocess.run([str(AUTO)] + [str(a) for a in args], stdout=subprocess.PIPE,
                             stderr=err, env=env, text=True, timeout=120)
    return res.returncode, res.stdout, err_path.read_text()


def test_under_systemd_failures_reach_the_journal_at_priority_err(mounts, sim, tmp_path):
    sim.seed([{"id": SVC, "name": "svc", "shares": [
        {"id": WWW, "name": "a", "snapshots": []},
        {"id": SHARE2, "name": "b", "snapshots": []}]}])
    mnt = mounts()
    sim.fault(method="POST", path=r"/share/%s/snapshot$" % WWW, action="status", status=403,
              times=-1)
    rc, out, err = auto_journal(tmp_path, "--label", "hourly", "--keep", "1", mnt / "svc")
    assert rc == 1
    # "<3>": systemd files the line at priority 3 (err); the actions stay info.
    assert err.splitlines() and all(l.startswith("<3>ovhsnapfs-auto: svc/a: cannot create auto-")
                                    for l in err.splitlines()), err
    assert any(l.startswith("created svc/b auto-hourly-") for l in out.splitlines()), out
    rc, out, err = auto_journal(tmp_path, "--label", "hourly", "--keep", "1", tmp_path)
    assert rc == 2 and err.startswith("<3>ovhsnapfs-auto: "), err
    # Not the journal (another file than JOURNAL_STREAM names): no prefix.
    env = {"PATH": "/usr/bin:/bin", "JOURNAL_STREAM": "1:1"}
    env.update(sanitizer_env())
    res = run([str(AUTO), "--label", "hourly", "--keep", "1", str(tmp_path)], timeout=60, env=env)
    assert res.returncode == 2 and res.stderr.startswith("ovhsnapfs-auto: "), res.stderr


def test_names_are_escaped_one_line_each(mounts, sim):
    sim.seed(one_share([], share_name="we\nird\\"))
    mnt = mounts()
    res = auto("--dry-run", "--label", "hourly", "--keep", "1", mnt / "svc")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("would create svc/we\\x0aird\\x5c auto-hourly-")
    assert lines[1] == "would keep svc/we\\x0aird\\x5c 1"


@pytest.mark.parametrize("args", [
    ["--label", "hourly"],                       # no --keep
    ["--label", "hourly", "--keep", "0"],
    ["--label", "hourly", "--keep", "-1"],
    ["--label", "hourly", "--keep", "3x"],
    ["--keep", "3"],                             # no --label
    ["--label", "hour-ly", "--keep", "3"],
    ["--label", "h", "--prefix", "a/b", "--keep", "3"],
    ["--label", "h", "--prefix", "", "--keep", "3"],
    ["--label", "h", "--keep", "3", "--bogus"],
])
def test_bad_options_exit_2_and_do_nothing(mnt, sim, args):
    sim.clear_log()
    res = auto(*(args + [mnt.path]))
    assert res.returncode == 2
    assert res.stdout == ""
    assert res.stderr.startswith("ovhsnapfs-auto: ") or "unrecognized" in res.stderr
    assert api_changes(sim) == []


def test_dirs_outside_an_ovhsnapfs_tree_exit_2_and_do_nothing(mnt, sim, tmp_path):
    fake = tmp_path / "fake/svc/vol/.snapshots"
    fake.mkdir(parents=True)
    sim.clear_log()
    for bad in [[], [tmp_path / "fake"], [fake], [tmp_path / "missing"],
                [mnt / "efs-prod/www/.snapshots/before-upgrade"],
                [mnt / "efs-prod/info.json"],
                [mnt / "efs-prod/www", tmp_path]]:  # a good DIR does not save a bad one
        res = auto("--label", "hourly", "--keep", "1", *bad)
        assert res.returncode == 2, (bad, res.stdout, res.stderr)
        assert res.stdout == ""
        assert "ovhsnapfs-auto: " in res.stderr
    assert "not in an ovhsnapfs mount" in auto("--label", "h", "--keep", "1", fake).stderr
    assert api_changes(sim) == []


def test_a_full_share_on_a_wait_0_mount_creates_once_the_api_is_done_deleting(mounts, sim):
    snaps = [snap(i, "m-%03d" % i, "2026-11-01T00:00:00Z") for i in range(1, 200)]
    snaps += [snap(901, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z")]
    sim.seed(one_share(snaps))
    sim.config(delete_delay=1.5)  # rmdir returns at once; the API still counts it
    mnt = mounts(["wait=0"])
    sim.clear_log()
    res = auto("--label", "hourly", "--keep", "1", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "deleted svc/vol auto-hourly-2026-11-01-0100"
    assert lines[1].startswith("created svc/vol auto-hourly-")
    assert lines[2:] == ["kept svc/vol 1"]
    calls = [m for m, _, _ in api_changes(sim)]
    assert calls[0] == "DELETE" and calls[-1] == "POST" and "POST" in calls[1:-1]
    assert calls.count("DELETE") == 1
    assert len([s for s in sim.snapshots(SVC, WWW) if s["name"].startswith("auto-")]) == 1


def test_reading_the_tree_costs_one_list_call_per_directory(mounts, sim):
    sim.seed(one_share(MIX))
    mnt = mounts()
    sim.clear_log()
    res = auto("--dry-run", "--label", "hourly", "--keep", "3", mnt.path)
    assert res.returncode == 0, res.stderr
    gets = sim.calls("GET")
    # The shares, the snapshots (the mount listed the services): every info.json and
    # mtime comes from those listings.
    assert sorted(p.split("?")[0] for _, p in gets) == [
        "/storage/netapp/%s/share" % SVC, "/storage/netapp/%s/share/%s/snapshot" % (SVC, WWW)]


# ---- --preserve: the newest snapshot of each of the last N hours, days, weeks, months ----

def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def periods(t):
    """The hour, day, ISO week and month of t (UTC), as the rule 24h,7d,4w,12m reads them."""
    g = time.gmtime(t)
    d = datetime.date(g.tm_year, g.tm_mon, g.tm_mday)
    return {"h": (g.tm_year, g.tm_yday, g.tm_hour), "d": (g.tm_year, g.tm_yday),
            "w": tuple(d.isocalendar())[:2], "m": (g.tm_year, g.tm_mon)}


def preserved(snaps, rule, minimum):
    """snaps: (key, t) newest first. The keys the rule keeps, computed the simple way."""
    keep = {key for key, _ in snaps[:minimum]}
    for kind, count in rule.items():
        seen = []
        for key, t in snaps:
            p = periods(t)[kind]
            if p not in seen and len(seen) < count:
                seen.append(p)
                keep.add(key)
    return keep


def year_of_hourly(label="gfs", end=1796079600, n=192):
    """n snapshots of a year of hourly runs thinned out, newest first: the last two days
    hourly, then every 6 hours for three weeks, then every 5 days (end: 2026-11-30T23:00)."""
    ts = [end - 3600 * i for i in range(48)]
    ts += [ts[-1] - 6 * 3600 * i for i in range(1, 85)]
    while len(ts) < n:
        ts.append(ts[-1] - 5 * 86400)
    return [snap(100 + i, names_at(t, label), iso(t)) for i, t in enumerate(ts)]


def test_preserve_keeps_exactly_the_buckets_and_deletes_the_rest_oldest_first(mounts, sim):
    year = year_of_hourly()
    others = [snap(1, "auto-hourly-2025-01-01-0000", "2025-01-01T00:00:00Z"),
              snap(2, "before-upgrade", "2025-01-01T00:00:00Z"),
              snap(3, "auto-gfs-2025-01-01-0100", "2025-01-01T01:00:00Z", type="automatic")]
    sim.seed(one_share(year + others))
    # ~150 DELETEs: neither rate= (1 a second past a burst of 60) nor wait= spaces them.
    sim.config(create_delay=0, delete_delay=0)
    mnt = mounts(["wait=0", "rate=0"])
    sim.clear_log()
    t0 = time.time()
    res = auto("--label", "gfs", "--preserve", "24h,7d,4w,12m", mnt / "svc/vol", timeout=60)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    name = lines[0].split()[2]
    assert lines[0] == "created svc/vol %s" % name and name in (names_at(t0, "gfs"),
                                                               names_at(time.time(), "gfs"))
    new_t = calendar.timegm(time.strptime(name[len("auto-gfs-"):], "%Y-%m-%d-%H%M"))
    newest_first = [(name, new_t)] + [
        (s["name"], calendar.timegm(time.strptime(s["createdAt"], "%Y-%m-%dT%H:%M:%SZ")))
        for s in year]
    keep = preserved(newest_first, {"h": 24, "d": 7, "w": 4, "m": 12}, 1)
    gone = [s for s in reversed(year) if s["name"] not in keep]  # oldest first
    assert len(keep) < 24 + 7 + 4 + 12 and len(gone) > 140
    assert lines[1:] == ["deleted svc/vol %s" % s["name"] for s in gone] + [
        "kept svc/vol %d" % len(keep)]
    changes = api_changes(sim)
    assert [m for m, _, _ in changes] == ["POST"] + ["DELETE"] * len(gone)
    assert deleted_ids(sim) == [s["id"] for s in gone]
    assert state_names(sim) == sorted(keep | {s["name"] for s in others})


def test_preserve_dry_run_says_which_buckets_keep_each_snapshot(mounts, sim):
    year = year_of_hourly(n=140)
    sim.seed(one_share(year))
    mnt = mounts()
    sim.clear_log()
    res = auto("--dry-run", "--no-create", "--label", "gfs", "--preserve", "2h,2d,2w,2m",
               "--preserve-min", "3", mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    kept = [line for line in res.stdout.splitlines() if line.startswith("would keep")]
    # Oldest first: the newest of October (5-day steps), of the week and the day before,
    # then the three newest (the third for --preserve-min only).
    assert kept == [
        "would keep svc/vol auto-gfs-2026-10-29-0000: month 2026-10",
        "would keep svc/vol auto-gfs-2026-11-29-2300: day 2026-11-29, week 2026-W48",
        "would keep svc/vol auto-gfs-2026-11-30-2100: newest",
        "would keep svc/vol auto-gfs-2026-11-30-2200: hour 2026-11-30T22, newest",
        "would keep svc/vol auto-gfs-2026-11-30-2300: hour 2026-11-30T23, "
        "day 2026-11-30, week 2026-W49, month 2026-11, newest",
        "would keep svc/vol 5"]
    assert res.stdout.count("would delete") == 140 - 5
    assert api_changes(sim) == []


@pytest.mark.parametrize("args", [
    ["--label", "g", "--preserve", "24h", "--keep", "3"],     # one rule or the other
    ["--label", "g", "--preserve", "24"],
    ["--label", "g", "--preserve", "24h,24h"],
    ["--label", "g", "--preserve", "0d"],
    ["--label", "g", "--keep", "3", "--preserve-min", "2"],
    ["--label", "g", "--keep", "3", "--hook-timeout", "0"],
    ["--label", "g", "--keep", "3", "--warn", "1h"],
])
def test_bad_preserve_and_hook_options_exit_2_and_do_nothing(mnt, sim, args):
    sim.clear_log()
    res = auto(*(args + [mnt.path]))
    assert res.returncode == 2, res.stderr
    assert res.stdout == "" and res.stderr.startswith("ovhsnapfs-auto: ")
    assert api_changes(sim) == []


# ---- --pre and --post hooks ----

def hook_cmd(log, phase):
    """A hook that appends its phase, the time and its OVHSNAPFS_ variables to log."""
    return ("{ echo %s $(date +%%s.%%N); env | grep ^OVHSNAPFS_ | sort; } >>%s"
            % (phase, log))


def hook_log(log):
    """[(phase, time, {VAR: value})] from what hook_cmd wrote."""
    out = []
    for line in log.read_text().splitlines():
        if line.startswith("OVHSNAPFS_"):
            k, v = line.split("=", 1)
            out[-1][2][k] = v
        else:
            phase, t = line.split()
            out.append((phase, float(t), {}))
    return out


def test_hooks_run_once_per_share_around_the_post_with_their_variables(mounts, sim, tmp_path):
    sim.seed(one_share([snap(1, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z"),
                        snap(2, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z")]))
    mnt = mounts()
    sim.clear_log()
    log = tmp_path / "hooks.log"
    res = auto("--label", "hourly", "--keep", "1", "--pre", hook_cmd(log, "pre"),
               "--post", hook_cmd(log, "post"), mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    name = res.stdout.split()[2]
    assert res.stdout.splitlines() == ["created svc/vol %s" % name,
                                       "deleted svc/vol auto-hourly-2026-11-01-0100",
                                       "deleted svc/vol auto-hourly-2026-11-01-0200",
                                       "kept svc/vol 1"]
    ran = hook_log(log)
    base = {"OVHSNAPFS_SERVICE": "svc", "OVHSNAPFS_SHARE": "vol",
            "OVHSNAPFS_SNAPSHOT": name, "OVHSNAPFS_LABEL": "hourly"}
    assert [(phase, env) for phase, _, env in ran] == [
        ("pre", base), ("post", dict(base, OVHSNAPFS_RESULT="created"))]
    post = [r for r in sim.log() if r["method"] == "POST" and "/_sim/" not in r["path"]]
    deletes = [r for r in sim.log() if r["method"] == "DELETE"]
    assert len(post) == 1 and len(deletes) == 2
    # pre, POST, post; the pruning after, without hooks.
    assert ran[0][1] < post[0]["t"] < ran[1][1] < deletes[0]["t"]


def test_a_failing_pre_hook_means_no_snapshot_and_the_post_hook_still_runs(mounts, sim,
                                                                          tmp_path):
    sim.seed(one_share([snap(1, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z")]))
    mnt = mounts()
    sim.clear_log()
    log = tmp_path / "hooks.log"
    res = auto("--label", "hourly", "--keep", "1", "--pre", hook_cmd(log, "pre") + "; exit 3",
               "--post", hook_cmd(log, "post"), mnt / "svc/vol")
    assert res.returncode == 1
    err = res.stderr.splitlines()
    assert len(err) == 1
    assert err[0].startswith("ovhsnapfs-auto: svc/vol: pre hook failed for auto-hourly-")
    assert err[0].endswith(": exit status 3")
    assert res.stdout.splitlines() == ["kept svc/vol 1"]  # nothing made, nothing to prune
    assert api_changes(sim) == []
    ran = hook_log(log)
    assert [phase for phase, _, _ in ran] == ["pre", "post"]
    assert ran[1][2]["OVHSNAPFS_RESULT"] == "failed"


def test_a_hanging_pre_hook_is_killed_at_its_timeout_with_its_whole_group(mounts, sim,
                                                                          tmp_path):
    mnt = mounts()
    sim.clear_log()
    log, pidfile = tmp_path / "hooks.log", tmp_path / "grandchild.pid"
    # The grandchild ignores SIGTERM: only the SIGKILL after the grace ends it.
    pre = ("sh -c 'trap \"\" TERM; exec sleep 300' & echo $! >%s; sleep 300" % pidfile)
    t0 = time.time()
    res = auto("--label", "hourly", "--keep", "1", "--hook-timeout", "1", "--pre", pre,
               "--post", hook_cmd(log, "post"), mnt / "efs-prod/www")
    took = time.time() - t0
    assert res.returncode == 1
    assert re.fullmatch(r"ovhsnapfs-auto: efs-prod/www: pre hook failed for auto-hourly-\S+: "
                        r"timed out after 1 s\n", res.stderr), res.stderr
    assert 1 <= took < 1 + 3 + 3  # the limit, the grace, some slack
    pid = int(pidfile.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    assert posts(sim) == []
    assert [env["OVHSNAPFS_RESULT"] for _, _, env in hook_log(log)] == ["failed"]


def test_dry_run_runs_no_hook(mnt, sim, tmp_path):
    log = tmp_path / "hooks.log"
    res = auto("--dry-run", "--label", "hourly", "--keep", "1", "--pre", hook_cmd(log, "pre"),
               "--post", hook_cmd(log, "post"), mnt / "efs-prod/www")
    assert res.returncode == 0, res.stderr
    assert not log.exists()


# ---- stop signals: the post hook owed always runs, once ----

def start_auto(*args):
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(sanitizer_env())
    return subprocess.Popen([str(AUTO)] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def wait_for(what, timeout=30):
    end = time.time() + timeout
    while not what():
        assert time.time() < end, "timed out waiting"
        time.sleep(0.05)


def stopped_by(proc, sig, timeout=60):
    """Send sig to proc; (returncode, stdout, stderr) once it has ended."""
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def gone(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_sigterm_during_the_pre_hook_ends_it_and_runs_the_post_hook_once(mounts, sim,
                                                                         tmp_path):
    sim.seed(one_share([snap(1, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z")]))
    mnt = mounts()
    sim.clear_log()
    log, pidfile = tmp_path / "hooks.log", tmp_path / "pre.pid"
    pre = hook_cmd(log, "pre") + "; sleep 300 & echo $! >%s; wait" % pidfile
    proc = start_auto("--label", "hourly", "--keep", "1", "--pre", pre,
                      "--post", hook_cmd(log, "post"), mnt / "svc/vol")
    wait_for(lambda: pidfile.exists() and pidfile.read_text().strip())
    rc, out, err = stopped_by(proc, signal.SIGTERM)
    assert rc == -signal.SIGTERM
    assert [(phase, env.get("OVHSNAPFS_RESULT")) for phase, _, env in hook_log(log)] == [
        ("pre", None), ("post", "failed")]
    assert gone(int(pidfile.read_text()))  # the pre hook's group went with it
    assert api_changes(sim) == []  # no snapshot, and no deletion after the signal
    assert "pre hook failed for auto-hourly-" in err and ": interrupted" in err
    assert err.endswith("ovhsnapfs-auto: stopped by SIGTERM\n"), err
    assert out == ""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
def test_a_stop_signal_during_the_mkdir_wait_ends_it_and_the_post_hook_says_failed(
        mounts, sim, tmp_path, sig):
    sim.seed(one_share([snap(1, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z"),
                        snap(2, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z")]))
    mnt = mounts()
    sim.config(create_delay=120)  # the mkdir waits for "available"
    sim.clear_log()
    log = tmp_path / "hooks.log"
    proc = start_auto("--label", "hourly", "--keep", "1", "--pre", hook_cmd(log, "pre"),
                      "--post", hook_cmd(log, "post"), mnt / "svc/vol")
    wait_for(lambda: posts(sim))
    time.sleep(0.5)  # well inside the wait
    rc, out, err = stopped_by(proc, sig)
    assert rc == -sig
    assert [(phase, env.get("OVHSNAPFS_RESULT")) for phase, _, env in hook_log(log)] == [
        ("pre", None), ("post", "failed")]
    assert re.search(r"svc/vol: cannot create auto-hourly-\S+: interrupted by %s\n"
                     % sig.name, err), err
    assert err.endswith("ovhsnapfs-auto: stopped by %s\n" % sig.name), err
    assert [m for m, _, _ in api_changes(sim)] == ["POST"]  # no deletion after the signal
    assert out == ""


def test_sigterm_during_the_post_hook_lets_it_finish_once(mounts, sim, tmp_path):
    mnt = mounts()
    sim.clear_log()
    log, started = tmp_path / "hooks.log", tmp_path / "post.started"
    post = "touch %s; sleep 1; %s" % (started, hook_cmd(log, "post"))
    proc = start_auto("--label", "hourly", "--keep", "1", "--pre", hook_cmd(log, "pre"),
                      "--post", post, mnt / "efs-prod/www")
    wait_for(started.exists)
    rc, out, err = stopped_by(proc, signal.SIGTERM)
    assert rc == -signal.SIGTERM
    assert [(phase, env.get("OVHSNAPFS_RESULT")) for phase, _, env in hook_log(log)] == [
        ("pre", None), ("post", "created")]
    assert out.startswith("created efs-prod/www auto-hourly-")
    assert "kept" not in out  # nothing after the post hook: the run stopped
    assert err == "ovhsnapfs-auto: stopped by SIGTERM\n"


def test_a_stop_signal_between_shares_starts_no_other_share(mnt, sim, tmp_path):
    sim.clear_log()
    log, started = tmp_path / "hooks.log", tmp_path / "post.started"
    post = "touch %s; sleep 1; %s" % (started, hook_cmd(log, "post"))
    proc = start_auto("--label", "hourly", "--keep", "5", "--pre", hook_cmd(log, "pre"),
                      "--post", post, mnt.path)
    wait_for(started.exists)
    rc, out, err = stopped_by(proc, signal.SIGINT)
    assert rc == -signal.SIGINT
    assert [phase for phase, _, _ in hook_log(log)] == ["pre", "post"]
    assert len(posts(sim)) == 1


def test_a_reader_of_stdout_gone_does_not_skip_the_post_hook(mounts, sim, tmp_path):
    mnt = mounts()
    log = tmp_path / "hooks.log"
    proc = start_auto("--label", "hourly", "--keep", "1", "--pre", hook_cmd(log, "pre"),
                      "--post", hook_cmd(log, "post"), mnt / "efs-prod/www")
    proc.stdout.close()  # as "| tee" killed by the same Ctrl-C: "created" meets EPIPE
    proc.wait(timeout=60)
    proc.stderr.close()
    assert [(phase, env.get("OVHSNAPFS_RESULT")) for phase, _, env in hook_log(log)] == [
        ("pre", None), ("post", "created")]


def test_a_background_child_of_a_hook_does_not_outlive_the_hook_timeout(mounts, sim, tmp_path):
    mnt = mounts()
    pidfile = tmp_path / "bg.pid"
    # The shell exits 0 at once; its child holds ovhsnapfs-auto's stderr pipe for 300 s.
    pre = "(sleep 300 >&2 & echo $! >%s); true" % pidfile
    res = auto("--label", "hourly", "--keep", "1", "--hook-timeout", "1", "--pre", pre,
               mnt / "efs-prod/www", timeout=60)  # would wait on the pipe for 300 s
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("created efs-prod/www auto-hourly-")
    assert gone(int(pidfile.read_text()))


UNDYING = """
import os, sys, time
pg = os.getpgrp()
if os.fork() == 0:  # X: out of the hook's group, never reaps its child
    os.setpgid(0, 0)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if os.fork() == 0:  # Y: back in the hook's group, a zombie no one reaps
        os.setpgid(0, pg)
        os._exit(0)
    open(sys.argv[1], "w").write(str(os.getpid()))
    time.sleep(300)
    os._exit(0)
time.sleep(0.5)
"""


def test_a_hook_group_member_that_cannot_be_reaped_does_not_hold_the_run(mounts, sim,
                                                                         tmp_path):
    mnt = mounts()
    script, pidfile = tmp_path / "undying.py", tmp_path / "x.pid"
    script.write_text(UNDYING)
    try:
        res = auto("--label", "hourly", "--keep", "1", "--hook-timeout", "1",
                   "--pre", "/usr/bin/python3 %s %s" % (script, pidfile),
                   mnt / "efs-prod/www", timeout=60)
        assert res.returncode == 0, res.stderr  # the kill and the reaping were bounded
        assert res.stdout.startswith("created efs-prod/www auto-hourly-")
    finally:
        if pidfile.exists():
            os.kill(int(pidfile.read_text()), signal.SIGKILL)


def test_a_full_share_deletes_before_the_pre_hook_and_the_hooks_hold_only_the_mkdir(
        mounts, sim, tmp_path):
    snaps = [snap(i, "m-%03d" % i, "2026-11-01T00:00:00Z") for i in range(1, 199)]
    snaps += [snap(901, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z"),
              snap(902, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z")]
    sim.seed(one_share(snaps))
    mnt = mounts()
    sim.clear_log()
    log = tmp_path / "hooks.log"
    res = auto("--label", "hourly", "--keep", "2", "--pre", hook_cmd(log, "pre"),
               "--post", hook_cmd(log, "post"), mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    ran = hook_log(log)
    assert [phase for phase, _, _ in ran] == ["pre", "post"]
    changes = [r for r in sim.log() if r["method"] in ("POST", "DELETE")
               and "/_sim/" not in r["path"]]
    assert [r["method"] for r in changes] == ["DELETE", "POST"]
    assert changes[0]["t"] < ran[0][1] < changes[1]["t"] < ran[1][1]


def test_the_apis_limit_refusal_thaws_before_deleting_then_runs_the_hooks_again(
        mounts, sim, tmp_path):
    snaps = [snap(1, "auto-hourly-2026-11-01-0100", "2026-11-01T01:00:00Z"),
             snap(2, "auto-hourly-2026-11-01-0200", "2026-11-01T02:00:00Z")]
    snaps += [snap(100 + i, "going-%03d" % i, "2026-10-01T00:00:00Z", status="deleting")
              for i in range(198)]
    sim.seed(one_share(snaps))
    mnt = mounts()
    sim.clear_log()
    log = tmp_path / "hooks.log"
    res = auto("--label", "hourly", "--keep", "2", "--pre", hook_cmd(log, "pre"),
               "--post", hook_cmd(log, "post"), mnt / "svc/vol")
    assert res.returncode == 0, res.stderr
    ran = hook_log(log)
    assert [(phase, env.get("OVHSNAPFS_RESULT")) for phase, _, env in ran] == [
        ("pre", None), ("post", "failed"), ("pre", None), ("post", "created")]
    changes = [r for r in sim.log() if r["method"] in ("POST", "DELETE")
               and "/_sim/" not in r["path"]]
    assert [r["method"] for r in changes] == ["POST", "DELETE", "POST"]
    assert ran[1][1] < changes[1]["t"] < ran[2][1]  # deleting with no hook in force


def auto_on_a_terminal(*args):
    """Run ovhsnapfs-auto with stderr on a pseudo-terminal; (returncode, stdout, terminal)."""
    master, slave = pty.openpty()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    env.update(sanitizer_env())
    proc = subprocess.Popen([str(AUTO)] + [str(a) for a in args], stdout=subprocess.PIPE,
                            stderr=slave, text=True, env=env)
    os.close(slave)
    out = proc.stdout.read()
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:  # EIO: the last writer is gone
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    return proc.wait(timeout=60), out, seen.decode()


def test_on_a_terminal_one_line_says_which_share_it_is_on(mnt, sim):
    rc, out, tty = auto_on_a_terminal("--label", "hourly", "--keep", "5", mnt / "efs-prod")
    assert rc == 0, tty
    assert len(out.splitlines()) == 6  # created and kept, for 3 shares: stdout untouched
    clear = "\r\x1b[K"
    for i, share in enumerate(["efs-prod/db", "efs-prod/logs", "efs-prod/www"], 1):
        assert "%sovhsnapfs-auto: share %d: %s" % (clear, i, share) in tty, repr(tty)
    assert tty.endswith(clear)  # nothing left on the line at the end
    assert "\n" not in tty.replace("\r\n", "")  # one updating line, never a new one


def test_quiet_shows_no_progress_on_a_terminal(mnt, sim):
    rc, out, tty = auto_on_a_terminal("-q", "--label", "hourly", "--keep", "5",
                                      mnt / "efs-prod/www")
    assert rc == 0, tty
    assert tty == ""
    assert out.startswith("created efs-prod/www ")


# ---- --check: a monitoring plugin ----

SHARE3 = "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b03%02d"


def shares(*snapshot_lists, names=("a", "b", "c", "d")):
    ids = [SHARE3 % i for i in range(len(snapshot_lists))]
    return [{"id": SVC, "name": "svc", "shares": [
        {"id": i, "name": n, "snapshots": s}
        for i, n, s in zip(ids, names, snapshot_lists)]}]


def aged(n, age, label="hourly", **kw):
    t = time.time() - age
    return snap(n, names_at(t, label), iso(t), **kw)


def check(*args):
    res = auto("--check", *args)
    line = res.stdout.splitlines()
    assert len(line) == 1, res.stdout
    text, _, perf = line[0].partition(" | ")
    return res.returncode, text, perf


def test_check_is_ok_when_every_share_has_a_fresh_snapshot(mounts, sim):
    sim.seed(shares([aged(1, 600), aged(2, 7200)], [aged(3, 1200, "daily"), aged(4, 60)]))
    mnt = mounts()
    sim.clear_log()
    rc, text, perf = check("--label", "hourly", "--warn", "90m", "--crit", "26h", mnt.path)
    assert rc == 0
    assert re.fullmatch(r"OK: svc/a: newest auto-hourly-\S+ is (9|10|11)m old \(2 shares\)",
                        text), text
    assert re.fullmatch(r"'svc/a'=6\d\ds;5400;93600;0 'svc/b'=\d\ds;5400;93600;0", perf), perf
    assert api_changes(sim) == []


def test_check_names_the_worst_share_stale_or_missing(mounts, sim):
    sim.seed(shares([aged(1, 60)], [aged(2, 3 * 3600)], [aged(3, 30 * 3600)],
                    [aged(4, 60, "daily")]))
    mnt = mounts()
    rc, text, perf = check("--label", "hourly", "--warn", "90m", "--crit", "26h", mnt / "svc")
    assert rc == 2
    assert text == "CRITICAL: svc/d: no auto-hourly snapshot (4 shares, 3 not OK)"
    assert re.search(r"'svc/c'=1080\d\ds;5400;93600;0 'svc/d'=U;5400;93600;0$", perf), perf
    # Without the one with none: the older than --crit one.
    rc, text, _ = check("--label", "hourly", "--warn", "90m", "--crit", "26h", mnt / "svc/a",
                        mnt / "svc/b", mnt / "svc/c")
    assert rc == 2
    assert re.fullmatch(r"CRITICAL: svc/c: newest auto-hourly-\S+ is 1d6h old "
                        r"\(3 shares, 2 not OK\)", text), text
    rc, text, _ = check("--label", "hourly", "--warn", "90m", "--crit", "26h", mnt / "svc/a",
                        mnt / "svc/b")
    assert rc == 1
    assert re.fullmatch(r"WARNING: svc/b: newest \S+ is 3h0m old \(2 shares, 1 not OK\)", text)
    # Without --label any available snapshot counts: d's daily one is fresh.
    rc, text, _ = check("--warn", "90m", "--crit", "26h", mnt / "svc/d")
    assert (rc, text.split(":")[0]) == (0, "OK")


def test_check_counts_only_available_snapshots(mounts, sim):
    sim.seed(shares([aged(1, 30 * 3600), aged(2, 60, status="error")]))
    mnt = mounts()
    rc, text, _ = check("--warn", "1h", "--crit", "1d", mnt.path)
    assert rc == 2 and text.startswith("CRITICAL: svc/a: newest auto-hourly-")


def test_check_warns_when_a_share_is_nearly_full(mounts, sim):
    full = [aged(i, 86400 + i, "m") for i in range(1, 198)] + [aged(900, 60)]
    sim.seed(shares(full, [aged(901, 60)]))
    mnt = mounts()
    rc, text, perf = check("--label", "hourly", "--warn", "2h", "--crit", "1d",
                           "--min-free", "5", mnt.path)
    assert rc == 1
    assert re.fullmatch(r"WARNING: svc/a: newest \S+ is 1m old, 2 of 200 snapshot slots free"
                        r" \(2 shares, 1 not OK\)", text), text
    assert re.fullmatch(r"'svc/a'=\d+s;7200;86400;0 'svc/a free'=2;5:;;0;200 "
                        r"'svc/b'=\d+s;7200;86400;0 'svc/b free'=199;5:;;0;200", perf), perf


def test_check_escapes_the_plugins_separators_in_share_names(mounts, sim):
    # A '|' would end the text (the performance data begin), a '=' a label.
    sim.seed(shares([aged(1, 7200)], [aged(2, 60)], names=("a|b=c", "it's=1")))
    mnt = mounts()
    rc, text, perf = check("--label", "hourly", "--warn", "1h", "--crit", "1d", mnt.path)
    assert rc == 1
    assert re.fullmatch(r"WARNING: svc/a\\x7cb=c: newest \S+ is 2h0m old \(2 shares, 1 not OK\)",
                        text), text
    assert re.fullmatch(r"'svc/a\\x7cb\\x3dc'=\d+s;3600;86400;0 "
                        r"'svc/it''s\\x3d1'=\d+s;3600;86400;0", perf), perf


@pytest.mark.parametrize("args", [
    ["--warn", "1h"],                              # no --crit
    ["--warn", "1x", "--crit", "1d"],
    ["--warn", "2d", "--crit", "1d"],
    ["--warn", "1h", "--crit", "1d", "--keep", "3"],
    ["--warn", "1h", "--crit", "1d", "--min-free", "201"],
    ["--warn", "1h", "--crit", "1d", "--bogus"],
])
def test_check_with_bad_arguments_is_unknown(mnt, args):
    res = auto("--check", *(args + [mnt.path]))
    assert res.returncode == 3
    assert res.stdout.startswith("UNKNOWN: ") and len(res.stdout.splitlines()) == 1


def test_check_of_an_unreadable_or_missing_dir_is_unknown(mounts, sim, tmp_path):
    res = auto("--check", "--warn", "1h", "--crit", "1d", tmp_path / "missing")
    assert res.returncode == 3 and res.stdout.startswith("UNKNOWN: ")
    res = auto("--check", "--warn", "1h", "--crit", "1d", tmp_path)
    assert res.returncode == 3 and "not in an ovhsnapfs mount" in res.stdout
    sim.seed(shares([aged(1, 60)], [aged(2, 60)]))
    mnt = mounts()
    sim.fault(method="GET", path=r"/share/%s/snapshot$" % (SHARE3 % 1), action="status",
              status=500, times=-1)
    res = auto("--check", "--label", "hourly", "--warn", "1h", "--crit", "1d", mnt / "svc")
    assert res.returncode == 3, res.stdout
    assert re.fullmatch(r"UNKNOWN: svc/b: cannot list \.snapshots \(2 shares, 1 not OK\) \| "
                        r"'svc/a'=6\ds;3600;86400;0 'svc/b'=U;3600;86400;0\n", res.stdout)


def test_the_unit_stops_the_run_with_sigterm_alone_and_waits_for_the_post_hook():
    unit = (Path(__file__).resolve().parents[2] / "contrib/systemd/ovhsnapfs-auto@.service.in")
    keys = dict(line.split("=", 1) for line in unit.read_text().splitlines()
                if re.match(r"^[A-Za-z]+=", line))
    assert keys["KillMode"] == "mixed"  # SIGTERM to ovhsnapfs-auto, not to the hook
    stop = int(keys["TimeoutStopSec"].rstrip("s"))
    assert stop >= 2 * (3 + 2) + 60  # a pre hook's kill, then a post hook at the default limit
