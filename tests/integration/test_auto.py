"""ovhsnapfs-auto: labelled snapshots and their rotation, run on a real mount.

Each test mounts ovhsnapfs against the simulator, runs the real ovhsnapfs-auto on the
mounted tree, and checks its output, its exit status and the exact API calls it caused.
"""

import json
import os
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
    sim.seed(one_share(snaps))
    sim.config(snapshot_limit=2)  # the API counts what the listing cannot show
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
