"""Extended attributes: user.ovh.* read from the cache, description and hold set by setfattr.

A PUT the API answers with null (the client's code says it may; Terraform's provider never
reads the answer) was carried out: setfattr succeeds without a second GET and without an
error line (simulator option put_reply_null).
"""

import errno
import json
import os
import time

from conftest import DB, SVC, WWW, fscall, fsop, ls, run

SNAPS = "/storage/netapp/%s/share/%s/snapshot" % (SVC, WWW)
WWW_DIR = "efs-prod/www/.snapshots"
AUTO = "2f6d9c3b-8e1a-4b75-a0d4-010100000002"  # www daily-2026-11-25, automatic
MANUAL = "2f6d9c3b-8e1a-4b75-a0d4-010100000003"  # www before-upgrade, manual
NAMELESS = "2f6d9c3b-8e1a-4b75-a0d4-010100000004"  # www, name null, listed by id
SYSTEM = "2f6d9c3b-8e1a-4b75-a0d4-010200000003"  # db system-2026-11-26

SNAPSHOT_ATTRS = {"id": "id", "name": "name", "status": "status", "type": "type",
                  "description": "description", "created": "createdAt", "path": "path"}
DIR_ATTRS = {"id": "id", "name": "name", "status": "status"}


def getfattr_dump(path):
    """getfattr -d -e hex: every user.* attribute listed, with its exact bytes."""
    res = run(["getfattr", "--absolute-names", "-d", "-e", "hex", str(path)])
    assert res.returncode == 0, res.stderr
    out = {}
    for line in res.stdout.splitlines():
        if line.startswith("user."):
            name, _, value = line.partition("=")
            out[name] = bytes.fromhex(value[2:]).decode() if value else ""
    return out


def getfattr(path, name):
    """One attribute's value (str), or the error text getfattr printed."""
    res = run(["getfattr", "--absolute-names", "--only-values", "-n", name, str(path)])
    return res.stdout if res.returncode == 0 else res.stderr


def setfattr(*args):
    """setfattr ARGS; the errno name it failed with ('0' on success)."""
    res = run(["setfattr"] + [str(a) for a in args])
    if res.returncode == 0:
        return "0"
    for code in ("EPERM", "EROFS", "EINVAL", "EILSEQ", "ENAMETOOLONG", "ENODATA", "EEXIST",
                 "ENOENT", "EIO", "EBUSY"):
        if os.strerror(getattr(errno, code)) in res.stderr:
            return code
    if "No such attribute" in res.stderr:
        return "ENODATA"
    return res.stderr


def expected(obj, table):
    return {"user.ovh." + attr: obj[field] for attr, field in table.items()
            if obj.get(field) is not None}


def api_snapshot(sim, snap_id, share=WWW):
    return [s for s in sim.snapshots(share=share) if s["id"] == snap_id][0]


