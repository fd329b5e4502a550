"""A share's own snapshot settings: reserve and policy as xattrs, .policies, guarded revert."""

import json
import os
import signal
import subprocess
import sys
import time

from conftest import DB, REPO, SVC, WWW, fscall, fsop, ls, signal_when_waiting
from test_permissions import as_user, shared_mounts  # noqa: F401 (a fixture)
from test_xattr import getfattr, getfattr_dump, setfattr

sys.path.insert(0, str(REPO / "tests" / "sim"))
from schema_check import CLIENT_ROUTES, SETTINGS_ROUTES, Schema  # noqa: E402

SHARE = "/storage/netapp/%s/share/%s" % (SVC, WWW)
POLICIES = "/storage/netapp/%s/snapshotPolicy" % SVC
DEFAULT_POLICY = "9b3e1c7a-5d2f-4a80-b1c4-0a0000000001"
HOURLY_POLICY = "9b3e1c7a-5d2f-4a80-b1c4-0a0000000002"
UNNAMED_POLICY = "9b3e1c7a-5d2f-4a80-b1c4-0a0000000003"
LOGS = "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0103"
LATEST = "2f6d9c3b-8e1a-4b75-a0d4-010100000006"  # www: the second "dup", newest manual
OLDER = "2f6d9c3b-8e1a-4b75-a0d4-010100000003"  # www: before-upgrade, manual
AUTO = "2f6d9c3b-8e1a-4b75-a0d4-010100000002"  # www: daily-2026-11-25, automatic
WWW_DIR = "efs-prod/www"


def bodies(sim, method):
    return [(r["path"][4:], json.loads(r["body"]) if r["body"] else None)
            for r in sim.log() if r["method"] == method]


def settings(sim, share=WWW):
    svc = sim.admin("GET", "settings")["services"][0]
    return svc if share is None else [s for s in svc["shares"] if s["id"] == share][0]


def share_state(sim, share=WWW):
    svc = [s for s in sim.state() if s["id"] == SVC][0]
    return [s for s in svc["shares"] if s["id"] == share][0]


# ---- reserve ----

def test_getfattr_d_shows_reserve_and_policy_one_get_each(mnt, sim):
    ls(mnt / "efs-prod")
    sim.clear_log()
    attrs = getfattr_dump(mnt / WWW_DIR)
    assert attrs["user.ovh.snapshot_reserve"] == "5"
    assert attrs["user.ovh.snapshot_policy"] == "default"
    assert getfattr_dump(mnt / "efs-prod/db")["user.ovh.snapshot_reserve"] == "10"
    assert getfattr(mnt / "efs-prod/db", "user.ovh.snapshot_policy") == "hourly-daily"
    assert getfattr(mnt / "efs-prod/logs", "user.ovh.snapshot_policy") == ""  # none
    calls = sorted(sim.calls())
    assert calls == sorted([("GET", SHARE + "/snapshotReserve"),
                            ("GET", SHARE + "/snapshotPolicy"), ("GET", POLICIES),
                            ("GET", "/storage/netapp/%s/share/%s/snapshotReserve" % (SVC, DB)),
                            ("GET", "/storage/netapp/%s/share/%s/snapshotPolicy" % (SVC, DB)),
                            ("GET", "/storage/netapp/%s/share/%s/snapshotPolicy"
                             % (SVC, LOGS))])
    sim.clear_log()
    getfattr_dump(mnt / WWW_DIR)  # cached like a listing: no call within cache_ttl
    assert sim.calls() == []


def test_setfattr_reserve_sends_one_put_with_the_schema_body(mnt, sim):
    assert getfattr(mnt / WWW_DIR, "user.ovh.snapshot_reserve") == "5"
    sim.clear_log()
    assert setfattr("-n", "user.ovh.snapshot_reserve", "-v", "10", mnt / WWW_DIR) == "0"
    assert bodies(sim, "PUT") == [(SHARE + "/snapshotReserve", {"percent": 10})]
    assert sim.calls() == [("PUT", SHARE + "/snapshotReserve")]
    assert getfattr(mnt / WWW_DIR, "user.ovh.snapshot_reserve") == "10"
    assert sim.calls() == [("PUT", SHARE + "/snapshotReserve")]  # what was set is cached
    assert settings(sim)["snapshotReserve"] == 10


