"""Stress: eight workers, a few hundred mixed operations each, while the API misbehaves.

Each worker thread drives one long-lived child process that makes the os calls (listdir,
stat, read, mkdir, rmdir, rename) on the real mount and answers with the errno, so a hung
FUSE call fails the test instead of hanging the suite. A worker owns the snapshot names
t<worker>-<n> and keeps a model of them from the answers it got: EXISTS (mkdir or mv
answered 0), ABSENT (never made, or rmdir/mv answered 0) and UNKNOWN (EIO or ETIMEDOUT on
a change: the API may or may not have acted). Every answer is checked against the model;
EIO and ETIMEDOUT are always allowed, because faults are switched on for the whole run.

At the end, with the faults cleared and the simulator settled, the filesystem's view must
equal the simulator's state, no name may exist twice (a retried POST), the model must hold,
every mkdir must have made at most one snapshot, and the daemon must be alive.

OVHSNAPFS_STRESS_OPS (ops per worker), OVHSNAPFS_STRESS_SECONDS (no new op after this) and
OVHSNAPFS_STRESS_SEED (printed in the summary, shown with pytest -s) vary a run.
"""

import collections
import json
import os
import random
import re
import select
import signal
import subprocess
import threading
import time
import traceback

from conftest import PYTHON, is_mounted, ls

WORKERS = 8
OPS_PER_WORKER = int(os.environ.get("OVHSNAPFS_STRESS_OPS", "200"))
BUDGET = float(os.environ.get("OVHSNAPFS_STRESS_SECONDS", "75"))  # no new op after this
# Fewer than this is not a stress run. A floor, not a speed test: a POST whose
# outcome is unknown now costs a reconcile of up to timeout=, and CI machines are busy.
MIN_OPS_PER_WORKER = min(OPS_PER_WORKER, 40)
OP_TIMEOUT = 45  # one os call; more is a hang
MAX_LIVE = 3  # snapshots a worker keeps per share at most
MOUNT_OPTIONS = ["wait=10", "cache_ttl=2", "retries=4", "timeout=3", "rate=0"]
SIM_CONFIG = dict(create_delay=0.05, delete_delay=0.05, latency=0.01)
TRANSIENT = {"EIO", "ETIMEDOUT"}  # what a fault may turn any answer into
OWNED = re.compile(r"^t\d+-\d+$")

SNAP_LIST = r"/share/[^/]+/snapshot$"
SNAP_ONE = r"/snapshot/[0-9a-fA-F-]+$"
CREATE = r"/snapshot$"

# Injected one after the other, a few at a time, for the whole run.
FAULTS = [
    dict(method="GET", path=SNAP_LIST, action="status", status=500, times=2),
    dict(method="POST", path=CREATE, action="lost_reply"),  # made, reply lost: reconciled
    dict(method="GET", path=SNAP_LIST, action="status", status=429, retry_after=0.2),
    dict(method="POST", path=CREATE, action="status", status=500),  # not made: listed, EIO
    dict(method="GET", path=None, action="drop"),
    dict(method="DELETE", path=SNAP_ONE, action="status", status=503),
    dict(method="GET", path=SNAP_LIST, action="malformed"),
    dict(method="POST", path=CREATE, action="drop"),
    dict(method="PUT", path=SNAP_ONE, action="status", status=502),
    dict(method="GET", path=SNAP_ONE, action="status", status=503),  # mkdir/rmdir polls
    dict(method="GET", path=SNAP_LIST, action="delay", seconds=0.5),
    dict(method="POST", path=CREATE, action="status", status=429, retry_after=0.2),
    dict(method="GET", path=r"/share$", action="status", status=500),
    dict(method="PUT", path=SNAP_ONE, action="lost_reply"),  # renamed; the retry agrees
    dict(method="DELETE", path=SNAP_ONE, action="drop"),
    dict(method="POST", path=CREATE, action="malformed"),
    dict(method="GET", path=SNAP_LIST, action="html", status=502),
    dict(method="POST", path=CREATE, action="delay", seconds=0.8),  # made, within timeout
    dict(method="GET", path=SNAP_ONE, action="drop"),
    dict(method="GET", path=SNAP_LIST, action="hang", seconds=4),  # beyond timeout=3
    dict(method="POST", path=CREATE, action="hang", seconds=4),  # never made: listed, EIO
    dict(method="GET", path=r"/storage/netapp$", action="status", status=503),
    dict(method="DELETE", path=SNAP_ONE, action="lost_reply"),  # deleted, reply lost
]
ACTIVE_FAULTS = 3  # at most this many pending at once
FAULT_EVERY = 0.4  # seconds between injections

