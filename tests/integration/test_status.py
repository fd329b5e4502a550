"""MOUNT/.ovhsnapfs and -o metrics_file=: what the mount did and what went wrong last."""

import collections
import json
import os
import re
import stat
import time

from conftest import BINARY, fscall, fsop, is_mounted, ls, run, write_config

WWW_DIR = "efs-prod/www/.snapshots"
SNAP_LIST = r"/share/[^/]+/snapshot$"
DB_LIST = r"/share/7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0102/snapshot$"
KEYS = {"version", "endpoint", "auth", "time_delta", "uptime_seconds", "pid", "api", "breaker",
        "rate", "cache"}


def status(m):
    return json.loads(fscall("read", m / ".ovhsnapfs").decode())


def test_status_file_is_readable_by_name_never_listed_and_costs_no_call(mnt, sim):
    ls(mnt / WWW_DIR)
    sim.clear_log()
    st = fscall("stat", mnt / ".ovhsnapfs")
    assert stat.S_ISREG(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o444
    doc = status(mnt)
    assert KEYS <= set(doc)
    assert doc["endpoint"] == sim.url
    assert doc["pid"] == mnt.proc.pid  # the daemon, for umount.fuse.ovhsnapfs
    assert doc["cache"]["listings"] == 3 and doc["cache"]["objects"] == 2 + 3 + 6
    assert ".ovhsnapfs" not in run(["ls", "-a", str(mnt.path)]).stdout
    found = run(["find", str(mnt.path), "-maxdepth", "1"]).stdout
    assert ".ovhsnapfs" not in found and "efs-prod" in found
    assert sim.calls() == []
    assert fsop("write", mnt / ".ovhsnapfs") == "EACCES"
    assert fsop("listdir", mnt / ".ovhsnapfs") == "ENOTDIR"
    assert fsop("unlink", mnt / ".ovhsnapfs") == "EPERM"
    assert fscall("listxattr", mnt / ".ovhsnapfs") == []


def test_size_from_stat_is_the_bytes_read_as_counters_move(mounts, sim):
    m = mounts(["retries=1"])

    def agree():
        size = fscall("stat", m / ".ovhsnapfs").st_size
        data = fscall("read", m / ".ovhsnapfs")
        assert size == len(data)
        fsize, fdata = fscall("fstat_read", m / ".ovhsnapfs")
        assert fsize == len(fdata)
        return size

    before = agree()
    assert fscall("stat", m / ".ovhsnapfs").st_size == before  # a stat the kernel must not keep
    sim.fault(method="GET", path=DB_LIST, action="status", status=500)
    assert fsop("listdir", m / "efs-prod/db/.snapshots") == "EIO"
    assert agree() > before + 100  # last_error is no longer null


def test_calls_retries_and_last_error_match_the_simulator_log(mounts, sim):
    m = mounts(["retries=3"])
    sim.fault(method="GET", path=r"/share/%s/snapshot$" % "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0101",
              action="status", status=503, times=2)
    assert "before-upgrade" in ls(m / WWW_DIR)  # two 503s, then an answer
    sim.fault(method="GET", path=DB_LIST, action="status", status=500, times=-1,
              body={"class": "Server::InternalServerError", "message": "db is on fire"})
    assert fsop("listdir", m / "efs-prod/db/.snapshots") == "EIO"  # three 500s
    assert fsop("listdir", m / WWW_DIR / "nope") == "ENOENT"  # no call: cached listing
    doc = status(m)
    log = sim.log()
    api = doc["api"]
    assert api["calls"] == len(log)
    assert api["by_method"] == dict(collections.Counter(r["method"] for r in log))
    assert api["by_status"] == dict(collections.Counter(str(r["status"]) for r in log))
    assert api["retries"] == 2 + 2
    assert api["errors"] == 1
    last, failed = api["last_error"], log[-1]
    assert failed["status"] == 500 and "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0102" in failed["path"]
    assert last["query_id"] == failed["query_id"]
    assert last["status"] == 500 and last["method"] == "GET"
    assert last["class"] == "Server::InternalServerError"
    assert last["message"] == "db is on fire"
    assert last["path"] in failed["path"] + "?" + failed["query"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", last["time"])
    assert doc["breaker"] == {"state": "closed", "opened": 0}
    assert doc["rate"]["limit"] == 1 and doc["rate"]["burst"] == 60  # OVH's fair use


def test_a_read_right_after_a_failed_ls_shows_every_call_it_made(mounts, sim):
    """Each open renders the counters as they are: no text kept from a read a moment ago."""
    m = mounts(["retries=2"])
    assert status(m)["api"]["calls"] == len(sim.log())  # a text rendered just now
    sim.fault(method="GET", path=DB_LIST, action="status", status=500, times=-1)
    assert fsop("listdir", m / "efs-prod/db/.snapshots") == "EIO"  # two 500s, well within 1 s
    api, log = status(m)["api"], sim.log()
    assert [r["status"] for r in log].count(500) == 2
    assert api["calls"] == len(log)
    assert api["by_status"] == dict(collections.Counter(str(r["status"]) for r in log))
    assert api["by_status"]["500"] == 2 and api["retries"] == 1 and api["errors"] == 1
    assert api["last_error"]["status"] == 500


def test_calls_count_the_get_libcurl_sends_again_on_a_fresh_connection(mounts, sim):
    # retries=1: ovhsnapfs never sends again, so the answer can only come from libcurl
    # re-sending the GET whose reused connection the server closed without a word.
    m = mounts(["retries=1"])
    ls(m / WWW_DIR)  # a keep-alive connection is open now
    sim.clear_log()
    before = status(m)["api"]
    sim.fault(method="GET", path=DB_LIST, action="drop", times=1)
    assert "pre-migration" in ls(m / "efs-prod/db/.snapshots")
    api, log = status(m)["api"], sim.log()
    assert [(r["method"], r["status"], r["fault"]) for r in log] == [("GET", 0, "drop"),
                                                                     ("GET", 200, None)]
    assert re.search(DB_LIST, log[0]["path"]) and log[1]["path"] == log[0]["path"]
    assert log[0]["conn"] != log[1]["conn"]

    def grew(key):
        return {k: v - before[key].get(k, 0) for k, v in api[key].items()
                if v != before[key].get(k, 0)}

    assert api["calls"] - before["calls"] == len(log)
    assert grew("by_method") == dict(collections.Counter(r["method"] for r in log))
    assert grew("by_status") == dict(collections.Counter(str(r["status"]) for r in log))
    assert api["retries"] - before["retries"] == 1
    assert api["errors"] == before["errors"]


def test_a_long_non_ascii_message_is_kept_whole_characters_in_last_error(mounts, sim):
    m = mounts(["retries=1"])
    message = "x" * 254 + "\u00e9" * 10  # the 255-byte cut falls inside an "\u00e9"
    sim.fault(method="GET", path=DB_LIST, action="status", status=403, times=-1,
              body={"class": "Client::Forbidden", "message": message})
    assert fsop("listdir", m / "efs-prod/db/.snapshots") == "EACCES"
    last = status(m)["api"]["last_error"]
    assert last is not None, "last_error lost"
    assert last["status"] == 403 and last["query_id"] == sim.log()[-1]["query_id"]
    assert message.startswith(last["message"]) and len(last["message"]) >= 254


def test_breaker_open_shows(mounts, sim):
    m = mounts(["retries=1"])
    sim.fault(method="GET", path=SNAP_LIST, action="status", status=503, times=-1)
    for share in ("www", "db", "logs"):
        assert fsop("listdir", m / "efs-prod" / share / ".snapshots") == "EIO"
    doc = status(m)
    assert doc["breaker"] == {"state": "open", "opened": 1}
    assert doc["api"]["calls"] == len(sim.log())
    assert doc["api"]["last_error"]["status"] == 503


def test_no_secret_in_the_status_file(tmp_path, mounts, sim):
    sim.config(app_key="AKpublic42", app_secret="SECRETsecret1", consumer_keys=["CKconsumer7"])
    conf = write_config(tmp_path / "keys.conf", sim.url, ak="AKpublic42",
                        as_="SECRETsecret1", ck="CKconsumer7")
    m = mounts(config=conf)
    ls(m / WWW_DIR)
    text = fscall("read", m / ".ovhsnapfs").decode()
    assert json.loads(text)["auth"] == {"method": "application-key", "key_prefix": "AKpu"}
    for secret in ("AKpublic42", "SECRET", "ecret1", "CKcons", "onsumer7"):
        assert secret not in text


def test_oauth2_status_counts_the_token_request(tmp_path, mounts, sim):
    conf = tmp_path / "oauth.conf"
    conf.write_text("[default]\nendpoint=%s\n\n[%s]\nclient_id=demo-client-id\n"
                    "client_secret=demo-client-secret\n" % (sim.url, sim.url))
    os.chmod(conf, 0o600)
    m = mounts(config=conf)
    ls(m / WWW_DIR)
    text = fscall("read", m / ".ovhsnapfs").decode()
    doc = json.loads(text)
    assert doc["auth"] == {"method": "oauth2", "key_prefix": "demo"}
    assert "demo-client-secret" not in text and "Bearer" not in text
    assert ("POST", "/auth/oauth2/token") in sim.calls()
    assert doc["api"]["calls"] == len(sim.log())


# ---- -o metrics_file= ----

def prom(path):
    """The samples of a Prometheus text file: {'name{labels}': value}."""
    out = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.rpartition(" ")
            out[key] = float(value)
    return out


def test_metrics_file_is_written_at_start_every_15_s_and_at_unmount(tmp_path, mounts, sim):
    path = tmp_path / "metrics" / "ovhsnapfs.prom"
    path.parent.mkdir()
    m = mounts(["metrics_file=%s" % path, "metrics_refresh=0"])  # no background reads
    first, inode = prom(path), os.stat(path).st_ino
    assert first["ovhsnapfs_api_calls_total"] >= 2  # /auth/time and the services
    assert 'ovhsnapfs_info{version="%s",endpoint="%s",auth="application-key"}' % (
        status(m)["version"], sim.url) in first
    ls(m / WWW_DIR)
    ls(m / "efs-prod/db/.snapshots")
    deadline = time.time() + 20
    sent = len(sim.log())  # a rewrite between the two ls would show only part of them
    while prom(path)["ovhsnapfs_api_calls_total"] != sent:
        assert time.time() < deadline, "metrics file not rewritten within 20 s"
        time.sleep(0.5)
    now = prom(path)
    assert os.stat(path).st_ino != inode  # a new file renamed over the old one
    doc = status(m)
    assert now["ovhsnapfs_cache_listings"] == doc["cache"]["listings"]
    assert now['ovhsnapfs_api_calls_by_method_total{method="GET"}'] == len(sim.log())
    assert now['ovhsnapfs_api_calls_by_status_total{status="200"}'] == len(sim.log())
    assert now["ovhsnapfs_breaker_open"] == 0
    ls(m / "efs-prod/logs/.snapshots")
    m.unmount()
    last = prom(path)
    assert last["ovhsnapfs_api_calls_total"] == len(sim.log())
    listings = [r for r in sim.log() if r["path"] != "/1.0/auth/time"]
    assert last["ovhsnapfs_cache_loads_total"] == len(listings) == 5
    assert sorted(os.listdir(path.parent)) == ["ovhsnapfs.prom"]  # no temporary file left


def test_metrics_file_that_cannot_be_written_fails_the_start(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    res = run([str(BINARY), str(mnt), "-o",
               "config=%s,metrics_file=%s" % (conf, tmp_path / "missing" / "x.prom")],
              timeout=20)
    assert res.returncode == 1
    assert "metrics_file=" in res.stderr and "No such file or directory" in res.stderr
    assert not is_mounted(mnt)
