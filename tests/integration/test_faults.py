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


def test_a_500_on_create_is_reconciled_then_sent_again(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=500)
    assert fsop("mkdir", mnt / WWW_DIR / "again") == "0"
    assert len(named(sim, "again")) == 1
    methods = [c[0] for c in sim.calls() if "/snapshot" in c[1]]
    assert methods[:3] == ["POST", "GET", "POST"]  # looked before sending it again


def test_a_dropped_connection_on_create_is_reconciled(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.fault(method="POST", path=r"/snapshot$", action="drop")
    assert fsop("mkdir", mnt / WWW_DIR / "dropped") == "0"
    assert len(named(sim, "dropped")) == 1


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
