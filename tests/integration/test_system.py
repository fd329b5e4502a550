"""Mounting like a system filesystem: fstab, --check, OAuth2, logging, valgrind."""

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import (AK, AS, BINARY, CK, PYTHON, is_mounted, ls, run, sanitizer_env,
                      write_config)

WWW_DIR = "efs-prod/www/.snapshots"
CLIENT_ID, CLIENT_SECRET = "demo-client-id", "demo-client-secret"


def oauth_config(path, endpoint, client_id=CLIENT_ID, secret=CLIENT_SECRET):
    path.write_text("[default]\nendpoint=%s\n\n[%s]\nclient_id=%s\nclient_secret=%s\n"
                    % (endpoint, endpoint, client_id, secret))
    os.chmod(path, 0o600)
    return path


def check(args, env=None, cwd=None):
    full_env = {"PATH": "/usr/bin:/bin"}
    full_env.update(sanitizer_env())
    full_env.update(env or {})
    return run([str(BINARY), "--check"] + args, env=full_env, cwd=cwd, timeout=20)


# ---- --check ----

def test_check_reports_endpoint_auth_delta_and_services(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    res = check(["-o", "config=%s" % conf])
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "endpoint:   %s (%s)" % (sim.url, sim.url)
    assert lines[1] == "config:     %s" % conf
    assert lines[2].startswith("auth:       application key demo...")
    assert lines[3] == "time delta: +0 s"
    assert lines[4] == "services:   2 (efs-prod, efs-backup)"
    assert lines[5] == "ok"
    assert AS not in res.stdout and CK not in res.stdout
    assert sim.calls() == [("GET", "/auth/time"), ("GET", "/storage/netapp")]


def test_check_shows_the_clock_offset(tmp_path, sim):
    sim.config(clock_offset=-42)
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    res = check(["-o", "config=%s" % conf])
    assert "time delta: -42 s" in res.stdout


def test_check_takes_the_source_argument(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    res = check([sim.url, "-o", "config=%s" % conf])
    assert res.returncode == 0 and "ok" in res.stdout


@pytest.mark.parametrize("case", ["wrong_secret", "unknown_ck", "unreachable", "mode_0644",
                                  "secret_option", "mixed_methods", "no_credentials"])
def test_every_misconfiguration_fails_in_one_line(tmp_path, sim, case):
    conf = tmp_path / "ovh.conf"
    url, opts, words = sim.url, "", ""
    if case == "wrong_secret":
        write_config(conf, url, as_="nope")
        words = "refused the credentials"
    elif case == "unknown_ck":
        write_config(conf, url, ck="nope")
        words = "This credential does not exist"
    elif case == "unreachable":
        url = "http://127.0.0.1:9/1.0"
        write_config(conf, url)
        words = "cannot reach the OVH API at http://127.0.0.1:9/1.0"
    elif case == "mode_0644":
        write_config(conf, url, mode=0o644)
        words = "chmod 600"
    elif case == "secret_option":
        write_config(conf, url)
        opts, words = ",consumer_key=abc", "not accepted as -o options"
    elif case == "mixed_methods":
        write_config(conf, url, extra="client_id=x\nclient_secret=y\n")
        words = "keep only one method"
    elif case == "no_credentials":
        conf.write_text("[default]\nendpoint=%s\n" % url)
        os.chmod(conf, 0o600)
        words = "no credentials for endpoint"
    t0 = time.time()
    res = check(["-o", "config=%s%s" % (conf, opts)])
    assert time.time() - t0 < 10
    assert res.returncode == 1
    assert res.stderr.count("\n") == 1 and res.stderr.startswith("ovhsnapfs: "), res.stderr
    assert words in res.stderr
    assert "nope" not in res.stderr or case == "unknown_ck"


# ---- OAuth2 ----

def test_oauth2_service_account_mounts_with_bearer_tokens(mounts, sim, tmp_path):
    m = mounts(config=oauth_config(tmp_path / "oauth.conf", sim.url))
    assert ls(m / WWW_DIR)
    log = sim.log()
    assert [r["path"] for r in log][:2] == ["/auth/oauth2/token", "/1.0/storage/netapp"]
    api = [r for r in log if r["path"].startswith("/1.0/")]
    assert all(r["headers"].get("Authorization", "").startswith("Bearer ") for r in api)
    assert not any("X-Ovh-Signature" in r["headers"] for r in api)
    assert not any(r["path"].endswith("/auth/time") for r in log)
    assert CLIENT_SECRET not in m.log()


def test_oauth2_token_is_refreshed_before_it_expires(mounts, sim, tmp_path):
    sim.config(token_ttl=2)
    # rate=0: with cache_ttl=0 every ls costs a score of calls, past the default burst.
    m = mounts(["cache_ttl=0", "rate=0"], config=oauth_config(tmp_path / "oauth.conf", sim.url))
    for _ in range(4):
        assert "before-upgrade" in ls(m / WWW_DIR)
        time.sleep(1)
    statuses = [r["status"] for r in sim.log() if r["path"].startswith("/1.0/")]
    assert all(s == 200 for s in statuses), statuses  # never refused: refreshed early
    assert len([r for r in sim.log() if r["path"] == "/auth/oauth2/token"]) >= 2


def test_oauth2_token_is_fetched_again_after_a_401(mounts, sim, tmp_path):
    m = mounts(["cache_ttl=0"], config=oauth_config(tmp_path / "oauth.conf", sim.url))
    sim.config(tokens=[])  # the API forgets every token it gave
    assert "before-upgrade" in ls(m / WWW_DIR)
    log = [(r["path"], r["status"]) for r in sim.log()]
    first = next(i for i, (_, status) in enumerate(log) if status == 401)
    refused_path = log[first][0]
    assert log[first + 1] == ("/auth/oauth2/token", 200)
    assert log[first + 2] == (refused_path, 200)  # the same call, once more, accepted
    assert [s for _, s in log].count(401) == 1


def test_oauth2_wrong_secret_is_refused_before_mounting(tmp_path, sim):
    conf = oauth_config(tmp_path / "oauth.conf", sim.url, secret="bad-secret")
    res = check(["-o", "config=%s" % conf])
    assert res.returncode == 1
    assert "refused the OAuth2 service account" in res.stderr
    assert "invalid_client" in res.stderr and "bad-secret" not in res.stderr


def test_oauth2_from_the_environment(tmp_path, sim):
    res = check([sim.url], env={"OVH_CLIENT_ID": CLIENT_ID, "OVH_CLIENT_SECRET": CLIENT_SECRET,
                                "HOME": str(tmp_path)}, cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "OAuth2 service account" in res.stdout


# ---- fstab, through mount(8) and mount.fuse3 ----

FSTAB_SCRIPT = r"""
set -u
mount --make-rprivate /
mount --bind "$BINDIR" /usr/local/bin
mount -T "$FSTAB" "$MNT"; echo "mount=$?"
grep " $MNT " /proc/self/mounts
ls "$MNT"
umount "$MNT"; echo "umount=$?"
for _ in $(seq 50); do pgrep -f "ovhsnapfs .*$MNT" >/dev/null || break; sleep 0.1; done
pgrep -f "ovhsnapfs .*$MNT" >/dev/null && { echo daemon-left; pkill -KILL -f "ovhsnapfs .*$MNT"; }
echo done
"""


def test_fstab_line_mounts_with_mount_and_unmounts_with_umount(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    mnt = tmp_path / "efs"
    mnt.mkdir()
    bindir = tmp_path / "bin"
    bindir.mkdir()
    shutil.copy(BINARY, bindir / "ovhsnapfs")
    fstab = tmp_path / "fstab"
    fstab.write_text("# a test fstab\n%s %s fuse.ovhsnapfs "
                     "_netdev,nofail,noauto,x-systemd.automount,config=%s,ro 0 0\n"
                     % (sim.url, mnt, conf))
    env = {"BINDIR": str(bindir), "FSTAB": str(fstab), "MNT": str(mnt),
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    res = run(["unshare", "--mount", "bash", "-c", FSTAB_SCRIPT], env=env, timeout=60)
    out = res.stdout
    assert "mount=0" in out, res.stdout + res.stderr
    assert "%s %s fuse.ovhsnapfs ro," % (sim.url, mnt) in out
    assert "efs-backup\nefs-prod\n" in out
    assert "umount=0" in out and "daemon-left" not in out and "done" in out
    assert not is_mounted(mnt)
    assert AS not in out


# ---- umount.fuse.ovhsnapfs: umount(8) returns once the daemon has exited ----

HELPER = BINARY.parent / "umount.fuse.ovhsnapfs"

# umount(8) finds the helper as /sbin/umount.fuse.ovhsnapfs: in this private mount namespace
# only, a read-only overlay puts the build's helper over /usr/sbin (/sbin on merged /usr).
# Everything mounted here goes with the namespace, whatever happens.
UMOUNT_SETUP = r"""
set -u
mount --make-rprivate /
mount --bind "$BINDIR" /usr/local/bin
mount -t overlay overlay -o lowerdir="$SBINDIR":/usr/sbin /usr/sbin || { echo no-overlay; exit 1; }
[ -x /sbin/umount.fuse.ovhsnapfs ] || { echo no-helper; exit 1; }
daemon_pid() { sed -n 's/^ *"pid": \([0-9]*\),$/\1/p' "$MNT/.ovhsnapfs"; }
# Gone, or a zombie (exited, not yet reaped by init): "exited"; else its state.
state() { s=$(awk '/^State:/ { print $2 }' /proc/$1/status 2>/dev/null); [ -z "$s" ] || [ "$s" = Z ] && echo exited || echo "running($s)"; }
"""

UMOUNT_CYCLES = UMOUNT_SETUP + r"""
for i in $(seq 10); do
    mount -T "$FSTAB" "$MNT" || { echo "mount $i failed"; break; }
    pid=$(daemon_pid)
    umount $UMOUNT_OPTS "$MNT"; rc=$?
    echo "cycle $i: umount=$rc pid=$pid $(state "$pid")"
done
pkill -KILL -f "ovhsnapfs .*$MNT"
echo done
"""


def fstab_env(tmp_path, sim, **extra):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    mnt = tmp_path / "efs"
    mnt.mkdir()
    bindir, sbindir = tmp_path / "bin", tmp_path / "sbin"
    bindir.mkdir()
    sbindir.mkdir()
    shutil.copy(BINARY, bindir / "ovhsnapfs")
    shutil.copy(HELPER, sbindir / "umount.fuse.ovhsnapfs")
    fstab = tmp_path / "fstab"
    fstab.write_text("%s %s fuse.ovhsnapfs _netdev,nofail,config=%s 0 0\n" % (sim.url, mnt, conf))
    env = {"BINDIR": str(bindir), "SBINDIR": str(sbindir), "FSTAB": str(fstab), "MNT": str(mnt),
           "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    env.update(extra)
    return env, mnt


@pytest.mark.parametrize("opts", ["-c", "-l"])
def test_umount_returns_after_the_daemon_exited(tmp_path, sim, opts):
    # "-c" as systemd runs it for a .mount unit's stop; "-l" lazy.
    env, mnt = fstab_env(tmp_path, sim, UMOUNT_OPTS=opts)
    res = run(["unshare", "--mount", "bash", "-c", UMOUNT_CYCLES], env=env, timeout=120)
    out = res.stdout
    assert "done" in out, out + res.stderr
    cycles = [line for line in out.splitlines() if line.startswith("cycle ")]
    assert len(cycles) == 10, out + res.stderr
    for line in cycles:
        assert "umount=0 pid=" in line and line.endswith(" exited"), out + res.stderr
    assert "still runs" not in res.stderr
    assert not is_mounted(mnt)


UMOUNT_HUNG = UMOUNT_SETUP + r"""
mount -T "$FSTAB" "$MNT" || { echo mount-failed; exit 1; }
pid=$(daemon_pid)
kill -STOP "$pid"
timeout -s KILL 60 umount -c "$MNT"; echo "hung: umount=$?"
grep -q " $MNT " /proc/self/mounts && echo still-mounted
kill -CONT "$pid"
mount -T "$FSTAB" "$MNT" || { echo mount-failed; exit 1; }
pid=$(daemon_pid)
exec 3<"$MNT/efs-prod"
timeout -s KILL 60 umount -l "$MNT"; echo "busy: umount=$? $(state "$pid")"
exec 3<&-
for _ in $(seq 100); do [ "$(state "$pid")" = exited ] && break; sleep 0.1; done
echo "closed: $(state "$pid")"
pkill -KILL -f "ovhsnapfs .*$MNT"
echo done
"""


def test_umount_of_a_hung_or_busy_mount_returns_within_the_helpers_bound(tmp_path, sim):
    # A stopped daemon never answers the helper's read of MOUNT/.ovhsnapfs: unmounted anyway.
    # A lazy unmount of a mount in use: the daemon ends all the same (the detached mount then
    # answers ENOTCONN), so the helper sees it exit, with nothing to say.
    env, mnt = fstab_env(tmp_path, sim)
    res = run(["unshare", "--mount", "bash", "-c", UMOUNT_HUNG], env=env, timeout=120)
    out = res.stdout
    assert "done" in out, out + res.stderr
    assert "hung: umount=0" in out and "still-mounted" not in out, out + res.stderr
    assert "busy: umount=0 exited" in out, out + res.stderr
    assert "still runs after" not in res.stderr
    assert "closed: exited" in out
    assert not is_mounted(mnt)


# ---- daemon ----

def test_background_daemon_logs_to_syslog_and_sigterm_unmounts(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    mnt = tmp_path / "bg"
    mnt.mkdir()
    env = {"PATH": "/usr/bin:/bin"}
    env.update(sanitizer_env())
    res = run([str(BINARY), str(mnt), "-o", "config=%s" % conf], env=env, timeout=20)
    assert res.returncode == 0 and res.stderr == ""  # nothing on stderr once in background
    try:
        assert is_mounted(mnt)
        assert ls(mnt) == ["efs-backup", "efs-prod"]
    finally:
        pid = run(["pgrep", "-f", "ovhsnapfs %s" % mnt]).stdout.split()
        for p in pid:
            os.kill(int(p), 15)
        deadline = time.time() + 10
        while is_mounted(mnt) and time.time() < deadline:
            time.sleep(0.1)
        if is_mounted(mnt):
            run(["umount", "-l", str(mnt)])
    assert pid and not is_mounted(mnt)


@pytest.mark.skipif(not shutil.which("valgrind") or "asan" in str(BINARY),
                    reason="valgrind missing, or a sanitizer build")
def test_one_mount_cycle_under_valgrind_leaks_nothing(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    mnt = tmp_path / "vg"
    mnt.mkdir()
    log = tmp_path / "valgrind.log"
    proc = subprocess.Popen(
        ["valgrind", "--leak-check=full", "--errors-for-leak-kinds=definite,indirect",
         "--error-exitcode=99", "--log-file=%s" % log,
         "--suppressions=%s" % (Path(__file__).parent / "valgrind.supp"), str(BINARY), str(mnt), "-f", "-o",
         "config=%s,wait=5" % conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while not is_mounted(mnt):
            assert proc.poll() is None and time.time() < deadline, log.read_text()
            time.sleep(0.2)
        assert ls(mnt / WWW_DIR, timeout=60)
        (mnt / WWW_DIR / "before-upgrade/info.json").read_text()
        assert run(["mkdir", str(mnt / WWW_DIR / "vg")], timeout=60).returncode == 0
        assert run(["mv", str(mnt / WWW_DIR / "vg"), str(mnt / WWW_DIR / "vg2")],
                   timeout=60).returncode == 0
        assert run(["rmdir", str(mnt / WWW_DIR / "vg2")], timeout=60).returncode == 0
        os.kill(proc.pid, signal_hup())
        ls(mnt / "efs-prod", timeout=60)
    finally:
        run(["fusermount3", "-u", str(mnt)], timeout=30)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
    text = log.read_text()
    assert proc.returncode == 0, text
    assert "definitely lost: 0 bytes" in text or "no leaks are possible" in text, text


def signal_hup():
    import signal
    return signal.SIGHUP
