#!/usr/bin/python3
"""The ovhsnapfs benchmark driver (started by bench/run.sh; Python standard library only).

It starts the OVH API simulator (tests/sim/ovhsim.py), mounts ovhsnapfs and the memfs
baseline with real FUSE, measures the six figures described in bench/README.md and prints
one table. Every process it starts and every mountpoint it makes is also written to
WORKDIR/pids and WORKDIR/mounts, so that run.sh can clean up after a crash or Ctrl-C.
"""

import argparse
import concurrent.futures
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
import uuid

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIM = os.path.join(REPO, "tests", "sim", "ovhsim.py")
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
AK, AS, CK = "demo-ak", "demo-as", "demo-ck"

# The simulator, with TCP_NODELAY on its sockets unless --sim-nagle: http.server writes a
# reply's headers and body in two send()s, so on a reused keep-alive connection Nagle's
# algorithm holds the body until the client's delayed ACK (about 40 ms on Linux), an
# artifact of the simulator that would swamp a 20 ms latency. Loaded without writing
# bytecode into the tree.
SIM_NODELAY = r"""
import importlib.util, sys
sys.dont_write_bytecode = True
spec = importlib.util.spec_from_file_location("ovhsim", sys.argv[1])
sim = importlib.util.module_from_spec(spec)
sys.modules["ovhsim"] = sim
spec.loader.exec_module(sim)
sim.Handler.disable_nagle_algorithm = True
sys.exit(sim.main(sys.argv[2:]))
"""
NAGLE = False  # --sim-nagle: run tests/sim/ovhsim.py exactly as it is

# Trees (services x shares x snapshots).
TREE_CALLS = (5, 4, 20)       # figures 1, 2 and 5
TREE_FIND = (10, 8, 10)       # figure 3
TREE_RSS = (10, 10, 200)      # figure 4 (issue 26: 20,000 snapshots)
TREE_BIG = 20000              # figure 7: snapshots in one share
LATENCY = 0.02                # figure 3
CACHE_TTL = 60                # ovhsnapfs's default, hence its default kernel timeouts


class Failed(Exception):
    pass


# --------------------------------------------------------------------------------------
# Processes and mounts: tracked here and in files that run.sh reads on the way out.
# --------------------------------------------------------------------------------------

class Registry:
    def __init__(self, work):
        self.work = work
        self.procs = {}   # pid -> Popen
        self.mounts = []

    def _rewrite(self):
        with open(os.path.join(self.work, "pids"), "w") as f:
            f.writelines("%d\n" % pid for pid, p in self.procs.items() if p.poll() is None)
        with open(os.path.join(self.work, "mounts"), "w") as f:
            f.writelines("%s\n" % m for m in self.mounts)

    def start(self, argv, log_name, env=None):
        log = open(os.path.join(self.work, log_name), "ab")
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env,
                                cwd=self.work, stdin=subprocess.DEVNULL)
        log.close()
        proc.log_path = os.path.join(self.work, log_name)
        self.procs[proc.pid] = proc
        self._rewrite()
        return proc

    def add_mount(self, path):
        self.mounts.append(path)
        self._rewrite()

    def stop(self, proc, timeout=10):
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        self.procs.pop(proc.pid, None)
        self._rewrite()

    def unmount(self, path, proc=None):
        if is_mounted(path):
            subprocess.run(["fusermount3", "-u", path], capture_output=True, timeout=20)
        if is_mounted(path):
            subprocess.run(["umount", "-l", path], capture_output=True, timeout=20)
        if proc is not None:
            try:
                proc.wait(10)  # a FUSE daemon in -f exits once unmounted
            except subprocess.TimeoutExpired:
                pass
            self.stop(proc)
        if path in self.mounts and not is_mounted(path):
            self.mounts.remove(path)
            try:
                os.rmdir(path)
            except OSError:
                pass
        self._rewrite()

    def cleanup(self):
        for path in list(self.mounts):
            try:
                self.unmount(path)
            except Exception:
                pass
        for proc in list(self.procs.values()):
            try:
                self.stop(proc, timeout=5)
            except Exception:
                pass


def is_mounted(path):
    path = os.path.realpath(path)
    with open("/proc/self/mounts") as f:
        return any(line.split()[1] == path for line in f)


def vm_hwm_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise Failed("no VmHWM for pid %d" % pid)


# --------------------------------------------------------------------------------------
# The simulator
# --------------------------------------------------------------------------------------

class Sim:
    def __init__(self, reg, name, seed_file=None, timeout=120):
        self.reg = reg
        port_file = os.path.join(reg.work, name + ".port")
        if NAGLE:
            argv = [PYTHON, SIM]
        else:
            argv = [PYTHON, "-c", SIM_NODELAY, SIM]
        argv += ["--port", "0", "--port-file", port_file, "--quiet"]
        if seed_file:
            argv += ["--seed", seed_file]
        if os.path.exists(port_file):
            os.unlink(port_file)
        t0 = time.monotonic()
        self.proc = reg.start(argv, name + ".log")
        deadline = t0 + timeout
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise Failed("simulator did not start: " + tail(self.proc.log_path))
            time.sleep(0.05)
        self.ready_seconds = time.monotonic() - t0
        with open(port_file) as f:
            self.port = int(f.read())
        self.url = "http://127.0.0.1:%d/1.0" % self.port

    def admin(self, method, path, body=None, timeout=120):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/_sim/%s" % (self.port, path),
                                     data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read()
        return json.loads(text) if text else None

    def seed(self, services):
        self.admin("POST", "seed", {"services": services})

    def config(self, **knobs):
        self.admin("POST", "config", knobs)

    def log(self):
        return self.admin("GET", "log")["requests"]

    def clear_log(self):
        self.admin("POST", "log/reset", {})

    def stop(self):
        self.reg.stop(self.proc)