# The child: one os call per JSON line on stdin, one JSON answer per line on stdout.
CHILD = r"""
import errno, json, os, sys
for line in sys.stdin:
    req = json.loads(line)
    op, args = req["op"], req["args"]
    out = {"r": "0"}
    try:
        if op == "listdir":
            out["names"] = os.listdir(args[0])
        elif op == "read":
            with open(args[0], "rb") as f:
                out["text"] = f.read().decode("utf-8", "replace")
        elif op == "stat":
            os.stat(args[0])
        else:
            getattr(os, op)(*args)
    except OSError as e:
        out["r"] = errno.errorcode.get(e.errno, str(e.errno))
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
"""


class Hung(Exception):
    pass


class Child:
    """One child process making os calls for a worker, each bounded in time."""

    def __init__(self):
        self.proc = subprocess.Popen([PYTHON, "-c", CHILD], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     cwd="/")
        self.buf = b""

    def call(self, op, *args):
        line = json.dumps({"op": op, "args": [str(a) for a in args]}) + "\n"
        self.proc.stdin.write(line.encode())
        self.proc.stdin.flush()
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + OP_TIMEOUT
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Hung("%s %s: no answer within %ss" % (op, args, OP_TIMEOUT))
            if select.select([fd], [], [], left)[0]:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    raise Hung("%s %s: the child died (exit %s)" % (op, args,
                                                                     self.proc.poll()))
                self.buf += chunk
        answer, self.buf = self.buf.split(b"\n", 1)
        return json.loads(answer)

    def stop(self):
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(10)
        self.proc.stdout.close()


EXISTS, ABSENT, UNKNOWN = "exists", "absent", "unknown"


class Name:
    def __init__(self, share):
        self.share = share
        self.state = ABSENT
        self.id = None  # the snapshot's id once info.json showed it
        self.used = False