def test_bad_reserves_are_einval_without_a_call(mnt, sim):
    ls(mnt / "efs-prod")
    sim.clear_log()
    for bad in ("4", "101", "0", "-5", "+10", "10.5", "1e1", " 10", "10 ", "ten", "", "0010", "010"):
        assert setfattr("-n", "user.ovh.snapshot_reserve", "-v", bad, mnt / WWW_DIR) \
            == "EINVAL", bad
    assert sim.calls() == []
    assert setfattr("-n", "user.ovh.snapshot_reserve", "-v", "100", mnt / WWW_DIR) == "0"
    assert setfattr("-n", "user.ovh.snapshot_reserve", "-v", "5", mnt / WWW_DIR) == "0"
    assert [b for _, b in bodies(sim, "PUT")] == [{"percent": 100}, {"percent": 5}]


def test_read_only_mount_refuses_every_setting_with_erofs(mounts, sim):
    m = mounts(["ro", "allow_revert"])
    assert getfattr(m / WWW_DIR, "user.ovh.snapshot_reserve") == "5"
    sim.clear_log()
    assert setfattr("-n", "user.ovh.snapshot_reserve", "-v", "10", m / WWW_DIR) == "EROFS"
    assert setfattr("-n", "user.ovh.snapshot_policy", "-v", "hourly-daily", m / WWW_DIR) \
        == "EROFS"
    assert setfattr("-n", "user.ovh.revert", "-v", "dup", m / WWW_DIR) == "EROFS"
    assert sim.calls() == []


def test_another_user_may_read_but_not_set(shared_mounts, sim):  # noqa: F811
    m = shared_mounts(["allow_other", "allow_revert"])
    res = as_user(["getfattr", "--only-values", "-n", "user.ovh.snapshot_reserve",
                   m / WWW_DIR])
    assert res.returncode == 0 and res.stdout == "5"
    sim.clear_log()
    for name, value in (("user.ovh.snapshot_reserve", "10"),
                        ("user.ovh.snapshot_policy", "hourly-daily"),
                        ("user.ovh.revert", "dup")):
        res = as_user(["setfattr", "-n", name, "-v", value, m / WWW_DIR])
        assert res.returncode != 0 and "Permission denied" in res.stderr, res.stderr
    assert [c for c in sim.calls() if c[0] != "GET"] == []


# ---- policy ----

def test_policies_are_reachable_by_name_never_listed(mnt, sim):
    before = ls(mnt / "efs-prod")
    assert ".policies" not in before
    names = sorted(ls(mnt / "efs-prod/.policies"))
    assert names == sorted(["default.json", "hourly-daily.json", UNNAMED_POLICY + ".json"])
    assert ls(mnt / "efs-prod") == before
    api = {p["id"]: p for p in settings(sim, None)["snapshotPolicies"]}
    text = fscall("read", mnt / "efs-prod/.policies/hourly-daily.json").decode()
    assert json.loads(text) == api[HOURLY_POLICY]
    assert text == json.dumps(api[HOURLY_POLICY], indent=2) + "\n"
    assert len(json.loads(text)["rules"]) == 2
    by_id = fscall("read", mnt / ("efs-prod/.policies/%s.json" % DEFAULT_POLICY)).decode()
    assert json.loads(by_id)["name"] == "default"
    assert os.stat(mnt / "efs-prod/.policies/default.json").st_size == len(
        fscall("read", mnt / "efs-prod/.policies/default.json"))
    assert fsop("stat", mnt / "efs-prod/.policies/nope.json") == "ENOENT"
    assert fsop("stat", mnt / "efs-prod/.policies/default") == "ENOENT"
    assert fsop("write", mnt / "efs-prod/.policies/default.json") in ("EACCES", "EROFS")
    assert fsop("mkdir", mnt / "efs-prod/.policies/new") in ("EPERM", "EACCES")
    assert fsop("unlink", mnt / "efs-prod/.policies/default.json") in ("EPERM", "EACCES")
    assert [c for c in sim.calls() if c[0] != "GET"] == []
    assert sim.calls(contains="snapshotPolicy") == [("GET", POLICIES)]