def round_trip(sim, n=30):
    """Median seconds of one GET /auth/time on a kept-alive connection (Python client)."""
    import http.client
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=30)
    times = []
    try:
        for _ in range(n):
            t0 = time.monotonic()
            conn.request("GET", "/1.0/auth/time")
            conn.getresponse().read()
            times.append(time.monotonic() - t0)
    finally:
        conn.close()
    return statistics.median(times)


def classify(requests):
    """API calls by kind: auth/time, services list, share lists, snapshot lists, other."""
    kinds = {"time": 0, "services": 0, "shares": 0, "snapshots": 0, "other": 0}
    for r in requests:
        p = r["path"]
        for prefix in ("/1.0", "/v1"):
            if p.startswith(prefix + "/"):
                p = p[len(prefix):]
        parts = p.strip("/").split("/")
        if r["method"] == "GET" and p == "/auth/time":
            kinds["time"] += 1
        elif r["method"] == "GET" and parts == ["storage", "netapp"]:
            kinds["services"] += 1
        elif r["method"] == "GET" and len(parts) == 4 and parts[3] == "share":
            kinds["shares"] += 1
        elif r["method"] == "GET" and len(parts) == 6 and parts[5] == "snapshot":
            kinds["snapshots"] += 1
        else:
            kinds["other"] += 1
    kinds["conns"] = len({r["conn"] for r in requests})
    return kinds


def fmt_kinds(k):
    s = "%d time + %d services + %d share lists + %d snapshot lists" % (
        k["time"], k["services"], k["shares"], k["snapshots"])
    s += " + %d other" % k["other"] if k["other"] else ""
    return s + " over %d TCP connection%s" % (k["conns"], "" if k["conns"] == 1 else "s")


# --------------------------------------------------------------------------------------
# Seeds: names and descriptions like real ones, deterministic ids.
# --------------------------------------------------------------------------------------

SHARE_NAMES = ["www", "db", "logs", "home", "backup", "media", "build", "mail", "ci", "data",
               "exports", "scratch"]
ENVS = ["prod", "staging", "backup", "dev", "archive"]


def make_uuid(kind, *nums):
    value = kind
    for n in nums:
        value = (value << 24) | n
    return str(uuid.UUID(int=value & ((1 << 128) - 1) | (1 << 127)))


def make_seed(n_services, n_shares, n_snapshots):
    base = time.mktime((2026, 1, 1, 0, 10, 0, 0, 0, 0)) - time.timezone
    services = []
    for s in range(n_services):
        svc_name = "efs-%s-%02d" % (ENVS[s % len(ENVS)], s + 1)
        shares = []
        for h in range(n_shares):
            share_name = SHARE_NAMES[h % len(SHARE_NAMES)]
            if h >= len(SHARE_NAMES):
                share_name += "-%d" % (h // len(SHARE_NAMES) + 1)
            snaps = []
            for j in range(n_snapshots):
                t = base + j * 86400 + s * 7 + h * 3
                day = time.strftime("%Y-%m-%d", time.gmtime(t))
                if j % 10 == 3:
                    name, desc, typ = ("before-deploy-%s-%03d" % (share_name, j),
                                       "before deploying release 4.%d.0 on %s" % (j, svc_name),
                                       "manual")
                elif j % 7 == 0:
                    name, desc, typ = "weekly-%s" % day, None, "automatic"
                else:
                    name, desc, typ = "daily-%s" % day, None, "automatic"
                snaps.append({"id": make_uuid(3, s, h, j), "name": name, "description": desc,
                              "createdAt": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t)),
                              "status": "available", "type": typ})
            shares.append({"id": make_uuid(2, s, h), "name": share_name,
                           "description": "%s data of %s" % (share_name, svc_name),
                           "mountPointName": share_name, "size": 100 * (h + 1),
                           "snapshots": snaps})
        services.append({"id": make_uuid(1, s), "name": svc_name, "shares": shares})
    return services


def snapshot_dirs(mnt, services):
    return [os.path.join(mnt, s["name"], h["name"], ".snapshots")
            for s in services for h in s["shares"]]


# --------------------------------------------------------------------------------------
# Mounting
# --------------------------------------------------------------------------------------

class Bench:
    def __init__(self, args):
        self.args = args
        self.work = args.work
        self.reg = Registry(self.work)
        self.binary = args.bin
        self.memfs = args.memfs
        self.statloop = args.statloop
        self.versions = args.versions
        self.n_mounts = 0
        self.sim = None
        self.config_path = None
        self.deadline = time.monotonic() + args.budget

    def write_config(self, sim):
        path = os.path.join(self.work, "ovh-%d.conf" % sim.port)
        with open(path, "w") as f:
            f.write("[default]\nendpoint=%s\n\n[%s]\napplication_key=%s\n"
                    "application_secret=%s\nconsumer_key=%s\n" % (sim.url, sim.url, AK, AS, CK))
        os.chmod(path, 0o600)
        return path

    def new_mountpoint(self, kind):
        self.n_mounts += 1
        path = os.path.join(self.work, "mnt-%s-%d" % (kind, self.n_mounts))
        os.mkdir(path)
        return path

    def wait_mounted(self, proc, path, timeout=60, poll=0.001):
        deadline = time.monotonic() + timeout
        while not is_mounted(path):
            if proc.poll() is not None:
                raise Failed("%s exited with %s: %s" % (os.path.basename(proc.args[0]),
                                                       proc.returncode, tail(proc.log_path)))
            if time.monotonic() > deadline:
                raise Failed("not mounted after %ss: %s" % (timeout, tail(proc.log_path)))
            time.sleep(poll)
        return time.monotonic()

    def mount_ovhsnapfs(self, sim, options=(), poll=0.001):
        """Mount; returns (mountpoint, process, seconds from start to /proc/mounts)."""
        path = self.new_mountpoint("ovhsnapfs")
        config = self.write_config(sim)
        opts = ",".join(["config=" + config] + list(options))
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": self.work}
        self.reg.add_mount(path)
        t0 = time.monotonic()
        proc = self.reg.start([self.binary, path, "-f", "-o", opts],
                              "ovhsnapfs-%d.log" % self.n_mounts, env=env)
        try:
            t1 = self.wait_mounted(proc, path, poll=poll)
        except Failed:
            self.reg.unmount(path, proc)
            raise
        return path, proc, t1 - t0

    def mount_memfs(self, manifest, options=(), poll=0.001):
        path = self.new_mountpoint("memfs")
        argv = [self.memfs, manifest, path, "-f"]
        if options:
            argv += ["-o", ",".join(options)]
        self.reg.add_mount(path)
        t0 = time.monotonic()
        proc = self.reg.start(argv, "memfs-%d.log" % self.n_mounts)
        try:
            t1 = self.wait_mounted(proc, path, poll=poll)
        except Failed:
            self.reg.unmount(path, proc)
            raise
        return path, proc, t1 - t0

    def left(self):
        return self.deadline - time.monotonic()


