"""The transport: a POST sent again only when the API never acted, bounded waits, fair use,
one token for many 401s.

- An OAuth2 token fetch runs on its own bound, not its first caller's: when it is cut, a
  waiter whose own deadline is still ahead fetches again instead of failing with it.
- An http:// endpoint on another host than this one's loopback (127.0.0.1, [::1], localhost)
  would send the consumer key, signatures and tokens in clear: refused before any request
  unless -o insecure_http says so. 127.0.0.2 (reached through a forwarder to the simulator)
  stands for a remote host.
"""

import concurrent.futures
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import DB, fsop, ls, run, signal_when_waiting, write_config

WWW_DIR = "efs-prod/www/.snapshots"
SNAP_LIST = r"/share/[^/]+/snapshot$"
TOKEN = "/auth/oauth2/token"
CLIENT_ID, CLIENT_SECRET = "demo-client-id", "demo-client-secret"
TOO_MANY = {"class": "Client::TooManyRequests", "message": "Too many requests, slow down"}


def named(sim, name):
    return [s for s in sim.snapshots() if s["name"] == name]


def snapshot_calls(sim):
    return [m for m, target in sim.calls() if "/snapshot" in target]


def oauth_config(path, endpoint):
    path.write_text("[default]\nendpoint=%s\n\n[%s]\nclient_id=%s\nclient_secret=%s\n"
                    % (endpoint, endpoint, CLIENT_ID, CLIENT_SECRET))
    os.chmod(path, 0o600)
    return path


# ---- a POST is sent again only when the API certainly never acted on it ----

