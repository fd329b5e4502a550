"""What the cache saves: API calls counted in the simulator's request log.

And what it forgets:

- SIGHUP and a forgotten listing tell the kernel too (it would show what it cached for up to
  cache_ttl), and a load under way at SIGHUP (it may predate the signal) is not kept.
- Kernel invalidations dropped from a full queue (1024) are never silent: a warning, then
  their count in the log.
"""

import os
import re
import signal
import subprocess
import time
import uuid

from conftest import SVC, WWW, fscall, fsop, ls, run

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


# ---- what SIGHUP and a forgotten listing tell the kernel ----

def rename_in_api(sim, old, new, description=None):
    """Another host renamed a snapshot of www (same id): the API's data changes under us."""
    services = sim.state()
    for svc in services:
        for share in svc["shares"]:
            for snap in share["snapshots"]:
                if snap["name"] == old:
                    snap["name"] = new
                    if description is not None:
                        snap["description"] = description
    sim.seed(services)


def wait_for_line(m, text, timeout=10):
    deadline = time.time() + timeout
    while text not in m.log():
        assert time.time() < deadline, "no %r in the log:\n%s" % (text, m.log()[-3000:])
        time.sleep(0.05)


def test_sighup_tells_the_kernel_to_forget_what_it_cached(mounts, sim):
    m = mounts(["log_level=debug"])
    info = m / WWW_DIR / "before-upgrade/info.json"
    old_size = fscall("stat", info).st_size  # the kernel caches it for cache_ttl=60
    rename_in_api(sim, "before-upgrade", "before-upgrade",
                  description="a much longer description than before, set elsewhere")
    os.kill(m.proc.pid, signal.SIGHUP)
    fscall("read", m / ".ovhsnapfs")  # any call: the signal is handled on the next one
    wait_for_line(m, "invalidate /efs-prod/www/.snapshots/before-upgrade/info.json:")
    data = fscall("read", info)
    assert b"set elsewhere" in data
    assert fscall("stat", info).st_size == len(data) != old_size


def test_a_listing_forgotten_after_a_cut_change_is_forgotten_by_the_kernel(mounts, sim):
    m = mounts(["log_level=debug", "timeout=2", "retries=1"])
    assert "before-upgrade" in ls(m / WWW_DIR)
    sim.fault(method="PUT", action="hang", seconds=10, times=1)
    assert fsop("rename", m / WWW_DIR / "before-upgrade", m / WWW_DIR / "kept") == "ETIMEDOUT"
    # the PUT may have been carried out: the listing is read again, and the kernel told so
    wait_for_line(m, "invalidate /efs-prod/www/.snapshots/before-upgrade:")
    wait_for_line(m, "invalidate /efs-prod/www/.snapshots:")


def test_a_load_under_way_at_sighup_is_not_kept(mounts, sim):
    m = mounts()
    ls(m / "efs-prod/www")
    sim.config(latency=3)  # the reply is made at once, sent 3 s later
    sim.fault(method="GET", path=WWW + "/snapshot$", action="delay", seconds=0, times=1)
    slow = subprocess.Popen(["ls", "-1", str(m / WWW_DIR)], stdout=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while sim.admin("GET", "faults")["faults"]:  # the listing's GET has been answered
            assert time.time() < deadline and slow.poll() is None
            time.sleep(0.05)
        rename_in_api(sim, "before-upgrade", "renamed-elsewhere")
        os.kill(m.proc.pid, signal.SIGHUP)
        fscall("read", m / ".ovhsnapfs")  # the signal is handled: the load is still under way
        sim.config(latency=0)
        slow.communicate(timeout=30)
    finally:
        if slow.poll() is None:
            slow.kill()
            slow.wait()
    listed = ls(m / WWW_DIR)
    assert "renamed-elsewhere" in listed and "before-upgrade" not in listed


def test_invalidations_dropped_from_a_full_queue_are_counted_in_the_log(mounts, sim):
    n = 5000  # SIGHUP tells the kernel of 2 paths each at once: far more than the queue holds
    services = sim.state()
    for svc in services:
        for share in svc["shares"]:
            if share["id"] == WWW:
                share["snapshots"] = [
                    {"id": str(uuid.UUID(int=i + 1)), "name": "s%05d" % i,
                     "createdAt": "2026-11-24T00:00:00Z", "status": "available",
                     "type": "manual"} for i in range(n)]
    sim.seed(services)
    m = mounts(["log_level=debug"])
    assert len(ls(m / WWW_DIR)) == n
    os.kill(m.proc.pid, signal.SIGHUP)
    fscall("read", m / ".ovhsnapfs")  # the signal is handled on the next call
    m.unmount()  # the last count is written at the end
    log = m.log_path.read_text(errors="replace")
    sent = len(set(re.findall(r"invalidate /efs-prod/www/\.snapshots/(s\d{5}(?:/info.json)?):",
                              log)))
    dropped = sum(int(x) for x in re.findall(r"(\d+) dropped while the queue was full", log))
    # what was still queued when the mount went (the kernel forgets it with the mount)
    left = sum(int(x) for x in re.findall(r"(\d+) not sent: the filesystem is unmounted", log))
    assert sent + dropped + left >= 2 * n, (sent, dropped, left)
    if dropped:
        assert "the queue is full (1024 paths)" in log
