"""rmdir, mv and setfattr act on what a name means now, not on the id a cached name had.

Host A: `mv before-upgrade kept-for-audit; mkdir before-upgrade`. Host B, within its
cache_ttl, still lists before-upgrade under the old id: its `rmdir before-upgrade` must
not delete kept-for-audit. Before a DELETE or PUT, one GET of the cached id confirms the
snapshot still has the name typed; otherwise B reads the listing again and acts on the
snapshot now called that (or answers ENOENT). Host A is a second mount on the same
simulator; host B mounts with wait=0, so its request log ends with the DELETE.

A confirming GET that fails says why: an interrupt is EINTR, a deadline ETIMEDOUT, a server
error EIO; never EBUSY because the cached entry said "creating".
"""

import json

import pytest

from conftest import SVC, WWW, fsop, ls, run

SNAPS = "/storage/netapp/%s/share/%s/snapshot" % (SVC, WWW)
LIST = SNAPS + "?detail=true"
WWW_DIR = "efs-prod/www/.snapshots"


def snap_id(sim, name):
    return next(s["id"] for s in sim.snapshots() if s["name"] == name)


def names(sim):
    return [s["name"] for s in sim.snapshots()]


@pytest.fixture
def hosts(mounts, sim):
    """(a, b): two mounts of one account; b has cached the listing of www's snapshots."""
    b = mounts(["wait=0"])
    a = mounts()
    assert "before-upgrade" in ls(b / WWW_DIR)
    return a, b


def rename_elsewhere(a, reuse=True):
    """Host A renames before-upgrade away and, with reuse, makes a new one of that name."""
    snaps = a / WWW_DIR
    assert fsop("rename", snaps / "before-upgrade", snaps / "kept-for-audit") == "0"
    if reuse:
        assert fsop("mkdir", snaps / "before-upgrade") == "0"


def test_rmdir_of_a_name_reused_elsewhere_deletes_the_new_snapshot(hosts, sim):
    a, b = hosts
    old = snap_id(sim, "before-upgrade")
    rename_elsewhere(a)
    new = snap_id(sim, "before-upgrade")
    sim.clear_log()
    assert fsop("rmdir", b / WWW_DIR / "before-upgrade") == "0"
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("GET", LIST),
                           ("DELETE", SNAPS + "/" + new)]
    assert snap_id(sim, "kept-for-audit") == old  # the audit copy survives
    listed = ls(b / WWW_DIR)
    assert "kept-for-audit" in listed and "before-upgrade" not in listed


def test_rmdir_of_a_name_renamed_away_is_enoent_without_delete(hosts, sim):
    a, b = hosts
    old = snap_id(sim, "before-upgrade")
    rename_elsewhere(a, reuse=False)
    sim.clear_log()
    assert fsop("rmdir", b / WWW_DIR / "before-upgrade") == "ENOENT"
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("GET", LIST)]
    assert snap_id(sim, "kept-for-audit") == old
    listed = ls(b / WWW_DIR)  # the listing read again shows the new name at once
    assert "kept-for-audit" in listed and "before-upgrade" not in listed
    assert sim.calls("GET") == [("GET", SNAPS + "/" + old), ("GET", LIST)]


def test_rmdir_of_a_snapshot_deleted_elsewhere_is_enoent_without_delete(hosts, sim):
    a, b = hosts
    old = snap_id(sim, "before-upgrade")
    assert fsop("rmdir", a / WWW_DIR / "before-upgrade") == "0"
    sim.clear_log()
    assert fsop("rmdir", b / WWW_DIR / "before-upgrade") == "ENOENT"
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("GET", LIST)]
    assert "before-upgrade" not in ls(b / WWW_DIR)


def test_rmdir_by_id_deletes_that_id_whatever_its_name_now(hosts, sim):
    a, b = hosts
    old = snap_id(sim, "before-upgrade")
    rename_elsewhere(a)
    sim.clear_log()
    assert fsop("rmdir", b / WWW_DIR / old) == "0"  # the id is what the user meant
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("DELETE", SNAPS + "/" + old)]
    assert [s["status"] for s in sim.snapshots() if s["id"] == old] in ([], ["deleting"])
    assert snap_id(sim, "before-upgrade") != old  # the new one stays


def test_rmdir_of_an_unchanged_snapshot_costs_one_get_then_the_delete(hosts, sim):
    _, b = hosts
    old = snap_id(sim, "before-upgrade")
    sim.clear_log()
    assert fsop("rmdir", b / WWW_DIR / "before-upgrade") == "0"
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("DELETE", SNAPS + "/" + old)]


def test_mv_of_a_name_reused_elsewhere_renames_the_new_snapshot(hosts, sim):
    a, b = hosts
    old = snap_id(sim, "before-upgrade")
    rename_elsewhere(a)
    new = snap_id(sim, "before-upgrade")
    sim.clear_log()
    res = run(["mv", str(b / WWW_DIR / "before-upgrade"), str(b / WWW_DIR / "golden")])
    assert res.returncode == 0, res.stderr
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("GET", LIST),
                           ("PUT", SNAPS + "/" + new)]
    assert snap_id(sim, "kept-for-audit") == old and snap_id(sim, "golden") == new
    listed = ls(b / WWW_DIR)
    assert "golden" in listed and "kept-for-audit" in listed and "before-upgrade" not in listed


