"""mkdir, rmdir and mv on .snapshots: one API call each, and what the user sees.

- A PUT the API answers with null (the client's code says it may; Terraform's provider never
  reads the answer) was carried out: mv succeeds without a second GET and without an error
  line (simulator option put_reply_null).
- Changes to one share are serialized by a lock of that share alone: a mkdir in one share
  never waits through a slow POST in another, even when their ids fell into one of the 64
  stripes the locks used to be (db's id is chosen so).
"""

import json
import os
import subprocess
import time

from conftest import DB, PYTHON, SVC, WWW, _FSOP, fscall, fsop, ls, run

SNAPS = "/storage/netapp/%s/share/%s/snapshot" % (SVC, WWW)
WWW_DIR = "efs-prod/www/.snapshots"


def posts(sim):
    return sim.calls("POST")


def test_mkdir_creates_one_snapshot_listed_at_once(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.clear_log()
    res = run(["mkdir", str(mnt / WWW_DIR / "nightly")])
    assert res.returncode == 0, res.stderr
    assert posts(sim) == [("POST", SNAPS)]
    body = [r["body"] for r in sim.log() if r["method"] == "POST"][0]
    assert json.loads(body) == {"name": "nightly"}
    assert "nightly" in ls(mnt / WWW_DIR)
    made = [s for s in sim.snapshots() if s["name"] == "nightly"]
    assert len(made) == 1 and made[0]["status"] == "available"
    info = json.loads((mnt / WWW_DIR / "nightly/info.json").read_text())
    assert info["id"] == made[0]["id"] and info["status"] == "available"
    # It waited by polling the new snapshot, and listed nothing again.
    assert sim.calls("GET", suffix=made[0]["id"])
    assert not sim.calls("GET", suffix="/snapshot")


def test_mkdir_with_wait_0_returns_while_creating(mounts, sim):
    sim.config(create_delay=30)
    m = mounts(["wait=0"])
    assert run(["mkdir", str(m / WWW_DIR / "quick")], timeout=10).returncode == 0
    info = json.loads((m / WWW_DIR / "quick/info.json").read_text())
    assert info["status"] == "creating"
    assert not sim.calls("GET", suffix=info["id"])


def test_mkdir_sends_the_description_option(mounts, sim):
    m = mounts(["description=made by cron"])
    assert run(["mkdir", str(m / WWW_DIR / "described")]).returncode == 0
    body = [r["body"] for r in sim.log() if r["method"] == "POST"][0]
    assert json.loads(body) == {"name": "described", "description": "made by cron"}


def test_mkdir_unicode_name(mnt, sim):
    name = "sauvegarde-été-日本"
    assert run(["mkdir", str(mnt / WWW_DIR / name)]).returncode == 0
    assert name in ls(mnt / WWW_DIR)
    assert [s for s in sim.snapshots() if s["name"] == name]


def test_mkdir_255_byte_name(mnt, sim):
    name = "é" * 127 + "x"  # 255 bytes
    assert fsop("mkdir", mnt / WWW_DIR / name) == "0"
    assert name in os.listdir(mnt / WWW_DIR)


def test_mkdir_existing_name_is_eexist_without_post(mnt, sim):
    assert fsop("mkdir", mnt / WWW_DIR / "before-upgrade") == "EEXIST"
    assert fsop("mkdir", mnt / WWW_DIR / "dup") == "EEXIST"  # two share it: listed by id
    assert posts(sim) == []


def test_mkdir_outside_snapshots_dir_is_refused_without_call(mnt, sim):
    for rel in ["new", "efs-prod/new", "efs-prod/www/new",
                WWW_DIR + "/before-upgrade/new"]:
        assert fsop("mkdir", mnt / rel) in ("EPERM", "EACCES"), rel
    assert posts(sim) == []


def test_mkdir_bad_names_are_refused_without_call(mnt, sim):
    d = mnt / WWW_DIR
    assert fsop("mkdir", str(d / "x") + "y" * 255) == "ENAMETOOLONG"
    assert fsop("mkdir", d / "tab\there") == "EINVAL"
    assert fsop("mkdir", d / "new\nline") == "EINVAL"
    assert fsop("mkdir", d / "del\x7f") == "EINVAL"
    assert fsop("mkdir", os.fsencode(d) + b"/bad\xff\xfe") == "EILSEQ"
    assert fsop("mkdir", os.fsencode(d) + b"/overlong\xc0\xaf") == "EILSEQ"
    assert fsop("mkdir", d / "info.json") == "EINVAL"
    assert fsop("mkdir", d / ".snapshots") == "EINVAL"
    assert posts(sim) == []


def test_mkdir_that_ends_in_error_is_eio(mnt, sim):
    # Creation that fails on the API side: the snapshot lands in status error.
    sim.fault(method="GET", path=r"/snapshot/[0-9a-f-]+$", action="status", status=404,
              times=-1)
    assert fsop("mkdir", mnt / WWW_DIR / "vanishing") == "EIO"
    assert "vanished" in mnt.log()


def test_rmdir_deletes_with_one_delete_and_waits_until_gone(mnt, sim):
    target = next(s for s in sim.snapshots() if s["name"] == "before-upgrade")
    sim.clear_log()
    t0 = time.time()
    assert run(["rmdir", str(mnt / WWW_DIR / "before-upgrade")]).returncode == 0
    assert time.time() - t0 >= 0.3  # the simulator's delete delay
    assert sim.calls("DELETE") == [("DELETE", SNAPS + "/" + target["id"])]
    assert "before-upgrade" not in ls(mnt / WWW_DIR)
    assert target["id"] not in [s["id"] for s in sim.snapshots()]
    assert fsop("stat", mnt / WWW_DIR / target["id"]) == "ENOENT"


def test_rmdir_by_id(mnt, sim):
    target = next(s for s in sim.snapshots() if s["name"] is None)
    assert fsop("rmdir", mnt / WWW_DIR / target["id"]) == "0"
    assert len(sim.calls("DELETE")) == 1


def test_rmdir_missing_is_enoent_without_call(mnt, sim):
    assert fsop("rmdir", mnt / WWW_DIR / "nope") == "ENOENT"
    assert sim.calls("DELETE") == []


def test_rmdir_that_ends_in_error_deleting_is_eio(mnt, sim):
    sim.config(delete_fails=True)
    assert fsop("rmdir", mnt / WWW_DIR / "before-upgrade") == "EIO"
    assert "error_deleting" in mnt.log()
    # The snapshot is still there, and shown again.
    assert "before-upgrade" in ls(mnt / WWW_DIR)


def test_rmdir_of_other_directories_is_refused(mnt, sim):
    for rel in ["efs-prod", "efs-prod/www", WWW_DIR]:
        assert fsop("rmdir", mnt / rel) in ("EPERM", "EACCES", "EBUSY"), rel
    assert sim.calls("DELETE") == []


def test_mv_renames_with_one_put(mnt, sim):
    target = next(s for s in sim.snapshots() if s["name"] == "before-upgrade")
    sim.clear_log()
    res = run(["mv", str(mnt / WWW_DIR / "before-upgrade"), str(mnt / WWW_DIR / "golden")])
    assert res.returncode == 0, res.stderr
    assert sim.calls("PUT") == [("PUT", SNAPS + "/" + target["id"])]
    body = [r["body"] for r in sim.log() if r["method"] == "PUT"][0]
    # Both fields of the schema's update model: the description as it was, not left out.
    assert json.loads(body) == {"name": "golden", "description": target["description"]}
    listed = ls(mnt / WWW_DIR)
    assert "golden" in listed and "before-upgrade" not in listed
    assert json.loads((mnt / WWW_DIR / "golden/info.json").read_text())["name"] == "golden"


def test_rename_out_of_its_snapshots_is_einval_without_call(mnt, sim):
    src = mnt / WWW_DIR / "before-upgrade"
    assert fsop("rename", src, mnt / "efs-prod/db/.snapshots/moved") == "EINVAL"
    assert fsop("rename", src, mnt / "efs-prod/moved") == "EINVAL"
    assert fsop("rename", src, mnt / WWW_DIR / "daily-2026-11-25/moved") == "EINVAL"
    assert sim.calls("PUT") == [] and sim.calls("POST") == []


def test_mv_to_another_share_fails_without_copying(mnt, sim):
    """GNU mv falls back to a copy on EXDEV (whose mkdir would make a snapshot): not on EINVAL."""
    sim.clear_log()
    res = run(["mv", str(mnt / WWW_DIR / "before-upgrade"),
               str(mnt / "efs-prod/db/.snapshots/before-upgrade")])
    assert res.returncode != 0
    assert sim.calls("POST") == [] and sim.calls("PUT") == [] and sim.calls("DELETE") == []
    assert "before-upgrade" in ls(mnt / WWW_DIR)
    assert "before-upgrade" not in ls(mnt / "efs-prod/db/.snapshots")
    assert [s["name"] for s in sim.snapshots(share=DB)].count("before-upgrade") == 0


def test_rename_onto_an_existing_name_is_eexist(mnt, sim):
    assert fsop("rename", mnt / WWW_DIR / "before-upgrade",
                mnt / WWW_DIR / "daily-2026-11-25") == "EEXIST"
    assert sim.calls("PUT") == []


def test_rename_to_a_bad_name_is_refused(mnt, sim):
    src = mnt / WWW_DIR / "before-upgrade"
    assert fsop("rename", src, mnt / WWW_DIR / "a\tb") == "EINVAL"
    assert fsop("rename", src, os.fsencode(mnt / WWW_DIR) + b"/\xff") == "EILSEQ"
    assert sim.calls("PUT") == []


def test_read_only_mount_refuses_changes_with_erofs(mounts, sim):
    m = mounts(["ro"])
    assert fsop("mkdir", m / WWW_DIR / "new") == "EROFS"
    assert fsop("rmdir", m / WWW_DIR / "before-upgrade") == "EROFS"
    assert fsop("rename", m / WWW_DIR / "before-upgrade", m / WWW_DIR / "x") == "EROFS"
    assert fsop("create", m / WWW_DIR / "f") == "EROFS"
    assert sim.calls("POST") == [] and sim.calls("PUT") == [] and sim.calls("DELETE") == []
    assert ls(m / WWW_DIR)
    assert "ro" in mount_options(m)


def mount_options(m):
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[1] == str(m.path):
                return fields[3].split(",")
    return []


def test_busy_snapshot_is_ebusy(mounts, sim):
    sim.config(create_delay=30)
    m = mounts(["wait=0"])
    assert fsop("mkdir", m / WWW_DIR / "slow") == "0"
    assert fsop("rmdir", m / WWW_DIR / "slow") == "EBUSY"
    assert fsop("rename", m / WWW_DIR / "slow", m / WWW_DIR / "slower") == "EBUSY"
    assert sim.calls("DELETE") == [] and sim.calls("PUT") == []


def test_other_share_changes_do_not_touch_www(mnt, sim):
    assert fsop("mkdir", mnt / "efs-prod/db/.snapshots/dbsnap") == "0"
    assert [c for c in sim.calls("POST")] == [
        ("POST", "/storage/netapp/%s/share/%s/snapshot" % (SVC, DB))]


def test_mkdir_after_a_lost_reply_still_waits_until_available(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.fault(method="POST", path=r"/snapshot$", action="lost_reply")  # answer: none at all
    assert fsop("mkdir", mnt / WWW_DIR / "quiet") == "0"
    made = [s for s in sim.snapshots() if s["name"] == "quiet"]
    assert len(made) == 1 and made[0]["status"] == "available"
    info = json.loads((mnt / WWW_DIR / "quiet/info.json").read_text())
    assert info["status"] == "available"


def test_a_listing_our_mkdir_changed_is_trusted_for_cache_ttl_from_the_change(mounts, sim):
    # A refresh right after a mkdir could come from an API that has not caught up and drop
    # the new snapshot: the changed listing counts as fetched when the change was made.
    m = mounts(["cache_ttl=3"])
    d = m / WWW_DIR
    t0 = time.monotonic()
    ls(d)
    time.sleep(1.5)
    assert run(["mkdir", str(d / "fresh")]).returncode == 0
    sim.clear_log()
    time.sleep(max(0.0, t0 + 3.5 - time.monotonic()))  # the first listing has expired
    assert "fresh" in ls(d)
    assert sim.calls("GET", contains="/snapshot") == []  # no reload until 3 s after mkdir


# ---- a PUT answered with null ----

def snap_id(sim, name):
    return next(s["id"] for s in sim.snapshots() if s["name"] == name)


def error_lines(m):
    return [line for line in m.log().splitlines() if "error" in line.lower()]


def test_mv_answered_null_succeeds_with_one_put_and_no_get(mnt, sim):
    old = snap_id(sim, "before-upgrade")
    assert "before-upgrade" in ls(mnt / WWW_DIR)
    sim.config(put_reply_null=True)
    sim.clear_log()
    assert fsop("rename", mnt / WWW_DIR / "before-upgrade", mnt / WWW_DIR / "kept") == "0"
    # the confirming GET, the PUT, and nothing after it
    assert sim.calls() == [("GET", SNAPS + "/" + old), ("PUT", SNAPS + "/" + old)]
    listed = ls(mnt / WWW_DIR)
    assert "kept" in listed and "before-upgrade" not in listed
    info = json.loads(fscall("read", mnt / WWW_DIR / "kept" / "info.json").decode())
    assert info["id"] == old and info["name"] == "kept"
    assert error_lines(mnt) == []


# ---- one lock a share ----

def djb2_stripe(text):
    h = 5381
    for c in text.encode():
        h = (h * 33 + c) & 0xFFFFFFFF
    return h % 64


# A share id in the stripe of www's: the old striped locks made their changes wait for each other.
DB_SAME_STRIPE = "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0002"


def test_mkdir_in_one_share_never_waits_for_a_slow_post_in_another(mounts, sim):
    assert djb2_stripe(DB_SAME_STRIPE) == djb2_stripe(WWW) and DB_SAME_STRIPE != DB
    services = sim.state()
    for svc in services:
        for share in svc["shares"]:
            if share["id"] == DB:
                share["id"] = DB_SAME_STRIPE
                for ap in share.get("accessPaths") or []:
                    ap["path"] = ap["path"].replace(DB, DB_SAME_STRIPE)
    sim.seed(services)
    m = mounts(["wait=0"])
    ls(m / WWW_DIR)
    ls(m / "efs-prod/db/.snapshots")
    sim.fault(method="POST", path=WWW + "/snapshot$", action="delay", seconds=6, times=1)
    slow = subprocess.Popen([PYTHON, "-c", _FSOP, "mkdir", json.dumps([str(m / WWW_DIR / "slow")])],
                            stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while sim.admin("GET", "faults")["faults"]:  # the slow POST has arrived
            assert time.time() < deadline and slow.poll() is None
            time.sleep(0.05)
        assert fsop("mkdir", m / "efs-prod/db/.snapshots/quick") == "0"
        assert slow.poll() is None  # www's POST is still under way
        assert [s["name"] for s in sim.snapshots(share=DB_SAME_STRIPE)].count("quick") == 1
        out, _ = slow.communicate(timeout=30)
        assert out.rsplit("ERRNO ", 1)[1].strip() == "0"
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait()


def rename_once_available(sim, name, new, done):
    """Another host: renames the new snapshot as soon as the API says it is available."""
    deadline = time.time() + 20
    while time.time() < deadline:
        services = sim.state()
        for svc in services:
            for share in svc["shares"]:
                for snap in share["snapshots"]:
                    if snap["name"] == name and snap["status"] == "available":
                        snap["name"] = new
                        sim.seed(services)
                        done.append(snap["id"])
                        return
        time.sleep(0.02)


def test_mkdir_of_a_snapshot_renamed_by_another_host_before_it_returns_succeeds(mounts, sim):
    """The snapshot became available and another host renamed it before the mount's next
    poll: mkdir made it, so it answers 0 (not ENOENT from libfuse's lookup of the typed
    name, which a retrying script would answer with a second snapshot). The typed name
    leads to the snapshot for a while, which shows its current name."""
    import threading
    sim.config(create_delay=1)
    m = mounts()
    ls(m / WWW_DIR)
    sim.fault(method="GET", path=r"/snapshot/[^/]+$", action="delay", seconds=1.5, times=-1)  # past create_delay
    renamed = []
    other = threading.Thread(target=rename_once_available, args=(sim, "racy", "renamed", renamed))
    other.start()
    try:
        assert fsop("mkdir", m / WWW_DIR / "racy") == "0"
    finally:
        other.join()
    assert renamed, "the other host never saw the snapshot available"
    assert [s["id"] for s in sim.snapshots() if s["name"] == "renamed"] == renamed
    assert len(posts(sim)) == 1
    info = json.loads((m / WWW_DIR / "racy/info.json").read_text())
    assert info["id"] == renamed[0] and info["name"] == "renamed"
    listing = ls(m / WWW_DIR)
    assert "renamed" in listing and "racy" not in listing


def test_a_name_this_mount_renamed_or_deleted_away_is_free_for_mkdir_at_once(mnt, sim):
    """The typed name a mkdir keeps leading to its snapshot is for another host's rename only:
    once this mount renames the snapshot (mv) or deletes it (rmdir), the name is free again,
    and a mkdir of it makes a new snapshot instead of answering EEXIST."""
    d = mnt / WWW_DIR
    assert fsop("mkdir", d / "nightly") == "0"
    assert fsop("rename", d / "nightly", d / "kept") == "0"
    sim.clear_log()
    assert fsop("mkdir", d / "nightly") == "0"
    assert len(posts(sim)) == 1
    kept, nightly = (json.loads((d / n / "info.json").read_text()) for n in ("kept", "nightly"))
    assert kept["id"] != nightly["id"] and nightly["name"] == "nightly"
    assert fsop("rmdir", d / "nightly") == "0"
    assert fsop("mkdir", d / "nightly") == "0"
    assert sorted(n for n in ls(d) if n in ("kept", "nightly")) == ["kept", "nightly"]


def test_mkdir_of_an_existing_id_in_upper_case_is_eexist_and_names_it(mnt, sim):
    """Ids are UUIDs, which the API matches in any case (tests/sim: ids case-insensitive): an
    existing id typed in upper case names that snapshot, so mkdir makes none of that name."""
    snap = [s for s in sim.snapshots() if s["name"] == "before-upgrade"][0]
    upper = snap["id"].upper()
    sim.clear_log()
    assert fsop("mkdir", mnt / WWW_DIR / upper) == "EEXIST"
    assert posts(sim) == []
    info = json.loads((mnt / WWW_DIR / upper / "info.json").read_text())
    assert info["id"] == snap["id"]
