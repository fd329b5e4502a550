"""Restoring files: SNAPSHOT/content and SHARE/content, links into the share's NFS mount.

The test machines have no NFS, so each test mounts a small tmpfs whose *source* is the
share's export (mount -t tmpfs 10.0.0.5:/share_ID DIR), as an NFS mount of it would show
in /proc/self/mountinfo, and fills DIR/.snapshot/NAME/ as NetApp does. Every tmpfs is
unmounted at teardown, even when the test fails. The test process never changes its mount
namespace or root (a setns back would leave a chroot): tests/run.sh starts pytest in a
private mount namespace of its own (unshare --mount), so other ovhsnapfs mounts on the
machine never see these stand-ins, and a stand-in a crash left goes with the namespace.
"""

import errno
import os
import subprocess
import time

import pytest

from conftest import DB, SVC, WWW, fscall, fsop, ls, run

EXPORT = "10.0.0.5:/share_" + WWW
DB_EXPORT = "10.0.0.5:/share_" + DB
SNAPS = "efs-prod/www/.snapshots"
ACCESS = "/storage/netapp/%s/share/%s/accessPath" % (SVC, WWW)
APP_CONF = b"listen 80;\nworker_processes 4;\n"


def is_mount_point(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


def host_has_nfs_style_mount():
    """What ovhsnapfs checks before it asks for access paths (a HOST:/PATH source)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            source = fields[fields.index("-") + 2]
            host, sep, rest = source.partition(":/")
            if sep and host and "/" not in host and not rest.startswith("/"):
                return True
    return False


@pytest.fixture
def exports(tmp_path):
    """Factory: exports(source) -> a fresh directory with a tmpfs of that source on it."""
    mounted = []

    def mount(source, name=None):
        path = tmp_path / (name or "nfs-%d" % len(mounted))
        path.mkdir()
        res = run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0755", source, str(path)])
        assert res.returncode == 0, res.stderr
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        unmount(path)


def unmount(path):
    for cmd in (["umount", str(path)], ["umount", "-l", str(path)]):
        if is_mount_point(path):
            subprocess.run(cmd, capture_output=True, timeout=20)
    assert not is_mount_point(path)


def fill(export, snapshot="before-upgrade"):
    """DIR/.snapshot/NAME/etc/app.conf, as NetApp shows a snapshot over NFS."""
    etc = export / ".snapshot" / snapshot / "etc"
    etc.mkdir(parents=True)
    (etc / "app.conf").write_bytes(APP_CONF)
    os.chmod(etc / "app.conf", 0o640)
    os.utime(etc / "app.conf", (1700000000, 1700000000))
    (export / "live.txt").write_text("today\n")
    return export / ".snapshot" / snapshot


def wait_until(predicate, what, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def readlink(path):
    try:
        return fscall("readlink", path)
    except OSError as e:
        return errno.errorcode[e.errno]


def access_calls(sim):
    return [c for c in sim.calls() if "/accessPath" in c[1]]


def test_cp_from_a_snapshot_content_restores_the_file(mounts, sim, exports, tmp_path):
    export = exports(EXPORT)
    snapdir = fill(export)
    m = mounts()
    content = m / SNAPS / "before-upgrade" / "content"
    assert fscall("readlink", content) == str(snapdir)
    assert ls(content) == ["etc"]
    assert fscall("read", content / "etc/app.conf") == APP_CONF
    res = run(["cp", "-a", str(content / "etc/app.conf"), str(tmp_path / "restored.conf")])
    assert res.returncode == 0, res.stderr
    st = os.stat(tmp_path / "restored.conf")
    assert (tmp_path / "restored.conf").read_bytes() == APP_CONF
    assert (st.st_mode & 0o777, st.st_mtime) == (0o640, 1700000000)
    res = run(["cp", "-a", str(content / "etc"), str(tmp_path / "etc-copy")])
    assert res.returncode == 0 and (tmp_path / "etc-copy/app.conf").read_bytes() == APP_CONF
    assert run(["diff", "-r", str(content), str(snapdir)]).returncode == 0


def test_content_is_a_symlink_listed_in_the_snapshot(mounts, sim, exports):
    snapdir = fill(exports(EXPORT))
    m = mounts()
    assert ls(m / SNAPS / "before-upgrade") == ["content", "info.json"]
    st = fscall("lstat", m / SNAPS / "before-upgrade/content")
    assert oct(st.st_mode) == oct(0o120777) and st.st_size == len(str(snapdir))
    res = run(["ls", "-l", str(m / SNAPS / "before-upgrade")])
    assert "content -> %s" % snapdir in res.stdout
    # a snapshot whose directory NetApp does not show: the link is there, and dangles
    target = fscall("readlink", m / SNAPS / "daily-2026-11-24/content")
    assert target == str(snapdir.parent / "daily-2026-11-24")
    assert fsop("stat", m / SNAPS / "daily-2026-11-24/content") == "ENOENT"


def test_paths_from_the_api_cost_no_extra_call(mounts, sim, exports):
    fill(exports(EXPORT))
    m = mounts()
    sim.clear_log()
    for name in ls(m / SNAPS):
        run(["ls", "-l", str(m / SNAPS / name)])
        readlink(m / SNAPS / name / "content")
    fscall("read", m / SNAPS / "before-upgrade/content/etc/app.conf")
    assert sim.calls() == [
        ("GET", "/storage/netapp/%s/share?detail=true" % SVC),
        ("GET", "/storage/netapp/%s/share/%s/snapshot?detail=true" % (SVC, WWW))]


def test_without_the_share_mounted_there_is_no_content(mnt, sim):
    d = mnt / SNAPS / "before-upgrade"
    sim.clear_log()
    assert ls(d) == ["info.json"]
    assert fsop("lstat", d / "content") == "ENOENT"
    assert fsop("readlink", d / "content") == "ENOENT"
    assert fsop("lstat", mnt / "efs-prod/www/content") == "ENOENT"
    assert "content" not in ls(mnt / "efs-prod/www")
    if not host_has_nfs_style_mount():  # nothing here could be a share: nothing to ask
        assert access_calls(sim) == []


def test_content_appears_and_disappears_with_the_mount(mounts, sim, exports, tmp_path):
    # The kernel may keep entries for a minute: only invalidation can make this pass.
    m = mounts(["entry_timeout=60", "attr_timeout=60"])
    d = m / SNAPS / "before-upgrade"
    assert ls(d) == ["info.json"]
    sim.clear_log()
    export = exports(EXPORT, name="later")
    snapdir = fill(export)
    wait_until(lambda: readlink(d / "content") == str(snapdir), "content did not appear")
    assert "content" in ls(d)
    assert fscall("read", d / "content/etc/app.conf") == APP_CONF
    share_link = m / "efs-prod/www/content"
    assert fscall("readlink", share_link) == str(export)
    calls = sim.calls()  # SHARE/content: the share's access paths, once
    assert calls == [("GET", ACCESS)]
    unmount(export)
    wait_until(lambda: fsop("lstat", d / "content") == "ENOENT", "a stale link survived")
    wait_until(lambda: fsop("lstat", share_link) == "ENOENT", "a stale share link survived")
    assert ls(d) == ["info.json"]
    assert sim.calls() == calls  # noticed from the mount table alone
    assert "content" not in m.log()  # and nothing to complain about


def test_the_first_mount_of_an_export_wins_and_the_next_takes_over(mounts, sim, exports):
    first, second = exports(EXPORT, name="first"), exports(EXPORT, name="second")
    m = mounts(["entry_timeout=60", "attr_timeout=60"])
    link = m / SNAPS / "before-upgrade/content"
    assert fscall("readlink", link) == str(first / ".snapshot/before-upgrade")
    unmount(first)
    wait_until(lambda: readlink(link) == str(second / ".snapshot/before-upgrade"),
               "the link did not move to the remaining mount")


def test_share_content_links_to_the_mount_point(mounts, sim, exports):
    export = exports(EXPORT)
    m = mounts()
    sim.clear_log()
    share = m / "efs-prod/www"
    assert fscall("readlink", share / "content") == str(export)
    assert ls(share) == ["content", "info.json"]  # ls -1 hides .snapshots
    assert ls(share / "content") == []  # the tmpfs, empty
    assert "content" not in ls(m / "efs-prod/db")  # db is not mounted here
    assert access_calls(sim) == [("GET", ACCESS),
                                 ("GET", "/storage/netapp/%s/share/%s/accessPath" % (SVC, DB))]


def hostile_seed(paths):
    snaps = [{"id": "2f6d9c3b-8e1a-4b75-a0d4-%012d" % i, "name": "s%d" % i, "path": p}
             for i, p in enumerate(paths)]
    return [{"id": SVC, "name": "efs-prod", "shares": [
        {"id": WWW, "name": "www", "snapshots": snaps}]}]


def test_a_hostile_path_gives_no_link_and_one_log_line(mounts, sim, exports):
    export = exports(EXPORT)
    hostile = [EXPORT + "/.snapshot/../../../etc", EXPORT + "//etc",
               EXPORT + "/.snapshot/s2\u0000/../..", EXPORT + "/."]
    sim.seed(hostile_seed(hostile + [EXPORT + "/.snapshot/fine"]))
    for i in range(len(hostile)):
        (export / ".snapshot" / ("s%d" % i)).mkdir(parents=True)
    m = mounts()
    sim.clear_log()
    for _ in range(2):
        for i in range(len(hostile)):
            d = m / SNAPS / ("s%d" % i)
            assert ls(d) == ["info.json"]
            assert fsop("readlink", d / "content") == "ENOENT"
    assert fscall("readlink", m / SNAPS / "s4/content") == str(export / ".snapshot/fine")
    assert access_calls(sim) == []  # a bad path is no reason to guess another
    lines = [line for line in m.log().splitlines() if "no content link" in line]
    assert len(lines) == len(hostile), lines
    assert any("/.snapshot/s2\u2400/../..\"" in line for line in lines), lines  # NUL shown


def test_a_path_naming_a_local_filesystem_falls_back_to_the_share(mounts, sim, exports):
    # Sources as a root disk, /run or a container's root show them: an API path that
    # matches one must not make content point into the host's own files. It matches no
    # mount, so the link is the share's .snapshot/NAME, as for a path of another form.
    disk, run_dir = exports("/dev/decoy-vda", name="disk"), exports("decoy-tmpfs", name="run")
    (disk / "etc").mkdir()
    (run_dir / "secrets").mkdir()
    export = exports(EXPORT)
    local = ["/dev/decoy-vda/etc", "/dev/decoy-vda", "decoy-tmpfs/secrets", "decoy-tmpfs"]
    sim.seed(hostile_seed(local))
    m = mounts()
    for i in range(len(local)):
        d = m / SNAPS / ("s%d" % i)
        assert readlink(d / "content") == str(export / ".snapshot" / ("s%d" % i)), local[i]
    assert "no content link" not in m.log()  # not hostile: just no mount of it here


def test_a_null_path_falls_back_to_the_access_paths_once_per_ttl(mounts, sim, exports):
    state = sim.state()
    share = next(sh for s in state for sh in s["shares"] if sh["id"] == WWW)
    for snap in share["snapshots"]:
        snap["path"] = None
    sim.seed(state)
    snapdir = fill(exports(EXPORT))
    m = mounts(["cache_ttl=2"])
    sim.clear_log()
    start = time.monotonic()
    assert fscall("readlink", m / SNAPS / "before-upgrade/content") == str(snapdir)
    assert fscall("read", m / SNAPS / "before-upgrade/content/etc/app.conf") == APP_CONF
    assert readlink(m / SNAPS / "pre-upgrade/content") == "ENOENT"  # no such snapshot
    daily = fscall("readlink", m / SNAPS / "daily-2026-11-25/content")
    assert daily.endswith("/daily-2026-11-25")
    assert fscall("readlink", m / "efs-prod/www/content") == str(snapdir.parent.parent)
    # a snapshot without a name has no directory to guess
    nameless = m / SNAPS / "2f6d9c3b-8e1a-4b75-a0d4-010100000004/content"
    assert fsop("lstat", nameless) == "ENOENT"
    assert access_calls(sim) == [("GET", ACCESS)]
    while time.monotonic() - start < 5:  # keep looking for two and a half TTLs
        readlink(m / SNAPS / "before-upgrade/content")
        time.sleep(0.2)
    assert 2 <= len(access_calls(sim)) <= 4, access_calls(sim)


def seed_www(sim, access_paths, snapshot_path=None):
    state = sim.state()
    share = next(sh for s in state for sh in s["shares"] if sh["id"] == WWW)
    share["accessPaths"] = access_paths
    for snap in share["snapshots"]:
        snap["path"] = snapshot_path
    sim.seed(state)


def test_any_access_path_of_the_share_may_be_the_mounted_one(mounts, sim, exports):
    seed_www(sim, [{"path": "10.0.0.9:/elsewhere", "preferred": True},
                   {"path": EXPORT + "/", "preferred": False}])
    export = exports(EXPORT)
    snapdir = fill(export)
    m = mounts()
    assert fscall("readlink", m / SNAPS / "before-upgrade/content") == str(snapdir)
    assert fscall("readlink", m / "efs-prod/www/content") == str(export)


def test_a_hostile_access_path_gives_no_link_and_one_log_line(mounts, sim, exports):
    seed_www(sim, [{"path": EXPORT + "/../..", "preferred": True}])
    fill(exports(EXPORT))
    exports(EXPORT + "/../..", name="decoy")  # even a mount of exactly that source
    m = mounts()
    for _ in range(2):
        assert fsop("lstat", m / SNAPS / "before-upgrade/content") == "ENOENT"
        assert "content" not in ls(m / "efs-prod/www")
    lines = [line for line in m.log().splitlines() if "no content link" in line]
    assert len(lines) == 1 and "access path" in lines[0], lines


def test_refused_access_paths_cost_one_call_per_ttl_and_say_what_is_missing(mounts, sim, exports):
    seed_www(sim, [{"path": EXPORT, "preferred": True}])  # and no snapshot has a path
    fill(exports(EXPORT))
    sim.fault(method="GET", path="/accessPath$", action="status", status=403, times=-1)
    m = mounts()
    sim.clear_log()
    for name in ("before-upgrade", "daily-2026-11-25", "before-upgrade"):
        assert fsop("lstat", m / SNAPS / name / "content") == "ENOENT"
    assert "content" not in ls(m / "efs-prod/www")
    assert access_calls(sim) == [("GET", ACCESS)]
    hints = [line for line in m.log().splitlines() if "share/accessPath/get" in line]
    assert len(hints) == 1, m.log()
