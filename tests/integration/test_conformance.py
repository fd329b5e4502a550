"""What OVH's schema allows, and nothing the simulator happens to share with the client.

The schema's ten snapshot statuses, refusals worded in ways the client does not look for,
and the share and service statuses in which no snapshot can change.
"""

import json

from conftest import DB, SVC, WWW, fsop, ls, run

SNAPS = "/storage/netapp/%s/share/%s/snapshot" % (SVC, WWW)
WWW_DIR = "efs-prod/www/.snapshots"
MANUAL = "2f6d9c3b-8e1a-4b75-a0d4-010100000003"  # www before-upgrade, manual
AUTO = "2f6d9c3b-8e1a-4b75-a0d4-010100000002"  # www daily-2026-11-25, automatic
CHANGES = ("POST", "PUT", "DELETE")


def setfattr(*args):
    res = run(["setfattr"] + [str(a) for a in args])
    if res.returncode == 0:
        return "0"
    for code, text in (("EBUSY", "busy"), ("EIO", "Input/output"), ("EROFS", "Read-only")):
        if text in res.stderr:
            return code
    return res.stderr


def getfattr(path, name):
    res = run(["getfattr", "--absolute-names", "--only-values", "-n", name, str(path)])
    return res.stdout if res.returncode == 0 else res.stderr


def seed_with(sim, snap_status=None, share_status=None, service_status=None, snap_id=MANUAL):
    services = sim.state()
    for svc in services:
        if svc["id"] == SVC and service_status:
            svc["status"] = service_status
        for share in svc["shares"]:
            if share["id"] == WWW and share_status:
                share["status"] = share_status
            for s in share["snapshots"]:
                if s["id"] == snap_id and snap_status:
                    s["status"] = snap_status
    sim.seed(services)


def changes(sim):
    return [c for c in sim.calls() if c[0] in CHANGES]


# ---- the ten snapshot statuses ----

def test_hold_whose_copy_comes_back_manage_starting_waits_it_through(mnt, sim):
    sim.config(hold_delay=0.6)  # the simulator's held copy passes through manage_starting
    snap = mnt / WWW_DIR / "daily-2026-11-25"
    ls(mnt / WWW_DIR)
    assert setfattr("-n", "user.ovh.hold", "-v", "1", snap) == "0"
    new_id = getfattr(snap, "user.ovh.id")
    assert new_id != AUTO and getfattr(snap, "user.ovh.status") == "available"
    held = [r for r in sim.log() if r["method"] == "POST"]
    assert len(held) == 1 and held[0]["path"].endswith("/%s/hold" % AUTO)
    assert sim.calls("GET", suffix=new_id)  # polled while manage_starting
    assert "status other" not in mnt.log() and "status unknown" not in mnt.log()


def test_mkdir_waits_through_every_transitional_status(mnt, sim):
    ls(mnt / WWW_DIR)
    created = {"id": "2f6d9c3b-8e1a-4b75-a0d4-0000000000aa", "name": "fresh",
               "status": "restoring", "type": "manual"}
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=200, body=created)
    seed = sim.state()
    seed[0]["shares"][0]["snapshots"].append(dict(created, status="unmanage_starting"))
    sim.seed(seed)
    # restoring (the POST's answer), then unmanage_starting (polls): waited through,
    # until the snapshot shows available.
    import threading
    import time
    done = threading.Event()

    def settle():
        time.sleep(1.5)
        seed_with(sim, snap_status="available", snap_id=created["id"])
        done.set()
    threading.Thread(target=settle, daemon=True).start()
    assert fsop("mkdir", mnt / WWW_DIR / "fresh") == "0"
    assert done.is_set()
    assert len(sim.calls("GET", suffix=created["id"])) >= 2


def test_a_failure_status_is_eio_and_named_in_the_log(mnt, sim):
    ls(mnt / WWW_DIR)
    body = {"id": "2f6d9c3b-8e1a-4b75-a0d4-0000000000ab", "name": "broken",
            "status": "manage_error", "type": "manual"}
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=200, body=body)
    assert fsop("mkdir", mnt / WWW_DIR / "broken") == "EIO"
    assert "in status manage_error" in mnt.log()


def test_an_unknown_status_is_logged_by_its_text(mnt, sim):
    ls(mnt / WWW_DIR)
    body = {"id": "2f6d9c3b-8e1a-4b75-a0d4-0000000000ac", "name": "odd",
            "status": "hibernating", "type": "manual"}
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=200, body=body)
    assert fsop("mkdir", mnt / WWW_DIR / "odd") == "EIO"
    assert "in status hibernating" in mnt.log() and "status other" not in mnt.log()


def test_changes_of_a_snapshot_in_a_transitional_status_are_ebusy_after_one_get(mounts, sim):
    for status in ("manage_starting", "unmanage_starting", "restoring"):
        seed_with(sim, snap_status=status)
        m = mounts()
        d = m / WWW_DIR
        ls(d)
        one_get = [("GET", "%s/%s" % (SNAPS, MANUAL))]
        for op in ("rmdir", "rename", "description"):
            sim.clear_log()
            if op == "rmdir":
                rc = fsop("rmdir", d / "before-upgrade")
            elif op == "rename":
                rc = fsop("rename", d / "before-upgrade", d / "after")
            else:
                rc = setfattr("-n", "user.ovh.description", "-v", "x", d / "before-upgrade")
            assert (status, op, rc) == (status, op, "EBUSY")
            assert sim.calls() == one_get, (status, op)
        m.unmount()
        sim.reset()


