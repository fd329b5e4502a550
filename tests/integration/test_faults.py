"""The API misbehaving: retries, no duplicate snapshot, bad replies, and a daemon that lives."""

import time

from conftest import fsop, ls, run

WWW_DIR = "efs-prod/www/.snapshots"
SNAP_LIST = r"/share/[^/]+/snapshot$"


def named(sim, name):
    return [s for s in sim.snapshots() if s["name"] == name]


def test_a_500_on_a_listing_is_retried(mnt, sim):
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=500, times=2)
    assert "before-upgrade" in ls(mnt / WWW_DIR)
    assert len(sim.calls("GET", contains="/snapshot?")) == 3
    assert "HTTP 500" in mnt.log()


def test_a_429_waits_for_retry_after(mnt, sim):
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=429, retry_after=1,
              body={"class": "Client::TooManyRequests", "message": "slow down"})
    t0 = time.time()
    assert "before-upgrade" in ls(mnt / WWW_DIR)
    assert time.time() - t0 >= 1.0
    assert len(sim.calls("GET", contains="/snapshot?")) == 2


def test_a_400_is_not_retried(mnt, sim):
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=400, times=-1,
              body={"class": "Client::BadRequest", "message": "nope"})
    assert fsop("listdir", mnt / WWW_DIR) == "EINVAL"
    assert len(sim.calls("GET", contains="/snapshot?")) == 1
    assert "Client::BadRequest" in mnt.log() and "X-Ovh-QueryID: EU." in mnt.log()


def test_persistent_500_is_eio_and_the_daemon_recovers(mounts, sim):
    m = mounts(["retries=2"])
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=503, times=-1)
    assert fsop("listdir", m / WWW_DIR) == "EIO"
    sim.admin("POST", "faults/clear", {})
    assert "before-upgrade" in ls(m / WWW_DIR)
    assert m.alive()


