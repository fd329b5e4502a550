"""Harness for the integration tests: a simulator, real mounts, and real tools.

Every process a test starts is stopped by its PID and every mount is unmounted at
teardown, even when the test fails; calls that could hang on a broken FUSE daemon run
in a child process with a timeout.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import types
import urllib.request
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SIM = REPO / "tests" / "sim" / "ovhsim.py"
BUILD = Path(os.environ.get("OVHSNAPFS_BUILD", REPO / "build"))
BINARY = Path(os.environ.get("OVHSNAPFS_BIN", BUILD / "src" / "ovhsnapfs"))
PYTHON = "/usr/bin/python3"

# Demo seed ids (tests/sim/ovhsim.py DEMO_SEED).
SVC = "5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0a001"
SVC2 = "5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0a002"
WWW = "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0101"
DB = "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0102"
AK, AS, CK = "demo-ak", "demo-as", "demo-ck"
SIM_DELAY = 0.3


def is_mounted(path):
    path = os.path.realpath(str(path))
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


def mount_entry(path):
    path = os.path.realpath(str(path))
    with open("/proc/self/mounts") as f:
        for line in f:
            fields = line.split()
            if fields[1] == path:
                return fields
    return None


# A run started in the background (`cmd &` in a script, nohup, some CI runners) inherits
# SIGINT ignored, and every tool and daemon the tests start would inherit it through exec:
# a Ctrl-C test would then send a signal nobody can receive (the tool sleeps on, state S).
# The default handler here is reset to SIG_DFL in each child at exec.
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


def ignored_signals(pid):
    """The signals process pid ignores (SigIgn in /proc/PID/status)."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("SigIgn:"):
                mask = int(line.split()[1], 16)
                return {n for n in range(1, 65) if mask & (1 << (n - 1))}
    return set()


def in_fuse_request(pid):
    """True when process pid sleeps in the kernel on a FUSE request (wchan request_wait_answer).

    A signal is sent to a tool only then: one sent earlier (while the tool is still starting,
    between fork and exec) can be taken by the parent's handler and lost, and the tool then
    waits its whole wait= with nobody to interrupt it. Kernels that hide wchan ("0") count a
    sleep (S or D) instead.
    """
    try:
        with open("/proc/%d/wchan" % pid) as f:
            wchan = f.read().strip()
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    if wchan in ("", "0"):
        return state in ("S", "D")
    return "request_wait_answer" in wchan or "fuse" in wchan


def signal_when_waiting(p, sig, timeout=5):
    """Send sig to Popen p once it sleeps on its FUSE request (asserted within timeout s)."""
    deadline = time.monotonic() + timeout
    while not in_fuse_request(p.pid):
        assert p.poll() is None, "%s ended before it was signalled: %r" % (p.args, p.returncode)
        assert time.monotonic() < deadline, "%s never slept on its FUSE request" % (p.args,)
        time.sleep(0.01)
    assert sig not in ignored_signals(p.pid), "%s ignores signal %d (inherited)" % (p.args, sig)
    p.send_signal(sig)


