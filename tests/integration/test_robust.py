"""What the API says cannot harm: escaped logs and reports, tolerant decoding."""

import os
import re

from conftest import AS, BINARY, CK, SVC, WWW, fsop, ls, run, sanitizer_env, write_config

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
