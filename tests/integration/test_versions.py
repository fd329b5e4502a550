"""ovhsnapfs-versions: a file's versions across snapshots, restored safely, and --diff.

As in test_content.py, each NFS mount is a stand-in: a tmpfs mounted with the share's export
as its source (10.0.0.5:/share_ID, as /proc/self/mountinfo would show an NFS mount), holding
.snapshot/NAME/ as NetApp shows it. tests/run.sh runs pytest in a private mount namespace
(unshare --mount); run this file the same way by hand. Every tmpfs is unmounted at teardown.
Names and dates come from an ovhsnapfs mount of the simulator, whose share www has the
snapshots daily-2026-11-24, daily-2026-11-25, before-upgrade, one without a name, and dup.
"""

import json
import os
import random
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BUILD, SVC, WWW, run

VERSIONS = Path(os.environ.get("OVHSNAPFS_VERSIONS_BIN", BUILD / "src" / "ovhsnapfs-versions"))
EXPORT = "10.0.0.5:/share_" + WWW
ID = "2f6d9c3b-8e1a-4b75-a0d4-0101000000%02d"
OLD, MID, NEW = b"listen 80;\n", b"listen 8080;\n", b"listen 443 ssl;\n"
T1, T2 = 1700000000, 1710000000


# In a mount namespace of its own, without the ovhsnapfs mounts other tests on the machine
# may have left visible (the same simulator seed: they would name the same share), but $KEEP.
ALONE = r"""
while read -r _ _ _ _ point _; do
    [ "$point" = "$KEEP" ] || umount -l "$(printf '%b' "$point")" 2>/dev/null
done < <(grep ' - fuse.ovhsnapfs ' /proc/self/mountinfo)
exec "$@"
"""


def versions(*args, keep=None, nobody=False, timeout=60):
    """The real tool; stdout and stderr as bytes (names may hold any byte)."""
    user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if nobody else []
    cmd = ["unshare", "--mount", "--propagation", "private", "bash", "-c", ALONE, "alone"]
    cmd += user + [str(VERSIONS)] + [os.fsdecode(a) if isinstance(a, bytes) else str(a)
                                      for a in args]
    return subprocess.run(cmd, capture_output=True, timeout=timeout,
                          env=dict(os.environ, KEEP=str(keep or "")))


def lines(res):
    return res.stdout.decode("utf-8", "surrogateescape").splitlines()


def errlines(res):
    return res.stderr.decode("utf-8", "surrogateescape").splitlines()


def versions_direct(*args):
    """The tool as the SIGKILL test starts it: no namespace of its own, so only it is killed."""
    return subprocess.run([str(VERSIONS)] + [str(a) for a in args], capture_output=True,
                          timeout=60).returncode


def is_mount_point(path):
    with open("/proc/self/mountinfo") as f:
        return any(line.split()[4] == str(path) for line in f)


@pytest.fixture
def export():
    """A tmpfs with the www export as source, unmounted afterwards even on failure."""
    top = Path(tempfile.mkdtemp(prefix="ovhsnapfs-versions-"))  # others may reach it
    os.chmod(top, 0o755)
    path = top / "www"
    path.mkdir()
    res = run(["mount", "-t", "tmpfs", "-o", "size=256m,mode=0755", EXPORT, str(path)])
    assert res.returncode == 0, res.stderr
    yield path
    for cmd in (["umount", str(path)], ["umount", "-l", str(path)]):
        if is_mount_point(path):
            subprocess.run(cmd, capture_output=True, timeout=20)
    assert not is_mount_point(path)
    path.rmdir()
    top.rmdir()


def put(path, data, mtime, mode=0o644):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)
    os.utime(path, (mtime, mtime))


def snapshot(export, name):
    return export / ".snapshot" / name


def fill(export):
    """app.conf: OLD in both dailies, MID before the upgrade, absent from dup, NEW live."""
    put(snapshot(export, "daily-2026-11-24") / "etc/app.conf", OLD, T1)
    put(snapshot(export, "daily-2026-11-25") / "etc/app.conf", OLD, T1)
    put(snapshot(export, "before-upgrade") / "etc/app.conf", MID, T2, 0o600)
    (snapshot(export, "dup") / "etc").mkdir(parents=True)
    put(export / "etc/app.conf", NEW, T2 + 100)
    return export / "etc/app.conf"