def test_a_reply_lost_after_create_makes_exactly_one_snapshot(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.fault(method="POST", path=r"/snapshot$", action="lost_reply")
    assert fsop("mkdir", mnt / WWW_DIR / "once") == "0"
    assert len(named(sim, "once")) == 1
    assert len(sim.calls("POST")) == 1
    assert "once" in ls(mnt / WWW_DIR)


def test_a_500_on_create_is_reconciled_never_sent_again(mounts, sim):
    """A 500 may come after the API acted: only listings follow, then EIO."""
    m = mounts(["timeout=2"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=500)
    t0 = time.time()
    assert fsop("mkdir", m / WWW_DIR / "again") == "EIO"
    assert time.time() - t0 < 6  # the reconcile bound: timeout=
    assert named(sim, "again") == []
    methods = [c[0] for c in sim.calls() if "/snapshot" in c[1]]
    assert methods[0] == "POST" and set(methods[1:]) == {"GET"} and len(methods) >= 3
    assert "may still appear" in m.log()


def test_a_dropped_connection_on_create_is_reconciled_never_sent_again(mounts, sim):
    m = mounts(["timeout=2"])
    ls(m / WWW_DIR)
    sim.fault(method="POST", path=r"/snapshot$", action="drop")
    assert fsop("mkdir", m / WWW_DIR / "dropped") == "EIO"
    assert named(sim, "dropped") == []
    assert len(sim.calls("POST")) == 1


def test_malformed_json_is_eio_and_logged(mnt, sim):
    sim.fault(method="GET", path=SNAP_LIST, action="malformed")
    assert fsop("listdir", mnt / WWW_DIR) == "EIO"
    assert "not JSON" in mnt.log()
    assert "before-upgrade" in ls(mnt / WWW_DIR)  # nothing bad was cached


def test_an_html_error_page_is_eio(mounts, sim):
    m = mounts(["retries=1"])
    sim.fault(method="GET", path=SNAP_LIST, action="html", status=502)
    assert fsop("listdir", m / WWW_DIR) == "EIO"
    assert "HTTP 502" in m.log()
    assert m.alive()


def test_a_hang_longer_than_timeout_fails_in_bounded_time(mounts, sim):
    m = mounts(["timeout=1", "retries=1"])
    sim.fault(method="GET", path=SNAP_LIST, action="hang", seconds=30)
    t0 = time.time()
    assert fsop("listdir", m / WWW_DIR, timeout=20) in ("ETIMEDOUT", "EIO")
    assert time.time() - t0 < 5
    assert "before-upgrade" in ls(m / WWW_DIR)
    assert m.alive()


def test_a_hang_on_create_never_duplicates(mounts, sim):
    m = mounts(["timeout=1", "retries=2"])
    ls(m / WWW_DIR)
    sim.fault(method="POST", path=r"/snapshot$", action="hang", seconds=3)
    result = fsop("mkdir", m / WWW_DIR / "hung", timeout=30)
    assert result in ("0", "EIO", "ETIMEDOUT")
    time.sleep(0.5)
    assert len(named(sim, "hung")) <= 1


def test_api_down_fails_fast_serves_stale_listings_and_recovers(mounts, sim):
    m = mounts(["retries=2", "timeout=2", "cache_ttl=1"])
    assert "before-upgrade" in ls(m / WWW_DIR)
    sim.fault(path="/storage/netapp", action="status", status=503, times=-1)
    time.sleep(1.2)  # the cached listing is now stale
    # A stale listing is served rather than an error...
    assert "before-upgrade" in ls(m / WWW_DIR)
    # ...cold lookups fail, and after three failed calls they fail fast without a call.
    for share in ["db", "logs", "db"]:
        assert fsop("listdir", m / "efs-prod" / share / ".snapshots") == "EIO"
    calls = len(sim.log())
    t0 = time.time()
    assert fsop("listdir", m / "efs-prod/logs/.snapshots") == "EIO"
    assert time.time() - t0 < 1 and len(sim.log()) == calls
    assert m.log().count("serving cached listings") == 1
    assert "failing fast" in m.log()
    # The API comes back; after the back-off the daemon uses it again by itself.
    sim.admin("POST", "faults/clear", {})
    deadline = time.time() + 20
    while fsop("listdir", m / "efs-prod/db/.snapshots") != "0":
        assert time.time() < deadline, m.log()
        time.sleep(0.5)
    assert "answers again" in m.log()
    assert m.alive()


def test_an_rmdir_failing_fast_while_the_api_is_down_keeps_the_listing_served(mounts, sim):
    """Nothing was sent, so nothing may have changed: the cached listing stays."""
    m = mounts(["retries=1", "timeout=2"])
    assert "before-upgrade" in ls(m / WWW_DIR)
    sim.fault(path="/storage/netapp", action="status", status=503, times=-1)
    for share in ["db", "logs", "db"]:  # three failed calls open the breaker
        assert fsop("listdir", m / "efs-prod" / share / ".snapshots") == "EIO"
    calls = len(sim.log())
    assert fsop("rmdir", m / WWW_DIR / "before-upgrade") == "EIO"
    assert len(sim.log()) == calls  # failed fast: no DELETE
    assert "before-upgrade" in ls(m / WWW_DIR)
    assert len(sim.log()) == calls
    assert m.alive()


def test_the_snapshot_limit_refusal_is_edquot(mounts, sim):
    # 199 listed, and one being deleted that the listing hides but the API still counts:
    # the refusal's wording says nothing (the simulator's never does), the count decides.
    from conftest import SVC, WWW
    snaps = [{"id": "2f6d9c3b-8e1a-4b75-a0d4-%012d" % i, "name": "s%03d" % i,
              "status": "deleting" if i == 0 else "available"} for i in range(200)]
    sim.seed([{"id": SVC, "name": "svc", "shares": [{"id": WWW, "name": "vol",
                                                      "snapshots": snaps}]}])
    m = mounts()
    assert len(ls(m / "svc/vol/.snapshots")) == 199
    assert fsop("mkdir", m / "svc/vol/.snapshots/one-too-many") == "EDQUOT"
    assert len(sim.calls("POST")) == 1
    assert not named(sim, "one-too-many")


def test_a_full_share_is_edquot_without_a_call(mounts, sim):
    from conftest import SVC, WWW
    snaps = [{"id": "2f6d9c3b-8e1a-4b75-a0d4-%012d" % i, "name": "s%03d" % i}
             for i in range(200)]
    sim.seed([{"id": SVC, "name": "svc", "shares": [{"id": WWW, "name": "vol",
                                                      "snapshots": snaps}]}])
    m = mounts()
    assert len(ls(m / "svc/vol/.snapshots")) == 200
    assert fsop("mkdir", m / "svc/vol/.snapshots/s200") == "EDQUOT"
    assert sim.calls("POST") == []


def test_unknown_fields_and_status_values_are_kept(mounts, sim):
    from conftest import SVC, WWW
    import json
    sim.seed([{"id": SVC, "name": "svc", "shares": [{"id": WWW, "name": "vol", "snapshots": [
        {"id": "2f6d9c3b-8e1a-4b75-a0d4-000000000001", "name": "a"}]}]}])
    m = mounts()
    body = [{"id": "2f6d9c3b-8e1a-4b75-a0d4-000000000001", "name": "a",
             "status": "hibernating", "futureField": {"x": [1, 2]}}]
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=200, body=body)
    info = json.loads((m / "svc/vol/.snapshots/a/info.json").read_text())
    assert info == body[0]


def test_wrong_types_in_a_reply_are_eio(mnt, sim):
    body = [{"id": 42, "name": "bad"}]
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=200, body=body)
    assert fsop("listdir", mnt / WWW_DIR) == "EIO"
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=200,
              body={"not": "a list"})
    assert fsop("listdir", mnt / WWW_DIR) == "EIO"
    assert "holds no usable object" in mnt.log() and "not an array" in mnt.log()
    assert mnt.alive() and "before-upgrade" in ls(mnt / WWW_DIR)


