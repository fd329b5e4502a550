"""Which mounts SNAPSHOT/content and SHARE/content may point into.

Any local user can make a FUSE mount whose source reads like the share's export
(fusermount3 takes -o fsname=10.0.0.5:/share_ID from anyone): ovhsnapfs must never
follow one, nor any mount a user made, or root's `cp -a content/etc/app.conf /etc/`
would install that user's bytes. A tmpfs root mounted with the export as its source
(the stand-in for NFS the suite uses, this machine having no NFS client) is still
followed, and an nfs/nfs4 mount would be ranked above it.

Every scenario runs in a child process in a private mount namespace of its own
(unshare --mount): the stand-ins, the user's FUSE mount (bench/memfs.c, started with
its real uid set to nobody's, so its mount reads user_id=65534 as a user's own does)
and the ovhsnapfs under test live and die there, never in the pytest process's
namespace; the child's whole process group is killed if it overruns.
"""

import json
import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from conftest import BINARY, PYTHON, REPO, WWW, write_config

EXPORT = "10.0.0.5:/share_" + WWW
SNAP_LINK = "efs-prod/www/.snapshots/before-upgrade/content"
SHARE_LINK = "efs-prod/www/content"
NOBODY = 65534
MANIFEST = ("d\t.snapshot\nd\t.snapshot/before-upgrade\nd\t.snapshot/before-upgrade/etc\n"
            "f\t32\t.snapshot/before-upgrade/etc/app.conf\n")

# Run as: unshare --mount --propagation private python3 -c CHILD SPEC_JSON
CHILD = r"""
import errno, json, os, subprocess, sys, time

spec = json.loads(sys.argv[1])
procs, result = [], {"links": {}}


def mount_line(path):
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[4] == path:
                return line.strip()
    return None


def wait_mounted(path, proc):
    deadline = time.monotonic() + 15
    while not mount_line(path):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("%s not mounted (exit %s)" % (path, proc.poll()))
        time.sleep(0.05)


def start(argv, name):
    log = open(os.path.join(spec["work"], name + ".log"), "w")
    procs.append(subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT))
    return procs[-1]


try:
    for m in spec["mounts"]:
        os.mkdir(m["dir"])
        if m["kind"] == "tmpfs":
            subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", m["source"],
                            m["dir"]], check=True)
            etc = os.path.join(m["dir"], ".snapshot/before-upgrade/etc")
            os.makedirs(etc)
            with open(os.path.join(etc, "app.conf"), "w") as f:
                f.write("listen 80;\n")
        else:  # a user's FUSE mount: real uid nobody, so libfuse writes user_id=65534
            p = start(["setpriv", "--ruid=%d" % spec["nobody"], spec["memfs"], spec["manifest"],
                       m["dir"], "-f", "-o", "fsname=%s,subtype=memfs,allow_other" % m["source"]],
                      os.path.basename(m["dir"]))
            wait_mounted(m["dir"], p)
        result.setdefault("mountinfo", []).append(mount_line(m["dir"]))
    os.mkdir(spec["mnt"])
    ovh = start([spec["binary"], spec["mnt"], "-f", "-o", "config=" + spec["config"]], "ovhsnapfs")
    wait_mounted(spec["mnt"], ovh)
    for rel in spec["links"]:
        try:
            result["links"][rel] = os.readlink(os.path.join(spec["mnt"], rel))
        except OSError as e:
            result["links"][rel] = errno.errorcode[e.errno]
    result["share"] = sorted(os.listdir(os.path.join(spec["mnt"], "efs-prod/www")))
finally:
    subprocess.run(["fusermount3", "-u", spec["mnt"]], capture_output=True)
    for p in reversed(procs):
        if p.poll() is None:
            p.terminate()
        p.wait(10)
print(json.dumps(result))
"""


