#!/usr/bin/python3
"""A seeded chaos run: a real mount under a random workload, faults and another host.

One mount of ovhsnapfs on the bundled simulator (tests/sim/ovhsim.py); worker threads, each
running real tools as processes (mkdir, rmdir, mv, setfattr, ls, find, cat, getfattr, mkdirs
killed or interrupted while they wait) on four shares of two services; an out-of-band client
acting as another host (signed API calls straight to the simulator: creates, renames,
descriptions, deletions); a fault schedule (every fault the simulator knows, on the API and
on the OAuth2 token endpoint, whose tokens expire every few seconds when the seed picks
OAuth2). Everything random comes from --seed, so a failing seed replays.

Afterwards it checks against the simulator's own record of what it carried out
(GET /_sim/changes): every mkdir that answered 0 made exactly one snapshot of that name,
available when mkdir returned; a failed one made none, or answered an errno that README says
may leave it made (EIO, ETIMEDOUT, EINTR); every rmdir, mv and setfattr that answered 0 acted
on the snapshot its name meant then; after quiet for cache_ttl, listings and descriptions
equal the API's (the circuit breaker may keep serving cached listings for up to 60 s after
an outage, by design: the run waits for it); no call outlived its bound; SIGINT ends a
waiting mkdir within a second; the daemon exits within a few seconds of its unmount (a gdb
stack dump first if it does not); its RSS and open fds stay bounded.

  /usr/bin/python3 tests/chaos/run.py --seed N --seconds S [--workers W] [--ops MAX]

Exit status 0 when every invariant held. OVHSNAPFS_BUILD names the build directory.
"""

import argparse
import errno
import os
import pathlib
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "integration"))
sys.path.insert(0, str(HERE))
from actors import AK, AS, CK, fault_spec, signed_call  # noqa: E402
from conftest import Mount, Sim, in_fuse_request, is_mounted  # noqa: E402

PYTHON = "/usr/bin/python3"
CACHE_TTL = 2
TIMEOUT = 3
WAIT = 15
OP_BOUND = WAIT + 4 * TIMEOUT + 15  # seconds any one call may take, waits and retries included
SIGNAL_BOUND = 1.5                  # a second, and some room for a loaded machine
QUIET_BOUND = 75                    # the breaker's longest wait (60 s), cache_ttl and more
EXIT_BOUND = 5                      # seconds from the unmount to the daemon's exit
RSS_BOUND_KB = 128 * 1024
FDS_BOUND = 96
# README: a mkdir that fails with these may still have made its snapshot.
MAY_HAVE_CREATED = {"EIO", "ETIMEDOUT", "EINTR"}
STRERROR = {os.strerror(n): errno.errorcode[n] for n in errno.errorcode}


def errno_of(stderr):
    """The errno name a coreutils/attr tool printed last (": No such file or directory")."""
    for line in reversed(stderr.strip().splitlines()):
        for text, name in STRERROR.items():
            if line.endswith(text):
                return name
    return "?" + stderr.strip()[-80:]


class Recorder:
    """Operations and violations, from every thread."""

    def __init__(self):
        self.lock = threading.Lock()
        self.ops = []
        self.violations = []
        self.checked = {}

    def op(self, **rec):
        with self.lock:
            self.ops.append(rec)

    def bad(self, text):
        with self.lock:
            self.violations.append(text)

    def check(self, name, n=1):
        with self.lock:
            self.checked[name] = self.checked.get(name, 0) + n