def tail(path, n=600):
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-n:].decode("utf-8", "replace").strip() or "(no output)"
    except OSError:
        return "(no log)"


# --------------------------------------------------------------------------------------
# Tree walks
# --------------------------------------------------------------------------------------

def walk(root):
    """Every path under root: (relative path, is_dir, size), parents before children.

    Lists every directory (readdir) and stats every entry.
    """
    out = []
    todo = [""]
    while todo:
        rel = todo.pop(0)
        full = os.path.join(root, rel) if rel else root
        for name in sorted(os.listdir(full)):
            child = os.path.join(rel, name) if rel else name
            st = os.stat(os.path.join(root, child))
            is_dir = (st.st_mode & 0o170000) == 0o040000
            out.append((child, is_dir, st.st_size))
            if is_dir:
                todo.append(child)
    return out


def workload_pass(mnt):
    """Figure 1's workload: list every directory, ls -l every .snapshots, read every info.json."""
    entries = walk(mnt)
    snapdirs = [os.path.join(mnt, p) for p, d, _ in entries
                if d and os.path.basename(p) == ".snapshots"]
    for d in snapdirs:
        res = subprocess.run(["ls", "-l", d], capture_output=True, timeout=60)
        if res.returncode != 0:
            raise Failed("ls -l %s: %s" % (d, res.stderr.decode(errors="replace").strip()))
    infos = 0
    for p, d, _ in entries:
        if not d and os.path.basename(p) == "info.json":
            with open(os.path.join(mnt, p), "rb") as f:
                f.read()
            infos += 1
    return entries, len(snapdirs), infos


def write_manifest(entries, path):
    with open(path, "w") as f:
        for rel, is_dir, size in entries:
            if "\n" in rel or "\t" in rel:
                raise Failed("a name with a TAB or newline cannot go in the manifest: %r" % rel)
            f.write("d\t%s\n" % rel if is_dir else "f\t%d\t%s\n" % (size, rel))


# --------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------

class Row:
    def __init__(self, num, figure, ours="", base="", ratio=None, target="", ok=None,
                 note="", error=False):
        self.num, self.figure, self.ours, self.base = num, figure, ours, base
        self.ratio, self.target, self.ok, self.note = ratio, target, ok, note
        self.error = error


def figure1(b, sim):
    S, H, N = TREE_CALLS
    services = make_seed(S, H, N)
    sim.seed(services)
    sim.config(latency=0)
    sim.clear_log()
    mnt, proc, _ = b.mount_ovhsnapfs(sim)  # default options: cache_ttl=60, rate=1, burst=60
    try:
        mount_calls = classify(sim.log())
        t0 = time.monotonic()
        entries, n_snapdirs, n_infos = workload_pass(mnt)
        after_first = len(sim.log())
        workload_pass(mnt)
        elapsed = time.monotonic() - t0
        log = sim.log()
    finally:
        b.reg.unmount(mnt, proc)
    if elapsed >= CACHE_TTL:
        raise Failed("the workload took %.0f s, longer than cache_ttl" % elapsed)
    kinds = classify(log)
    minimum = 2 + S + S * H
    measured = len(log)
    repeat = measured - after_first
    ratio = measured / minimum
    note = ("tree %dx%dx%d (%d dirs, %d info.json, %d .snapshots); default options "
            "(cache_ttl=60, rate=1, burst=60); measured: %s (mount: %s; repeat pass: %d calls; "
            "workload %.1f s); minimum: 1 time + 1 services + %d share lists + %d snapshot "
            "lists" % (S, H, N, sum(1 for e in entries if e[1]) + 1, n_infos, n_snapdirs,
                       fmt_kinds(kinds), fmt_kinds(mount_calls), repeat, elapsed, S, S * H))
    return [Row("1", "API calls, mount + list all + ls -l + cat, twice", "%d calls" % measured,
                "%d calls" % minimum, ratio, "1.00", ratio <= 1.0 + 1e-9, note)]


def stat_rate(b, paths_file, seconds):
    res = subprocess.run([b.statloop, paths_file, "%g" % seconds], capture_output=True,
                         text=True, timeout=seconds + 60)
    if res.returncode != 0:
        raise Failed("statloop: " + res.stderr.strip())
    fields = dict(kv.split("=") for kv in res.stdout.split())
    if int(fields["errors"]):
        raise Failed("statloop: %s stats failed" % fields["errors"])
    return int(fields["stats"]) / float(fields["seconds"])