def test_mv_of_a_name_renamed_away_is_enoent_without_put(hosts, sim):
    a, b = hosts
    old = snap_id(sim, "before-upgrade")
    rename_elsewhere(a, reuse=False)
    sim.clear_log()
    assert fsop("rename", b / WWW_DIR / "before-upgrade", b / WWW_DIR / "golden") == "ENOENT"
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("GET", LIST)]
    assert snap_id(sim, "kept-for-audit") == old and "golden" not in names(sim)


def test_setfattr_of_a_name_reused_elsewhere_describes_the_new_snapshot(hosts, sim):
    a, b = hosts
    old = snap_id(sim, "before-upgrade")
    rename_elsewhere(a)
    new = snap_id(sim, "before-upgrade")
    sim.clear_log()
    res = run(["setfattr", "-n", "user.ovh.description", "-v", "redone",
               str(b / WWW_DIR / "before-upgrade")])
    assert res.returncode == 0, res.stderr
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("GET", LIST),
                           ("PUT", SNAPS + "/" + new)]
    assert [json.loads(r["body"]) for r in sim.log() if r["method"] == "PUT"] == [
        {"name": "before-upgrade", "description": "redone"}]
    described = {s["id"]: s["description"] for s in sim.snapshots()}
    assert described[old] == "before the nginx upgrade" and described[new] == "redone"
    res = run(["getfattr", "--only-values", "-n", "user.ovh.description",
               str(b / WWW_DIR / "before-upgrade")])
    assert res.stdout == "redone"


def test_setfattr_of_a_name_renamed_away_is_enoent_without_put(hosts, sim):
    a, b = hosts
    old = snap_id(sim, "before-upgrade")
    rename_elsewhere(a, reuse=False)
    sim.clear_log()
    assert fsop("setxattr", b / WWW_DIR / "before-upgrade", "user.ovh.description",
                "x") == "ENOENT"
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("GET", LIST)]


def test_a_409_on_create_for_a_name_made_elsewhere_is_eexist(hosts, sim):
    """Host A makes nightly; host B's cached listing lacks it. With an API that keeps names
    unique (the simulator's unique_names, a guess), B's mkdir is refused 409: one fresh
    listing shows the name, so mkdir says EEXIST (what ovhsnapfs-auto on two hosts expects)."""
    a, b = hosts
    sim.config(unique_names=True)
    assert fsop("mkdir", a / WWW_DIR / "nightly") == "0"
    assert "nightly" not in ls(b / WWW_DIR)  # B's listing is cached
    sim.clear_log()
    assert fsop("mkdir", b / WWW_DIR / "nightly") == "EEXIST"
    calls = [(c[0], c[1]) for c in sim.calls()]
    assert calls == [("POST", SNAPS), ("GET", LIST)], calls
    assert names(sim).count("nightly") == 1
    assert "nightly" in ls(b / WWW_DIR)


def test_a_409_on_create_for_a_name_nobody_has_stays_ebusy(hosts, sim):
    """A 409 the fresh listing does not explain (the share busy): EBUSY, nothing sent again."""
    a, b = hosts
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=409,
              body={"class": "Client::Conflict", "message": "busy"})
    sim.clear_log()
    assert fsop("mkdir", b / WWW_DIR / "fresh-name") == "EBUSY"
    calls = [(c[0], c[1]) for c in sim.calls()]
    assert calls == [("POST", SNAPS), ("GET", LIST)], calls


# ---- a confirming GET that fails says why ----

def creating(mounts, sim, options=()):
    """A mount whose cache lists `nightly` as creating (wait=0, the API slow to finish)."""
    sim.config(create_delay=3600)
    m = mounts(["wait=0"] + list(options))
    assert fsop("mkdir", m / WWW_DIR / "nightly") == "0"
    return m, snap_id(sim, "nightly")


def test_rmdir_of_a_creating_snapshot_whose_get_fails_is_eio_not_ebusy(mounts, sim):
    m, new = creating(mounts, sim, ["retries=1"])
    sim.fault(method="GET", path=new + "$", action="status", status=500, times=-1)
    sim.clear_log()
    assert fsop("rmdir", m / WWW_DIR / "nightly") == "EIO"
    assert sim.calls(method="DELETE") == []


def test_rmdir_refused_busy_whose_checking_get_fails_is_eio_not_ebusy(mounts, sim):
    m = mounts(["wait=0", "retries=1"])
    old = snap_id(sim, "before-upgrade")
    assert "before-upgrade" in ls(m / WWW_DIR)
    # faults match in order: the confirming GET passes (a delay of 0), the DELETE is refused
    # 409, and the GET that asks whether the deletion is ours fails
    sim.fault(method="GET", path=old + "$", action="delay", seconds=0, times=1)
    sim.fault(method="DELETE", path=old + "$", action="status", status=409, times=1)
    sim.fault(method="GET", path=old + "$", action="status", status=500, times=-1)
    sim.clear_log()
    assert fsop("rmdir", m / WWW_DIR / "before-upgrade") == "EIO"
    assert [c[0] for c in sim.calls()] == ["GET", "DELETE", "GET"]


def test_rmdir_of_a_creating_snapshot_whose_get_hangs_is_etimedout(mounts, sim):
    m, new = creating(mounts, sim, ["retries=1", "timeout=2"])
    sim.fault(method="GET", path=new + "$", action="hang", seconds=30, times=-1)
    sim.clear_log()
    assert fsop("rmdir", m / WWW_DIR / "nightly") == "ETIMEDOUT"
    assert sim.calls(method="DELETE") == []
