"""Starting up: configuration, credentials and options are checked before mounting."""

import os
import time

from conftest import (AS, BINARY, CK, Mount, is_mounted, mount_entry, ls, run, sanitizer_env,
                      write_config)

ERR_PREFIX = "ovhsnapfs: "


def start_fails(tmp_path, argv, env=None, timeout=10):
    """Run ovhsnapfs expecting it to refuse; return its stderr."""
    mnt = tmp_path / "mnt"
    mnt.mkdir(exist_ok=True)
    full_env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    full_env.update(sanitizer_env())
    full_env.update(env or {})
    t0 = time.time()
    try:
        res = run([str(BINARY)] + [str(a).replace("MNT", str(mnt)) for a in argv],
                  timeout=timeout + 5, env=full_env, cwd=str(tmp_path))
        assert time.time() - t0 < timeout
        assert res.returncode == 1, res.stderr
        assert not is_mounted(mnt)
    finally:
        if is_mounted(mnt):  # it was not refused: leave nothing mounted behind
            run(["fusermount3", "-u", str(mnt)], timeout=20)
    return res.stderr


def test_wrong_secret_is_refused_before_mounting(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url, as_="wrong-secret-value")
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s" % conf])
    assert "refused the credentials" in err
    assert "wrong-secret-value" not in err


def test_unknown_consumer_key_is_refused(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url, ck="not-a-key")
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s" % conf])
    assert "This credential does not exist" in err and "consumer_key" in err


def test_unreachable_endpoint_is_refused(tmp_path, sim):
    url = "http://127.0.0.1:9/1.0"
    conf = write_config(tmp_path / "ovh.conf", url)
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s,timeout=2,retries=1" % conf])
    assert "cannot reach the OVH API at " + url in err


def test_group_readable_config_is_refused(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url, mode=0o644)
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s" % conf])
    assert "chmod 600" in err and str(conf) in err
    assert sim.calls() == []


def test_missing_config_file_is_named(tmp_path, sim):
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s/absent.conf" % tmp_path])
    assert "absent.conf" in err


