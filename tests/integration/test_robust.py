"""What the API says cannot harm: escaped logs and reports, tolerant decoding."""

import re
import time

from conftest import BINARY, SVC, WWW, fscall, fsop, ls, run, sanitizer_env, write_config

WWW_DIR = "efs-prod/www/.snapshots"
RAW_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x80-\x9f]")


def test_api_message_with_escape_sequences_and_newlines_is_escaped_in_the_log(mounts, sim):
    m = mounts()
    message = "Invalid name\x1b[2J\x1b[31m\nFAKE: ovhsnapfs: error: forged line\r\x07"
    sim.fault(method="POST", path="/snapshot$", action="status", status=400,
              body={"class": "Client::BadRequest", "message": message})
    assert fsop("mkdir", m / WWW_DIR / "escaped") == "EINVAL"
    log = m.log()
    assert "\x1b" not in log and "\r" not in log and "\x07" not in log
    assert "Invalid name\\x1b[2J\\x1b[31m\\x0aFAKE: ovhsnapfs: error: forged line\\x0d\\x07" in log
    # Every line the daemon wrote is one of its own, whole.
    for line in log.splitlines():
        assert line.startswith("ovhsnapfs: ") or line.startswith("FUSE") or not line, line
    assert not any(l.startswith("FAKE") for l in log.splitlines())


def test_check_report_escapes_service_names(tmp_path, sim):
    sim.seed([{"id": SVC, "name": "prod\x1b]0;owned\x07\n\u009b31m", "shares": []}])
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env.update(sanitizer_env())
    res = run([str(BINARY), "--check", "-o", "config=%s" % conf], env=env)
    assert res.returncode == 0, res.stderr
    assert not RAW_CONTROL.search(res.stdout)
    assert "services:   1 (prod\\x1b]0;owned\\x07\\x0a\\xc2\\x9b31m)" in res.stdout


# ---- the right errno for what the API answers ----

SNAP_ONE = r"/snapshot/[0-9a-fA-F-]+$"
CREATE = r"/snapshot$"


def snapshot_body(status, name="x"):
    return {"id": "2f6d9c3b-8e1a-4b75-a0d4-00000000ffff", "name": name, "description": None,
            "createdAt": "2026-11-30T10:00:00Z", "path": None, "status": status,
            "type": "manual"}


def test_a_post_answered_with_status_error_is_eio(mounts, sim):
    m = mounts()
    for status in ["error", "manage_error"]:
        sim.fault(method="POST", path=CREATE, action="status", status=200,
                  body=snapshot_body(status, "broken-" + status))
        assert fsop("mkdir", m / WWW_DIR / ("broken-" + status)) == "EIO", status
    # Each named as the API wrote it, never "other".
    assert "in status error" in m.log() and "in status manage_error" in m.log()
    assert "status other" not in m.log()


def test_a_poll_answering_status_error_is_eio(mounts, sim):
    m = mounts()
    ls(m / WWW_DIR)
    sim.fault(method="GET", path=SNAP_ONE, action="status", status=200,
              body=snapshot_body("error", "failing"), times=-1)
    assert fsop("mkdir", m / WWW_DIR / "failing") == "EIO"
    assert "ended in status error" in m.log()


def _made_with_wait0(m, sim, name):
    assert fsop("mkdir", m / WWW_DIR / name) == "0"
    snap = [s for s in sim.snapshots() if s["name"] == name][0]
    return snap


def test_rmdir_after_wait0_asks_once_before_refusing_a_creating_snapshot(mounts, sim):
    sim.config(create_delay=1.0)
    m = mounts(["wait=0"])
    ls(m / WWW_DIR)
    snap = _made_with_wait0(m, sim, "fresh")
    assert snap["status"] == "creating"
    sim.clear_log()
    assert fsop("rmdir", m / WWW_DIR / "fresh") == "EBUSY"  # still creating: one GET says so
    assert sim.calls() == [("GET", "/storage/netapp/%s/share/%s/snapshot/%s"
                            % (SVC, WWW, snap["id"]))]
    time.sleep(1.2)  # now available in the API; the cache still says creating
    sim.clear_log()
    assert fsop("rmdir", m / WWW_DIR / "fresh") == "0"
    methods = [c[0] for c in sim.calls()]
    assert methods[:2] == ["GET", "DELETE"]


def test_mv_after_wait0_asks_once_before_refusing_a_creating_snapshot(mounts, sim):
    sim.config(create_delay=0.8)
    m = mounts(["wait=0"])
    ls(m / WWW_DIR)
    _made_with_wait0(m, sim, "young")
    assert fsop("rename", m / WWW_DIR / "young", m / WWW_DIR / "grown") == "EBUSY"
    assert sim.calls("PUT") == []
    time.sleep(1.0)
    assert fsop("rename", m / WWW_DIR / "young", m / WWW_DIR / "grown") == "0"
    assert len(sim.calls("PUT")) == 1
    assert "grown" in ls(m / WWW_DIR)


# ---- one bad object is not a bad directory ----

SNAP_LIST = r"/share/[^/]+/snapshot$"
ID = "2f6d9c3b-8e1a-4b75-a0d4-0000000000%02d"
RAW_LIST = ('[{"id": "%s", "name": "keep-me", "createdAt": "2026-11-25T03:00:12Z",'
            ' "status": "available"},'
            ' {"id": "%s", "name": "nul\\u0000\\u001b[31mname", "status": "available"},'
            ' {"id": "%s", "name": 42, "status": "available"},'
            ' {"id": "%s", "name": "no-offset", "createdAt": "2026-11-25T03:00:12",'
            ' "status": "available"},'
            ' {"id": "../..", "name": "bad-id"}]') % (ID % 1, ID % 2, ID % 3, ID % 4)


def test_one_bad_object_is_not_a_bad_directory(mounts, sim):
    sim.fault(method="GET", path=SNAP_LIST, action="malformed", body_text=RAW_LIST, times=-1)
    m = mounts()
    listed = ls(m / WWW_DIR)
    assert sorted(listed) == sorted(["keep-me", ID % 2, ID % 3, "no-offset"])
    # info.json is the API's text, the NUL included (escaped, as JSON writes it).
    text = fscall("read", m / WWW_DIR / (ID % 2) / "info.json").decode()
    assert '"name": "nul\\u0000\\u001B[31mname"' in text
    assert '"name": 42' in fscall("read", m / WWW_DIR / (ID % 3) / "info.json").decode()
    # A createdAt without an offset gives no date: the mount's own time stands in.
    assert fscall("stat", m / WWW_DIR / "no-offset").st_mtime != 0
    assert fscall("stat", m / WWW_DIR / "keep-me").st_mtime == 1795575612
    log = m.log()
    assert ("object %s: the API gave an unusable name; listed by its id" % (ID % 2)) in log
    assert ("object %s: the API gave an unusable createdAt; the rest is used" % (ID % 4)) in log
    assert "has no usable id: left out" in log
    assert "\x00" not in log and "\x1b" not in log