@pytest.mark.parametrize("fault", [
    {"action": "status", "status": 503},
    {"action": "status", "status": 500},
    {"action": "drop"},
    {"action": "drop", "rst": True},
    {"action": "hang", "seconds": 3},  # cut by timeout=1: written, then no reply
])
def test_a_post_that_may_have_been_carried_out_is_never_sent_again_by_the_transport(
        mounts, sim, fault):
    m = mounts(["timeout=1", "retries=4"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/snapshot$", **fault)
    res = fsop("mkdir", m / WWW_DIR / "once", timeout=60)
    # The transport gave up on its POST at once (whatever retries= says); what follows
    # is the reconciling read, never a second POST, then or later.
    assert snapshot_calls(sim)[:2] == ["POST", "GET"], sim.calls()
    assert snapshot_calls(sim).count("POST") == 1, sim.calls()
    # Either the API did it and the reconcile found it, or mkdir says it cannot tell.
    assert (res, len(named(sim, "once"))) in (("0", 1), ("EIO", 0)), res
    assert m.alive()


def test_a_post_whose_reply_was_lost_is_sent_exactly_once(mounts, sim):
    m = mounts(["retries=4"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/snapshot$", action="lost_reply")
    assert fsop("mkdir", m / WWW_DIR / "lost") == "0"
    assert snapshot_calls(sim).count("POST") == 1
    assert len(named(sim, "lost")) == 1


def test_a_post_answered_429_is_sent_again_after_retry_after_and_succeeds(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=429, retry_after=1,
              body=TOO_MANY)
    assert fsop("mkdir", mnt / WWW_DIR / "throttled") == "0"
    posts = [r for r in sim.log() if r["method"] == "POST"]
    assert [r["status"] for r in posts][0] == 429 and 200 <= posts[1]["status"] < 300
    assert len(posts) == 2
    assert posts[1]["t"] - posts[0]["t"] >= 0.95  # Retry-After honoured
    assert len(named(sim, "throttled")) == 1
    assert "throttled" in ls(mnt / WWW_DIR)


def test_a_post_throttled_past_its_retries_is_eio_never_edquot(mounts, sim):
    m = mounts(["retries=2"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=429, times=-1,
              retry_after=0.2, body=TOO_MANY)
    assert fsop("mkdir", m / WWW_DIR / "throttled") == "EIO"
    assert snapshot_calls(sim).count("POST") == 2
    assert not named(sim, "throttled")


def test_the_refusal_of_the_create_itself_is_still_edquot(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.fault(method="POST", path=r"/snapshot$", action="status", status=400,
              body={"class": "Client::BadRequest",
                    "message": "Maximum number of snapshots reached for this share"})
    assert fsop("mkdir", mnt / WWW_DIR / "onetoomany") == "EDQUOT"


# ---- every wait bounded ----

def test_a_hung_get_ends_at_timeout_in_total_even_with_retries(mounts, sim):
    m = mounts(["timeout=2", "retries=4"])
    sim.fault(method="GET", path=SNAP_LIST, action="hang", seconds=30, times=-1)
    t0 = time.time()
    assert fsop("listdir", m / WWW_DIR, timeout=30) == "ETIMEDOUT"
    took = time.time() - t0
    # timeout= bounds the whole read, retries and back-off included: not 4 x 2 s. Each try
    # is cut at half of what is left, and a back-off that would not fit is not started.
    assert 1 <= took < 2 + 1.5, took
    assert 2 <= len(sim.calls("GET", contains="/snapshot?")) <= 4
    sim.admin("POST", "faults/clear", {})
    assert "before-upgrade" in ls(m / WWW_DIR)


def test_a_503_then_a_hang_still_fits_in_timeout(mounts, sim):
    m = mounts(["timeout=2", "retries=4"])
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=503, times=1)
    sim.fault(method="GET", path=SNAP_LIST, action="hang", seconds=30, times=-1)
    t0 = time.time()
    assert fsop("listdir", m / WWW_DIR, timeout=30) == "ETIMEDOUT"
    assert time.time() - t0 < 2 + 1.5
    # retried after the 503, then each hung try cut; never more than retries=
    assert 2 <= len(sim.calls("GET", contains="/snapshot?")) <= 4


# ---- each try cut within the op: a stall leaves room for one more try ----

def test_a_get_that_hangs_once_is_cut_and_sent_again_within_timeout(mounts, sim):
    m = mounts(["timeout=2", "retries=3"])
    sim.fault(method="GET", path=SNAP_LIST, action="hang", seconds=6, times=1)
    t0 = time.time()
    assert "before-upgrade" in ls(m / WWW_DIR, timeout=30)
    took = time.time() - t0
    # The first try got half of timeout= (1 s), not all of it; the second answered at once.
    assert 0.9 <= took < 2, took
    gets = [r for r in sim.log() if r["method"] == "GET" and r["path"].endswith("/snapshot")]
    assert [(r["status"], r["fault"]) for r in gets] == [(0, "hang"), (200, None)], gets
    assert gets[1]["conn"] != gets[0]["conn"]  # never on the stalled connection
    assert 0.9 <= gets[1]["t"] - gets[0]["t"] < 1.5
    assert "no reply within 1.0 s, cut; retry 1/2" in m.log()


def test_a_token_fetch_that_hangs_once_is_cut_and_sent_again(mounts, sim, tmp_path):
    m = mounts(["timeout=2", "retries=3", "rate=0"],
               config=oauth_config(tmp_path / "oauth.conf", sim.url))
    ls(m / "efs-prod/www")  # only the snapshot list is left to load
    sim.config(tokens=[])  # the API forgets the token: the list gets a 401, then a new token
    sim.fault(method="POST", path=TOKEN, action="hang", seconds=6, times=1)
    sim.clear_log()
    t0 = time.time()
    assert "before-upgrade" in ls(m / WWW_DIR, timeout=30)
    assert time.time() - t0 < 2
    log = [(r["method"], r["path"].rsplit("/", 1)[1], r["status"]) for r in sim.log()]
    assert log == [("GET", "snapshot", 401), ("POST", "token", 0), ("POST", "token", 200),
                   ("GET", "snapshot", 200)], log
    tokens = [r for r in sim.log() if r["path"] == TOKEN]
    assert tokens[1]["conn"] != tokens[0]["conn"]
    assert 0.4 <= tokens[1]["t"] - tokens[0]["t"] < 1.5


def test_a_post_cut_by_request_timeout_is_sent_exactly_once(mounts, sim):
    m = mounts(["timeout=4", "request_timeout=1", "retries=4"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/snapshot$", action="hang", seconds=3, times=1)
    assert fsop("mkdir", m / WWW_DIR / "cut", timeout=60) == "EIO"
    time.sleep(0.5)  # past the hang: nothing more is sent for it
    calls = [(r["method"], r["status"], r["t"]) for r in sim.log() if "/snapshot" in r["path"]]
    methods = [c[0] for c in calls]
    # Cut at request_timeout=1 (not when the hang ended, 3 s): then only reconciling reads.
    assert methods[0] == "POST" and set(methods[1:]) == {"GET"}, calls
    assert calls[0][1] == 0 and 0.9 <= calls[1][2] - calls[0][2] < 1.8, calls
    assert not named(sim, "cut")
    assert "may still appear" in m.log()
    assert m.alive()


def test_an_interrupted_post_is_aborted_at_once_and_never_sent_again(mounts, sim):
    m = mounts(["timeout=10", "retries=4", "log_level=info"])
    ls(m / WWW_DIR)
    sim.clear_log()
    sim.fault(method="POST", path=r"/snapshot$", action="hang", seconds=3)
    p = subprocess.Popen(["mkdir", str(m / WWW_DIR / "cut")], stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 10
        while not sim.calls("POST") and time.time() < deadline:
            time.sleep(0.05)
        assert sim.calls("POST"), "no POST was sent"
        time.sleep(0.3)  # its bytes have left: the simulator logged it
        signal_when_waiting(p, signal.SIGINT)
        t0 = time.time()
        p.wait(5)
        assert time.time() - t0 < 2.0  # the transfer itself was aborted, not waited out
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)
    time.sleep(3.5)  # past the hang: nothing more is sent for it
    assert snapshot_calls(sim).count("POST") == 1, sim.calls()
    assert "POST /storage" in m.log() and "interrupted (it may have been carried out)" in m.log()
    assert m.alive()


# ---- fair use ----

def test_the_default_rate_is_one_a_second_after_a_burst_of_sixty(mounts, sim):
    m = mounts(["cache_ttl=0"])
    target = m / WWW_DIR
    for _ in range(150):
        ls(target)
        if len(sim.log()) >= 66:
            break
    times = [r["t"] for r in sim.log()]
    assert len(times) >= 66
    # The burst: 50 requests in far less than the 50 s that rate=1 alone would take.
    assert times[49] - times[0] < 15, times[49] - times[0]
    # Never more than burst + rate x elapsed (GCRA), with a little slack for clocks.
    for i, t in enumerate(times):
        assert i + 1 <= 60 + (t - times[0]) * 1.0 + 1.5, (i, t - times[0])
    # Once the bucket is empty, one a second (a lower bound: nothing asserts speed).
    gaps = [b - a for a, b in zip(times[-3:], times[-2:])]
    assert min(gaps) >= 0.8, gaps


def test_rate_zero_is_no_limit_and_burst_is_checked(mounts, sim, tmp_path):
    m = mounts(["cache_ttl=0", "rate=0"])
    sim.clear_log()
    for _ in range(5):
        ls(m / WWW_DIR)
    assert len(sim.log()) >= 5
    from conftest import BINARY
    for bad in ["burst=0", "burst=-1", "burst=x"]:
        res = run([str(BINARY), "--check", "-o", "config=%s,%s" % (m.config, bad)])
        assert res.returncode == 1 and "burst=" in res.stderr, (bad, res.stderr)


# ---- OAuth2 tokens ----

def test_concurrent_401s_fetch_one_token(mounts, sim, tmp_path):
    m = mounts(["rate=0"], config=oauth_config(tmp_path / "oauth.conf", sim.url))
    for d in ["efs-prod", "efs-prod/www", "efs-prod/db"]:  # cached: only snapshot lists go
        ls(m / d)
    sim.config(tokens=[])  # the API forgets the token every request carries
    # db's list is sent with that token and answered (401) only after www's 401 has
    # already brought a new token: it must reuse that one, not forget it and fetch again.
    sim.fault(method="GET", path="/share/%s/snapshot$" % DB, action="delay", seconds=1.5)
    sim.clear_log()
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        late = pool.submit(fsop, "listdir", m / "efs-prod/db/.snapshots")
        time.sleep(0.5)
        assert fsop("listdir", m / WWW_DIR) == "0"
        assert late.result() == "0"
    log = [(r["path"], r["status"]) for r in sim.log()]
    assert [p for p, _ in log].count(TOKEN) == 1, log
    assert [s for _, s in log].count(401) == 2, log
    assert log.index((TOKEN, 200)) < max(i for i, (_, s) in enumerate(log) if s == 401), log


def test_a_token_holding_cr_lf_is_refused(mounts, sim, tmp_path):
    sim.fault(method="POST", path=TOKEN, action="status", status=200, times=-1,
              body={"access_token": "abc\r\nX-Forged: yes", "token_type": "Bearer",
                    "expires_in": 3600})
    m = mounts(config=oauth_config(tmp_path / "oauth.conf", sim.url), wait=False)
    assert m.proc.wait(20) == 1
    log = m.log()
    assert "access_token holds a control" in log and "X-Forged" not in log
    assert not any("X-Forged" in r["headers"] for r in sim.log())
    assert all(r["path"] == TOKEN for r in sim.log())  # nothing was sent with it


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


# ---- an http:// endpoint off loopback ----

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