# ---- refusals whose wording is undocumented ----

def seed_many(sim, counts):
    """The demo service with www and db holding counts[0] and counts[1] snapshots."""
    shares = []
    for share_id, n in zip((WWW, DB), counts):
        shares.append({"id": share_id, "name": "www" if share_id == WWW else "db",
                       "snapshots": [{"id": "2f6d9c3b-8e1a-4b75-%04d-%012d" % (n, i),
                                      "name": "s%03d" % i} for i in range(n)]})
    sim.seed([{"id": SVC, "name": "efs-prod", "shares": shares}])


def test_a_create_refused_at_200_in_the_share_is_edquot_whatever_its_wording(mounts, sim):
    seed_many(sim, [199, 0])
    m = mounts()
    assert len(ls(m / WWW_DIR)) == 199
    seed_many(sim, [200, 0])  # another host made the 200th; this cache still counts 199
    assert fsop("mkdir", m / WWW_DIR / "one-too-many") == "EDQUOT"
    assert len(sim.calls("POST")) == 1
    assert "documented limit" in m.log()


def test_a_create_refused_at_200_in_the_service_is_edquot(mounts, sim):
    seed_many(sim, [100, 100])  # each share below the limit, the service at it
    m = mounts()
    assert fsop("mkdir", m / WWW_DIR / "one-too-many") == "EDQUOT"
    assert len(sim.calls("POST")) == 1


def test_a_refusal_below_the_limit_stays_what_it_is(mounts, sim):
    sim.config(snapshot_limit=6)  # a lower quota than documented: the client cannot know
    m = mounts()
    assert fsop("mkdir", m / WWW_DIR / "seventh") == "EINVAL"


def test_a_delete_whose_reply_was_lost_is_decided_by_a_get_not_a_409(mnt, sim):
    sim.config(busy_status=400)  # the API refuses the re-sent DELETE otherwise than 409
    ls(mnt / WWW_DIR)
    sim.fault(method="DELETE", path=r"/snapshot/[^/]+$", action="lost_reply")
    assert fsop("rmdir", mnt / WWW_DIR / "before-upgrade") == "0"
    assert [r["status"] for r in sim.log() if r["method"] == "DELETE"][-1] == 400
    assert not [s for s in sim.snapshots() if s["name"] == "before-upgrade"]
    assert "before-upgrade" not in ls(mnt / WWW_DIR)


def test_a_delete_refused_for_another_reason_stays_refused(mnt, sim):
    sim.config(busy_status=400)
    ls(mnt / WWW_DIR)
    sim.fault(method="DELETE", path=r"/snapshot/[^/]+$", action="status", status=400)
    assert fsop("rmdir", mnt / WWW_DIR / "before-upgrade") == "EINVAL"
    assert "before-upgrade" in ls(mnt / WWW_DIR)


# ---- shares and services in which nothing can change ----

def no_change_possible(m, sim, expected):
    d = m / WWW_DIR
    assert "before-upgrade" in ls(d)
    sim.clear_log()
    assert fsop("mkdir", d / "new") == expected
    assert fsop("rmdir", d / "before-upgrade") == expected
    assert fsop("rename", d / "before-upgrade", d / "renamed") == expected
    assert setfattr("-n", "user.ovh.hold", "-v", "1", d / "daily-2026-11-25") == expected
    assert sim.calls() == []  # refused here: no API call at all


def test_a_reverting_share_refuses_changes_as_ebusy_without_a_call(mounts, sim):
    seed_with(sim, share_status="reverting")
    no_change_possible(mounts(), sim, "EBUSY")


def test_a_share_awaiting_replication_refuses_changes_as_ebusy(mounts, sim):
    seed_with(sim, share_status="awaiting_replication")
    no_change_possible(mounts(), sim, "EBUSY")


def test_a_deleted_share_refuses_changes_as_erofs(mounts, sim):
    seed_with(sim, share_status="deleted")
    no_change_possible(mounts(), sim, "EROFS")


def test_a_suspended_service_refuses_changes_as_erofs(mounts, sim):
    seed_with(sim, service_status="suspended")
    m = mounts()
    no_change_possible(m, sim, "EROFS")
    assert "service efs-prod is suspended" in m.log()


def test_a_suspending_service_refuses_changes_as_ebusy(mounts, sim):
    seed_with(sim, service_status="suspending")
    no_change_possible(mounts(), sim, "EBUSY")


def test_other_shares_still_change(mounts, sim):
    seed_with(sim, share_status="reverting")
    m = mounts()
    ls(m / "efs-prod/db/.snapshots")
    assert fsop("mkdir", m / "efs-prod/db/.snapshots/fine") == "0"
    assert json.loads((m / "efs-prod/db/.snapshots/fine/info.json").read_text())["name"] == "fine"