def test_each_version_once_oldest_first_with_the_mounts_names_and_dates(mounts, sim, export):
    live = fill(export)
    m = mounts()
    sim.clear_log()
    res = versions("--json", live, keep=m.path)
    assert res.returncode == 0, res.stderr
    # Reads through the mount only: listings, and the access paths of the share the export
    # names (share_ID), not of every share.
    share = "/storage/netapp/%s/share" % SVC
    assert sim.calls() == [("GET", share + "?detail=true"),
                           ("GET", "%s/%s/accessPath" % (share, WWW)),
                           ("GET", "%s/%s/snapshot?detail=true" % (share, WWW))]
    got = json.loads(res.stdout)
    assert got == [
        {"snapshot": "daily-2026-11-24", "id": ID % 1, "created": "2026-11-24T00:10:03Z",
         "mtime": T1, "size": len(OLD),
         "path": str(snapshot(export, "daily-2026-11-24") / "etc/app.conf")},
        {"snapshot": "before-upgrade", "id": ID % 3, "created": "2026-11-25T14:02:37Z",
         "mtime": T2, "size": len(MID),
         "path": str(snapshot(export, "before-upgrade") / "etc/app.conf")},
        {"snapshot": None, "id": None, "created": None, "mtime": T2 + 100, "size": len(NEW),
         "path": str(live)}]
    res = versions(live, keep=m.path)
    assert res.returncode == 0 and res.stderr == b""
    out = lines(res)
    assert [line.split()[:2] for line in out] == [
        ["daily-2026-11-24", "2026-11-24T00:10:03Z"], ["before-upgrade", "2026-11-25T14:02:37Z"],
        ["(live)", "-"]]
    assert out[1].split()[2:] == ["2024-03-09T16:00:00Z", str(len(MID)),
                                  str(snapshot(export, "before-upgrade") / "etc/app.conf")]
    # All from the mount's cache: a second run asks the API nothing.
    sim.clear_log()
    assert versions("--all", live, keep=m.path).returncode == 0
    assert sim.calls() == []
    assert m.alive()


def test_all_shows_duplicates_and_the_named_mount_is_used(mounts, sim, export):
    live = fill(export)
    m = mounts()
    res = versions("--all", "--json", "--mount", m.path, live, keep=m.path)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [v["snapshot"] for v in got] == ["daily-2026-11-24", "daily-2026-11-25",
                                           "before-upgrade", None]
    assert got[1]["id"] == ID % 2 and got[1]["mtime"] == T1


def test_without_an_ovhsnapfs_mount_it_works_from_nfs_alone_by_name(export):
    live = fill(export)
    res = versions("--json", "--all", live)
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [(v["snapshot"], v["id"], v["created"]) for v in got] == [
        ("before-upgrade", None, None), ("daily-2026-11-24", None, None),
        ("daily-2026-11-25", None, None), (None, None, None)]
    assert [v["size"] for v in got] == [len(MID), len(OLD), len(OLD), len(NEW)]


def test_a_deleted_file_is_found_and_a_missing_one_is_exit_1(export, tmp_path):
    fill(export)
    gone = export / "html/old page.html"
    put(snapshot(export, "daily-2026-11-24") / "html/old page.html", b"<p>old</p>", T1)
    res = versions(gone)
    assert res.returncode == 0, res.stderr
    assert [line.split()[0] for line in lines(res)] == ["daily-2026-11-24"]
    assert lines(res)[0].endswith(str(snapshot(export, "daily-2026-11-24") / "html/old page.html"))
    res = versions("--restore", "daily-2026-11-24", gone)  # its directory is gone too
    assert res.returncode == 1 and res.stdout == b""
    assert errlines(res) == ["ovhsnapfs-versions: %s does not exist: restore the directory "
                             "that held %s first" % (export / "html", gone)]
    res = versions("--restore", "daily-2026-11-24", export / "html")
    assert res.returncode == 0, res.stderr
    assert (export / "html.daily-2026-11-24/old page.html").read_bytes() == b"<p>old</p>"
    res = versions(export / "never/there.txt")
    assert res.returncode == 1 and res.stdout == b""
    assert errlines(res) == ["ovhsnapfs-versions: %s: in no snapshot, and does not exist"
                             % (export / "never/there.txt")]
    outside = tmp_path / "local.txt"
    outside.write_text("x")
    res = versions(outside)
    assert res.returncode == 2 and len(errlines(res)) == 1
    assert "not in an NFS-style mount" in errlines(res)[0]