def test_setfattr_policy_by_name_or_id_one_put_each(mnt, sim):
    assert getfattr(mnt / WWW_DIR, "user.ovh.snapshot_policy") == "default"
    sim.clear_log()
    assert setfattr("-n", "user.ovh.snapshot_policy", "-v", "hourly-daily", mnt / WWW_DIR) == "0"
    assert bodies(sim, "PUT") == [(SHARE + "/snapshotPolicy",
                                   {"snapshotPolicyID": HOURLY_POLICY})]
    assert getfattr(mnt / WWW_DIR, "user.ovh.snapshot_policy") == "hourly-daily"
    assert setfattr("-n", "user.ovh.snapshot_policy", "-v", UNNAMED_POLICY, mnt / WWW_DIR) == "0"
    assert getfattr(mnt / WWW_DIR, "user.ovh.snapshot_policy") == UNNAMED_POLICY
    assert [b for _, b in bodies(sim, "PUT")] == [{"snapshotPolicyID": HOURLY_POLICY},
                                                  {"snapshotPolicyID": UNNAMED_POLICY}]
    assert settings(sim)["snapshotPolicyID"] == UNNAMED_POLICY
    assert [c for c in sim.calls() if c[0] == "GET"] == []  # all of it was cached


def test_setting_the_policy_the_share_has_sends_nothing(mnt, sim):
    assert getfattr(mnt / WWW_DIR, "user.ovh.snapshot_policy") == "default"
    sim.clear_log()
    assert setfattr("-n", "user.ovh.snapshot_policy", "-v", "default", mnt / WWW_DIR) == "0"
    assert setfattr("-n", "user.ovh.snapshot_policy", "-v", DEFAULT_POLICY, mnt / WWW_DIR) \
        == "0"
    assert sim.calls() == []


def test_unknown_policy_is_einval_without_a_put(mnt, sim):
    ls(mnt / "efs-prod")
    ls(mnt / "efs-prod/.policies")
    sim.clear_log()
    for bad in ("nope", "", "9b3e1c7a-5d2f-4a80-b1c4-0affffffffff", "default.json"):
        assert setfattr("-n", "user.ovh.snapshot_policy", "-v", bad, mnt / WWW_DIR) \
            == "EINVAL", bad
    assert sim.calls() == []


# ---- revert ----

def test_revert_without_allow_revert_is_eperm_and_says_which_option(mnt, sim):
    ls(mnt / WWW_DIR / ".snapshots")
    sim.clear_log()
    assert setfattr("-n", "user.ovh.revert", "-v", "dup", mnt / WWW_DIR) == "EPERM"
    assert sim.calls() == []
    assert "allow_revert" in mnt.log()


def test_revert_to_anything_but_the_latest_manual_snapshot_is_einval(mounts, sim):
    m = mounts(["allow_revert"])
    ls(m / WWW_DIR / ".snapshots")
    sim.clear_log()
    for target in ("before-upgrade", OLDER, "daily-2026-11-25", AUTO, "nope", ""):
        assert setfattr("-n", "user.ovh.revert", "-v", target, m / WWW_DIR) == "EINVAL", target
    assert sim.calls() == []
    assert len(sim.snapshots()) == 6


def test_revert_posts_once_waits_until_available_and_drops_the_listing(mounts, sim):
    sim.config(revert_delay=1.0)
    newer = {"id": "2f6d9c3b-8e1a-4b75-a0d4-0101000000ff", "name": "daily-2026-11-27",
             "createdAt": "2026-11-27T00:10:00Z", "type": "automatic"}
    state = sim.admin("GET", "state")
    state["services"][0]["shares"][0]["snapshots"].append(newer)
    sim.seed(state["services"])
    m = mounts(["allow_revert"])
    assert "daily-2026-11-27" in ls(m / WWW_DIR / ".snapshots")
    sim.clear_log()
    assert setfattr("-n", "user.ovh.revert", "-v", LATEST, m / WWW_DIR) == "0"
    assert bodies(sim, "POST") == [(SHARE + "/revert", {"snapshotID": LATEST})]
    # One GET confirms the cached snapshot first, as rmdir and mv do; then the polls.
    assert sim.calls()[:2] == [("GET", SHARE + "/snapshot/" + LATEST), ("POST", SHARE + "/revert")]
    polls = sim.calls()[2:]
    assert polls and set(polls) == {("GET", SHARE)}
    assert share_state(sim)["status"] == "available"
    listing = ls(m / WWW_DIR / ".snapshots")  # read afresh: the newer snapshot is gone
    assert "daily-2026-11-27" not in listing and "before-upgrade" in listing
    assert sim.calls()[-1] == ("GET", SHARE + "/snapshot?detail=true")
    log = m.log()
    assert "reverted share www (%s)" % WWW in log and LATEST in log
    assert "uid %d" % os.getuid() in log


