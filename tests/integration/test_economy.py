"""API economy: shared requests, kernel caching with invalidation, prefetch, cache cap."""

import concurrent.futures
import json
import os
import time

from conftest import DB, SVC, SVC2, WWW, fscall, fsop, ls, run

WWW_LIST = "/storage/netapp/%s/share/%s/snapshot?detail=true" % (SVC, WWW)


def test_parallel_cold_listings_share_one_request(mounts, sim):
    sim.config(latency=0.3)
    m = mounts()
    sim.clear_log()
    # One .snapshots reached by four paths, so the kernel does not serialize them.
    paths = [m / s / h / ".snapshots" for s in ("efs-prod", SVC) for h in ("www", WWW)] * 4
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        listings = list(pool.map(lambda p: sorted(os.listdir(p)), paths))
    assert all(l == listings[0] for l in listings) and "before-upgrade" in listings[0]
    assert sim.calls("GET", contains="/snapshot") == [("GET", WWW_LIST)]
    assert len(sim.calls("GET", suffix="/share")) == 1


def test_a_listing_pays_for_every_stat_and_info_json_under_it(mnt, sim):
    sim.clear_log()
    res = run(["ls", "-l", str(mnt / "efs-prod/www/.snapshots")])
    names = [line.split()[-1] for line in res.stdout.splitlines()[1:]]
    for n in names:
        (mnt / "efs-prod/www/.snapshots" / n / "info.json").read_bytes()
        run(["stat", str(mnt / "efs-prod/www/.snapshots" / n)])
    assert sim.calls() == [("GET", "/storage/netapp/%s/share?detail=true" % SVC),
                           ("GET", WWW_LIST)]


def test_a_deletion_elsewhere_reaches_the_kernel_after_refresh(mounts, sim):
    # Kernel timeouts far longer than the cache: only invalidation can make this pass.
    m = mounts(["cache_ttl=1", "entry_timeout=60", "attr_timeout=60"])
    d = m / "efs-prod/www/.snapshots"
    assert "before-upgrade" in ls(d)
    os.stat(d / "before-upgrade")
    state = sim.state()
    for s in state:
        for sh in s["shares"]:
            sh["snapshots"] = [x for x in sh["snapshots"] if x["name"] != "before-upgrade"]
    sim.admin("POST", "seed", {"services": state})
    time.sleep(1.2)
    assert "before-upgrade" not in ls(d)  # opendir asked again: listing refreshed
    deadline = time.time() + 5
    while fsop("stat", d / "before-upgrade") != "ENOENT":
        assert time.time() < deadline, "the kernel still trusts a deleted snapshot"
        time.sleep(0.1)


def test_a_new_snapshot_elsewhere_shows_in_a_kernel_cached_listing(mounts, sim):
    m = mounts(["cache_ttl=1", "entry_timeout=60", "attr_timeout=60"])
    d = m / "efs-prod/www/.snapshots"
    first = ls(d)
    assert ls(d) == first
    state = sim.state()
    share = next(sh for s in state for sh in s["shares"] if sh["id"] == WWW)
    share["snapshots"].append({"name": "from-elsewhere"})
    sim.admin("POST", "seed", {"services": state})
    time.sleep(1.2)
    assert "from-elsewhere" in ls(d)
    assert fsop("stat", d / "from-elsewhere") == "0"


def test_prefetch_loads_subdirectories_before_they_are_asked_for(mounts, sim):
    # A listing, then two of its subdirectories gone into: a walk. The next snapshot
    # listings are loaded before the user asks for them (and not before: the mount and the
    # first step load nothing ahead).
    m = mounts(["prefetch=4"])
    logs = ("GET", "/storage/netapp/%s/share/%s/snapshot?detail=true"
            % (SVC, "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0103"))
    ls(m / "efs-prod")
    ls(m / "efs-prod/www/.snapshots")
    time.sleep(0.3)
    assert [c for c in sim.calls() if c[1].endswith("/snapshot?detail=true")] == [
        ("GET", WWW_LIST)]
    ls(m / "efs-prod/db/.snapshots")
    deadline = time.time() + 10
    while logs not in sim.calls():
        assert time.time() < deadline, sim.calls()
        time.sleep(0.1)
    before = len(sim.log())
    assert "daily-2026-11-25" in ls(m / "efs-prod/logs/.snapshots")
    assert len(sim.log()) == before  # already there
    # Nothing is asked twice.
    calls = sim.calls()
    assert len(calls) == len(set(calls))