class Chaos:
    def __init__(self, seed, seconds, workers, max_ops, workdir):
        self.seed = seed
        self.seconds = seconds
        self.n_workers = workers
        self.max_ops = max_ops
        self.work = workdir
        self.rnd = random.Random(seed)
        self.rec = Recorder()
        self.stop = threading.Event()
        self.faults = 0
        self.oob_calls = 0
        self.rss = []
        self.fds = []
        self.signal_latencies = []

    # ---- set-up ----

    def seed_data(self):
        services = self.sim.state()
        self.shares = []
        for svc in services:
            for share in svc["shares"][:2]:
                share["snapshots"] = [
                    {"id": "%08x-0000-4000-8000-%012x" % (self.seed, len(self.shares) * 10 + i),
                     "name": "base-%s-%d" % (share["name"], i), "description": None,
                     "createdAt": "2026-11-25T00:00:00Z", "status": "available",
                     "type": "manual"} for i in range(3)]
                self.shares.append((svc["id"], share["id"], svc["name"], share["name"]))
            svc["shares"] = svc["shares"][:2]
        self.sim.seed(services)

    def start(self):
        self.sim = Sim(self.work)
        self.seed_data()
        self.oauth = self.rnd.random() < 0.5
        self.token_ttl = self.rnd.choice([3, 4, 6, 8])
        self.create_delay = self.rnd.uniform(0.2, 1.2)
        self.sim.config(create_delay=self.create_delay,
                        delete_delay=self.rnd.uniform(0.2, 1.0), token_ttl=self.token_ttl)
        conf = self.work / "ovh.conf"
        creds = ("client_id=demo-client-id\nclient_secret=demo-client-secret\n" if self.oauth
                 else "application_key=%s\napplication_secret=%s\nconsumer_key=%s\n" % (AK, AS, CK))
        conf.write_text("[default]\nendpoint=%s\n\n[%s]\n%s" % (self.sim.url, self.sim.url, creds))
        os.chmod(conf, 0o600)
        opts = ["cache_ttl=%d" % CACHE_TTL, "timeout=%d" % TIMEOUT, "wait=%d" % WAIT,
                "rate=0", "log_level=info"]
        self.mount = Mount(self.work, self.sim, options=opts, config=conf).wait_mounted()
        self.pid = self.mount.proc.pid

    def dir_of(self, share):
        return self.mount.path / share[2] / share[3] / ".snapshots"

    # ---- the workload ----

    def run_tool(self, argv, bound=OP_BOUND):
        t0 = time.time()
        try:
            res = subprocess.run(argv, capture_output=True, text=True, timeout=bound)
            return t0, time.time(), res.returncode, res.stdout, res.stderr, False
        except subprocess.TimeoutExpired:
            return t0, time.time(), -1, "", "", True

    def listing(self, share):
        res = self.run_tool(["ls", "-1", str(self.dir_of(share))])
        return res[3].split("\n")[:-1] if res[2] == 0 else []

    def one_op(self, w, n, rnd):
        share = rnd.choice(self.shares)
        d = self.dir_of(share)
        kind = rnd.choices(["ls", "find", "cat", "getfattr", "mkdir", "rmdir", "mv", "setfattr",
                            "killed_mkdir", "signal_mkdir"],
                           weights=[10, 3, 6, 5, 10, 6, 5, 6, 2, 2])[0]
        names = self.listing(share) if kind in ("rmdir", "mv", "setfattr", "cat",
                                                "getfattr") else []
        target = rnd.choice(names) if names else "base-%s-0" % share[3]
        rec = dict(worker=w, kind=kind, share=share[1], t_start=time.time())
        if kind == "ls":
            argv = ["ls", "-la", str(d)]
        elif kind == "find":
            argv = ["find", str(self.mount.path / share[2])]
        elif kind == "cat":
            argv = ["cat", str(d / target / "info.json")]
        elif kind == "getfattr":
            argv = ["getfattr", "-d", "-m", "user.ovh", str(d / target)]
        elif kind in ("mkdir", "killed_mkdir", "signal_mkdir"):
            rec["name"] = "w%d-%d" % (w, n)
            argv = ["mkdir", str(d / rec["name"])]
        elif kind == "rmdir":
            rec["name"] = target
            argv = ["rmdir", str(d / target)]
        elif kind == "mv":
            rec["name"], rec["new"] = target, "m%d-%d" % (w, n)
            argv = ["mv", "-T", str(d / target), str(d / rec["new"])]
        else:
            rec["name"], rec["value"] = target, "d%d-%d-%d" % (self.seed, w, n)
            argv = ["setfattr", "-n", "user.ovh.description", "-v", rec["value"], str(d / target)]
        if kind == "killed_mkdir":
            self.killed(rec, argv, rnd)
        elif kind == "signal_mkdir":
            self.interrupted(rec, argv)
        else:
            t0, t1, rc, _, err, hung = self.run_tool(argv)
            rec.update(t_start=t0, t_end=t1, rc=rc, errno="0" if rc == 0 else errno_of(err),
                       hung=hung)
        self.rec.op(**rec)

    def killed(self, rec, argv, rnd):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rnd.uniform(0.05, 1.5))
        p.kill()
        p.wait()
        rec.update(t_end=time.time(), rc=None, errno="KILLED", hung=False)

    def interrupted(self, rec, argv):
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 3
        while p.poll() is None and not self.waits_on_mkdir(p.pid) and time.time() < deadline:
            time.sleep(0.01)
        sent = None
        if p.poll() is None:
            sent = time.time()
            p.send_signal(signal.SIGINT)
        stack = ""
        try:
            if sent is not None:
                try:
                    p.wait(SIGNAL_BOUND)
                except subprocess.TimeoutExpired:
                    stack = self.kernel_stack(p.pid)
            p.wait(OP_BOUND)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            rec.update(hung=True)
        if sent is not None and p.returncode != 0:
            took = time.time() - sent
            if took > SIGNAL_BOUND and stack and "fuse" not in stack:
                # Past its FUSE request, held by the kernel on the directory's lock (another
                # mkdir there waits for the API): no signal interrupts that, whatever the daemon.
                self.rec.check("(SIGINT to a mkdir held on the directory lock, not the daemon)")
                return self.finish_interrupted(rec, p, sent)
            self.signal_latencies.append(took)
            self.rec.check("SIGINT ends a waiting mkdir within %.1f s" % SIGNAL_BOUND)
            if took > SIGNAL_BOUND:
                self.rec.bad("SIGINT to mkdir %s ended it only after %.2f s; its kernel stack "
                             "then: %s" % (rec["name"], took, stack))
        self.finish_interrupted(rec, p, sent)

    @staticmethod
    def finish_interrupted(rec, p, sent):
        err = p.stderr.read()
        rec.update(t_end=time.time(), rc=p.returncode, hung=rec.get("hung", False),
                   errno="0" if p.returncode == 0 else ("EINTR" if sent else errno_of(err)))

    def waits_on_mkdir(self, pid):
        """In its own FUSE mkdir request: a wait the daemon owns. (Another mkdir in the
        same directory holds the VFS's directory lock, which no signal interrupts.)"""
        stack = self.kernel_stack(pid)
        if stack.startswith("("):
            return in_fuse_request(pid)  # no /proc/PID/stack here
        return "fuse_mkdir" in stack and "request_wait_answer" in stack

    @staticmethod
    def kernel_stack(pid):
        try:
            with open("/proc/%d/stack" % pid) as f:
                return " < ".join(line.split()[-1].split("+")[0] for line in f)
        except OSError as exc:
            return "(%s)" % exc

    def worker(self, w):
        rnd = random.Random(self.seed * 1000 + w)
        n = 0
        while not self.stop.is_set() and len(self.rec.ops) < self.max_ops:
            n += 1
            self.one_op(w, n, rnd)

    # ---- another host ----

    def api(self, method, path, body=None):
        return signed_call(self.sim.port, method, path, body)

    def other_host(self):
        rnd = random.Random(self.seed * 1000 + 99)
        n = 0
        while not self.stop.wait(rnd.uniform(0.3, 1.2)):
            n += 1
            svc, share = rnd.choice(self.shares)[:2]
            base = "/storage/netapp/%s/share/%s/snapshot" % (svc, share)
            status, snaps = self.api("GET", base + "?detail=true")
            snaps = [s for s in (snaps or []) if s.get("status") == "available"]
            what = rnd.choice(["create", "rename", "describe", "delete"])
            self.oob_calls += 1
            if what == "create" or not snaps:
                self.api("POST", base, {"name": "oob-%d" % n})
                continue
            snap = rnd.choice(snaps)
            if what == "rename":
                self.api("PUT", base + "/" + snap["id"], {"name": "oob-r%d" % n})
            elif what == "describe":
                self.api("PUT", base + "/" + snap["id"], {"description": "oob-d%d" % n})
            else:
                self.api("DELETE", base + "/" + snap["id"])

    # ---- faults ----


    def fault_thread(self):
        rnd = random.Random(self.seed * 1000 + 98)
        while not self.stop.wait(rnd.uniform(0.2, 1.2)):
            try:
                self.sim.fault(**fault_spec(rnd, self.oauth))
                self.faults += 1
            except OSError:
                pass

    def sampler(self):
        while not self.stop.wait(0.5):
            try:
                with open("/proc/%d/status" % self.pid) as f:
                    rss = [int(line.split()[1]) for line in f if line.startswith("VmRSS:")]
                self.rss.append(rss[0] if rss else 0)
                self.fds.append(len(os.listdir("/proc/%d/fd" % self.pid)))
            except (OSError, IndexError):
                pass

    # ---- the run ----

    def run(self):
        self.start()
        threads = [threading.Thread(target=self.worker, args=(w,)) for w in range(self.n_workers)]
        threads += [threading.Thread(target=t) for t in (self.other_host, self.fault_thread,
                                                         self.sampler)]
        for t in threads:
            t.start()
        self.stop.wait(self.seconds)
        self.stop.set()
        for t in threads:
            t.join()
        self.sim.admin("POST", "faults/clear", {})
        self.t_quiet = time.time()
        if not self.mount.alive():
            self.rec.bad("the daemon died during the run: %s" % self.mount.log()[-2000:])
            return
        time.sleep(1.5 + CACHE_TTL + 1)  # transitions settle, then cache_ttl of quiet
        self.converge()
        self.check_state()
        self.check_ops()
        self.check_resources()
        self.unmount()

    # ---- checks ----

    def api_snapshots(self, share):
        for svc in self.sim.state():
            for sh in svc["shares"]:
                if sh["id"] == share[1]:
                    return [s for s in sh["snapshots"] if s["status"] != "deleting"]
        return []

    def differences(self):
        out = []
        for share in self.shares:
            want = sorted(s["name"] or s["id"] for s in self.api_snapshots(share))
            got = sorted(self.listing(share))
            if got != want:
                out.append("%s/%s listing %s, API %s" % (share[2], share[3], got, want))
        return out

    def converge(self):
        """After faults, the circuit breaker may fail calls fast for up to 60 s, serving the
        listings cached before (by design): wait until the API answers again, and listings
        were given cache_ttl to catch up."""
        t0 = time.time()
        while self.differences() and time.time() - t0 < QUIET_BOUND:
            time.sleep(1)
        self.converged_in = time.time() - self.t_quiet

    def check_state(self):
        for share in self.shares:
            api = self.api_snapshots(share)
            want = sorted(s["name"] or s["id"] for s in api)
            got = sorted(self.listing(share))
            self.rec.check("after quiet, listings equal the API's")
            if got != want:
                self.rec.bad("%s/%s listing %s, API %s" % (share[2], share[3], got, want))
            for s in api[:8]:
                name = s["name"] or s["id"]
                res = self.run_tool(["getfattr", "--only-values", "-n", "user.ovh.description",
                                     str(self.dir_of(share) / name)])
                shown = res[3] if res[2] == 0 else None
                self.rec.check("after quiet, descriptions equal the API's")
                if (shown or None) != (s["description"] or None):
                    self.rec.bad("%s: description %r, API %r" % (name, shown, s["description"]))

    def history(self):
        """Per id, the names it had: [(t, name)], the seed's at t=0."""
        names = {}
        for c in self.changes:
            after = c["after"]
            if after:
                names.setdefault(after["id"], []).append((c["t"], after.get("name")))
        return names

    def had_name(self, names, snap_id, before, name, t0, t1):
        """Whether snap_id was called name at t0 or became so between t0 and t1."""
        now = before.get("name") if before else None
        timeline = names.get(snap_id, [])
        at_t0 = [n for t, n in timeline if t <= t0]
        if (at_t0[-1] if at_t0 else now) == name or now == name:
            return True
        return any(n == name for t, n in timeline if t0 <= t <= t1)

    def check_ops(self):
        self.changes = self.sim.admin("GET", "changes")["changes"]
        mine = [c for c in self.changes if c["who"].startswith("ovhsnapfs")]
        self.deleted_by_other = {c["id"]: c["t"] for c in self.changes if c["action"] == "delete"
                                 and not c["who"].startswith("ovhsnapfs")}
        names = self.history()
        creates = {}
        for c in mine:
            if c["action"] == "create":
                creates.setdefault((c["share"], c["after"]["name"]), []).append(c)
        for op in self.rec.ops:
            if op.get("hung"):
                self.rec.bad("%s %s outlived its bound of %d s" % (op["kind"], op.get("name"),
                                                                  OP_BOUND))
            self.rec.check("no call outlives its bound (%d s)" % OP_BOUND)
            if "mkdir" in op["kind"]:
                self.check_mkdir(op, creates.get((op["share"], op["name"]), []))
            elif op["kind"] in ("rmdir", "mv", "setfattr") and op["errno"] == "0":
                self.check_change(op, mine, names)

    def check_mkdir(self, op, made):
        what = "%s %s (%s)" % (op["kind"], op["name"], op["errno"])
        if op["errno"] == "0":
            self.rec.check("a mkdir that answered 0 made one available snapshot")
            if len(made) != 1:
                self.rec.bad("%s made %d snapshots" % (what, len(made)))
            elif made[0]["ready_at"] > op["t_end"] + 0.5:
                self.rec.bad("%s returned before its snapshot was available" % what)
        else:
            self.rec.check("a failed mkdir made none, or answered EIO/ETIMEDOUT/EINTR")
            gone = made and self.deleted_by_other.get(made[0]["id"], 1e18) <= op["t_end"]
            if op["errno"] == "ENOENT" and len(made) == 1 and gone:
                self.rec.check("(a mkdir whose snapshot another host deleted at once: ENOENT)")
                return
            if len(made) > 1 or (made and op["errno"] not in MAY_HAVE_CREATED | {"KILLED"}):
                self.rec.bad("%s made %d snapshots" % (what, len(made)))

    def check_change(self, op, mine, names):
        t0, t1 = op["t_start"] - 0.2, op["t_end"] + 0.2
        action = "delete" if op["kind"] == "rmdir" else "update"
        acts = [c for c in mine if c["action"] == action and c["share"] == op["share"] and
                t0 <= c["t"] <= t1]
        if op["kind"] == "mv":
            acts = [c for c in acts if c["after"]["name"] == op["new"]]
        elif op["kind"] == "setfattr":
            acts = [c for c in acts if c["after"]["description"] == op["value"]]
        else:
            acts = [c for c in acts if self.had_name(names, c["id"], c["before"], op["name"],
                                                     t0, c["t"])]
        self.rec.check("an rmdir, mv, setfattr that answered 0 acted on what its name meant")
        what = "%s %s" % (op["kind"], op["name"])
        if not acts:
            if op["kind"] == "rmdir":
                return  # gone already (another host deleted it; its DELETE answered 404)
            self.rec.bad("%s answered 0 and the API carried out no such change" % what)
            return
        ids = {c["id"] for c in acts}
        if len(ids) != 1:
            self.rec.bad("%s acted on %d snapshots: %s" % (what, len(ids), sorted(ids)))
        c = acts[0]
        if not self.had_name(names, c["id"], c["before"], op["name"], t0, c["t"]):
            self.rec.bad("%s acted on %s, which was called %r" % (what, c["id"],
                                                                 (c["before"] or {}).get("name")))

    def check_resources(self):
        self.rec.check("RSS stays under %d MB, open fds under %d" % (RSS_BOUND_KB // 1024,
                                                                     FDS_BOUND))
        if self.rss and max(self.rss) > RSS_BOUND_KB:
            self.rec.bad("RSS reached %d kB" % max(self.rss))
        if self.fds and max(self.fds) > FDS_BOUND:
            self.rec.bad("open fds reached %d" % max(self.fds))

    def unmount(self):
        """fusermount3 -u; with a process's working directory in it on odd seeds."""
        holder = None
        if self.seed % 2:  # a shell left in the mount: the unmount is then a lazy one
            holder = subprocess.Popen(["sleep", "60"], cwd=str(self.dir_of(self.shares[0])))
        t0 = time.time()
        res = subprocess.run(["fusermount3", "-u", str(self.mount.path)], capture_output=True)
        if res.returncode != 0 and is_mounted(self.mount.path):
            subprocess.run(["umount", "-l", str(self.mount.path)], capture_output=True)
        self.rec.check("the daemon exits within %d s of its unmount" % EXIT_BOUND)
        try:
            self.mount.proc.wait(EXIT_BOUND)
            self.exit_took = time.time() - t0
        except subprocess.TimeoutExpired:
            self.exit_took = None
            dump = subprocess.run(["gdb", "-p", str(self.pid), "-batch", "-ex",
                                   "thread apply all bt"], capture_output=True, text=True) \
                if shutil.which("gdb") else subprocess.CompletedProcess([], 0, "(no gdb)", "")
            (self.work / "gdb.txt").write_text(dump.stdout + dump.stderr)
            self.rec.bad("the daemon still runs %d s after its unmount; stacks:\n%s" %
                         (EXIT_BOUND, dump.stdout[-6000:]))
        finally:
            if holder:
                holder.kill()
                holder.wait()

    def stop_all(self):
        if self.mount is not None:
            self.mount.unmount()
        if self.sim is not None:
            self.sim.stop()

    # ---- the report ----

    def report(self):
        ops = self.rec.ops
        muts = [o for o in ops if o["kind"] not in ("ls", "find", "cat", "getfattr")]
        fired = len([r for r in self.sim.log() if r.get("fault")])
        lines = ["chaos seed=%d: %d operations (%d mutations, %d answered 0) by %d workers in "
                 "%d s; %d faults scheduled, %d fired; %d calls by the other host; auth %s%s"
                 % (self.seed, len(ops), len(muts),
                    len([o for o in muts if o["errno"] == "0"]), self.n_workers, self.seconds,
                    self.faults, fired, self.oob_calls, "OAuth2" if self.oauth else "signed",
                    " (tokens of %d s)" % self.token_ttl if self.oauth else "")]
        if self.rss:
            lines.append("daemon: RSS %d -> %d kB (max %d), open fds max %d; exit after "
                         "unmount %s" % (self.rss[0], self.rss[-1], max(self.rss),
                                         max(self.fds or [0]),
                                         "%.2f s" % self.exit_took if self.exit_took is not None
                                         else "NEVER"))
        lines.append("listings equal to the API's %.1f s after the faults stopped (cache_ttl=%d)"
                     % (getattr(self, "converged_in", 0), CACHE_TTL))
        if self.signal_latencies:
            lines.append("SIGINT to a waiting mkdir: %d sent, slowest ended in %.2f s"
                         % (len(self.signal_latencies), max(self.signal_latencies)))
        lines.append("invariants checked:")
        lines += ["  %5d x %s" % (n, name) for name, n in sorted(self.rec.checked.items())]
        if self.rec.violations:
            lines.append("FAILED: %d violations" % len(self.rec.violations))
            lines += ["  - " + v for v in self.rec.violations[:30]]
            lines.append("replay: /usr/bin/python3 tests/chaos/run.py --seed %d --seconds %d "
                         "--workers %d --ops %d" % (self.seed, self.seconds, self.n_workers,
                                                    self.max_ops))
            lines.append("work directory (daemon and simulator logs): %s" % self.work)
        else:
            lines.append("PASSED")
        return "\n".join(lines)


def run_chaos(seed, seconds, workers=4, max_ops=5000, keep=False):
    """One run; (ok, report text)."""
    work = pathlib.Path(tempfile.mkdtemp(prefix="ovhsnapfs-chaos-%d-" % seed))
    chaos = Chaos(seed, seconds, workers, max_ops, work)
    chaos.sim = chaos.mount = None
    try:
        chaos.run()
        text = chaos.report()
    finally:
        chaos.stop_all()
    ok = not chaos.rec.violations
    if ok and not keep:
        shutil.rmtree(work, ignore_errors=True)
    return ok, text


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--ops", type=int, default=5000, help="at most this many operations")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    if os.environ.get("OVHSNAPFS_CHAOS_NS") is None and shutil.which("unshare"):
        # A mount namespace of its own: a mount left by a crash goes with it.
        env = dict(os.environ, OVHSNAPFS_CHAOS_NS="1")
        return subprocess.call(["unshare", "--mount", "--propagation", "private", PYTHON,
                                __file__] + sys.argv[1:], env=env)
    ok, text = run_chaos(args.seed, args.seconds, args.workers, args.ops, args.keep)
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