def test_rate_limit_spaces_requests(mounts, sim):
    m = mounts(["rate=4", "burst=4"])
    sim.clear_log()
    for d in ["efs-prod", "efs-backup", "efs-prod/www/.snapshots", "efs-prod/db/.snapshots",
              "efs-prod/logs/.snapshots", "efs-backup/archive/.snapshots"]:
        ls(m / d)
    times = sorted(r["t"] for r in sim.log())
    assert len(times) == 6
    # A burst of 4, then one request every 0.25 s at most.
    assert times[5] - times[0] >= 0.25 * (6 - 4) - 0.05


def test_waiting_for_the_rate_limit_counts_against_timeout(mounts, sim):
    import concurrent.futures
    m = mounts(["rate=1", "burst=1", "timeout=1.5", "retries=1"])
    time.sleep(1.1)
    dirs = ["efs-prod", "efs-backup", "efs-prod/www/.snapshots", "efs-prod/db/.snapshots",
            "efs-prod/logs/.snapshots"]
    with concurrent.futures.ThreadPoolExecutor(len(dirs)) as pool:
        results = list(pool.map(lambda d: fsop("listdir", m / d), dirs))
    assert "ETIMEDOUT" in results and "0" in results, results
    assert "no request slot within timeout" in m.log()


def test_a_reply_lost_after_delete_is_still_a_deletion(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.fault(method="DELETE", path=r"/snapshot/[^/]+$", action="lost_reply")
    assert fsop("rmdir", mnt / WWW_DIR / "before-upgrade") == "0"
    assert not named(sim, "before-upgrade")
    assert "before-upgrade" not in ls(mnt / WWW_DIR)


def test_a_huge_reply_is_refused_not_buffered(mnt, sim):
    sim.fault(method="GET", path=SNAP_LIST, action="huge", size=12 << 20)
    assert fsop("listdir", mnt / WWW_DIR) == "EIO"
    assert "reply larger than" in mnt.log()
    assert mnt.alive() and "before-upgrade" in ls(mnt / WWW_DIR)


SNAP_ONE = r"/share/[^/]+/snapshot/[0-9a-fA-F-]+$"


def test_failed_status_polls_do_not_fail_a_mkdir_the_api_accepted(mounts, sim):
    """Two status polls answered 503 (retries=1: each is one failed poll): polled past."""
    m = mounts(["retries=1", "wait=30", "rate=0", "log_level=info"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="GET", path=SNAP_ONE, action="status", status=503, times=2)
    assert fsop("mkdir", m / WWW_DIR / "through-503s") == "0"
    assert len(sim.calls("POST")) == 1
    polls = [r for r in sim.log() if r["method"] == "GET" and "/snapshot/" in r["path"]]
    assert [r["status"] for r in polls][:2] == [503, 503] and polls[-1]["status"] == 200
    assert [s["status"] for s in named(sim, "through-503s")] == ["available"]
    assert "polling on" in m.log()


def test_failed_status_polls_do_not_fail_an_rmdir_the_api_accepted(mounts, sim):
    m = mounts(["retries=1", "wait=30", "rate=0", "log_level=info"])
    assert fsop("mkdir", m / WWW_DIR / "going") == "0"
    sim.clear_log()
    # Faults match in order: the GET that confirms the name passes, the two polls get 503s.
    sim.fault(method="GET", path=SNAP_ONE, action="delay", seconds=0.01, times=1)
    sim.fault(method="GET", path=SNAP_ONE, action="status", status=503, times=2)
    assert fsop("rmdir", m / WWW_DIR / "going") == "0"
    assert len(sim.calls("DELETE")) == 1
    assert named(sim, "going") == []
    assert "going" not in ls(m / WWW_DIR)
    assert "polling on" in m.log()