def test_a_symlink_is_a_file_of_its_own_and_a_snapshot_path_stands_for_the_live_one(export):
    fill(export)
    for snap in ("daily-2026-11-24", "before-upgrade"):
        os.symlink("app.conf", snapshot(export, snap) / "etc/current.conf")
    os.symlink("app.conf", export / "etc/current.conf")
    res = versions("--json", "--all", export / "etc/current.conf")
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [(v["snapshot"], v["size"], os.path.basename(v["path"])) for v in got] == [
        ("before-upgrade", 8, "current.conf"), ("daily-2026-11-24", 8, "current.conf"),
        (None, 8, "current.conf")]
    inside = snapshot(export, "before-upgrade") / "etc/app.conf"
    got = json.loads(versions("--json", inside).stdout)
    assert [v["snapshot"] for v in got] == ["before-upgrade", "daily-2026-11-24", None]
    assert got[-1]["path"] == str(export / "etc/app.conf")


def test_an_unreadable_version_is_skipped_with_one_line_and_exit_1(export):
    live = fill(export)
    os.chmod(snapshot(export, "before-upgrade"), 0o700)  # root's alone
    res = versions("--json", live, nobody=True)
    assert res.returncode == 1
    assert [v["snapshot"] for v in json.loads(res.stdout)] == ["daily-2026-11-24", None]
    assert errlines(res) == ["ovhsnapfs-versions: %s: Permission denied (version skipped)"
                             % (snapshot(export, "before-upgrade") / "etc/app.conf")]


def test_diff_reports_an_unreadable_directory_and_goes_on(export):
    old = snapshot(export, "before-upgrade") / "site"
    make_tree(old, 2, 2)
    assert run(["cp", "-a", str(old), str(export / "site")]).returncode == 0
    put(export / "site/d000/f000", b"changed", T2)
    os.chmod(export / "site/d001", 0o700)
    res = versions("--diff", "before-upgrade", export / "site", nobody=True)
    assert res.returncode == 1
    assert lines(res) == ["M\t%s/d000/f000" % escape(str(export / "site")),
                          "M\t%s/d001" % escape(str(export / "site"))]
    assert errlines(res) == ["ovhsnapfs-versions: %s: Permission denied"
                             % (export / "site/d001")]


def test_without_a_visible_snapshot_directory_it_says_how_to_mount(export):
    put(export / "etc/app.conf", NEW, T2)
    res = versions(export / "etc/app.conf")
    assert res.returncode == 2 and res.stdout == b""
    assert len(errlines(res)) == 1
    assert "mount the share with its snapshot directory visible" in errlines(res)[0]


def test_names_with_spaces_newlines_and_invalid_utf8(export):
    name = b"my file\nwith \xff byte.txt"
    for snap, data, t in (("daily-2026-11-24", OLD, T1), ("before-upgrade", MID, T2)):
        d = snapshot(export, snap) / "etc"
        d.mkdir(parents=True, exist_ok=True)
        p = os.path.join(bytes(d), name)
        with open(p, "wb") as f:
            f.write(data)
        os.utime(p, (t, t))
    (export / "etc").mkdir()
    live = os.path.join(bytes(export / "etc"), name)
    res = versions("--json", os.fsdecode(live))
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout)
    assert [os.fsencode(v["path"]) for v in got] == [
        os.path.join(bytes(snapshot(export, s) / "etc"), name)
        for s in ("before-upgrade", "daily-2026-11-24")]
    res = versions(os.fsdecode(live))
    out = lines(res)
    assert len(out) == 2  # one line each: the newline is escaped
    assert out[0].endswith("/etc/my file\\0012with \\0377 byte.txt")