def figure2(b, sim, timeouts=CACHE_TTL, rounds=3, seconds=1.5, num="2",
            label="warm stat throughput"):
    S, H, N = TREE_CALLS
    services = make_seed(S, H, N)
    sim.seed(services)
    sim.config(latency=0)
    kopts = ["entry_timeout=%g" % timeouts, "attr_timeout=%g" % timeouts]
    ours, theirs = [b.mount_ovhsnapfs(sim, ["rate=1000"] + kopts)], []
    try:
        omnt = ours[0][0]
        entries = walk(omnt)                  # warm-up: every directory listed, every path
        for rel, d, _ in entries:             # stat'ed, every info.json read
            if not d and rel.endswith("info.json"):
                with open(os.path.join(omnt, rel), "rb") as f:
                    f.read()
        manifest = os.path.join(b.work, "manifest.txt")
        write_manifest(entries, manifest)
        b.manifest = manifest
        theirs.append(b.mount_memfs(manifest, kopts))
        mmnt = theirs[0][0]
        check = walk(mmnt)
        if check != entries:
            raise Failed("memfs does not serve the same tree as ovhsnapfs")
        lists = {}
        for name, mnt in (("ovhsnapfs", omnt), ("memfs", mmnt)):
            lists[name] = os.path.join(b.work, "paths-%s.txt" % name)
            with open(lists[name], "w") as f:
                f.write(mnt + "\n")
                f.writelines(os.path.join(mnt, rel) + "\n" for rel, _, _ in entries)
        rates = {"ovhsnapfs": [], "memfs": []}
        for _ in range(rounds):
            for name in ("ovhsnapfs", "memfs"):
                rates[name].append(stat_rate(b, lists[name], seconds))
    finally:
        for mnt, proc, _ in ours + theirs:
            b.reg.unmount(mnt, proc)
    o, m = statistics.median(rates["ovhsnapfs"]), statistics.median(rates["memfs"])
    ratio = o / m
    note = ("%d paths, entry_timeout=attr_timeout=%g on both, single thread; %d rounds of "
            "%.1f s alternated, median; ovhsnapfs %s, memfs %s stats/s" % (
                len(entries) + 1, timeouts, rounds, seconds,
                "/".join("%.0f" % r for r in rates["ovhsnapfs"]),
                "/".join("%.0f" % r for r in rates["memfs"])))
    if num == "2":
        return [Row(num, label, "%.0f stat/s" % o, "%.0f stat/s (memfs)" % m, ratio,
                    ">= 0.90", ratio >= 0.9, note)]
    return [Row(num, label, "%.0f stat/s" % o, "%.0f stat/s (memfs)" % m, ratio,
                "(info)", None, note)]