@pytest.fixture(scope="module")
def memfs():
    """bench/memfs.c built in a directory nobody can reach (the FUSE daemon runs as nobody)."""
    work = tempfile.mkdtemp(prefix="ovhsnapfs-trust-", dir="/tmp")
    os.chmod(work, 0o755)
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "fuse3"], capture_output=True,
                           text=True)
    binary = os.path.join(work, "memfs")
    res = subprocess.run(["cc", "-O2", str(REPO / "bench" / "memfs.c"), "-o", binary]
                         + flags.stdout.split(), capture_output=True, text=True, timeout=120)
    if flags.returncode or res.returncode:
        shutil.rmtree(work)
        pytest.skip("cannot build bench/memfs.c: " + flags.stderr + res.stderr)
    with open(os.path.join(work, "manifest"), "w") as f:
        f.write(MANIFEST)
    os.chmod(os.path.join(work, "manifest"), 0o644)
    yield work
    shutil.rmtree(work, ignore_errors=True)


@pytest.fixture
def scenario(memfs, sim, tmp_path):
    """scenario([(kind, source), ...]) -> what the links read, in a namespace of their own."""
    dirs = []

    def run(mounts, links=(SNAP_LINK, SHARE_LINK)):
        work = tempfile.mkdtemp(prefix="case-", dir=memfs)
        os.chmod(work, 0o755)
        dirs.append(work)
        spec = {
            "work": work, "nobody": NOBODY, "memfs": os.path.join(memfs, "memfs"),
            "manifest": os.path.join(memfs, "manifest"), "binary": str(BINARY),
            "config": str(write_config(tmp_path / "ovh.conf", sim.url)),
            "mnt": os.path.join(work, "mnt"), "links": list(links),
            "mounts": [{"kind": kind, "source": source, "dir": os.path.join(work, "m%d" % i)}
                       for i, (kind, source) in enumerate(mounts)],
        }
        p = subprocess.Popen(["unshare", "--mount", "--propagation", "private", PYTHON, "-c",
                              CHILD, json.dumps(spec)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = p.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)  # the group this test started, daemons included
            out, err = p.communicate()
            raise AssertionError("scenario overran: " + err)
        assert p.returncode == 0 and out, err + log_of(work)
        result = json.loads(out)
        result["dirs"] = [m["dir"] for m in spec["mounts"]]
        result["log"] = log_of(work)
        return result

    yield run
    for work in dirs:
        shutil.rmtree(work, ignore_errors=True)


def log_of(work):
    path = os.path.join(work, "ovhsnapfs.log")
    return open(path, errors="replace").read() if os.path.exists(path) else ""


def seed_www(sim, access_paths):
    state = sim.state()
    share = next(sh for s in state for sh in s["shares"] if sh["id"] == WWW)
    share["accessPaths"] = access_paths
    for snap in share["snapshots"]:
        snap["path"] = None
    sim.seed(state)


def test_a_users_fuse_mount_of_the_export_is_never_followed(scenario):
    r = scenario([("fuse", EXPORT)])
    # the user's mount really claims the export, as a user's own does
    assert " - fuse.memfs %s " % EXPORT in r["mountinfo"][0], r["mountinfo"]
    assert "user_id=%d" % NOBODY in r["mountinfo"][0]
    assert r["links"] == {SNAP_LINK: "ENOENT", SHARE_LINK: "ENOENT"}, r
    assert "content" not in r["share"]


def test_the_stand_in_is_followed_even_after_a_users_fuse_mount(scenario):
    # The FUSE mount comes first in the mount table: the first match used to win.
    r = scenario([("fuse", EXPORT), ("tmpfs", EXPORT)])
    fuse_dir, standin = r["dirs"]
    assert r["links"] == {SNAP_LINK: standin + "/.snapshot/before-upgrade",
                          SHARE_LINK: standin}, r
    assert "content" in r["share"]


def test_the_preferred_access_path_wins_among_mounted_ones(scenario, sim):
    other = "10.0.0.9:/other_" + WWW
    seed_www(sim, [{"path": other, "preferred": False}, {"path": EXPORT, "preferred": True}])
    r = scenario([("tmpfs", other), ("tmpfs", EXPORT)])
    other_dir, preferred_dir = r["dirs"]
    assert r["links"] == {SNAP_LINK: preferred_dir + "/.snapshot/before-upgrade",
                          SHARE_LINK: preferred_dir}, r