class Worker(threading.Thread):
    def __init__(self, index, mount, world, seed, deadline):
        super().__init__(name="stress-%d" % index, daemon=True)
        self.index = index
        self.mount = mount
        self.world = world
        self.rng = random.Random(seed)
        self.deadline = deadline
        self.names = {}
        self.next_n = 0
        self.records = []  # (op, names, answer, t0, t1)
        self.violations = []
        self.done = 0

    # ---- bookkeeping ----

    def violate(self, what):
        self.violations.append("t%d: %s" % (self.index, what))

    def mine(self, share, state):
        return [n for n, v in self.names.items() if v.share == share and v.state == state]

    def fresh(self, share):
        """A name free to create: an old absent one now and then, else a new one."""
        old = [n for n in self.mine(share, ABSENT) if self.names[n].used]
        if old and self.rng.random() < 0.5:
            return self.rng.choice(old)
        name = "t%d-%d" % (self.index, self.next_n)
        self.next_n += 1
        self.names[name] = Name(share)
        return name

    def snapdir(self, share):
        return self.mount / share / ".snapshots"

    def call(self, op, names, *args):
        t0 = time.time()
        ans = self.child.call(op, *args)
        self.records.append((op, tuple(names), ans["r"], t0, time.time()))
        return ans

    def expect(self, op, got, allowed, subject):
        if got not in allowed | TRANSIENT:
            self.violate("%s %s answered %s, expected one of %s" % (
                op, subject, got, sorted(allowed)))
            return False
        return True

    # ---- operations ----

    def op_listdir_snapshots(self, share):
        ans = self.call("listdir", (), self.snapdir(share))
        if not self.expect("listdir", ans["r"], {"0"}, share + "/.snapshots"):
            return
        if ans["r"] != "0":
            return
        listed = set(ans["names"])
        for name in self.mine(share, EXISTS):
            if name not in listed:
                self.violate("listdir %s/.snapshots lacks %s, which exists" % (share, name))
        for name in self.mine(share, ABSENT):
            if name in listed:
                self.violate("listdir %s/.snapshots shows %s, which is gone" % (share, name))
        strays = [n for n in listed - self.world["seeded"][share] if not OWNED.match(n)]
        if strays:
            self.violate("listdir %s/.snapshots shows unexpected entries %s (a name shown "
                         "by id: two snapshots share it?)" % (share, strays))

    def op_listdir_other(self, share):
        svc, sh = share.split("/")
        path, want = self.rng.choice([
            (self.mount, set(self.world["services"])),
            (self.mount / svc, {"info.json"} | set(self.world["services"][svc])),
            (self.mount / share, {"info.json", ".snapshots"})])
        ans = self.call("listdir", (), path)
        if self.expect("listdir", ans["r"], {"0"}, path) and ans["r"] == "0":
            if set(ans["names"]) != want:
                self.violate("listdir %s: %s, expected %s" % (path, sorted(ans["names"]),
                                                             sorted(want)))

    def pick_any(self, share):
        pool = [n for n, v in self.names.items() if v.share == share and v.used]
        if pool and self.rng.random() < 0.7:
            return self.rng.choice(pool)
        return None

    def op_stat(self, share):
        name = self.pick_any(share)
        if name is None:
            seeded = self.rng.choice(sorted(self.world["seeded"][share]))
            ans = self.call("stat", (), self.snapdir(share) / seeded)
            self.expect("stat", ans["r"], {"0"}, share + "/" + seeded)
            return
        state = self.names[name].state
        ans = self.call("stat", (name,), self.snapdir(share) / name)
        allowed = {EXISTS: {"0"}, ABSENT: {"ENOENT"}, UNKNOWN: {"0", "ENOENT"}}[state]
        self.expect("stat", ans["r"], allowed, "%s (%s)" % (name, state))

    def op_read(self, share):
        exists = self.mine(share, EXISTS)
        if not exists or self.rng.random() < 0.25:
            seeded, snap_id = self.rng.choice(sorted(self.world["seed_ids"][share].items()))
            ans = self.call("read", (), self.snapdir(share) / seeded / "info.json")
            if self.expect("read", ans["r"], {"0"}, share + "/" + seeded) and ans["r"] == "0":
                info = self.parse(ans["text"], seeded)
                if info is not None and info.get("id") != snap_id:
                    self.violate("%s/%s/info.json has id %s, not %s" % (
                        share, seeded, info.get("id"), snap_id))
            return
        name = self.rng.choice(exists)
        ans = self.call("read", (name,), self.snapdir(share) / name / "info.json")
        if not self.expect("read", ans["r"], {"0"}, name) or ans["r"] != "0":
            return
        info = self.parse(ans["text"], name)
        if info is None:
            return
        rec = self.names[name]
        if info.get("name") != name or info.get("status") != "available":
            self.violate("%s/info.json says name=%r status=%r" % (
                name, info.get("name"), info.get("status")))
        if rec.id is None:
            rec.id = info.get("id")
        elif info.get("id") != rec.id:
            self.violate("%s/info.json has id %s, it had %s" % (name, info.get("id"), rec.id))

    def parse(self, text, what):
        try:
            info = json.loads(text)
        except ValueError:
            self.violate("%s/info.json is not JSON: %r" % (what, text[:200]))
            return None
        if not isinstance(info, dict):
            self.violate("%s/info.json is not an object" % what)
            return None
        return info

    def op_mkdir(self, share):
        name = self.fresh(share)
        rec = self.names[name]
        rec.used = True
        ans = self.call("mkdir", (name,), self.snapdir(share) / name)
        self.expect("mkdir", ans["r"], {"0"}, name)
        if ans["r"] == "0":
            rec.state, rec.id = EXISTS, None
        else:
            rec.state = UNKNOWN  # EIO, ETIMEDOUT: made or not, never created again

    def op_mkdir_existing(self, share):
        name = self.rng.choice(self.mine(share, EXISTS))
        ans = self.call("mkdir", (name,), self.snapdir(share) / name)
        if not self.expect("mkdir", ans["r"], {"EEXIST"}, "%s (exists)" % name):
            self.names[name].state = UNKNOWN

    def op_rmdir(self, share):
        name = self.rng.choice(self.mine(share, EXISTS))
        rec = self.names[name]
        ans = self.call("rmdir", (name,), self.snapdir(share) / name)
        self.expect("rmdir", ans["r"], {"0"}, name)
        rec.state = ABSENT if ans["r"] == "0" else UNKNOWN
        rec.id = None

    def op_rmdir_absent(self, share):
        name = self.rng.choice([n for n in self.mine(share, ABSENT) if self.names[n].used])
        ans = self.call("rmdir", (name,), self.snapdir(share) / name)
        if not self.expect("rmdir", ans["r"], {"ENOENT"}, "%s (absent)" % name):
            self.names[name].state = UNKNOWN

    def op_rmdir_unknown(self, share):
        """Clear up an unknown name: gone once rmdir says so, else still unknown."""
        name = self.rng.choice(self.mine(share, UNKNOWN))
        ans = self.call("rmdir", (name,), self.snapdir(share) / name)
        self.expect("rmdir", ans["r"], {"0", "ENOENT", "EBUSY"}, "%s (unknown)" % name)
        if ans["r"] == "0":
            self.names[name].state = ABSENT

    def op_rename(self, share):
        src = self.rng.choice(self.mine(share, EXISTS))
        dst = self.fresh(share)
        s, d = self.names[src], self.names[dst]
        d.used = True
        ans = self.call("rename", (src, dst), self.snapdir(share) / src,
                        self.snapdir(share) / dst)
        self.expect("rename", ans["r"], {"0"}, "%s -> %s" % (src, dst))
        if ans["r"] == "0":
            d.state, d.id = EXISTS, s.id
            s.state, s.id = ABSENT, None
        else:
            s.state = d.state = UNKNOWN

    # ---- the loop ----

    def choose(self, share):
        exists = len(self.mine(share, EXISTS))
        absent_used = any(self.names[n].used for n in self.mine(share, ABSENT))
        unknown = bool(self.mine(share, UNKNOWN))
        weights = [  # changes are a fifth: each holds .snapshots locked in the kernel
            (self.op_listdir_snapshots, 3),
            (self.op_listdir_other, 1.5),
            (self.op_stat, 3),
            (self.op_read, 3),
            (self.op_mkdir, 1 if exists < MAX_LIVE else 0),
            (self.op_mkdir_existing, 0.2 if exists else 0),
            (self.op_rmdir, (0.6 if exists < MAX_LIVE else 1.5) if exists else 0),
            (self.op_rmdir_absent, 0.2 if absent_used else 0),
            (self.op_rmdir_unknown, 0.4 if unknown else 0),
            (self.op_rename, 0.6 if exists else 0),
        ]
        total = sum(w for _, w in weights)
        x = self.rng.uniform(0, total)
        for op, w in weights:
            x -= w
            if x < 0 and w > 0:
                return op
        return self.op_listdir_snapshots

    def run(self):
        self.child = Child()
        try:
            for _ in range(OPS_PER_WORKER):
                if time.monotonic() > self.deadline:
                    break
                share = self.rng.choice(self.world["shares"])
                self.choose(share)(share)
                self.done += 1
        except Hung as e:
            self.violate("hung: %s" % e)
        except Exception:
            self.violate("worker crashed: %s" % traceback.format_exc())
        finally:
            self.child.stop()


