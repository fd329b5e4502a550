"""Other users on an allow_other mount: they may look, and change only what the modes allow."""

import json
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from conftest import PYTHON, _FSOP, Mount, fscall, run

WWW_DIR = "efs-prod/www/.snapshots"
NOBODY = 65534
GROUP = 4242  # a group of the mount (gid=), that nobody is not in unless given


def as_user(cmd, groups=(), timeout=30):
    """cmd run as uid/gid 65534 with exactly these supplementary groups."""
    ids = ["--reuid=%d" % NOBODY, "--regid=%d" % NOBODY]
    ids += ["--groups=%s" % ",".join(map(str, groups))] if groups else ["--clear-groups"]
    return run(["setpriv"] + ids + [str(c) for c in cmd], timeout=timeout)


def fsop_as(op, *paths, groups=()):
    out = as_user([PYTHON, "-c", _FSOP, op, json.dumps([str(p) for p in paths])],
                  groups=groups).stdout
    return out.rsplit("ERRNO ", 1)[1].strip()


@pytest.fixture
def shared_mounts(sim):
    """Mounts under a directory other users can reach (pytest's tmp is root's alone)."""
    top = tempfile.mkdtemp(prefix="ovhsnapfs-perm-")
    os.chmod(top, 0o755)
    started = []

    def start(options):
        m = Mount(Path(top), sim, options=options)
        started.append(m)
        return m.wait_mounted()

    yield start
    for m in started:
        m.unmount()
    shutil.rmtree(top, ignore_errors=True)


def changes(sim):
    return [c for c in sim.calls() if c[0] in ("POST", "PUT", "DELETE")]


def test_allow_other_turns_on_default_permissions(shared_mounts, sim):
    m = shared_mounts(["allow_other"])
    opts = [l.split()[3] for l in open("/proc/self/mounts") if l.split()[1] == str(m.path)]
    assert "default_permissions" in opts[0].split(",") and "allow_other" in opts[0].split(",")


def test_another_user_may_look_but_not_touch(shared_mounts, sim):
    m = shared_mounts(["allow_other"])
    snaps = m / WWW_DIR
    res = as_user(["ls", snaps])
    assert res.returncode == 0 and "before-upgrade" in res.stdout.split()
    res = as_user(["cat", snaps / "before-upgrade/info.json"])
    assert res.returncode == 0 and json.loads(res.stdout)["name"] == "before-upgrade"
    sim.clear_log()
    for cmd in (["mkdir", snaps / "theirs"], ["rmdir", snaps / "before-upgrade"],
                ["mv", snaps / "before-upgrade", snaps / "moved"]):
        res = as_user(cmd)
        assert res.returncode != 0 and "Permission denied" in res.stderr, (cmd, res.stderr)
    assert fsop_as("mkdir", snaps / "theirs") == "EACCES"
    assert fsop_as("rmdir", snaps / "before-upgrade") == "EACCES"
    assert fsop_as("rename", snaps / "before-upgrade", snaps / "moved") == "EACCES"
    assert fsop_as("write", snaps / "before-upgrade/info.json") == "EACCES"
    res = as_user(["setfattr", "-n", "user.ovh.description", "-v", "x", snaps / "before-upgrade"])
    assert res.returncode != 0
    assert changes(sim) == []
    assert "before-upgrade" in fscall("listdir", snaps)
    # The owner (root here) still may.
    assert run(["mkdir", str(snaps / "mine")]).returncode == 0
    assert len(changes(sim)) == 1


def test_the_mount_group_may_change_with_gid_and_umask_002(shared_mounts, sim):
    m = shared_mounts(["allow_other", "gid=%d" % GROUP, "umask=002"])
    snaps = m / WWW_DIR
    assert oct(fscall("stat", snaps).st_mode & 0o777) == oct(0o775)
    assert fscall("stat", snaps).st_gid == GROUP
    sim.clear_log()
    assert fsop_as("mkdir", snaps / "outsider") == "EACCES"  # not in the group
    assert changes(sim) == []
    assert as_user(["mkdir", snaps / "grouped"], groups=[GROUP]).returncode == 0
    assert as_user(["mv", snaps / "grouped", snaps / "regrouped"],
                   groups=[GROUP]).returncode == 0
    assert as_user(["rmdir", snaps / "regrouped"], groups=[GROUP]).returncode == 0
    assert [c[0] for c in changes(sim)] == ["POST", "PUT", "DELETE"]