def test_every_attribute_matches_the_api_object_and_costs_no_call(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.clear_log()
    snaps = sim.snapshots()
    by_id = {s["id"]: s for s in snaps}
    for name in ls(mnt / WWW_DIR):
        attrs = getfattr_dump(mnt / WWW_DIR / name)
        obj = by_id[attrs["user.ovh.id"]]
        assert attrs == expected(obj, SNAPSHOT_ATTRS), name
    state = sim.state()
    svc = [s for s in state if s["id"] == SVC][0]
    share = [s for s in svc["shares"] if s["id"] == WWW][0]
    assert getfattr_dump(mnt / "efs-prod") == expected(svc, DIR_ATTRS)
    assert sim.calls() == []
    # A share's snapshot settings are the exception: one GET each (test_settings.py).
    assert getfattr_dump(mnt / "efs-prod/www") == dict(
        expected(share, DIR_ATTRS), **{"user.ovh.snapshot_reserve": "5",
                                       "user.ovh.snapshot_policy": "default"})
    base = "/storage/netapp/%s" % SVC
    assert sorted(sim.calls()) == sorted([
        ("GET", "%s/share/%s/snapshotReserve" % (base, WWW)),
        ("GET", "%s/share/%s/snapshotPolicy" % (base, WWW)), ("GET", base + "/snapshotPolicy")])


def test_listxattr_lists_only_the_attributes_with_a_value(mnt, sim):
    nameless = sorted(fscall("listxattr", mnt / WWW_DIR / NAMELESS))
    assert "user.ovh.name" not in nameless and "user.ovh.description" in nameless
    auto = fscall("listxattr", mnt / WWW_DIR / "daily-2026-11-25")
    assert "user.ovh.description" not in auto  # null in the API
    assert sorted(auto) == sorted(["user.ovh.id", "user.ovh.name", "user.ovh.status",
                                   "user.ovh.type", "user.ovh.created", "user.ovh.path"])
    for path in ("", "efs-prod/www/.snapshots", "efs-prod/www/info.json",
                 WWW_DIR + "/before-upgrade/info.json"):
        assert fscall("listxattr", mnt / path) == [], path


def test_unknown_names_are_enodata(mnt, sim):
    snap = mnt / WWW_DIR / "before-upgrade"
    for name in ("user.ovh.nope", "user.ovh.hold", "user.other", "security.selinux"):
        assert "No such attribute" in getfattr(snap, name), name
    assert "No such attribute" in getfattr(mnt / "efs-prod", "user.ovh.type")
    assert "No such attribute" in getfattr(mnt / "efs-prod/www/.snapshots", "user.ovh.id")


def test_unicode_description_is_exact(mnt, sim):
    value = getfattr(mnt / "efs-prod/db/.snapshots/pre-migration", "user.ovh.description")
    assert value == "schema v42 \u2192 v43"


def test_description_set_then_removed_one_put_each(mnt, sim):
    snap = mnt / WWW_DIR / "before-upgrade"
    info = snap / "info.json"
    json.loads(fscall("read", info).decode())
    sim.clear_log()
    assert setfattr("-n", "user.ovh.description", "-v", "kept for the audit", snap) == "0"
    puts = [r for r in sim.log() if r["method"] == "PUT"]
    assert [(r["path"], json.loads(r["body"])) for r in puts] == [
        ("/1.0%s/%s" % (SNAPS, MANUAL),
         {"name": "before-upgrade", "description": "kept for the audit"})]  # both fields
    # one GET first: the snapshot still has the name typed (another host may have renamed it)
    assert sim.calls() == [("GET", "%s/%s" % (SNAPS, MANUAL)), ("PUT", "%s/%s" % (SNAPS, MANUAL))]
    assert api_snapshot(sim, MANUAL)["description"] == "kept for the audit"
    assert getfattr(snap, "user.ovh.description") == "kept for the audit"
    assert json.loads(fscall("read", info).decode())["description"] == "kept for the audit"
    assert fscall("stat", info).st_size == len(fscall("read", info))  # the kernel was told

    sim.clear_log()
    assert setfattr("-x", "user.ovh.description", snap) == "0"
    assert [(r["method"], json.loads(r["body"] or "null")) for r in sim.log()] == [
        ("GET", None), ("PUT", {"name": "before-upgrade", "description": None})]
    assert api_snapshot(sim, MANUAL)["description"] is None
    assert "No such attribute" in getfattr(snap, "user.ovh.description")
    assert "user.ovh.description" not in fscall("listxattr", snap)
    assert json.loads(fscall("read", info).decode())["description"] is None
    assert fscall("stat", info).st_size == len(fscall("read", info))
    # Nothing left to remove: ENODATA, no call.
    sim.clear_log()
    assert setfattr("-x", "user.ovh.description", snap) == "ENODATA"
    assert sim.calls() == []


def test_description_unicode_and_255_bytes(mnt, sim):
    snap = mnt / WWW_DIR / "before-upgrade"
    text = "\u00e9" * 127 + "x"  # 255 bytes
    assert setfattr("-n", "user.ovh.description", "-v", text, snap) == "0"
    assert api_snapshot(sim, MANUAL)["description"] == text
    assert getfattr(snap, "user.ovh.description") == text


def test_bad_descriptions_are_refused_without_a_call(mnt, sim):
    snap = mnt / WWW_DIR / "before-upgrade"
    ls(mnt / WWW_DIR)
    sim.clear_log()
    assert setfattr("-n", "user.ovh.description", "-v", "0x41ff42", snap) == "EILSEQ"
    assert setfattr("-n", "user.ovh.description", "-v", "0x410a42", snap) == "EINVAL"
    assert setfattr("-n", "user.ovh.description", "-v", "0x410042", snap) == "EINVAL"
    assert setfattr("-n", "user.ovh.description", "-v", "x" * 256, snap) == "ENAMETOOLONG"
    assert sim.calls() == []
    assert api_snapshot(sim, MANUAL)["description"] == "before the nginx upgrade"


def test_other_names_and_places_are_eperm_without_a_call(mnt, sim):
    snap = mnt / WWW_DIR / "before-upgrade"
    ls(mnt / WWW_DIR)
    sim.clear_log()
    for name in ("user.ovh.id", "user.ovh.name", "user.ovh.type", "user.other"):
        assert setfattr("-n", name, "-v", "x", snap) == "EPERM", name
        assert setfattr("-x", name, snap) == "EPERM", name
    assert setfattr("-n", "user.ovh.description", "-v", "x", mnt / "efs-prod/www") == "EPERM"
    assert setfattr("-n", "user.ovh.description", "-v", "x", mnt / "efs-prod") == "EPERM"
    assert setfattr("-n", "user.ovh.description", "-v", "x", snap / "info.json") == "EPERM"
    assert setfattr("-n", "user.ovh.hold", "-v", "2", mnt / WWW_DIR / AUTO) == "EINVAL"
    assert sim.calls() == []
    res = run(["chmod", "700", str(snap)])
    assert res.returncode != 0 and os.strerror(errno.EPERM) in res.stderr


def test_read_only_mount_reads_attributes_and_refuses_changes(mounts, sim):
    m = mounts(["ro"])
    snap = m / WWW_DIR / "before-upgrade"
    assert getfattr(snap, "user.ovh.id") == MANUAL
    sim.clear_log()
    assert setfattr("-n", "user.ovh.description", "-v", "x", snap) == "EROFS"
    assert setfattr("-x", "user.ovh.description", snap) == "EROFS"
    assert setfattr("-n", "user.ovh.hold", "-v", "1", m / WWW_DIR / "daily-2026-11-25") == \
        "EROFS"
    assert setfattr("-n", "user.other", "-v", "x", snap) == "EROFS"
    assert sim.calls() == []


# ---- hold ----

def test_hold_of_an_automatic_snapshot_keeps_its_name_under_a_new_id(mnt, sim):
    snap = mnt / WWW_DIR / "daily-2026-11-25"
    before = api_snapshot(sim, AUTO)
    assert getfattr(snap, "user.ovh.type") == "automatic"
    fscall("stat", mnt / WWW_DIR / AUTO)  # the kernel now knows the old id too
    json.loads(fscall("read", snap / "info.json").decode())
    sim.clear_log()
    assert setfattr("-n", "user.ovh.hold", "-v", "1", snap) == "0"
    confirmed = [("GET", "%s/%s" % (SNAPS, AUTO)), ("POST", "%s/%s/hold" % (SNAPS, AUTO))]
    assert sim.calls() == confirmed  # the GET: it still has the name typed
    assert sim.log()[1]["body"] == ""
    # A POST without a body says so, as python-ovh sends it: Content-Length 0, no Content-Type.
    headers = {k.lower(): v for k, v in sim.log()[1]["headers"].items()}
    assert headers.get("content-length") == "0" and "content-type" not in headers, headers
    held = [s for s in sim.snapshots() if s["name"] == "daily-2026-11-25"]
    assert len(held) == 1 and held[0]["id"] != AUTO and held[0]["type"] == "manual"
    assert held[0]["createdAt"] == before["createdAt"]
    # Same directory name, the new id and type, at once and without another call.
    assert "daily-2026-11-25" in ls(mnt / WWW_DIR)
    assert getfattr(snap, "user.ovh.id") == held[0]["id"]
    assert getfattr(snap, "user.ovh.type") == "manual"
    assert json.loads(fscall("read", snap / "info.json").decode())["id"] == held[0]["id"]
    assert fsop("stat", mnt / WWW_DIR / AUTO) == "ENOENT"
    assert getfattr(mnt / WWW_DIR / held[0]["id"], "user.ovh.name") == "daily-2026-11-25"
    assert sim.calls() == confirmed


def test_hold_of_a_manual_or_system_snapshot_is_einval_without_a_call(mnt, sim):
    ls(mnt / WWW_DIR)
    ls(mnt / "efs-prod/db/.snapshots")
    sim.clear_log()
    assert setfattr("-n", "user.ovh.hold", "-v", "1", mnt / WWW_DIR / "before-upgrade") == \
        "EINVAL"
    assert setfattr("-n", "user.ovh.hold", "-v", "1",
                    mnt / "efs-prod/db/.snapshots/system-2026-11-26") == "EINVAL"
    assert sim.calls() == []
    assert api_snapshot(sim, SYSTEM, share=DB)["type"] == "system"


def test_a_hold_whose_reply_was_lost_drops_the_listing_and_is_never_sent_again(mounts, sim):
    """timeout=1: the API carries the hold out at 3 s, after the client gave up on it.

    The setfattr fails (EIO) without a second POST; the share's listing is dropped, so
    the next ls shows the held copy, not the automatic one the API no longer has."""
    m = mounts(["timeout=1"])
    snap = m / WWW_DIR / "daily-2026-11-25"
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/hold$", action="late", seconds=3)
    assert setfattr("-n", "user.ovh.hold", "-v", "1", snap) == "EIO"
    deadline = time.time() + 8
    auto = lambda: [s for s in sim.snapshots() if s["id"] == AUTO]
    while auto() and time.time() < deadline:
        time.sleep(0.1)
    assert not auto()  # the late hold was carried out
    held = [s for s in sim.snapshots() if s["name"] == "daily-2026-11-25"]
    assert len(held) == 1 and held[0]["id"] != AUTO
    assert "daily-2026-11-25" in ls(m / WWW_DIR)
    assert getfattr(snap, "user.ovh.id") == held[0]["id"]
    assert getfattr(snap, "user.ovh.type") == "manual"
    assert sim.calls("POST") == [("POST", "%s/%s/hold" % (SNAPS, AUTO))]


def test_hold_waits_for_the_held_copy_like_mkdir(mnt, sim):
    sim.config(hold_delay=0.5)
    snap = mnt / WWW_DIR / "daily-2026-11-25"
    ls(mnt / WWW_DIR)
    sim.clear_log()
    assert setfattr("-n", "user.ovh.hold", "-v", "1", snap) == "0"
    new_id = getfattr(snap, "user.ovh.id")
    assert new_id != AUTO
    assert getfattr(snap, "user.ovh.status") == "available"
    polls = sim.calls("GET", suffix=new_id)
    assert polls and sim.calls("POST") == [("POST", "%s/%s/hold" % (SNAPS, AUTO))]


def test_hold_with_wait_0_returns_while_manage_starting(mounts, sim):
    sim.config(hold_delay=30)  # the held copy passes through manage_starting
    m = mounts(["wait=0"])
    snap = m / WWW_DIR / "daily-2026-11-25"
    assert setfattr("-n", "user.ovh.hold", "-v", "1", snap) == "0"
    assert getfattr(snap, "user.ovh.status") == "manage_starting"
    assert not sim.calls("GET", suffix=getfattr(snap, "user.ovh.id"))


# ---- a cached creating status is asked once before EBUSY, as for rmdir and mv ----

def test_description_after_wait0_asks_once_before_refusing_a_creating_snapshot(mounts, sim):
    sim.config(create_delay=1.0)
    m = mounts(["wait=0"])
    ls(m / WWW_DIR)
    assert fsop("mkdir", m / WWW_DIR / "fresh") == "0"
    snap = [s for s in sim.snapshots() if s["name"] == "fresh"][0]
    assert snap["status"] == "creating"
    sim.clear_log()
    fresh = m / WWW_DIR / "fresh"
    assert setfattr("-n", "user.ovh.description", "-v", "soon", fresh) == "EBUSY"
    assert sim.calls() == [("GET", "%s/%s" % (SNAPS, snap["id"]))]  # still creating: one GET
    time.sleep(1.2)  # available in the API now; the cache still says creating
    sim.clear_log()
    assert setfattr("-n", "user.ovh.description", "-v", "soon", fresh) == "0"
    assert sim.calls() == [("GET", "%s/%s" % (SNAPS, snap["id"])),
                           ("PUT", "%s/%s" % (SNAPS, snap["id"]))]
    assert getfattr(fresh, "user.ovh.status") == "available"
    assert api_snapshot(sim, snap["id"])["description"] == "soon"


def seed_status(sim, snap_id, status):
    services = sim.state()
    for svc in services:
        for share in svc["shares"]:
            for s in share["snapshots"]:
                if s["id"] == snap_id:
                    s["status"] = status
    sim.seed(services)


def test_hold_asks_once_before_refusing_a_cached_creating_snapshot(mounts, sim):
    seed_status(sim, AUTO, "creating")  # a policy's snapshot still being made
    m = mounts()
    snap = m / WWW_DIR / "daily-2026-11-25"
    assert getfattr(snap, "user.ovh.status") == "creating"
    sim.clear_log()
    assert setfattr("-n", "user.ovh.hold", "-v", "1", snap) == "EBUSY"
    assert sim.calls() == [("GET", "%s/%s" % (SNAPS, AUTO))]
    seed_status(sim, AUTO, "available")  # made now; the cache still says creating
    sim.clear_log()
    assert setfattr("-n", "user.ovh.hold", "-v", "1", snap) == "0"
    assert sim.calls()[:2] == [("GET", "%s/%s" % (SNAPS, AUTO)),
                               ("POST", "%s/%s/hold" % (SNAPS, AUTO))]
    assert getfattr(snap, "user.ovh.id") != AUTO


# ---- a PUT answered with null ----

def snap_id(sim, name):
    return next(s["id"] for s in sim.snapshots() if s["name"] == name)


def error_lines(m):
    return [line for line in m.log().splitlines() if "error" in line.lower()]


def test_description_answered_null_succeeds_with_one_put_and_no_get(mnt, sim):
    old = snap_id(sim, "before-upgrade")
    path = mnt / WWW_DIR / "before-upgrade"
    assert "before-upgrade" in ls(mnt / WWW_DIR)
    sim.config(put_reply_null=True)
    sim.clear_log()
    res = run(["setfattr", "-n", "user.ovh.description", "-v", "kept for the audit", str(path)])
    assert res.returncode == 0, res.stderr
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("PUT", SNAPS + "/" + old)]
    assert [s["description"] for s in sim.snapshots() if s["id"] == old] == [
        "kept for the audit"]
    info = json.loads(fscall("read", path / "info.json").decode())
    assert info["description"] == "kept for the audit"
    assert error_lines(mnt) == []