class Sim:
    """The simulator process and its admin interface."""

    def __init__(self, workdir):
        port_file = workdir / "sim.port"
        self.log_path = workdir / "sim.log"
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(
            [PYTHON, str(SIM), "--port", "0", "--port-file", str(port_file), "--quiet",
             "--create-delay", str(SIM_DELAY), "--delete-delay", str(SIM_DELAY)],
            stdout=self._log, stderr=subprocess.STDOUT)
        deadline = time.time() + 15
        while not port_file.exists():
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError("simulator did not start: " + self.log_path.read_text())
            time.sleep(0.05)
        self.port = int(port_file.read_text())
        self.url = "http://127.0.0.1:%d/1.0" % self.port

    def admin(self, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/_sim/%s" % (self.port, path),
                                     data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=10) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def reset(self):
        self.admin("POST", "reset", {})

    def config(self, **knobs):
        return self.admin("POST", "config", knobs)

    def fault(self, **spec):
        return self.admin("POST", "fault", spec)

    def seed(self, services):
        return self.admin("POST", "seed", {"services": services})

    def state(self):
        return self.admin("GET", "state")["services"]

    def log(self):
        return self.admin("GET", "log")["requests"]

    def clear_log(self):
        self.admin("POST", "log/reset", {})

    def calls(self, method=None, contains=None, suffix=None):
        """API requests in the log, optionally filtered, as (method, path?query).

        Paths are given below the base URL (without /1.0), as the reference writes them.
        """
        out = []
        for r in self.log():
            path = r["path"][4:] if r["path"].startswith("/1.0/") else r["path"]
            target = path + ("?" + r["query"] if r["query"] else "")
            if method and r["method"] != method:
                continue
            if contains and contains not in target:
                continue
            if suffix and not r["path"].endswith(suffix):
                continue
            out.append((r["method"], target))
        return out

    def snapshots(self, svc=SVC, share=WWW):
        for s in self.state():
            if s["id"] == svc:
                for sh in s["shares"]:
                    if sh["id"] == share:
                        return sh["snapshots"]
        raise KeyError(share)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@pytest.fixture(scope="session")
def sim_process(tmp_path_factory):
    sim = Sim(tmp_path_factory.mktemp("sim"))
    yield sim
    sim.stop()


@pytest.fixture
def sim(sim_process):
    sim_process.reset()
    sim_process.config(create_delay=SIM_DELAY, delete_delay=SIM_DELAY)
    yield sim_process
    sim_process.admin("POST", "faults/clear", {})


def write_config(path, endpoint, ak=AK, as_=AS, ck=CK, mode=0o600, extra=""):
    path.write_text("[default]\nendpoint=%s\n\n[%s]\napplication_key=%s\n"
                    "application_secret=%s\nconsumer_key=%s\n%s" % (endpoint, endpoint, ak,
                                                                      as_, ck, extra))
    os.chmod(path, mode)
    return path


def sanitizer_env():
    """ASan/UBSan settings of the run, passed on to every ovhsnapfs started."""
    return {k: v for k, v in os.environ.items() if k.endswith("SAN_OPTIONS")}


class Mount:
    """One ovhsnapfs process in the foreground (-f) and its mountpoint."""

    def __init__(self, workdir, sim, options=(), config=None, env=None, args=None):
        self.workdir = workdir
        self.path = workdir / ("mnt-" + uuid.uuid4().hex[:8])
        self.path.mkdir()
        self.config = config or write_config(workdir / "ovh.conf", sim.url)
        self.log_path = workdir / ("ovhsnapfs-%s.log" % self.path.name)
        opts = ["config=%s" % self.config] + list(options)
        self.argv = args or [str(BINARY), str(self.path), "-f", "-o", ",".join(opts)]
        full_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(workdir)}
        full_env.update(sanitizer_env())
        full_env.update(env or {})
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT,
                                     env=full_env, cwd=str(workdir))

    def wait_mounted(self, timeout=15):
        deadline = time.time() + timeout
        while not is_mounted(self.path):
            if self.proc.poll() is not None:
                raise AssertionError("ovhsnapfs exited %s: %s" % (self.proc.returncode,
                                                                 self.log()))
            if time.time() > deadline:
                raise AssertionError("not mounted after %ss: %s" % (timeout, self.log()))
            time.sleep(0.05)
        return self

    def log(self):
        self._log.flush()
        return self.log_path.read_text(errors="replace")

    def alive(self):
        return self.proc.poll() is None

    def __truediv__(self, rel):
        return self.path / rel

    def unmount(self):
        if is_mounted(self.path):
            subprocess.run(["fusermount3", "-u", str(self.path)], timeout=20,
                           capture_output=True)
        if is_mounted(self.path):
            subprocess.run(["umount", "-l", str(self.path)], timeout=20, capture_output=True)
        if self.proc.poll() is None:
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@pytest.fixture
def mounts(tmp_path, sim):
    """Factory: mounts(options=[...]) -> a mounted Mount; all are unmounted afterwards."""
    started = []

    def start(options=(), wait=True, **kw):
        m = Mount(tmp_path, sim, options=options, **kw)
        started.append(m)
        return m.wait_mounted() if wait else m

    yield start
    for m in started:
        m.unmount()


