"""ovhsnapfs-versions as root in directories other users write, and snapshots that hold links.

The guarantee (SECURITY.md): reads never leave the snapshot's directory, writes never leave the
destination's directory, whatever its other users do meanwhile; Landlock confines the run on top.
The NFS mount is test_versions.py's tmpfs stand-in (its export fixture); run this file the same
way (in a private mount namespace, as root).
"""

import json
import os
import pty
import stat
import subprocess
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pytest

import test_versions
from conftest import BINARY, sanitizer_env, write_config
from test_versions import ID, T1, T2, errlines, lines, put, snapshot, versions

export = test_versions.export  # the same tmpfs stand-in for the NFS mount (a fixture)

NOBODY = 65534


def owned(path, uid=NOBODY, mode=0o755):
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, uid, uid)
    os.chmod(path, mode)


def tree_files(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*"))


# The sanitizer stages of tests/run.sh set these: their builds run unconfined (confine.c).
SANITIZED = bool(os.environ.get("ASAN_OPTIONS") or os.environ.get("TSAN_OPTIONS"))


def landlock_lines(res):
    return [line for line in errlines(res) if "landlock" in line]


def assert_confined(res):
    """One line, saying it is enforced (or, in a sanitizer build, skipped)."""
    said = landlock_lines(res)
    assert len(said) == 1, said
    if SANITIZED and "sanitizer build" in said[0]:
        return
    assert said[0].startswith("ovhsnapfs-versions: landlock: enforced (ABI "), said


def test_landlock_is_enforced_and_a_restore_still_works(export):
    put(snapshot(export, "s1") / "etc/app.conf", b"old\n", T1)
    put(export / "etc/app.conf", b"new\n", T2)
    res = versions("-v", "--restore", "s1", export / "etc/app.conf")
    assert res.returncode == 0, res.stderr
    assert_confined(res)
    assert (export / "etc/app.conf.s1").read_bytes() == b"old\n"
    for args in (["--diff", "s1", export / "etc"], [export / "etc/app.conf"]):
        res = versions("-v", *args)
        assert res.returncode == 0, res.stderr
        assert_confined(res)
    # without -v: not a word about it
    res = versions("--diff", "s1", export / "etc")
    assert res.returncode == 0 and res.stderr == b""


def links_snapshot(export):
    """s1's etc is a link to the host's /etc, and data/x leads out of the snapshot."""
    snap = snapshot(export, "s1")
    snap.mkdir(parents=True)
    os.symlink("/etc", snap / "etc")
    put(snap / "data/file", b"in the snapshot\n", T1)
    os.symlink("../../..", snap / "data/x")
    os.symlink("/etc", snap / "data/etc")
    put(export / "etc/hostname", b"live host name\n", T2)
    (export / "data/etc").mkdir(parents=True)
    (export / "data/x").mkdir()
    put(export / "data/file", b"in the snapshot\n", T1)
    return snap


def test_a_link_in_a_snapshot_is_never_followed_by_the_listing_restore_or_diff(export):
    snap = links_snapshot(export)
    res = versions("--json", "--all", export / "etc/hostname")
    assert res.returncode == 0, res.stderr
    assert [v["path"] for v in json.loads(res.stdout)] == [
        str(export / "etc/hostname")]  # not the host's /etc/hostname through s1/etc
    res = versions("--restore", "s1", export / "etc/hostname")
    assert res.returncode == 1 and res.stdout == b""
    assert "not followed" in errlines(res)[0]
    assert sorted(os.listdir(export / "etc")) == ["hostname"]
    # the directory that holds the links: copied as links, with their targets
    res = versions("--restore", "s1", export / "data")
    assert res.returncode == 0, res.stderr
    out = export / "data.s1"
    assert os.readlink(out / "x") == "../../.." and os.readlink(out / "etc") == "/etc"
    assert tree_files(out) == ["etc", "file", "x"]
    # diff: a link where the live tree has a directory is one change; nothing under it is walked
    res = versions("--diff", "s1", export / "data")
    assert res.returncode == 0, res.stderr
    assert lines(res) == ["M\t%s/etc" % (export / "data"), "M\t%s/x" % (export / "data")]
    # the snapshot's own root, a link: refused rather than followed
    res = versions("--diff", "s1", export / "etc")
    assert res.returncode == 1
    assert os.path.exists(snap / "etc/hostname")  # (the host's /etc is there, untouched)


def test_hard_links_stay_hard_links(export):
    d = snapshot(export, "s1") / "tools"
    put(d / "ping", b"\x7fELF not really\n", T1, 0o755)
    os.link(d / "ping", d / "ping-again")
    os.mkdir(d / "sub")
    os.link(d / "ping", d / "sub/third")
    put(d / "alone", b"one link\n", T1)
    os.mkdir(export / "tools")
    res = versions("--restore", "s1", export / "tools")
    assert res.returncode == 0, res.stderr
    out = export / "tools.s1"
    inodes = {os.stat(out / n).st_ino for n in ("ping", "ping-again", "sub/third")}
    assert len(inodes) == 1 and os.stat(out / "ping").st_nlink == 3
    assert os.stat(out / "alone").st_nlink == 1
    assert (out / "sub/third").read_bytes() == b"\x7fELF not really\n"


def test_file_capabilities_survive_a_restore(export):
    if not shutil.which("setcap") or not shutil.which("getcap"):
        pytest.skip("setcap/getcap (libcap2-bin) not installed")
    d = snapshot(export, "s1") / "tools"
    put(d / "ping", b"\x7fELF not really\n", T1, 0o755)
    os.chown(d / "ping", 1000, 1000)  # a chown after the xattrs would clear the capability
    assert subprocess.run(["setcap", "cap_net_raw+ep", str(d / "ping")]).returncode == 0
    res = versions("--restore", "s1", export / "tools/ping")
    assert res.returncode == 1 and "does not exist" in errlines(res)[0]
    os.mkdir(export / "tools")
    res = versions("--restore", "s1", export / "tools/ping")
    assert res.returncode == 0, res.stderr
    out = export / "tools/ping.s1"
    st = os.stat(out)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == (1000, 1000, 0o755)
    cap = subprocess.run(["getcap", str(out)], capture_output=True, text=True).stdout
    assert "cap_net_raw" in cap and "ep" in cap.split()[-1]


@pytest.mark.parametrize("live_is_dir", [False, True])
def test_overwrite_a_file_with_a_directory_and_the_reverse(export, live_is_dir):
    snap = snapshot(export, "s1")
    live = export / "thing"
    if live_is_dir:
        put(snap / "thing", b"a file in s1\n", T1)
        put(live / "inside", b"live inside\n", T2)
    else:
        put(snap / "thing/inside", b"s1 inside\n", T1)
        put(live, b"a live file\n", T2)
    res = versions("--restore", "s1", "--overwrite", live)
    assert res.returncode == 0, res.stderr
    out = lines(res)
    assert out[0] == str(live) and len(out) == 2
    kept = Path(out[1])
    assert kept.name.startswith("thing.live-")
    if live_is_dir:
        assert live.read_bytes() == b"a file in s1\n"
        assert (kept / "inside").read_bytes() == b"live inside\n"
    else:
        assert (live / "inside").read_bytes() == b"s1 inside\n"
        assert kept.read_bytes() == b"a live file\n"
    assert sorted(os.listdir(export)) == sorted([".snapshot", "thing", kept.name])


def test_restore_prints_paths_escaped_as_the_listing_does(export):
    name = "a b\nc"
    put(snapshot(export, "s1") / name, b"x", T1)
    (export / name).write_bytes(b"y")
    res = versions("--restore", "s1", export / name)
    assert res.returncode == 0, res.stderr
    assert lines(res) == ["%s/a b\\0012c.s1" % export]
    assert (export / (name + ".s1")).read_bytes() == b"x"


RACER = r"""
import os, re, sys
parent, victim, stop = sys.argv[1], sys.argv[2], sys.argv[3]
fresh = re.compile(r"^(\.data\.ovhsnapfs-versions-[0-9]{6}|d[0-9]{2}|e)$")
n = 0


def swap(path):
    global n
    try:
        if not os.path.islink(path) and fresh.match(os.path.basename(path)):
            os.rename(path, path + ".moved")
            os.symlink(victim, path)
            n += 1
    except OSError:
        pass


while not os.path.exists(stop):
    try:
        names = os.listdir(parent)
    except OSError:
        continue
    for name in names:
        swap(os.path.join(parent, name))
        # its subdirectories, should the tool ever let another user into them
        for top in (os.path.join(parent, name), os.path.join(parent, name + ".moved")):
            try:
                for sub in os.listdir(top):
                    swap(os.path.join(top, sub))
            except OSError:
                pass
print(n)
"""


def test_a_user_swapping_the_temporary_directory_for_links_writes_nothing_outside(export):
    """As root, restore a tree into a directory a user writes while that user races."""
    home = export / "home"
    owned(home)
    snap = snapshot(export, "s1") / "home/data"
    for i in range(20):  # enough files for the copy to take a while
        put(snap / ("d%02d" % i) / "ld.so.preload", b"/tmp/evil.so\n", T1)
        for j in range(10):
            put(snap / ("d%02d" % i) / "e" / ("f%d" % j), b"deep\n" * 4096, T1)
    for p in [snap] + list(snap.rglob("*")):
        os.lchown(p, NOBODY, NOBODY)  # restored subdirectories end up the user's
    (home / "data").mkdir()
    os.chown(home / "data", NOBODY, NOBODY)
    victim = Path(tempfile.mkdtemp(prefix="ovhsnapfs-victim-"))  # root's, 0700
    stop = home.parent / "stop-racing"
    racer = subprocess.Popen(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY,
                              "--clear-groups", sys.executable, "-c", RACER, str(home),
                              str(victim), str(stop)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            res = versions("--restore", "s1", home / "data")
            # a restore the user disturbed fails or succeeds; it never writes elsewhere
            assert res.returncode in (0, 1), res.stderr
            # what the user renamed away was emptied through its descriptor: no copy stays
            # (only links the user may still have planted in it since)
            for moved in home.glob(".data.ovhsnapfs-versions-*.moved"):
                assert moved.is_symlink() or all((moved / n).is_symlink()
                                                 for n in os.listdir(moved))
            for p in list(home.iterdir()):
                if p.name != "data":
                    try:
                        if p.is_symlink() or not p.is_dir():
                            p.unlink()
                        else:
                            shutil.rmtree(p)
                    except OSError:
                        pass
            assert os.listdir(victim) == []
    finally:
        stop.touch()
        swaps = racer.communicate(timeout=30)[0]
        stop.unlink()
    assert int(swaps) > 0  # the race did run
    assert os.listdir(victim) == []
    victim.rmdir()


@pytest.mark.skipif(SANITIZED, reason="a sanitizer's shadow memory does not fit an address-space limit")
def test_diff_short_of_memory_says_so_and_never_prints_part_of_the_changes(export):
    (snapshot(export, "s1") / "d").mkdir(parents=True)
    (export / "d").mkdir()
    n = 30000
    for i in range(n):
        (export / "d" / ("f%06d_%s" % (i, "x" * 150))).touch()
    short = 0
    for mib in (400, 200, 150, 120, 100, 80, 60):
        res = subprocess.run(["prlimit", "--as=%d" % (mib << 20), str(test_versions.VERSIONS),
                              "--diff", "s1", str(export / "d")], capture_output=True,
                             timeout=120)
        if res.returncode == 0:
            assert len(lines(res)) == n and res.stderr == b""
        else:
            assert res.stdout == b""  # all or nothing
            short += b"out of memory" in res.stderr
    assert short > 0


def on_a_terminal(*args):
    """The tool with stderr on a pseudo-terminal: (exit code, stdout, what the terminal got)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen([str(test_versions.VERSIONS)] + [str(a) for a in args],
                             stdout=subprocess.PIPE, stderr=slave)
        os.close(slave)
        seen = b""
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the terminal's last user is gone
                break
            if not chunk:
                break
            seen += chunk
        out = p.stdout.read()
        return p.wait(timeout=60), out, seen
    finally:
        os.close(master)


def test_a_progress_line_on_a_terminal_only_and_not_with_quiet(export):
    snap = snapshot(export, "s1") / "tree"
    for i in range(50):
        put(snap / ("f%02d" % i), b"x" * 100000, T1)
    (export / "tree").mkdir()
    rc, out, seen = on_a_terminal("--restore", "s1", export / "tree")
    assert rc == 0 and out == b"%s\n" % bytes(export / "tree.s1")
    assert b"\rrestoring: " in seen and b" files, " in seen and b"/s" in seen
    assert seen.endswith(b"\r\x1b[K")  # erased at the end: nothing stays on the terminal
    rc, out, seen = on_a_terminal("--diff", "s1", export / "tree")
    assert rc == 0 and len(out.splitlines()) == 50
    assert b"\rcomparing: " in seen and b" entries, " in seen and seen.endswith(b"\r\x1b[K")
    shutil.rmtree(export / "tree.s1")
    rc, out, seen = on_a_terminal("-q", "--restore", "s1", export / "tree")
    assert rc == 0 and seen == b""
    rc, out, seen = on_a_terminal("--quiet", "--diff", "s1", export / "tree")
    assert rc == 0 and seen == b""
    # not a terminal: not a byte of it (the other tests check stderr is empty)
    res = versions("--diff", "s1", export / "tree")
    assert res.returncode == 0 and res.stderr == b""


def test_another_users_ovhsnapfs_mount_never_names_the_snapshots(sim, export, tmp_path):
    """Its user_id= is not root's: its names, ids and dates could point --restore anywhere."""
    put(snapshot(export, "daily-2026-11-25") / "etc/app.conf", b"old\n", T1)
    put(export / "etc/app.conf", b"new\n", T2)
    config = write_config(tmp_path / "ovh.conf", sim.url)
    mnt = tmp_path / "users-mount"
    mnt.mkdir()
    log = open(tmp_path / "users-mount.log", "w")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}
    env.update(sanitizer_env())
    # a user's mount: real uid nobody, so libfuse writes user_id=65534 as fusermount3 would;
    # allow_other (user_allow_other in fuse.conf), so that root may read it at all
    proc = subprocess.Popen(["setpriv", "--ruid=%d" % NOBODY, str(BINARY), str(mnt), "-f", "-o",
                             "config=%s,allow_other" % config], stdout=log,
                            stderr=subprocess.STDOUT, env=env)
    try:
        for _ in range(300):
            if test_versions.is_mount_point(mnt) or proc.poll() is not None:
                break
            time.sleep(0.05)
        assert test_versions.is_mount_point(mnt), (tmp_path / "users-mount.log").read_text()
        with open("/proc/self/mountinfo") as f:
            assert any(str(mnt) in line and "user_id=%d" % NOBODY in line for line in f)
        res = versions("--json", export / "etc/app.conf", keep=mnt)
        assert res.returncode == 0, res.stderr
        assert [(v["snapshot"], v["id"], v["created"]) for v in json.loads(res.stdout)] == [
            ("daily-2026-11-25", None, None), (None, None, None)]
        res = versions("--restore", ID % 2, export / "etc/app.conf", keep=mnt)  # by its id
        assert res.returncode == 1 and "no snapshot %s" % (ID % 2) in errlines(res)[0]
        res = versions("--json", "--mount", mnt, export / "etc/app.conf", keep=mnt)
        assert errlines(res) == ["ovhsnapfs-versions: %s: another user's mount: its names and "
                                 "dates are not used" % mnt]
        assert [v["id"] for v in json.loads(res.stdout)] == [None, None]
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, timeout=20)
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
