"""Issue 19's low and low-medium findings, each pinned by what a user sees.

- A PUT the API answers with null (the client's code says it may; Terraform's provider never
  reads the answer) was carried out: mv and setfattr succeed without a second GET and without
  an error line (simulator option put_reply_null).
- A confirming GET that fails says why: an interrupt is EINTR, a deadline ETIMEDOUT, a server
  error EIO; never EBUSY because the cached entry said "creating".
- An http:// endpoint on another host than this one's loopback (127.0.0.1, [::1], localhost)
  would send the consumer key, signatures and tokens in clear: refused before any request
  unless -o insecure_http says so. 127.0.0.2 (reached through a forwarder to the simulator)
  stands for a remote host.
- Changes to one share are serialized by a lock of that share alone: a mkdir in one share
  never waits through a slow POST in another, even when their ids fell into one of the 64
  stripes the locks used to be (db's id is chosen so).
- SIGHUP and a forgotten listing tell the kernel too (it would show what it cached for up to
  cache_ttl), and a load under way at SIGHUP (it may predate the signal) is not kept.
- An OAuth2 token fetch runs on its own bound, not its first caller's: when it is cut, a
  waiter whose own deadline is still ahead fetches again instead of failing with it.
- Kernel invalidations dropped from a full queue (1024) are never silent: a warning, then
  their count in the log.
"""

import json
import re
import uuid
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import DB, PYTHON, SVC, WWW, _FSOP, fscall, fsop, ls, run, write_config

SNAPS = "/storage/netapp/%s/share/%s/snapshot" % (SVC, WWW)
WWW_DIR = "efs-prod/www/.snapshots"


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


class Forwarder:
    """127.0.0.2:PORT -> the simulator on 127.0.0.1, counting the connections it takes."""

    def __init__(self, target_port):
        self.target = ("127.0.0.1", target_port)
        self.listener = socket.create_server(("127.0.0.2", 0))
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.accepted += 1
            upstream = socket.create_connection(self.target)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self):
        self.listener.close()


@pytest.fixture
def remote(sim, tmp_path):
    """An ovh.conf whose endpoint is http:// on 127.0.0.2 (not loopback by the rule)."""
    fwd = Forwarder(sim.port)
    yield fwd, write_config(tmp_path / "remote.conf", "http://127.0.0.2:%d/1.0" % fwd.port)
    fwd.close()


def test_http_endpoint_off_loopback_is_refused_before_any_request(mounts, sim, remote):
    fwd, conf = remote
    sim.clear_log()
    m = mounts(config=conf, wait=False)
    assert m.proc.wait(15) != 0
    assert "insecure_http" in m.log() and "in clear" in m.log()
    assert fwd.accepted == 0 and sim.calls() == []


def test_http_endpoint_off_loopback_is_served_with_insecure_http(mounts, sim, remote):
    fwd, conf = remote
    m = mounts(["insecure_http"], config=conf)
    assert "before-upgrade" in ls(m / WWW_DIR)
    assert fwd.accepted > 0
    assert "in clear" in m.log()  # said once, as a warning


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


def oauth_config(path, endpoint):
    path.write_text("[default]\nendpoint=%s\n\n[%s]\nclient_id=demo-client-id\n"
                    "client_secret=demo-client-secret\n" % (endpoint, endpoint))
    os.chmod(path, 0o600)
    return path


def test_a_token_fetch_cut_at_its_first_callers_deadline_fails_no_later_waiter(
        mounts, sim, tmp_path):
    m = mounts(["timeout=4", "retries=1", "rate=0"],
               config=oauth_config(tmp_path / "oauth.conf", sim.url))
    ls(m / "efs-prod")  # only the snapshot lists are left to load
    sim.config(tokens=[])  # the API forgets the token: each list gets a 401, then waits a token
    sim.fault(method="POST", path="/auth/oauth2/token", action="hang", seconds=30, times=1)
    first = subprocess.Popen(["ls", str(m / WWW_DIR)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.time() + 10
        while sim.admin("GET", "faults")["faults"]:  # first's fetch hangs
            assert time.time() < deadline and first.poll() is None
            time.sleep(0.05)
        time.sleep(2)  # the waiter comes later: its deadline is 2 s after first's
        second = run(["ls", str(m / "efs-prod/db/.snapshots")], timeout=30)
        _, err = first.communicate(timeout=30)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert "Connection timed out" in err  # first's own deadline
    assert second.returncode == 0, second.stderr  # not first's: it fetched again
    assert "pre-migration" in second.stdout
    tokens = [r["status"] for r in sim.log() if r["path"] == "/auth/oauth2/token"]
    assert tokens[-2:] == [0, 200], tokens