@pytest.fixture
def mnt(mounts):
    return mounts()


def run(cmd, timeout=30, **kw):
    """A real tool, bounded in time: a hung FUSE call fails the test, not the suite."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)


_FSOP = r"""
import errno, json, os, sys
op, args = sys.argv[1], [os.fsencode(a) if isinstance(a, str) else a for a in json.loads(sys.argv[2])]
args = [bytes.fromhex(a.decode()[4:]) if a.startswith(b"hex:") else a for a in args]
try:
    if op == "read":
        with open(args[0], "rb") as f:
            sys.stdout.write(f.read().decode("utf-8", "replace"))
    elif op == "write":
        with open(args[0], "wb") as f:
            f.write(b"x")
    elif op == "create":
        os.close(os.open(args[0], os.O_CREAT | os.O_WRONLY, 0o644))
    elif op == "stat":
        os.stat(args[0])
    else:
        getattr(os, op)(*args)
    print("\nERRNO 0")
except OSError as e:
    print("\nERRNO %s" % errno.errorcode.get(e.errno, e.errno))
"""


def fsop(op, *paths, timeout=30):
    """Run os.<op>(*paths) in a child process; return the errno name ('0' on success).

    A path given as bytes is passed as hex so that invalid UTF-8 survives argv.
    """
    args = ["hex:" + p.hex() if isinstance(p, bytes) else str(p) for p in paths]
    out = run([PYTHON, "-c", _FSOP, op, json.dumps(args)], timeout=timeout).stdout
    return out.rsplit("ERRNO ", 1)[1].strip()


_FSCALL = r"""
import errno, json, os, sys
op, path, args = sys.argv[1], bytes.fromhex(sys.argv[2]), json.loads(sys.argv[3])
try:
    if op == "read":
        with open(path, "rb") as f:
            value = f.read()
    elif op == "fstat_read":  # one open file: the size fstat gives and the bytes read
        with open(path, "rb") as f:
            value = [os.fstat(f.fileno()).st_size, f.read()]
    elif op in ("stat", "lstat"):
        st = getattr(os, op)(path)
        value = {k: getattr(st, k) for k in dir(st) if k.startswith("st_")}
    else:
        value = getattr(os, op)(os.fsdecode(path), *args)
    enc = lambda v: {"hex": v.hex()} if isinstance(v, bytes) else v
    value = [enc(v) for v in value] if isinstance(value, list) else enc(value)
    print(json.dumps({"value": value}))
except OSError as e:
    print(json.dumps({"errno": e.errno}))
"""


def fscall(op, path, *args, timeout=30):
    """os.<op>(path, *args) run in a child process: a hung FUSE call fails the test.

    Returns what the call returns (bytes stay bytes; stat/lstat give an object with the
    st_* fields), or raises the OSError the call raised. "read" returns the file's bytes,
    "fstat_read" [fstat().st_size, bytes] of one open file.
    """
    hexpath = (path if isinstance(path, bytes) else os.fsencode(str(path))).hex()
    res = run([PYTHON, "-c", _FSCALL, op, hexpath, json.dumps(list(args))], timeout=timeout)
    assert res.stdout, res.stderr
    out = json.loads(res.stdout)
    if "errno" in out:
        raise OSError(out["errno"], os.strerror(out["errno"]), str(path))
    dec = lambda v: bytes.fromhex(v["hex"]) if isinstance(v, dict) and "hex" in v else v
    value = out["value"]
    if op in ("stat", "lstat"):
        return types.SimpleNamespace(**value)
    return [dec(v) for v in value] if isinstance(value, list) else dec(value)


def ls(path, timeout=30):
    res = run(["ls", "-1", str(path)], timeout=timeout)
    assert res.returncode == 0, res.stderr
    return res.stdout.split("\n")[:-1]