def test_restore_puts_the_version_beside_and_never_clobbers(mounts, sim, export):
    live = fill(export)
    src = snapshot(export, "before-upgrade") / "etc/app.conf"
    os.setxattr(src, "trusted.ovhsnapfs-test", b"kept")
    m = mounts()
    sim.clear_log()
    res = versions("--restore", "before-upgrade", live, keep=m.path)
    assert res.returncode == 0, res.stderr
    restored = export / "etc/app.conf.before-upgrade"
    assert lines(res) == [str(restored)]
    st = os.stat(restored)
    assert restored.read_bytes() == MID and live.read_bytes() == NEW
    assert (st.st_mode & 0o7777, st.st_mtime) == (0o600, T2)
    assert os.getxattr(restored, "trusted.ovhsnapfs-test") == b"kept"
    before = sorted(os.listdir(export / "etc"))
    assert before == ["app.conf", "app.conf.before-upgrade"]
    # twice: nothing changes, exit 1
    restored.write_bytes(b"edited by hand\n")
    res = versions("--restore", "before-upgrade", live)
    assert res.returncode == 1 and res.stdout == b""
    assert "exists" in errlines(res)[0]
    assert sorted(os.listdir(export / "etc")) == before
    assert restored.read_bytes() == b"edited by hand\n"
    # by id: the mount says which directory it is
    res = versions("--restore", ID % 2, live, keep=m.path)
    assert res.returncode == 0, res.stderr
    assert lines(res) == [str(export / "etc/app.conf.daily-2026-11-25")]
    assert (export / "etc/app.conf.daily-2026-11-25").read_bytes() == OLD
    assert [c for c in sim.calls() if c[0] != "GET"] == []


def test_restore_of_an_unknown_snapshot_names_those_that_exist(export):
    live = fill(export)
    res = versions("--restore", "before-upgrad", live)
    assert res.returncode == 1 and res.stdout == b""
    assert errlines(res) == [
        "ovhsnapfs-versions: no snapshot before-upgrad in %s/.snapshot; there are: "
        "before-upgrade daily-2026-11-24 daily-2026-11-25 dup" % export]
    res = versions("--restore", "dup", live)  # a snapshot without the file
    assert res.returncode == 1 and "is not in snapshot dup" in errlines(res)[0]
    assert sorted(os.listdir(export / "etc")) == ["app.conf"]


def test_restore_of_a_directory_copies_the_whole_tree(export):
    fill(export)
    snap = snapshot(export, "before-upgrade")
    put(snap / "etc/conf.d/a b.conf", b"a\n", T1, 0o640)
    os.symlink("a b.conf", snap / "etc/conf.d/link")
    os.utime(snap / "etc/conf.d", (T1, T1))
    res = versions("--restore", "before-upgrade", export / "etc")
    assert res.returncode == 0, res.stderr
    out = export / "etc.before-upgrade"
    assert lines(res) == [str(out)]
    assert run(["diff", "-r", str(snap / "etc"), str(out)]).returncode == 0
    assert os.readlink(out / "conf.d/link") == "a b.conf"
    assert os.stat(out / "conf.d").st_mtime == T1
    assert os.stat(out / "conf.d/a b.conf").st_mode & 0o777 == 0o640


def test_overwrite_replaces_the_file_and_keeps_the_current_one(export):
    live = fill(export)
    res = versions("--restore", "before-upgrade", "--overwrite", live)
    assert res.returncode == 0, res.stderr
    out = lines(res)
    assert out[0] == str(live) and len(out) == 2
    kept = Path(out[1])
    assert kept.parent == live.parent and kept.name.startswith("app.conf.live-")
    assert live.read_bytes() == MID and os.stat(live).st_mtime == T2
    assert kept.read_bytes() == NEW
    assert sorted(os.listdir(live.parent)) == sorted(["app.conf", kept.name])