class Chaos(threading.Thread):
    """Keeps a few faults pending all run long, and watches for duplicate names."""

    def __init__(self, sim):
        super().__init__(name="stress-chaos", daemon=True)
        self.sim = sim
        self.stop_event = threading.Event()
        self.injected = 0
        self.samples = 0
        self.violations = []

    def run(self):
        k = 0
        try:
            while not self.stop_event.wait(FAULT_EVERY):
                if len(self.sim.admin("GET", "faults")["faults"]) < ACTIVE_FAULTS:
                    self.sim.fault(**FAULTS[k % len(FAULTS)])
                    k += 1
                    self.injected += 1
                # A name lives once: the next mkdir of it waits until rmdir saw it gone.
                counts = collections.Counter(owned_snapshots(self.sim.state()))
                self.samples += 1
                dups = sorted(n for n, c in counts.items() if c > 1)
                if dups:
                    self.violations.append("the simulator holds %s twice at %.3f" % (
                        dups, time.time()))
        except Exception:
            self.violations.append("chaos thread crashed: %s" % traceback.format_exc())


def owned_snapshots(state):
    return [snap["name"] for svc in state for sh in svc["shares"] for snap in sh["snapshots"]
            if snap["name"] and OWNED.match(snap["name"])]


def display_names(snapshots):
    """What .snapshots lists for these snapshots: the naming rule of the README."""
    visible = [s for s in snapshots if s["status"] != "deleting"]
    out = set()
    for i, s in enumerate(visible):
        name = s["name"]
        usable = (bool(name) and len(name.encode()) <= 255 and "/" not in name
                  and name not in (".", "..", "info.json", ".snapshots")
                  and not any(j != i and (o["name"] == name or o["id"] == name)
                              for j, o in enumerate(visible)))
        out.add(name if usable else s["id"])
    return out


