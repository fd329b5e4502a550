"""Every wait ends when the user says so: Ctrl-C, kill -9, SIGTERM, umount.

The simulator keeps new snapshots `creating` and deleted ones `deleting` for a minute, so a
mkdir or rmdir waits (wait=) the way it does against a slow API. Each test interrupts such a
wait the way a user would and checks what the user sees: the process gone at once, the
listing, the daemon's state, and the exact API calls (one POST, one DELETE, nothing after).
"""

import errno
import os
import random
import signal
import subprocess
import time

import pytest

from conftest import (BINARY, DB, WWW, Mount, fscall, fsop, is_mounted, ls, run,
                      signal_when_waiting)

WWW_DIR = "efs-prod/www/.snapshots"
SLOW = 60  # seconds the simulator keeps a snapshot creating or deleting
OPTIONS = ["wait=120", "rate=0"]
SNAP_ONE = r"/snapshot/[0-9a-fA-F-]+$"
# The 200 under ASan (its build dir is build-asan), fewer in the other runs.
CYCLES = int(os.environ.get("OVHSNAPFS_CYCLES", "200" if "asan" in str(BINARY) else "50"))


def proc_state(pid):
    """The state letter of /proc/PID/stat (R, S, D, Z...), or None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return None


def wait_for(what, timeout=10, step=0.05):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = what()
        if value:
            return value
        time.sleep(step)
    return what()


@pytest.fixture
def tools():
    """Factory: tools(argv) -> a running Popen of a real tool; all are killed afterwards."""
    started = []

    def start(argv):
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        started.append(p)
        return p

    yield start
    for p in started:
        if p.poll() is None:
            p.kill()
    for p in started:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            pass  # stuck in the kernel: the mount's teardown (umount -l, kill) frees it


@pytest.fixture
def slow_sim(sim):
    sim.config(create_delay=SLOW, delete_delay=SLOW)
    return sim


def posts(sim):
    return sim.calls("POST", suffix="/snapshot")


def deletes(sim):
    return sim.calls("DELETE")


def polls(sim, snap_id):
    return sim.calls("GET", suffix="/snapshot/" + snap_id)


def start_waiting_mkdir(tools, sim, path):
    """A mkdir that has sent its POST and is waiting for the snapshot to be available."""
    p = tools(["mkdir", str(path)])
    assert wait_for(lambda: posts(sim)), "no POST was sent"
    time.sleep(0.7)  # into the status polls
    assert p.poll() is None, "mkdir did not wait: %r" % (p.communicate(),)
    assert proc_state(p.pid) in ("S", "D")  # asleep in the kernel, on the FUSE request
    return p


def stop_within(p, sig, seconds):
    """Send sig; the time until the process is gone (it must be, within seconds)."""
    signal_when_waiting(p, sig)
    t0 = time.monotonic()
    try:
        p.wait(seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError("still there %ss after signal %d (state %s)"
                             % (seconds, sig, proc_state(p.pid)))
    elapsed = time.monotonic() - t0
    print("%s gone %.0f ms after signal %d" % (p.args[0], elapsed * 1000, sig))
    return elapsed


def created(sim, name, share=WWW):
    return [s for s in sim.snapshots(share=share) if s["name"] == name]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_mkdir_returns_at_once_and_its_snapshot_stays(mounts, slow_sim, tools, sig):
    m = mounts(OPTIONS)
    p = start_waiting_mkdir(tools, slow_sim, m / WWW_DIR / "nightly")
    elapsed = stop_within(p, sig, 3)
    assert elapsed < 1.5, elapsed  # the daemon answers within a second

    # What was sent stands: exactly one POST, the snapshot is being created, and listed.
    snaps = created(slow_sim, "nightly")
    assert len(snaps) == 1 and snaps[0]["status"] == "creating", snaps
    assert len(posts(slow_sim)) == 1
    assert "nightly" in ls(m / WWW_DIR, timeout=5)
    assert '"status": "creating"' in fscall("read", m / WWW_DIR / "nightly/info.json").decode()
    # And nothing more is sent for the interrupted call: its polls stopped.
    snap_id = snaps[0]["id"]
    before = len(polls(slow_sim, snap_id))
    time.sleep(1.5)
    assert len(polls(slow_sim, snap_id)) == before
    assert len(posts(slow_sim)) == 1
    assert m.alive()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "kill-9"])
def test_interrupted_rmdir_returns_at_once_and_its_snapshot_stays_gone(mounts, slow_sim, tools,
                                                                       sig):
    m = mounts(OPTIONS)
    assert "before-upgrade" in ls(m / WWW_DIR)
    p = tools(["rmdir", str(m / WWW_DIR / "before-upgrade")])
    assert wait_for(lambda: deletes(slow_sim)), "no DELETE was sent"
    time.sleep(0.7)
    assert p.poll() is None and proc_state(p.pid) in ("S", "D")
    elapsed = stop_within(p, sig, 3)
    assert elapsed < 1.5, elapsed

    snaps = created(slow_sim, "before-upgrade")
    assert len(snaps) == 1 and snaps[0]["status"] == "deleting", snaps
    assert len(deletes(slow_sim)) == 1
    assert "before-upgrade" not in ls(m / WWW_DIR, timeout=5)
    before = len(polls(slow_sim, snaps[0]["id"]))
    time.sleep(1.5)
    assert len(polls(slow_sim, snaps[0]["id"])) == before
    assert len(deletes(slow_sim)) == 1
    assert m.alive()


def test_mkdir_interrupted_before_its_post_sends_nothing(mounts, slow_sim, tools):
    """The listing it needs first hangs; Ctrl-C then: no POST is ever sent."""
    m = mounts(OPTIONS)
    slow_sim.fault(method="GET", path=r"/share/%s/snapshot$" % DB, action="hang", seconds=8)
    p = tools(["mkdir", str(m / "efs-prod/db/.snapshots/never")])
    assert wait_for(lambda: slow_sim.calls("GET", suffix="/share/%s/snapshot" % DB))
    time.sleep(0.3)
    assert p.poll() is None
    assert stop_within(p, signal.SIGINT, 3) < 1.5
    time.sleep(8.5)  # the hung listing has answered by now: the mkdir must not go on
    assert posts(slow_sim) == []
    assert created(slow_sim, "never", share=DB) == []
    assert m.alive()


def test_waits_tolerate_an_api_that_lags_a_few_polls(mounts, sim):
    """A GET right after the POST that answers 404, a DELETE whose first polls say available."""
    sim.config(create_delay=1.5, delete_delay=1.5)
    m = mounts(OPTIONS)
    sim.fault(method="GET", path=SNAP_ONE, action="status", status=404, times=2)
    assert run(["mkdir", str(m / WWW_DIR / "lagged")], timeout=30).returncode == 0
    snap = created(sim, "lagged")[0]
    assert snap["status"] == "available"
    available = dict(snap)
    sim.fault(method="GET", path=SNAP_ONE, action="status", status=200, body=available, times=2)
    res = run(["rmdir", str(m / WWW_DIR / "lagged")], timeout=30)
    assert res.returncode == 0, res.stderr
    assert created(sim, "lagged") == []
    assert len(posts(sim)) == 1 and len(deletes(sim)) == 1
    assert "lagged" not in ls(m / WWW_DIR)


def start_waiting_rmdir(tools, sim, path):
    p = tools(["rmdir", str(path)])
    assert wait_for(lambda: deletes(sim)), "no DELETE was sent"
    time.sleep(0.7)
    assert p.poll() is None and proc_state(p.pid) in ("S", "D")
    return p


def assert_daemon_gone(m, seconds):
    """The daemon exits 0 within seconds and leaves nothing mounted; the time it took."""
    t0 = time.monotonic()
    try:
        m.proc.wait(seconds)
    except subprocess.TimeoutExpired:
        raise AssertionError("daemon still running after %ss: %s" % (seconds, m.log()))
    assert m.proc.returncode == 0, m.log()
    assert not is_mounted(m.path)
    print("daemon gone in %.0f ms" % ((time.monotonic() - t0) * 1000))
    return time.monotonic() - t0


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["sigterm", "sigint"])
def test_signal_to_the_daemon_answers_every_wait_and_exits_0(mounts, slow_sim, tools, sig):
    m = mounts(OPTIONS)
    mkdir = start_waiting_mkdir(tools, slow_sim, m / WWW_DIR / "nightly")
    rmdir = start_waiting_rmdir(tools, slow_sim, m / "efs-prod/db/.snapshots/pre-migration")
    t0 = time.monotonic()
    m.proc.send_signal(sig)
    assert_daemon_gone(m, 5)
    assert time.monotonic() - t0 < 2  # the bound for the daemon
    for p in (mkdir, rmdir):
        p.wait(3)  # answered (EINTR), not left hanging on a dead mount
        assert p.returncode != 0
    assert "Interrupted system call" in mkdir.stderr.read().decode()
    assert len(posts(slow_sim)) == 1 and len(deletes(slow_sim)) == 1
    assert created(slow_sim, "nightly")[0]["status"] == "creating"


@pytest.mark.parametrize("lazy", [["umount", "-l"], ["fusermount3", "-u", "-z"]],
                         ids=["umount-l", "fusermount3-uz"])
def test_unmount_is_refused_while_a_call_waits_and_a_lazy_one_ends_it(mounts, slow_sim, tools,
                                                                      lazy):
    """The kernel refuses a plain unmount of a mount a call is in (EBUSY): it never waits.

    A lazy one detaches the mount at once; the daemon then ends the waits and exits.
    """
    m = mounts(OPTIONS)
    mkdir = start_waiting_mkdir(tools, slow_sim, m / WWW_DIR / "nightly")
    for plain in (["umount", str(m.path)], ["fusermount3", "-u", str(m.path)]):
        res = run(plain, timeout=5)
        assert res.returncode != 0 and "busy" in res.stderr, res
        assert is_mounted(m.path) and mkdir.poll() is None
    t0 = time.monotonic()
    assert run(lazy + [str(m.path)], timeout=5).returncode == 0
    assert_daemon_gone(m, 5)
    assert time.monotonic() - t0 < 2
    mkdir.wait(3)
    assert "Interrupted system call" in mkdir.stderr.read().decode()
    assert len(posts(slow_sim)) == 1


@pytest.mark.parametrize("holder", ["open-file", "cwd"])
def test_daemon_ends_at_a_lazy_unmount_while_the_mount_is_still_used(mounts, sim, tmp_path,
                                                                     holder):
    """A file left open or a working directory in a lazily detached mount keeps the kernel's
    session alive: the daemon ends it itself (a mount unit stops), and the holder then gets
    ENOTCONN instead of a daemon that outlives its unmount."""
    m = mounts(["rate=0"])
    snap = m / WWW_DIR / "before-upgrade"
    code = ("import os, sys\n"
            "f = open(sys.argv[1] + '/info.json', 'rb') if sys.argv[2] == 'open-file' "
            "else os.chdir(sys.argv[1])\n"
            "print('ready', flush=True)\nsys.stdin.readline()\n"
            "try:\n    os.listdir('.') if f is None else f.read()\n    print('0')\n"
            "except OSError as e:\n    print(e.errno)\n")
    user = subprocess.Popen(["/usr/bin/python3", "-c", code, str(snap), holder],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert user.stdout.readline() == "ready\n"
        assert run(["fusermount3", "-u", str(m.path)], timeout=5).returncode != 0  # busy
        assert run(["umount", "-l", str(m.path)], timeout=5).returncode == 0
        assert_daemon_gone(m, 5)
        out, _ = user.communicate("go\n", timeout=10)
        assert out.strip() == str(errno.ENOTCONN)
    finally:
        if user.poll() is None:
            user.kill()
            user.wait()


def test_a_bind_mount_of_the_mount_stays_served_after_the_first_is_unmounted(mounts, sim,
                                                                            tmp_path):
    """mount --bind A B; umount A: B is the same filesystem and goes on answering; the
    daemon ends only when no mount of it is left."""
    m = mounts(["rate=0"])
    other = tmp_path / "bound"
    other.mkdir()
    assert run(["mount", "--bind", str(m.path), str(other)]).returncode == 0
    try:
        assert run(["umount", str(m.path)], timeout=10).returncode == 0
        time.sleep(0.5)  # the watcher has seen the change
        assert m.proc.poll() is None, m.log()
        assert "before-upgrade" in ls(other / WWW_DIR)
        assert fsop("mkdir", other / WWW_DIR / "through-the-bind") == "0"
    finally:
        if is_mounted(other):
            run(["umount", str(other)], timeout=10)
    assert_daemon_gone(m, 5)
    assert [s["name"] for s in sim.snapshots() if s["name"] == "through-the-bind"]


MANY = 50


def many_shares():
    """One service with MANY shares (the simulator's seed: a list of services)."""
    return [{"id": "5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0b001", "name": "efs-many",
             "shares": [{"id": "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b%04d" % i, "name": "s%02d" % i}
                        for i in range(MANY)]}]


def timed(argv):
    t0 = time.monotonic()
    res = run(argv, timeout=10)
    assert res.returncode == 0, res.stderr
    return time.monotonic() - t0


def test_fifty_waiting_mkdirs_leave_the_mount_answering(mounts, sim, tools):
    """Each waiting mkdir holds one FUSE worker thread; ls, cat and stat still answer at once."""
    sim.seed(many_shares())
    sim.config(create_delay=SLOW)
    m = mounts(OPTIONS)
    shares = ["efs-many/s%02d" % i for i in range(MANY)]
    for s in shares:  # the listings a mkdir needs, loaded before: the waits are what counts
        assert ls(m / s / ".snapshots") == []
    waiting = [tools(["mkdir", str(m / s / ".snapshots" / "w")]) for s in shares]
    assert wait_for(lambda: len(posts(sim)) == MANY, timeout=30), len(posts(sim))
    time.sleep(1)
    assert all(p.poll() is None for p in waiting)
    assert all(proc_state(p.pid) in ("S", "D") for p in waiting)

    took = {"ls root": timed(["ls", "-l", str(m.path)]),
            "cat info.json": timed(["cat", str(m / "efs-many/info.json")]),
            "stat": timed(["stat", str(m / "efs-many/s07/info.json")]),
            "ls a waiting share's parent": timed(["ls", str(m / "efs-many")])}
    print("with %d mkdirs waiting: %s" % (MANY, ", ".join(
        "%s %.0f ms" % (k, v * 1000) for k, v in took.items())))
    assert all(v < 1 for v in took.values()), took

    t0 = time.monotonic()
    for p in waiting:
        p.send_signal(signal.SIGKILL)
    for p in waiting:
        p.wait(max(0.1, 3 - (time.monotonic() - t0)))
    assert len(posts(sim)) == MANY
    assert m.alive()


def test_mount_unmount_cycles_while_listings_refresh_exit_0(tmp_path, sim):
    """Unmount while the background refreshes run, many times: never a crash or a report.

    A tiny cache_ttl makes every listing a user saw expire at once, so the refresh thread
    reloads them (20 ms of API latency each) right when the unmount comes; prefetch=4 adds
    the prefetch workers. Under the ASan build any use after free, leak or race at
    teardown ends the daemon with a non-zero status.
    """
    sim.config(latency=0.02)
    stops = [["fusermount3", "-u"], signal.SIGTERM, ["umount"], signal.SIGINT]
    t0 = time.monotonic()
    for i in range(CYCLES):
        m = Mount(tmp_path, sim, options=["cache_ttl=0.05", "prefetch=4", "rate=0"])
        try:
            m.wait_mounted()
            res = run(["ls", str(m.path), str(m / "efs-prod"), str(m / WWW_DIR)], timeout=10)
            assert res.returncode == 0, res.stderr
            time.sleep(random.uniform(0, 0.15))  # expired: the refresh thread reloads them
            stop = stops[i % len(stops)]
            if isinstance(stop, list):
                assert run(stop + [str(m.path)], timeout=10).returncode == 0
            else:
                m.proc.send_signal(stop)
            m.proc.wait(10)
            assert m.proc.returncode == 0, "cycle %d (%s): %s" % (i, stop, m.log())
            assert not is_mounted(m.path)
        finally:
            m.unmount()
    print("%d mount cycles in %.1f s" % (CYCLES, time.monotonic() - t0))


def test_a_change_waiting_for_another_in_its_share_can_be_interrupted(mounts, sim, tools):
    """A setfattr waits while a mkdir's POST holds the share; Ctrl-C frees it, its PUT unsent."""
    m = mounts(OPTIONS + ["timeout=8"])
    # Looked up now, so that the kernel need not lock .snapshots (the mkdir holds it) later.
    assert fsop("stat", m / WWW_DIR / "before-upgrade") == "0"
    sim.fault(method="POST", path=r"/snapshot$", action="delay", seconds=5)
    mkdir = tools(["mkdir", str(m / WWW_DIR / "slow")])
    time.sleep(0.5)  # the POST is under way, its reply 5 s off
    setfattr = tools(["setfattr", "-n", "user.ovh.description", "-v", "later",
                      str(m / WWW_DIR / "before-upgrade")])
    time.sleep(0.5)
    assert setfattr.poll() is None and mkdir.poll() is None
    assert stop_within(setfattr, signal.SIGINT, 3) < 1.5
    assert mkdir.wait(15) == 0  # the mkdir itself goes on
    assert sim.calls("PUT") == []  # the interrupted change sent nothing
    assert len(posts(sim)) == 1


def test_mkdir_interrupted_during_a_slow_post_sends_it_once(mounts, sim, tools):
    """Ctrl-C while the POST itself is in flight: the answer comes at once, the POST is not
    sent again, and the snapshot the API makes is listed by the next ls."""
    m = mounts(OPTIONS)
    assert "before-upgrade" in ls(m / WWW_DIR)
    sim.fault(method="POST", path=r"/snapshot$", action="delay", seconds=3)
    mkdir = tools(["mkdir", str(m / WWW_DIR / "slow")])
    time.sleep(0.7)
    assert mkdir.poll() is None
    assert stop_within(mkdir, signal.SIGINT, 3) < 1.5
    assert wait_for(lambda: created(sim, "slow"), timeout=10)
    time.sleep(0.5)
    assert len(posts(sim)) == 1
    assert "slow" in ls(m / WWW_DIR)
    assert len(posts(sim)) == 1


def test_rmdir_interrupted_during_a_slow_delete_leaves_it_unlisted(mounts, sim, tools):
    """Ctrl-C while the DELETE itself is in flight: the answer comes at once, the DELETE is
    not sent again, and once the API has carried it out the next ls no longer lists it
    (the share's cached listing, which still had it, was dropped)."""
    m = mounts(OPTIONS)
    assert "before-upgrade" in ls(m / WWW_DIR)
    sim.fault(method="DELETE", path=SNAP_ONE, action="delay", seconds=3)
    rmdir = tools(["rmdir", str(m / WWW_DIR / "before-upgrade")])
    time.sleep(0.7)
    assert rmdir.poll() is None
    assert stop_within(rmdir, signal.SIGINT, 3) < 1.5
    assert wait_for(lambda: not created(sim, "before-upgrade"), timeout=10)
    assert "before-upgrade" not in ls(m / WWW_DIR)
    assert len(deletes(sim)) == 1


def test_mv_interrupted_during_a_slow_put_shows_the_name_the_api_has(mounts, sim, tools):
    """Ctrl-C while the rename's PUT is in flight: once the API has carried it out, the
    next ls shows the new name, not the cached old one."""
    m = mounts(OPTIONS)
    assert "before-upgrade" in ls(m / WWW_DIR)
    sim.fault(method="PUT", path=SNAP_ONE, action="delay", seconds=3)
    mv = tools(["mv", "-T", str(m / WWW_DIR / "before-upgrade"), str(m / WWW_DIR / "renamed")])
    time.sleep(0.7)
    assert mv.poll() is None
    assert stop_within(mv, signal.SIGINT, 3) < 1.5
    assert wait_for(lambda: created(sim, "renamed"), timeout=10)
    names = ls(m / WWW_DIR)
    assert "renamed" in names and "before-upgrade" not in names, names
    assert len(sim.calls("PUT")) == 1


def test_setfattr_interrupted_during_a_slow_put_shows_the_description_the_api_has(
        mounts, sim, tools):
    """Ctrl-C while a description's PUT is in flight: once the API has carried it out,
    getfattr shows the new description, not the cached old one."""
    m = mounts(OPTIONS)
    snap = m / WWW_DIR / "before-upgrade"
    assert "before-upgrade" in ls(m / WWW_DIR)
    sim.fault(method="PUT", path=SNAP_ONE, action="delay", seconds=3)
    setfattr = tools(["setfattr", "-n", "user.ovh.description", "-v", "after", str(snap)])
    time.sleep(0.7)
    assert setfattr.poll() is None
    assert stop_within(setfattr, signal.SIGINT, 3) < 1.5
    assert wait_for(lambda: created(sim, "before-upgrade")[0]["description"] == "after",
                    timeout=10)
    res = run(["getfattr", "--only-values", "-n", "user.ovh.description", str(snap)])
    assert res.stdout == "after", res
    assert len(sim.calls("PUT")) == 1


def test_interrupted_ls_leaves_at_once_and_the_shared_load_serves_the_other(mounts, sim, tools):
    """Two ls wait for one slow listing; Ctrl-C on one: it goes, the other gets the listing
    from the same single GET."""
    m = mounts(OPTIONS)
    slow_list = r"/share/%s/snapshot$" % DB
    sim.fault(method="GET", path=slow_list, action="delay", seconds=3)
    first = tools(["ls", str(m / "efs-prod/db/.snapshots")])
    time.sleep(0.3)
    second = tools(["ls", str(m / "efs-prod/db/.snapshots")])
    time.sleep(0.5)
    assert first.poll() is None and second.poll() is None
    assert stop_within(first, signal.SIGINT, 3) < 1.5
    assert second.wait(10) == 0
    assert "pre-migration" in second.stdout.read().decode()
    assert len(sim.calls("GET", suffix="/share/%s/snapshot" % DB)) == 1


def test_ctrl_c_on_the_mkdir_frees_what_waits_for_its_directory(mounts, slow_sim, tools):
    """The kernel locks .snapshots for the whole mkdir: a lookup there waits, unkillable
    (state D); interrupting the mkdir frees it at once."""
    m = mounts(OPTIONS)
    mkdir = start_waiting_mkdir(tools, slow_sim, m / WWW_DIR / "nightly")
    lookup = tools(["stat", str(m / WWW_DIR / "not-cached")])
    time.sleep(0.5)
    assert lookup.poll() is None and proc_state(lookup.pid) == "D"
    stop_within(mkdir, signal.SIGINT, 3)
    assert lookup.wait(2) == 1  # answered: no such snapshot
    assert "No such file" in lookup.stderr.read().decode()