def test_overwrite_killed_at_any_point_loses_nothing(export):
    big_old = bytes(random.Random(1).getrandbits(8) for _ in range(1 << 16)) * 40
    big_new = b"N" * (3 << 20)
    put(snapshot(export, "before-upgrade") / "data.bin", big_new, T2)
    live = export / "data.bin"
    rng = random.Random(16)
    durations = []
    for _ in range(4):  # the first run warms caches up; kill points span the others
        put(live, big_old, T1)
        start = time.monotonic()
        assert versions_direct("--restore", "before-upgrade", "--overwrite", live) == 0
        durations.append(time.monotonic() - start)
        for p in live.parent.glob("data.bin.live-*"):
            p.unlink()
    whole = max(durations[1:])
    for _ in range(40):
        for p in live.parent.iterdir():
            if p.name != ".snapshot":
                p.unlink()
        put(live, big_old, T1)
        p = subprocess.Popen([str(VERSIONS), "--restore", "before-upgrade", "--overwrite",
                              str(live)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             env=KILLED_ENV)
        time.sleep(rng.uniform(0, whole))
        p.send_signal(signal.SIGKILL)
        p.wait(timeout=30)
        assert live.read_bytes() in (big_old, big_new)  # never a mix
        for kept in live.parent.glob("data.bin.live-*"):
            assert kept.read_bytes() == big_old
        if live.read_bytes() == big_new:  # the old one was kept before
            assert len(list(live.parent.glob("data.bin.live-*"))) == 1
        others = [p.name for p in live.parent.iterdir()
                  if p.name not in (".snapshot", "data.bin") and
                  not p.name.startswith(("data.bin.live-", ".data.bin.ovhsnapfs-versions-"))]
        assert others == []


# A kill that lands in LeakSanitizer's check at exit leaves an empty report file (an ASan
# build, tests/run.sh): the runs that are killed do not check for leaks; the others do.
KILLED_ENV = dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") +
                  ":detect_leaks=0")


def make_tree(root, n_dirs, per_dir, mtime=T1):
    for d in range(n_dirs):
        for f in range(per_dir):
            put(root / ("d%03d" % d) / ("f%03d" % f), b"x%d" % f, mtime)
        os.utime(root / ("d%03d" % d), (mtime, mtime))


def test_diff_lists_exactly_what_changed_sorted_and_escaped(export):
    old = snapshot(export, "before-upgrade") / "site"
    make_tree(old, 3, 3)
    put(old / "gone dir/inner", b"i", T1)
    put(old / b"bad\xffname".decode("utf-8", "surrogateescape"), b"b", T1)
    os.symlink("d000", old / "link")
    res = run(["cp", "-a", str(old), str(export / "site")])
    assert res.returncode == 0, res.stderr
    live = export / "site"
    put(live / "d001/f000", b"changed", T2)          # M: size and mtime
    os.chmod(live / "d002/f001", 0o600)              # M: mode
    os.unlink(live / "link")
    os.symlink("d001", live / "link")                # M: link target
    put(live / "new file\n.txt", b"n", T2)           # +
    latin1 = os.fsdecode(b"caf\xe9.txt")              # + (not UTF-8: \udce9 in JSON)
    put(live / latin1, b"l", T2)
    run(["rm", "-r", str(live / "gone dir")])        # - and - for what it held
    os.unlink(live / "d000/f002")                    # -
    for d in ("d000", "d001", "d002"):
        os.utime(live / d, (T1, T1))
    os.utime(live / "d001" / "f000", (T2, T2))
    res = versions("--diff", "before-upgrade", live)
    assert res.returncode == 0, res.stderr
    p = str(live)
    expect = sorted([
        ("M", p + "/d000"),  # an entry less: its size changed
        ("-", p + "/d000/f002"), ("M", p + "/d001/f000"), ("M", p + "/d002/f001"),
        ("-", p + "/gone dir"), ("-", p + "/gone dir/inner"), ("M", p + "/link"),
        ("+", p + "/new file\n.txt"), ("+", p + "/" + latin1)],
        key=lambda c: os.fsencode(c[1]))
    assert lines(res) == ["%s\t%s" % (c, escape(path)) for c, path in expect]
    assert "-\t%s/gone\\0040dir/inner" % escape(p) in lines(res)
    assert "+\t%s/caf\\0351.txt" % escape(p) in lines(res)
    got = json.loads(versions("--diff", "before-upgrade", "--json", live).stdout)
    assert [(c["change"], c["path"]) for c in got] == expect
    # nothing changed: nothing printed
    res = versions("--diff", "before-upgrade", "--to", "before-upgrade", live)
    assert (res.returncode, res.stdout, res.stderr) == (0, b"", b"")