def shares_of(state):
    """{"svc/share": share} for every share of the simulator's state."""
    return {"%s/%s" % (svc["name"], sh["name"]): sh for svc in state for sh in svc["shares"]}


def settle(sim, timeout=30):
    deadline = time.time() + timeout
    while True:
        state = sim.state()
        busy = [s["name"] or s["id"] for sh in shares_of(state).values()
                for s in sh["snapshots"] if s["status"] in ("creating", "deleting")]
        if not busy:
            return state
        assert time.time() < deadline, "still busy after %ss: %s" % (timeout, busy)
        time.sleep(0.2)


def view_mismatches(m, world, final_shares):
    out = []
    if sorted(ls(m.path)) != sorted(world["services"]):
        out.append("the root lists %s" % ls(m.path))
    for svc, shares in world["services"].items():
        if sorted(ls(m / svc)) != sorted(["info.json"] + shares):
            out.append("%s lists %s" % (svc, ls(m / svc)))
    for share in world["shares"]:
        listed = ls(m / share / ".snapshots", timeout=60)
        want = display_names(final_shares[share]["snapshots"])
        if len(listed) != len(set(listed)) or set(listed) != want:
            out.append("%s/.snapshots lists %s that the simulator lacks, lacks %s" % (
                share, sorted(set(listed) - want), sorted(want - set(listed))))
    return out


def performed_posts(log):
    """(t, name) of every POST .../snapshot the simulator carried out."""
    out = []
    for r in log:
        if r["method"] != "POST" or not re.search(CREATE, r["path"]):
            continue
        done = (r["fault"] in (None, "delay") and 200 <= r["status"] < 300) or \
            r["fault"] == "lost_reply"
        if done:
            out.append((r["t"], json.loads(r["body"])["name"]))
    return out