def figure3(b, sim, runs=3):
    S, H, N = TREE_FIND
    services = make_seed(S, H, N)
    sim.seed(services)
    listings = 1 + S + S * H
    baseline = listings * LATENCY
    rows = []
    notes = ["tree %dx%dx%d; latency %g s per API reply; rate=1000 on ovhsnapfs (rate limit "
             "out of the way); baseline = (1 + %d + %d) listings x %g s; fresh mount per run, "
             "median of %d" % (S, H, N, LATENCY, S, S * H, LATENCY, runs)]
    try:
        sim.config(latency=LATENCY)
        rtt = round_trip(sim)
        notes.append("one request to the simulator takes %.1f ms at this latency (median of "
                     "30, Python keep-alive client)" % (rtt * 1000))
        for prefetch, target in ((0, 1.1), (None, 0.25)):
            times, calls, gaps = [], [], []
            opts = ["rate=1000"] + (["prefetch=%d" % prefetch] if prefetch is not None else [])
            for _ in range(runs):
                mnt, proc, _ = b.mount_ovhsnapfs(sim, opts)
                try:
                    sim.clear_log()
                    t0 = time.monotonic()
                    res = subprocess.run(["find", mnt], stdout=subprocess.DEVNULL,
                                         stderr=subprocess.PIPE, timeout=120)
                    times.append(time.monotonic() - t0)
                    if res.returncode != 0:
                        raise Failed("find: " + res.stderr.decode(errors="replace")[:300])
                    log = sim.log()
                    calls.append(classify(log))
                    starts = sorted(r["t"] for r in log if r["path"].endswith("/share"))
                    gaps += [y - x for x, y in zip(starts, starts[1:])]
                finally:
                    b.reg.unmount(mnt, proc)
            med = statistics.median(times)
            ratio = med / baseline
            label = "cold find, %s" % ("prefetch=0" if prefetch == 0 else
                                       "default (adaptive prefetch)")
            rows.append(Row("3" + ("a" if prefetch == 0 else "b"), label, "%.3f s" % med,
                            "%.3f s" % baseline, ratio, "<= %.2f" % target, ratio <= target,
                            "runs %s s; calls during find: %s; share lists requested one "
                            "every %.0f ms (median gap)" % (
                                "/".join("%.3f" % t for t in times), fmt_kinds(calls[0]),
                                1000 * statistics.median(gaps) if gaps else 0)))
        rows.append(figure3c(b, sim, runs))
    finally:
        sim.config(latency=0)
        sim.seed(services)
    # The same cold find with no latency: the local work (FUSE, simulator, find itself)
    # that comes on top of the 20 ms waits.
    local = []
    for _ in range(runs):
        mnt, proc, _ = b.mount_ovhsnapfs(sim, ["rate=1000", "prefetch=0"])
        try:
            t0 = time.monotonic()
            subprocess.run(["find", mnt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120)
            local.append(time.monotonic() - t0)
        finally:
            b.reg.unmount(mnt, proc)
    notes.append("the same cold find at latency 0 (no prefetch) takes %.3f s (median)"
                 % statistics.median(local))
    rows[0].note = "; ".join(notes) + "; " + rows[0].note
    return rows


def figure3c(b, sim, runs):
    """Cold find of an ordinary account at the default rate= and burst= (OVH's fair use)."""
    S, H, N = TREE_CALLS
    sim.seed(make_seed(S, H, N))
    listings = 1 + S + S * H
    baseline = listings * LATENCY
    times, calls = [], []
    for _ in range(runs):
        mnt, proc, _ = b.mount_ovhsnapfs(sim, [])  # every default: rate=1, burst=60
        try:
            sim.clear_log()
            t0 = time.monotonic()
            res = subprocess.run(["find", mnt], stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE, timeout=120)
            times.append(time.monotonic() - t0)
            if res.returncode != 0:
                raise Failed("find: " + res.stderr.decode(errors="replace")[:300])
            calls.append(classify(sim.log()))
        finally:
            b.reg.unmount(mnt, proc)
    # The same find at latency 0: its local part (FUSE, find, the simulator), a floor too.
    sim.config(latency=0)
    local = []
    for _ in range(runs):
        mnt, proc, _ = b.mount_ovhsnapfs(sim, [])
        try:
            t0 = time.monotonic()
            subprocess.run(["find", mnt], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                           timeout=120)
            local.append(time.monotonic() - t0)
        finally:
            b.reg.unmount(mnt, proc)
    sim.config(latency=LATENCY)
    med = statistics.median(times)
    ratio = med / baseline
    return Row("3c", "cold find, %dx%dx%d, default options (rate=1 burst=60)" % (S, H, N),
               "%.3f s" % med, "%.3f s" % baseline, ratio, "<= 0.30", ratio <= 0.3,
               "the account of figure 1 (%d listings: within the burst); baseline = %d "
               "listings x %g s; runs %s s; calls during find: %s; the same find at latency "
               "0 takes %.3f s (median)" % (
                   listings, listings, LATENCY, "/".join("%.3f" % t for t in times),
                   fmt_kinds(calls[0]), statistics.median(local)))


def calls_of(b, sim, opts, steps, settle=0.3):
    """A fresh mount with opts; the API calls each step (a function of the mountpoint) made."""
    mnt, proc, _ = b.mount_ovhsnapfs(sim, opts)
    counts = []
    try:
        for step in steps:
            sim.clear_log()
            step(mnt)
            time.sleep(settle)  # a background load, had one been queued, is sent by then
            counts.append(len(sim.log()))
    finally:
        b.reg.unmount(mnt, proc)
    return counts


def figure8(b, sim):
    """API calls of single operations and of walks: adaptive prefetch against prefetch=0."""
    S, H, N = TREE_CALLS
    services = make_seed(S, H, N)
    sim.seed(services)
    sim.config(latency=0, create_delay=0, delete_delay=0)
    svc, share = services[0]["name"], services[0]["shares"][0]["name"]
    snap = services[0]["shares"][0]["snapshots"][0]["name"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "timeout": 60}

    def mkdir_rmdir(m):
        d = os.path.join(m, svc, share, ".snapshots", "bench-script")
        os.mkdir(d)
        os.rmdir(d)

    single = [("ls of one service", lambda m: os.listdir(os.path.join(m, svc))),
              ("ls of one .snapshots",
               lambda m: os.listdir(os.path.join(m, svc, share, ".snapshots"))),
              ("stat of one snapshot",
               lambda m: os.stat(os.path.join(m, svc, share, ".snapshots", snap))),
              ("mkdir then rmdir of a snapshot", mkdir_rmdir)]
    rows = []
    for i, (label, step) in enumerate(single):
        # Each on a fresh mount: what it costs cold.
        off = calls_of(b, sim, ["prefetch=0"], [step])[0]
        on = calls_of(b, sim, [], [step])[0]
        rows.append(Row("8" + "abcd"[i], "API calls: %s, default options" % label, str(on),
                        "%d (prefetch=0)" % off, on / off if off else None, "= 1.00",
                        on == off, "no background load at all"))
    find = calls_of(b, sim, [], [lambda m: subprocess.run(["find", m], **quiet)])[0]
    dirs = S + S * H  # the listings find needs besides the root's (made at mount)
    rows.append(Row("8e", "API calls: cold find, default options", str(find),
                    "%d (directories with a listing)" % dirs, find / dirs, "<= 1.00",
                    find <= dirs, "no more calls than directories it visits: no waste"))
    # The worst case: kernel timeouts 0, so that every lstat of ls -l reaches the daemon.
    zero = ["entry_timeout=0", "attr_timeout=0"]
    steps = [lambda m: subprocess.run(["ls", "-l", os.path.join(m, svc)], **quiet),
             lambda m: subprocess.run(["ls", "-l", os.path.join(m, svc, share)], **quiet)]
    off = sum(calls_of(b, sim, zero + ["prefetch=0"], steps))
    on = sum(calls_of(b, sim, zero, steps))
    rows.append(Row("8f", "API calls: ls -l of a service then of a share, timeouts 0",
                    str(on), "%d (prefetch=0)" % off, None, "<= +2 (the first window)",
                    on - off <= 2, "waste: %d listing(s) loaded ahead and not used" % (
                        on - off)))
    sim.seed(services)
    return rows


def figure4(b):
    S, H, N = TREE_RSS
    total = S * H * N
    t0 = time.monotonic()
    services = make_seed(S, H, N)
    seed_file = os.path.join(b.work, "seed-rss.json")
    with open(seed_file, "w") as f:
        json.dump({"services": services}, f)
    seed_mb = os.path.getsize(seed_file) / 1e6
    gen_s = time.monotonic() - t0
    sim = Sim(b.reg, "sim-rss", seed_file=seed_file, timeout=max(30, b.left() - 60))
    try:
        sim.config(latency=0)
        opts = ["rate=1000", "cache_ttl=3600", "cache_max=100000000", "prefetch=16"]
        # Baseline: a mount that only listed the services.
        mnt, proc, _ = b.mount_ovhsnapfs(sim, opts)
        try:
            names = os.listdir(mnt)
            if len(names) != S:
                raise Failed("%d services listed, expected %d" % (len(names), S))
            time.sleep(0.2)
            base_kib = vm_hwm_kib(proc.pid)
        finally:
            b.reg.unmount(mnt, proc)
        # Every .snapshots listed.
        mnt, proc, _ = b.mount_ovhsnapfs(sim, opts)
        try:
            sim.clear_log()
            dirs = snapshot_dirs(mnt, services)
            t1 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(16) as pool:
                counts = list(pool.map(lambda d: len(os.listdir(d)), dirs))
            list_s = time.monotonic() - t1
            if sum(counts) != total:
                raise Failed("%d snapshots listed, expected %d" % (sum(counts), total))
            full_kib = vm_hwm_kib(proc.pid)
            kinds = classify(sim.log())
        finally:
            b.reg.unmount(mnt, proc)
    finally:
        sim.stop()
    per = (full_kib - base_kib) * 1024 / total
    note = ("tree %dx%dx%d (%d snapshots, seed %.0f MB made in %.1f s, simulator ready in "
            "%.1f s: seeded with --seed FILE at start, since /_sim/seed takes at most 1 MiB); "
            "options %s; %d .snapshots listed by 16 threads in %.1f s (%s); VmHWM %d KiB after "
            "listing the services only, %d KiB after listing every .snapshots" % (
                S, H, N, total, seed_mb, gen_s, sim.ready_seconds, ",".join(opts), len(dirs),
                list_s, fmt_kinds(kinds), base_kib, full_kib))
    return [Row("4", "peak RSS per cached snapshot", "%.0f B" % per, "1024 B", per / 1024,
                "<= 1.00", per <= 1024, note)]


def figure5(b, sim, runs=5):
    S, H, N = TREE_CALLS
    sim.seed(make_seed(S, H, N))
    sim.config(latency=0)
    manifest = getattr(b, "manifest", None)
    if not manifest:
        mnt, proc, _ = b.mount_ovhsnapfs(sim, ["rate=1000"])
        try:
            manifest = os.path.join(b.work, "manifest.txt")
            write_manifest(walk(mnt), manifest)
        finally:
            b.reg.unmount(mnt, proc)
    ours, theirs, calls = [], [], []
    for _ in range(runs):
        sim.clear_log()
        mnt, proc, secs = b.mount_ovhsnapfs(sim, poll=0.0005)
        calls.append(len(sim.log()))
        kinds = classify(sim.log())
        b.reg.unmount(mnt, proc)
        ours.append(secs)
        mnt, proc, secs = b.mount_memfs(manifest, poll=0.0005)
        b.reg.unmount(mnt, proc)
        theirs.append(secs)
    o, m = statistics.median(ours), statistics.median(theirs)
    c = max(calls)
    return [
        Row("5a", "mount time (start to /proc/mounts)", "%.1f ms" % (o * 1000),
            "%.1f ms (memfs)" % (m * 1000), o / m, "(info)", None,
            "median of %d; ovhsnapfs %s ms, memfs %s ms; latency 0" % (
                runs, "/".join("%.1f" % (t * 1000) for t in ours),
                "/".join("%.1f" % (t * 1000) for t in theirs))),
        Row("5b", "API calls made by mounting", "%d calls" % c, "2 calls", c / 2, "<= 1.00",
            c <= 2, "max over %d mounts: %s" % (runs, fmt_kinds(kinds))),
    ]


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------

def api_get_seconds(sim, path, runs=3):
    """Median seconds for a signed GET of path and its JSON decoding (a plain Python client)."""
    import hashlib
    import http.client
    times = []
    for _ in range(runs):
        conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=120)
        try:
            t0 = time.monotonic()
            stamp = str(int(time.time()))
            url = sim.url + path
            sig = "$1$" + hashlib.sha1("+".join([AS, CK, "GET", url, "", stamp]).encode()
                                       ).hexdigest()
            conn.request("GET", "/1.0" + path, headers={
                "X-Ovh-Application": AK, "X-Ovh-Consumer": CK, "X-Ovh-Timestamp": stamp,
                "X-Ovh-Signature": sig})
            resp = conn.getresponse()
            body = resp.read()
            if resp.status != 200:
                raise Failed("GET %s: %d %s" % (path, resp.status, body[:200]))
            items = json.loads(body)
            times.append(time.monotonic() - t0)
        finally:
            conn.close()
    return statistics.median(times), len(items)