def test_credentials_as_options_are_refused(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s,application_secret=s3cr3t" % conf])
    assert "not accepted as -o options" in err and "s3cr3t" not in err
    assert sim.calls() == []


def test_bad_option_values_are_refused(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    for opt in ["cache_ttl=abc", "cache_ttl=-1", "retries=0", "timeout=0", "log_level=loud",
                "no_such_option"]:
        start_fails(tmp_path, ["MNT", "-o", "config=%s,%s" % (conf, opt)])
    assert sim.calls() == []


def test_no_mountpoint_is_a_usage_error(tmp_path):
    assert "no mountpoint" in start_fails(tmp_path, [])


def test_source_that_is_no_endpoint_is_refused(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    err = start_fails(tmp_path, ["nowhere", "MNT", "-o", "config=%s" % conf])
    assert "SOURCE 'nowhere' is not an endpoint" in err


def test_version_and_help(tmp_path):
    res = run([str(BINARY), "--version"])
    assert res.returncode == 0 and res.stdout.startswith("ovhsnapfs ")
    res = run([str(BINARY), "--help"])
    assert res.returncode == 0
    for opt in ["config=", "endpoint=", "service=", "cache_ttl=", "ro", "wait=",
                "description=", "cafile=", "timeout=", "request_timeout=", "retries=",
                "rate="]:
        assert opt in res.stdout, opt


def test_source_argument_shows_in_proc_mounts(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    mnt = tmp_path / "m"
    mnt.mkdir()
    m = Mount(tmp_path, sim, args=[str(BINARY), sim.url, str(mnt), "-f", "-o",
                                   "config=%s" % conf])
    m.path = mnt
    try:
        m.wait_mounted()
        fields = mount_entry(mnt)
        assert fields[0] == sim.url and fields[2] == "fuse.ovhsnapfs"
        assert AS not in open("/proc/self/mounts").read()
    finally:
        m.unmount()


def test_fstab_style_options_are_accepted(mounts, sim):
    m = mounts(["rw", "_netdev", "nofail", "noauto", "user", "x-systemd.automount", "dev",
                "suid", "defaults"])
    assert ls(m.path) == ["efs-backup", "efs-prod"]


def test_environment_alone_is_enough(mounts, sim, tmp_path):
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    os.chmod(empty, 0o600)
    m = mounts([], config=empty, env={"OVH_ENDPOINT": sim.url, "OVH_APPLICATION_KEY": "demo-ak",
                                      "OVH_APPLICATION_SECRET": AS, "OVH_CONSUMER_KEY": CK})
    assert ls(m.path) == ["efs-backup", "efs-prod"]


def test_environment_overrides_the_file(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s" % conf],
                      env={"OVH_APPLICATION_SECRET": "env-wrong"})
    assert "refused the credentials" in err


def test_home_ovh_conf_is_found_without_config_option(tmp_path, sim):
    write_config(tmp_path / ".ovh.conf", sim.url)
    mnt = tmp_path / "m"
    mnt.mkdir()
    m = Mount(tmp_path, sim, args=[str(BINARY), str(mnt), "-f"])
    m.path = mnt
    try:
        m.wait_mounted()
        assert ls(mnt) == ["efs-backup", "efs-prod"]
    finally:
        m.unmount()


def test_secrets_never_reach_the_debug_log(mounts, sim):
    m = mounts(["log_level=debug"])
    ls(m / "efs-prod/www/.snapshots")
    assert run(["mkdir", str(m / "efs-prod/www/.snapshots/logged")]).returncode == 0
    log = m.log()
    assert "GET /storage/netapp" in log
    assert AS not in log and CK not in log


def test_non_finite_negative_and_out_of_range_values_are_refused_in_one_line(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    for opt in ["cache_ttl=nan", "wait=inf", "wait=-1", "timeout=-1", "timeout=1e9",
                "rate=-5", "rate=1e999", "rate=NaN", "cache_max=-1", "retries=3x",
                "prefetch=-1", "umask=1777", "entry_timeout=nan", "attr_timeout=-2",
                "cache_ttl= 5", "umask=08", "umask=0.5", "retries=1.5", "prefetch=2e1",
                "timeout=0x10", "cache_max=1e3", "request_timeout=0", "request_timeout=nan",
                "request_timeout=3601", "request_timeout=2s", "cache_max=1.5G", "cache_max=2T",
                "cache_max=5X", "cache_max=M", "cache_max=1000000001",
                # Whole numbers that sscanf would wrap: 0, 1, 4, 1 thread.
                "umask=40000000000", "retries=4294967297", "prefetch=4294967300",
                "max_threads=4294967297", "gid=4294967296"]:
        err = start_fails(tmp_path, ["MNT", "-o", "config=%s,%s" % (conf, opt)])
        lines = err.splitlines()
        assert len(lines) == 1 and lines[0].startswith(ERR_PREFIX), (opt, err)
        assert opt.split("=")[0] in lines[0], (opt, err)
    assert sim.calls() == []


def test_missing_cafile_is_refused_before_mounting(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s,cafile=absent-ca.pem" % conf])
    assert err.startswith(ERR_PREFIX + "cafile=absent-ca.pem: No such file")
    assert sim.calls() == []


def test_relative_config_path_is_reported_absolute(tmp_path, sim):
    write_config(tmp_path / "rel.conf", sim.url)
    (tmp_path / "ca.pem").write_text("")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env.update(sanitizer_env())
    res = run([str(BINARY), "--check", "-o", "config=rel.conf,cafile=ca.pem"], env=env,
              cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "config:     %s/rel.conf\n" % os.path.realpath(tmp_path) in res.stdout


def _daemon_pids(mnt):
    pids = []
    for pid in os.listdir("/proc"):
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if pid.isdigit() and str(mnt).encode() in argv and argv[0].endswith(b"ovhsnapfs"):
            pids.append(int(pid))
    return pids


def _stop_daemon(mnt, pids):
    for pid in pids:
        os.kill(pid, 15)
    deadline = time.time() + 10
    while is_mounted(mnt) and time.time() < deadline:
        time.sleep(0.1)
    if is_mounted(mnt):
        run(["umount", "-l", str(mnt)])


def test_relative_paths_keep_working_in_the_background(tmp_path, sim):
    """The daemon goes to /: config= and cafile= given relative still name their files."""
    write_config(tmp_path / "rel.conf", sim.url)
    (tmp_path / "ca.pem").write_text("")
    mnt = tmp_path / "bg"
    mnt.mkdir()
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    env.update(sanitizer_env())
    res = run([str(BINARY), str(mnt), "-o", "config=rel.conf,cafile=ca.pem"], env=env,
              cwd=str(tmp_path), timeout=20)
    pids = _daemon_pids(mnt)
    try:
        assert res.returncode == 0, res.stderr
        assert len(pids) == 1
        assert os.readlink("/proc/%d/cwd" % pids[0]) == "/"
        assert ls(mnt / "efs-prod/www/.snapshots")
    finally:
        _stop_daemon(mnt, pids)
    assert not is_mounted(mnt)


def test_config_file_of_another_user_is_refused(tmp_path, sim):
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    os.chown(conf, 65534, 65534)
    err = start_fails(tmp_path, ["MNT", "-o", "config=%s" % conf])
    assert "belongs to another user" in err and str(conf) in err
    assert sim.calls() == []


def test_unreadable_optional_config_file_is_skipped(tmp_path, sim):
    """As another user: ./ovh.conf exists but is root's alone; the environment is enough."""
    write_config(tmp_path / "ovh.conf", sim.url, as_="file-secret")
    os.chmod(tmp_path, 0o755)
    env = {"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "OVH_ENDPOINT": sim.url,
           "OVH_APPLICATION_KEY": "demo-ak", "OVH_APPLICATION_SECRET": AS,
           "OVH_CONSUMER_KEY": CK}
    env.update(sanitizer_env())
    res = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(BINARY),
               "--check"], env=env, cwd=str(tmp_path))
    assert res.returncode == 0, res.stderr
    assert "config:     none (environment)" in res.stdout


def test_credentials_leave_the_environment_of_the_daemon(mounts, sim, tmp_path):
    empty = tmp_path / "empty.conf"
    empty.write_text("")
    os.chmod(empty, 0o600)
    m = mounts([], config=empty, env={"OVH_ENDPOINT": sim.url, "OVH_APPLICATION_KEY": "demo-ak",
                                      "OVH_APPLICATION_SECRET": AS, "OVH_CONSUMER_KEY": CK})
    assert ls(m.path) == ["efs-backup", "efs-prod"]
    with open("/proc/%d/environ" % m.proc.pid, "rb") as f:
        environ = f.read()
    assert b"OVH_ENDPOINT=" in environ  # not a secret: kept
    for secret in [b"OVH_APPLICATION_SECRET", b"OVH_CONSUMER_KEY", b"OVH_APPLICATION_KEY",
                   AS.encode(), CK.encode()]:
        assert secret not in environ, secret


def test_a_description_option_that_setfattr_would_refuse_is_refused(tmp_path, sim):
    """-o description= follows the rule of user.ovh.description: UTF-8, no control
    characters, at most 255 bytes; one line says which, and nothing is sent."""
    conf = write_config(tmp_path / "ovh.conf", sim.url)
    for text, why in [("bad\x01byte", "control characters"), ("\udcff\udcfe", "UTF-8"),
                      ("x" * 256, "255 bytes")]:
        err = start_fails(tmp_path, ["MNT", "-o", "config=%s,description=%s" % (conf, text)])
        assert why in err and len(err.strip().splitlines()) == 1, err
    assert sim.calls() == []