def test_stress_mixed_operations_with_faults(mounts, sim):
    seed = int(os.environ.get("OVHSNAPFS_STRESS_SEED", time.time_ns() % 1000000))
    sim.config(**SIM_CONFIG)
    m = mounts(MOUNT_OPTIONS)
    state = sim.state()
    seeded_state = shares_of(state)
    world = {
        "shares": sorted(seeded_state),
        "services": {svc["name"]: sorted(sh["name"] for sh in svc["shares"]) for svc in state},
        "seeded": {k: display_names(sh["snapshots"]) for k, sh in seeded_state.items()},
        "seed_ids": {k: {s["name"]: s["id"] for s in sh["snapshots"]
                         if s["name"] in display_names(sh["snapshots"])}
                     for k, sh in seeded_state.items()},
    }
    seed_ids = {s["id"] for sh in seeded_state.values() for s in sh["snapshots"]}
    for share in world["shares"]:  # warm: the stale-listing fallback needs a listing
        ls(m / share / ".snapshots")

    t_start = time.monotonic()
    deadline = t_start + BUDGET
    workers = [Worker(i, m.path, world, seed * 100 + i, deadline) for i in range(WORKERS)]
    chaos = Chaos(sim)
    chaos.start()
    try:
        for w in workers:
            w.start()
        for w in workers:  # each op is bounded by OP_TIMEOUT: this cannot wait forever
            w.join(max(1, deadline + 2 * OP_TIMEOUT - time.monotonic()))
    finally:
        chaos.stop_event.set()
        chaos.join(30)
        sim.admin("POST", "faults/clear", {})
    elapsed = time.monotonic() - t_start
    hung = [w.name for w in workers if w.is_alive()]

    final = settle(sim)
    assert m.alive(), "the daemon died: " + m.log()[-3000:]

    log = sim.log()
    problems = [v for w in workers for v in w.violations] + chaos.violations
    if hung:
        problems.append("workers still running: %s" % hung)

    # The filesystem's view is the simulator's state, share by share. SIGHUP drops every
    # listing; asked again only if the daemon still served a listing kept from an outage.
    final_shares = shares_of(final)
    for attempt in range(1, 11):
        m.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        mismatches = view_mismatches(m, world, final_shares)
        if not mismatches or "serving cached listings" not in m.log():
            break
        time.sleep(1.5)
    problems += mismatches
    for share in world["shares"]:  # the seeded snapshots were never touched
        for s in seeded_state[share]["snapshots"]:
            if s not in final_shares[share]["snapshots"]:
                problems.append("seeded snapshot %s (%s) changed" % (s["id"], s["name"]))

    # No name twice; every name where the model says it is, with the id it had.
    held = collections.defaultdict(list)
    for share, sh in final_shares.items():
        for s in sh["snapshots"]:
            if s["name"] and OWNED.match(s["name"]):
                held[s["name"]].append((share, s["id"]))
    model = {name: (w, rec) for w in workers for name, rec in w.names.items()}
    for name, where in sorted(held.items()):
        if len(where) > 1:
            problems.append("%s exists %d times: %s" % (name, len(where), where))
        if name not in model:
            problems.append("%s exists but no worker ever made it" % name)
        elif model[name][1].state == ABSENT:
            problems.append("%s exists but rmdir or mv said it was gone (leaked)" % name)
        elif model[name][1].share != where[0][0]:
            problems.append("%s is on share %s, not %s" % (name, where[0][0],
                                                           model[name][1].share))
    for name, (w, rec) in sorted(model.items()):
        if rec.state == EXISTS:
            if not held.get(name):
                problems.append("%s is lost: mkdir or mv said 0 and nothing removed it" % name)
            elif rec.id and held[name][0][1] != rec.id:
                problems.append("%s is snapshot %s, info.json showed %s" % (
                    name, held[name][0][1], rec.id))

    # Each mkdir made one snapshot at most (exactly one when it answered 0), and no POST
    # was sent outside a mkdir of that name.
    posts = performed_posts(log)
    windows = [(rec[1][0], rec[2], rec[3], rec[4]) for w in workers for rec in w.records
               if rec[0] == "mkdir"]
    for name, answer, t0, t1 in windows:
        made = sum(1 for t, n in posts if n == name and t0 <= t <= t1)
        want = {"0": (1, 1), "EEXIST": (0, 0)}.get(answer, (0, 1))
        if not want[0] <= made <= want[1]:
            problems.append("mkdir %s answered %s and made %d snapshots" % (name, answer,
                                                                            made))
    for t, name in posts:
        if not any(n == name and t0 <= t <= t1 for n, _, t0, t1 in windows):
            problems.append("a snapshot named %s was made outside any mkdir of it" % name)
    for r in log:
        if r["method"] in ("PUT", "DELETE") and r["path"].rsplit("/", 1)[-1] in seed_ids:
            problems.append("%s on a seeded snapshot: %s" % (r["method"], r["path"]))

    # The daemon is alive and still answers.
    assert m.alive() and is_mounted(m.path), "the daemon died: " + m.log()[-3000:]
    daemon_log = m.log()
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        if bad in daemon_log:
            problems.append("the daemon log reports %s" % bad)

    # Summary (pytest -s shows it).
    ops = collections.Counter()
    answers = collections.defaultdict(collections.Counter)
    took = collections.defaultdict(list)
    for w in workers:
        for op, _, answer, t0, t1 in w.records:
            ops[op] += 1
            answers[op][answer] += 1
            took[op].append(t1 - t0)
    api = collections.Counter(r["method"] for r in log)
    faults = collections.Counter("%s %s" % (r["method"], r["fault"]) for r in log
                                 if r["fault"])
    states = collections.Counter(rec.state for _, rec in model.values())
    print("\nstress: seed %d, %d workers, %d ops in %.1f s (%s per worker)" % (
        seed, WORKERS, sum(w.done for w in workers), elapsed,
        "/".join(str(w.done) for w in workers)))
    for op in sorted(ops):
        print("  %-8s %5d  mean %.2f s, max %.1f s  %s" % (
            op, ops[op], sum(took[op]) / ops[op], max(took[op]),
            dict(answers[op].most_common())))
    print("  API calls: %s" % dict(api.most_common()))
    print("  faults: %d injected, %d hit: %s" % (chaos.injected, sum(faults.values()),
                                                 dict(faults.most_common())))
    print("  final view compared %d time(s)" % attempt)
    print("  snapshots made: %d; names: %s; owned snapshots left: %d; duplicate checks: %d"
          % (len(posts), dict(states), len(held), chaos.samples))
    for p in problems[:30]:
        print("  PROBLEM: " + p)

    assert not problems, "%d problems, first: %s" % (len(problems), problems[:10])
    assert all(w.done >= MIN_OPS_PER_WORKER for w in workers), \
        "too few operations: %s" % [w.done for w in workers]
    assert posts and chaos.injected > len(FAULTS) and sum(faults.values()) > len(FAULTS)