def test_cold_find_with_prefetch_asks_each_directory_once(mounts, sim):
    m = mounts(["prefetch=8"])
    res = run(["find", str(m.path)], timeout=60)
    assert res.returncode == 0 and "before-upgrade/info.json" in res.stdout
    calls = sim.calls()
    assert len(calls) == len(set(calls))
    shares = [c for c in calls if c[1].endswith("/share?detail=true")]
    snaps = [c for c in calls if c[1].endswith("/snapshot?detail=true")]
    assert len(shares) == 2 and len(snaps) == 4


def test_cache_max_drops_least_recently_used_listings(mounts, sim):
    m = mounts(["cache_max=12"])
    dirs = ["efs-prod/www/.snapshots", "efs-prod/db/.snapshots", "efs-prod/logs/.snapshots"]
    for d in dirs:
        ls(m / d)
    sim.clear_log()
    ls(m / dirs[-1])  # the most recent one is still cached
    assert sim.calls() == []
    ls(m / dirs[0])  # the oldest was dropped to stay under 12 objects
    assert len(sim.calls("GET", contains="/snapshot")) == 1


def _cache_stats(m):
    return json.loads(fscall("read", m / ".ovhsnapfs").decode())["cache"]


def test_cache_max_as_a_size_caps_the_bytes_held_and_drops_the_oldest(mounts, sim):
    dirs = ["efs-prod/www/.snapshots", "efs-prod/db/.snapshots", "efs-prod/logs/.snapshots"]
    whole = mounts()  # the default, 1G: everything stays
    for d in dirs:
        ls(whole / d)
    full = _cache_stats(whole)
    assert full["listings"] == 5 and full["bytes"] > 2048  # services, shares, 3 x snapshots
    whole.unmount()
    cap = (full["bytes"] - 1) // 1024 * 1024  # all but a kilobyte or less: one goes
    m = mounts(["cache_max=%dK" % (cap // 1024)])
    for d in dirs:
        ls(m / d)
    held = _cache_stats(m)
    assert held["bytes"] <= cap and held["listings"] < 5
    sim.clear_log()
    ls(m / dirs[0])  # dropped to stay under the cap: asked again
    assert len(sim.calls("GET", contains="/snapshot")) == 1


def test_a_deletion_elsewhere_reaches_a_path_nobody_lists_again(mounts, sim):
    # Kernel timeouts far longer than the cache, and no ls afterwards: the listing the user
    # saw is refreshed when it expires, and the kernel is told what went away.
    m = mounts(["cache_ttl=1", "entry_timeout=60", "attr_timeout=60"])
    d = m / "efs-prod/www/.snapshots"
    assert fsop("stat", d / "before-upgrade") == "0"
    state = sim.state()
    for s in state:
        for sh in s["shares"]:
            sh["snapshots"] = [x for x in sh["snapshots"] if x["name"] != "before-upgrade"]
    sim.admin("POST", "seed", {"services": state})
    deadline = time.time() + 6
    while fsop("stat", d / "before-upgrade") != "ENOENT":
        assert time.time() < deadline, "the kernel still trusts a deleted snapshot"
        time.sleep(0.2)


def test_an_idle_mount_makes_no_calls(mounts, sim):
    m = mounts(["cache_ttl=1"])
    ls(m / "efs-prod/www/.snapshots")
    time.sleep(2.5)  # one refresh of what was shown, then nothing more
    sim.clear_log()
    time.sleep(2.5)
    assert sim.calls() == []


def test_cache_ttl_0_relists_every_level_per_call_and_a_fraction_is_one_per_level(mounts, sim):
    # What README's Caching and the man page tell of cache_ttl=0, and what they advise.
    strict = mounts(["cache_ttl=0", "rate=0"])
    sim.clear_log()
    ls(strict / "efs-prod/www/.snapshots")
    per_ls = len(sim.calls())
    assert per_ls > 3 * 3  # each of the kernel's calls lists the levels above it again
    strict.unmount()
    m = mounts(["cache_ttl=0.2", "rate=0"])
    d = m / "efs-prod/www/.snapshots"
    time.sleep(0.3)  # what the mount listed is stale now
    sim.clear_log()
    res = run(["ls", "-l", str(d)])
    assert res.returncode == 0 and "before-upgrade" in res.stdout
    levels = {("GET", "/storage/netapp?detail=true"),
              ("GET", "/storage/netapp/%s/share?detail=true" % SVC), ("GET", WWW_LIST)}
    calls = sim.calls()  # the refresh thread may have asked for some of them already
    assert ("GET", WWW_LIST) in calls
    assert set(calls) <= levels and len(calls) == len(set(calls))  # at most one per level
    state = sim.state()  # a snapshot deleted elsewhere: gone at the next command
    for s in state:
        for sh in s["shares"]:
            sh["snapshots"] = [x for x in sh["snapshots"] if x["name"] != "before-upgrade"]
    sim.seed(state)
    time.sleep(0.3)
    assert "before-upgrade" not in ls(d)
