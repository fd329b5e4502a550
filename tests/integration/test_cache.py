"""What the cache saves: API calls counted in the simulator's request log."""

import os
import signal
import time

from conftest import SVC, WWW, fsop, ls, run

SNAP_LIST = "/storage/netapp/%s/share/%s/snapshot?detail=true" % (SVC, WWW)
WWW_DIR = "efs-prod/www/.snapshots"


def test_ten_listings_within_ttl_cost_one_call(mnt, sim):
    for _ in range(10):
        assert run(["ls", "-l", str(mnt / WWW_DIR)]).returncode == 0
    assert sim.calls("GET", contains="/snapshot") == [("GET", SNAP_LIST)]


def test_mounting_costs_auth_time_and_one_service_listing(mnt, sim):
    assert sim.calls() == [("GET", "/auth/time"), ("GET", "/storage/netapp")]


def test_lookups_of_missing_names_cost_no_call(mnt, sim):
    ls(mnt / WWW_DIR)
    before = len(sim.log())
    for name in ["nope", ".git", "HEAD", "x" * 200, "before-upgradeX"]:
        assert fsop("stat", mnt / WWW_DIR / name) == "ENOENT"
    for rel in ["nope", "efs-prod/nope"]:
        assert fsop("stat", mnt / rel) == "ENOENT"
    assert len(sim.log()) == before


def test_reading_every_info_json_costs_no_call(mnt, sim):
    names = ls(mnt / WWW_DIR)
    before = len(sim.log())
    for name in names:
        (mnt / WWW_DIR / name / "info.json").read_bytes()
        os.stat(mnt / WWW_DIR / name)
    assert len(sim.log()) == before


def test_listing_is_asked_again_after_cache_ttl(mounts, sim):
    m = mounts(["cache_ttl=1"])
    ls(m / WWW_DIR)
    time.sleep(1.3)
    ls(m / WWW_DIR)
    assert len(sim.calls("GET", contains="/snapshot")) == 2


def test_a_snapshot_made_elsewhere_shows_after_cache_ttl(mounts, sim):
    m = mounts(["cache_ttl=1"])
    assert "outside" not in ls(m / WWW_DIR)
    state = sim.state()
    share = next(sh for s in state if s["id"] == SVC for sh in s["shares"] if sh["id"] == WWW)
    share["snapshots"].append({"name": "outside"})
    sim.admin("POST", "seed", {"services": state})
    assert "outside" not in ls(m / WWW_DIR)  # still trusted
    time.sleep(1.3)
    assert "outside" in ls(m / WWW_DIR)


def test_own_changes_show_at_once_without_a_new_listing(mnt, sim):
    ls(mnt / WWW_DIR)
    assert fsop("mkdir", mnt / WWW_DIR / "mine") == "0"
    assert "mine" in ls(mnt / WWW_DIR)
    assert fsop("rename", mnt / WWW_DIR / "mine", mnt / WWW_DIR / "ours") == "0"
    assert "ours" in ls(mnt / WWW_DIR) and "mine" not in ls(mnt / WWW_DIR)
    assert fsop("rmdir", mnt / WWW_DIR / "ours") == "0"
    assert "ours" not in ls(mnt / WWW_DIR)
    assert len(sim.calls("GET", contains="/snapshot?")) == 1


def test_snapshots_dir_mtime_moves_only_when_entries_do(mnt, sim):
    d = mnt / WWW_DIR
    before = os.stat(d).st_mtime
    ls(d)
    assert os.stat(d).st_mtime == before
    assert fsop("mkdir", d / "bump") == "0"
    after = os.stat(d).st_mtime
    assert after > before
    assert os.stat(d).st_nlink == 2 + len(ls(d))


def test_sighup_drops_the_caches(mnt, sim):
    ls(mnt / WWW_DIR)
    ls(mnt / WWW_DIR)
    os.kill(mnt.proc.pid, signal.SIGHUP)
    time.sleep(0.2)
    ls(mnt / WWW_DIR)
    assert len(sim.calls("GET", contains="/snapshot?")) == 2
    assert mnt.alive()


def test_sigterm_unmounts_cleanly(mnt, sim):
    from conftest import is_mounted
    os.kill(mnt.proc.pid, signal.SIGTERM)
    mnt.proc.wait(10)
    assert mnt.proc.returncode == 0
    assert not is_mounted(mnt.path)