class LsTimer:
    """A thread that runs `ls -l` of one directory (listdir + stat of each entry) in a loop
    and keeps each run's wall time."""

    def __init__(self, path):
        import threading
        self.path = path
        self.times = []
        self.stop_flag = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            for name in os.listdir(self.path):
                os.stat(os.path.join(self.path, name))
            self.times.append(time.monotonic() - t0)
            time.sleep(0.005)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop_flag.set()
        self.thread.join(60)


def timed(fn, *args):
    t0 = time.monotonic()
    fn(*args)
    return time.monotonic() - t0


def figure7(b):
    n = TREE_BIG
    services = make_seed(1, 2, 20)
    big = services[0]["shares"][0]
    big["snapshots"] = make_seed(1, 1, n)[0]["shares"][0]["snapshots"]
    svc, small = services[0], services[0]["shares"][1]
    seed_file = os.path.join(b.work, "seed-big.json")
    with open(seed_file, "w") as f:
        json.dump({"services": services}, f)
    seed_mb = os.path.getsize(seed_file) / 1e6
    sim = Sim(b.reg, "sim-big", seed_file=seed_file, timeout=max(30, b.left() - 30))
    try:
        sim.config(latency=0, delete_delay=0)
        big_path = "/storage/netapp/%s/share/%s/snapshot?detail=true" % (svc["id"], big["id"])
        floor_s, listed = api_get_seconds(sim, big_path)
        if listed != n:
            raise Failed("the API listed %d snapshots, expected %d" % (listed, n))
        opts = ["rate=1000", "cache_ttl=3600", "entry_timeout=0", "attr_timeout=0"]
        mnt, proc, _ = b.mount_ovhsnapfs(sim, opts)
        try:
            big_dir = os.path.join(mnt, svc["name"], big["name"], ".snapshots")
            small_dir = os.path.join(mnt, svc["name"], small["name"], ".snapshots")
            os.listdir(small_dir)
            with LsTimer(small_dir) as idle:
                time.sleep(1.0)
            victims = [s["name"] for s in big["snapshots"][n // 2:n // 2 + 2]]
            small_victim = small["snapshots"][5]["name"]
            rmdir_small = timed(os.rmdir, os.path.join(small_dir, small_victim))
            sim.clear_log()
            with LsTimer(small_dir) as busy:
                list_s = timed(os.listdir, big_dir)
                rmdir_big = [timed(os.rmdir, os.path.join(big_dir, v)) for v in victims]
                time.sleep(0.1)
            kinds = classify(sim.log())
            left = os.listdir(big_dir)
            if len(left) != n - len(victims) or any(v in left for v in victims):
                raise Failed("after the rmdirs %d snapshots are listed, expected %d" %
                             (len(left), n - len(victims)))
        finally:
            b.reg.unmount(mnt, proc)
    finally:
        sim.stop()
    idle_worst, busy_worst = max(idle.times), max(busy.times)
    rm_big = max(rmdir_big)
    note = ("share of %d snapshots (seed %.0f MB, --seed FILE) next to one of 20; options %s; "
            "listing: cold os.listdir of the big .snapshots %.2f s, against a signed Python GET "
            "of that list and its JSON decoding %.2f s (median of 3); rmdir in the big share "
            "%s s, in the small one %.3f s; a concurrent `ls -l` of the small share ran %d "
            "times while the big one was listed and changed: worst %.3f s, median %.4f s "
            "(idle: %d runs, worst %.3f s, median %.4f s); API calls meanwhile: %s" % (
                n, seed_mb, ",".join(opts), list_s, floor_s,
                "/".join("%.3f" % t for t in rmdir_big), rmdir_small, len(busy.times),
                busy_worst, statistics.median(busy.times), len(idle.times), idle_worst,
                statistics.median(idle.times), fmt_kinds(kinds)))
    stall_limit = max(0.05, 10 * idle_worst)
    return [Row("7a", "list a share of %d snapshots (cold)" % n, "%.2f s" % list_s,
                "%.2f s" % floor_s, list_s / floor_s, "<= 3.00", list_s <= 3 * floor_s, note),
            Row("7b", "unrelated ls -l, worst, while 7a and 7c run", "%.3f s" % busy_worst,
                "%.3f s" % idle_worst, busy_worst / idle_worst,
                "<= %.3f s" % stall_limit, busy_worst <= stall_limit),
            Row("7c", "rmdir in that share vs in a share of 20", "%.3f s" % rm_big,
                "%.3f s" % rmdir_small, rm_big / rmdir_small, "<= 3.00",
                rm_big <= 3 * rmdir_small)]


def machine_info(b):
    cpu = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    fuse = subprocess.run(["pkg-config", "--modversion", "fuse3"], capture_output=True,
                          text=True).stdout.strip() or "unknown"
    version = subprocess.run([b.binary, "--version"], capture_output=True,
                             text=True).stdout.strip().split(", libcurl")[0]
    if version.count("(") > version.count(")"):
        version += ")"
    commit = subprocess.run(["git", "-C", REPO, "describe", "--always", "--dirty"],
                            capture_output=True, text=True).stdout.strip() or "unknown"
    mem = "?"
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem = "%.1f GiB" % (int(line.split()[1]) / 1048576)
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    return [("nproc", str(os.cpu_count())), ("CPU", cpu), ("memory", mem),
            ("load average at start", load),
            ("kernel", platform.release()), ("libfuse", fuse),
            ("ovhsnapfs", "%s, tree %s, binary %s" % (version, commit, b.binary)),
            ("simulator", "tests/sim/ovhsim.py on Python %s, %s" % (subprocess.run(
                [PYTHON, "-c", "import platform; print(platform.python_version())"],
                capture_output=True, text=True).stdout.strip(),
                "unpatched (--sim-nagle)" if NAGLE else "with TCP_NODELAY (see bench/README.md)"))]


# ---- figure 6: ovhsnapfs-versions --diff against diff -rq ----

DIFF_TREE = (100, 100)  # directories x files: 10,000 files
DIFF_CHANGES = 50       # files modified, and as many removed and added


def diff_inner(work, versions, runs):
    """In a private mount namespace (figure6 starts it so): an NFS stand-in, two trees."""
    with open("/proc/self/mountinfo") as f:  # others' ovhsnapfs mounts: not ours to ask
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "fuse.ovhsnapfs":
                subprocess.run(["umount", "-l", fields[4]], capture_output=True)
    top = os.path.join(work, "diff-nfs")
    os.makedirs(top, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512m", "10.0.0.5:/bench_diff", top],
                   check=True)
    try:
        snap, live = os.path.join(top, ".snapshot/before/t"), os.path.join(top, "t")
        dirs, files = DIFF_TREE
        for d in range(dirs):
            os.makedirs(os.path.join(snap, "d%03d" % d))
            for i in range(files):
                path = os.path.join(snap, "d%03d" % d, "file %03d.txt" % i)
                with open(path, "wb") as f:
                    f.write(b"line %d of directory %d\n" % (i, d) * 8)
                os.utime(path, (1700000000, 1700000000))
        subprocess.run(["cp", "-a", snap, live], check=True)
        for k in range(DIFF_CHANGES):
            d = os.path.join(live, "d%03d" % (k * 2 % dirs))
            with open(os.path.join(d, "file %03d.txt" % (k % files)), "ab") as f:
                f.write(b"changed\n")
            os.unlink(os.path.join(d, "file %03d.txt" % ((k + 50) % files)))
            with open(os.path.join(d, "new %03d.txt" % k), "wb") as f:
                f.write(b"new\n")
        cmds = {"ours": [versions, "--diff", "before", live],
                "base": ["diff", "-rq", snap, live]}
        out = {"files": dirs * files}
        for key, cmd in cmds.items():
            res = subprocess.run(cmd, capture_output=True)  # warm the page cache up
            out[key + "_lines"] = res.stdout.count(b"\n")
            times = []
            for _ in range(runs):
                t = time.monotonic()
                subprocess.run(cmd, capture_output=True, check=key == "ours")
                times.append(time.monotonic() - t)
            out[key] = times
        print(json.dumps(out))
    finally:
        subprocess.run(["umount", "-l", top], capture_output=True)


def figure6(b, runs=5):
    if not b.versions or not os.access(b.versions, os.X_OK):
        return [Row("6", "diff of 10,000 files: no ovhsnapfs-versions binary", error=True)]
    res = subprocess.run(["unshare", "--mount", "--propagation", "private", sys.executable,
                          os.path.abspath(__file__), "--diff-inner", b.work, b.versions,
                          str(runs)], capture_output=True, text=True,
                         timeout=max(30, b.left()))
    if res.returncode != 0:
        raise RuntimeError("figure 6: %s" % res.stderr.strip()[-400:])
    r = json.loads(res.stdout)
    ours, base = statistics.median(r["ours"]), statistics.median(r["base"])
    ratio = ours / base if base > 0 else None
    note = ("%d files in 100 directories on a tmpfs mounted as HOST:/EXPORT, %d modified, "
            "%d removed, %d added; ovhsnapfs-versions --diff (8 threads, metadata: type, "
            "size, mtime, mode, link target) printed %d lines, diff -rq (reads contents) "
            "%d; median of %d runs after a warm-up: %s s vs %s s" % (
                r["files"], DIFF_CHANGES, DIFF_CHANGES, DIFF_CHANGES, r["ours_lines"],
                r["base_lines"], runs, ", ".join("%.3f" % t for t in r["ours"]),
                ", ".join("%.3f" % t for t in r["base"])))
    return [Row("6", "--diff of 10,000 files vs diff -rq", "%.3f s" % ours, "%.3f s" % base,
                ratio, "< 1.00", ratio is not None and ratio < 1.0, note)]


def render(rows, machine, total_s):
    header = ["#", "figure", "ovhsnapfs", "baseline", "ratio", "target", "result"]
    table = []
    for r in rows:
        ratio = "-" if r.ratio is None else "%.2f" % r.ratio
        result = "ERROR" if r.error else {True: "ok", False: "MISSED", None: ""}[r.ok]
        table.append([r.num, r.figure, r.ours, r.base, ratio, r.target, result])
    widths = [max(len(x) for x in col) for col in zip(header, *table)]

    def line(cells):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"

    out = ["Machine:"] + ["- %s: %s" % kv for kv in machine] + [""]
    out.append(line(header))
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out += [line(c) for c in table]
    out.append("")
    out.append("Notes:")
    for r in rows:
        if r.note:
            out.append("- %s: %s" % (r.num, r.note))
    out.append("")
    with open("/proc/loadavg") as f:
        load = " ".join(f.read().split()[:3])
    out.append("Total bench time %.0f s; load average at the end %s." % (total_s, load))
    return "\n".join(out) + "\n"


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--diff-inner":  # figure 6's namespace
        diff_inner(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        return 0
    p = argparse.ArgumentParser()
    p.add_argument("--work", required=True)
    p.add_argument("--bin", required=True)
    p.add_argument("--memfs", required=True)
    p.add_argument("--statloop", required=True)
    p.add_argument("--versions", help="ovhsnapfs-versions, for figure 6")
    p.add_argument("--out")
    p.add_argument("--budget", type=float, default=270,
                   help="seconds; figures not started by then are skipped")
    p.add_argument("--only", help="comma-separated figure numbers (1-8)")
    p.add_argument("--sim-nagle", action="store_true",
                   help="run the simulator unpatched (its replies then wait ~40 ms for the "
                        "client's delayed ACK on reused connections)")
    args = p.parse_args()
    global NAGLE
    NAGLE = args.sim_nagle

    def on_term(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGHUP, on_term)

    started = time.monotonic()
    b = Bench(args)
    rows = []
    failed = False
    only = set(args.only.split(",")) if args.only else {"1", "2", "3", "4", "5", "6", "7",
                                                         "8"}
    # Estimated seconds each figure needs, to respect the budget.
    plan = [("1", "1", 15, lambda: figure1(b, b.sim)),
            ("2", "2", 25, lambda: figure2(b, b.sim)),
            ("2", "2b", 25, lambda: figure2(b, b.sim, timeouts=0, rounds=3, seconds=1.5,
                                            num="2b",
                                            label="stat throughput, kernel timeouts 0")),
            ("5", "5", 15, lambda: figure5(b, b.sim)),
            ("3", "3", 40, lambda: figure3(b, b.sim)),
            ("4", "4", 60, lambda: figure4(b)),
            ("8", "8", 20, lambda: figure8(b, b.sim)),
            ("6", "6", 20, lambda: figure6(b)),
            ("7", "7", 40, lambda: figure7(b))]
    try:
        machine = machine_info(b)
        b.sim = Sim(b.reg, "sim")
        for key, num, need, fn in plan:
            if key not in only:
                continue
            if b.left() < need:
                rows.append(Row(num, "skipped: %d s left of the budget" % b.left(),
                                error=True))
                failed = True
                continue
            t = time.monotonic()
            print("bench: figure %s ..." % num, file=sys.stderr, flush=True)
            try:
                rows += fn()
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # one figure failing does not stop the others
                rows.append(Row(num, "not measured", error=True,
                                note="ERROR: %s" % str(exc).replace("\n", " ")[:500]))
                failed = True
            print("bench: figure %s took %.1f s" % (num, time.monotonic() - t),
                  file=sys.stderr, flush=True)
        b.sim.stop()
    except KeyboardInterrupt:
        print("bench: interrupted, cleaning up", file=sys.stderr)
        b.reg.cleanup()
        return 130
    except Exception as exc:
        print("bench: cannot measure: %s" % exc, file=sys.stderr)
        b.reg.cleanup()
        return 1
    finally:
        b.reg.cleanup()
    order = {"1": 0, "2": 1, "2b": 2, "3a": 3, "3b": 4, "3c": 4.5, "3": 3, "4": 5, "5a": 6,
             "5b": 7, "5": 6, "6": 8, "7a": 9, "7b": 10, "7c": 11}
    rows.sort(key=lambda r: order.get(r.num, 9))
    text = render(rows, machine, time.monotonic() - started)
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write("# ovhsnapfs benchmark\n\n" + text)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