def escape(path):
    out = []
    for b in os.fsencode(path):
        out.append(chr(b) if 0x20 < b < 0x7f and b != 0x5c else "\\%04o" % b)
    return "".join(out)


def test_diff_between_two_snapshots_and_of_10000_files(export):
    a, b = snapshot(export, "daily-2026-11-24") / "t", snapshot(export, "daily-2026-11-25") / "t"
    make_tree(a, 100, 100)
    b.parent.mkdir(parents=True)
    assert run(["cp", "-a", str(a), str(b)]).returncode == 0
    put(b / "d050/f050", b"other", T2)
    os.unlink(b / "d099/f000")
    put(b / "d000/zz", b"z", T1)
    (export / "t").mkdir()
    res = versions("--diff", "daily-2026-11-24", "--to", "daily-2026-11-25", "--json",
                   export / "t")
    assert res.returncode == 0, res.stderr
    got = [(c["change"], c["path"]) for c in json.loads(res.stdout)]
    t = str(export / "t")
    changed = [(c, p) for c, p in got if not (c == "M" and p.count("/") == t.count("/") + 1)]
    assert changed == [("+", t + "/d000/zz"), ("M", t + "/d050/f050"), ("-", t + "/d099/f000")]
    res = versions("--diff", "no-such", export / "t")
    assert res.returncode == 1 and "there are:" in errlines(res)[0]


def test_bash_completion_offers_options_and_the_snapshots_of_the_paths_mount(export):
    import shlex
    fill(export)
    script = Path(__file__).resolve().parents[2] / "contrib/bash-completion/ovhsnapfs-versions"

    def complete(*words, at=None):
        """What bash offers for words[at] (default: the last)."""
        words = ["ovhsnapfs-versions"] + [str(w) for w in words]
        cword = len(words) - 1 if at is None else at + 1
        code = ("source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _ovhsnapfs_versions; "
                "printf '%%s\\n' \"${COMPREPLY[@]}\""
                % (shlex.quote(str(script)), " ".join(shlex.quote(w) for w in words), cword))
        res = run(["bash", "--norc", "--noprofile", "-c", code])
        assert res.returncode == 0 and res.stderr == "", res.stderr
        return sorted(line for line in res.stdout.splitlines() if line)

    assert complete("--re") == ["--restore"]
    assert complete("--o") == ["--overwrite"]
    assert complete("--ve") == ["--verbose", "--version"]
    assert complete("--q") == ["--quiet"]
    live = export / "etc/app.conf"
    assert complete("--restore", "", live, at=1) == ["before-upgrade", "daily-2026-11-24",
                                               "daily-2026-11-25", "dup"]
    assert complete("--diff", "d", export / "etc", at=1) == ["daily-2026-11-24", "daily-2026-11-25",
                                                       "dup"]
    assert complete("--diff", "before-upgrade", "--to", "b", export / "gone/dir", at=3) == [
        "before-upgrade"]


def test_usage_errors_are_exit_2_and_help_is_exit_0():
    for args in ([], ["--overwrite", "/x"], ["--to", "a", "/x"], ["--restore", "a", "/x", "/y"],
                 ["--restore", "a", "--diff", "b", "/x"], ["--bogus", "/x"]):
        res = versions(*args)
        assert res.returncode == 2 and res.stdout == b"", args
        assert b"Try 'ovhsnapfs-versions --help'." in res.stderr
    res = versions("--help")
    assert res.returncode == 0 and b"--restore SNAPSHOT" in res.stdout
    assert versions("--version").stdout.startswith(b"ovhsnapfs-versions ")