def test_revert_confirms_the_cached_snapshot_and_sends_nothing_when_it_is_gone(mounts, sim):
    m = mounts(["allow_revert"])
    ls(m / WWW_DIR / ".snapshots")  # cached for cache_ttl
    state = sim.admin("GET", "state")  # another host deletes the latest manual snapshot
    www = state["services"][0]["shares"][0]
    www["snapshots"] = [x for x in www["snapshots"] if x["id"] != LATEST]
    sim.seed(state["services"])
    sim.clear_log()
    assert setfattr("-n", "user.ovh.revert", "-v", LATEST, m / WWW_DIR) == "ENOENT"
    assert sim.calls() == [("GET", SHARE + "/snapshot/" + LATEST)]  # no revert sent
    assert LATEST not in ls(m / WWW_DIR / ".snapshots")


def test_revert_with_wait_0_returns_after_the_post(mounts, sim):
    sim.config(revert_delay=30)
    m = mounts(["allow_revert", "wait=0"])
    ls(m / WWW_DIR / ".snapshots")
    sim.clear_log()
    assert setfattr("-n", "user.ovh.revert", "-v", "dup", m / WWW_DIR) == "EINVAL"  # 2 dups
    assert setfattr("-n", "user.ovh.revert", "-v", LATEST, m / WWW_DIR) == "0"
    assert sim.calls() == [("GET", SHARE + "/snapshot/" + LATEST), ("POST", SHARE + "/revert")]
    assert share_state(sim)["status"] == "reverting"


def test_revert_ending_in_reverting_error_is_eio(mounts, sim):
    sim.config(revert_delay=0.5, revert_fails=True)
    m = mounts(["allow_revert"])
    ls(m / WWW_DIR / ".snapshots")
    assert setfattr("-n", "user.ovh.revert", "-v", LATEST, m / WWW_DIR) == "EIO"
    assert "reverting_error" in m.log()


def test_ctrl_c_during_the_revert_wait_returns_and_the_revert_stands(mounts, sim):
    sim.config(revert_delay=60)
    m = mounts(["allow_revert"])
    ls(m / WWW_DIR / ".snapshots")
    sim.clear_log()
    p = subprocess.Popen(["setfattr", "-n", "user.ovh.revert", "-v", LATEST, str(m / WWW_DIR)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while not sim.calls(method="GET", contains=SHARE) and time.monotonic() < deadline:
            time.sleep(0.05)  # the POST was sent, the status polls began
        assert sim.calls(method="POST") == [("POST", SHARE + "/revert")]
        signal_when_waiting(p, signal.SIGINT)
        p.wait(5)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert p.returncode != 0
    assert share_state(sim)["status"] == "reverting"
    polls = len(sim.calls(method="GET", contains=SHARE))
    time.sleep(1.5)
    assert len(sim.calls(method="GET", contains=SHARE)) == polls  # it stopped polling
    assert sim.calls(method="POST") == [("POST", SHARE + "/revert")]
    assert m.alive()


def test_every_settings_request_follows_the_schema(mounts, sim):
    """Each request the settings make (tests/sim/schema_check.py against OVH's published
    schema): route, method, path parameters, query and writable body fields; all of them."""
    sim.config(revert_delay=0.2)
    m = mounts(["allow_revert"])
    sim.clear_log()
    getfattr_dump(m / WWW_DIR)
    assert setfattr("-n", "user.ovh.snapshot_reserve", "-v", "12", m / WWW_DIR) == "0"
    assert setfattr("-n", "user.ovh.snapshot_policy", "-v", HOURLY_POLICY, m / WWW_DIR) == "0"
    assert json.loads(fscall("read", m / "efs-prod/.policies/default.json"))["id"] \
        == DEFAULT_POLICY
    assert setfattr("-n", "user.ovh.revert", "-v", LATEST, m / WWW_DIR) == "0"
    seen = Schema().check_log(sim.log())
    assert seen - set(CLIENT_ROUTES) == set(SETTINGS_ROUTES)
