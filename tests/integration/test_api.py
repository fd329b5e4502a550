"""The client as the OVH API sees it: signatures, clock, connections, routes, bodies."""

import re
import sys

from conftest import REPO, fsop, ls, run

sys.path.insert(0, str(REPO / "tests" / "sim"))
from schema_check import CLIENT_ROUTES, SETTINGS_ROUTES, Schema  # noqa: E402

SCHEMA = REPO / "tests" / "sim" / "ovh-storage-schema.json"  # OVH's published /storage schema
WWW_DIR = "efs-prod/www/.snapshots"


def browse_and_change(m):
    for d in ["", "efs-prod", "efs-prod/www", WWW_DIR, "efs-backup", "efs-backup/archive",
              "efs-backup/archive/.snapshots"]:
        ls(m / d)
    assert fsop("mkdir", m / WWW_DIR / "conformity") == "0"
    assert fsop("rename", m / WWW_DIR / "conformity", m / WWW_DIR / "conformity2") == "0"
    assert fsop("rmdir", m / WWW_DIR / "conformity2") == "0"


def test_every_request_is_accepted_by_the_signature_check(mnt, sim):
    browse_and_change(mnt)
    log = sim.log()
    assert len(log) > 8
    # The only refusal: the poll that finds the deleted snapshot gone.
    refused = [(r["method"], r["status"]) for r in log if not 200 <= r["status"] < 300]
    assert refused == [("GET", 404)], refused
    signed = [r for r in log if not r["path"].endswith("/auth/time")]
    assert all(r["headers"].get("X-Ovh-Signature", "").startswith("$1$") for r in signed)


def test_share_and_snapshot_lists_always_ask_for_detail(mnt, sim):
    browse_and_change(mnt)
    lists = [r for r in sim.log() if r["method"] == "GET" and
             re.search(r"/(share|snapshot)$", r["path"])]
    assert lists and all(r["query"] == "detail=true" for r in lists)


def test_connections_are_reused(mnt, sim):
    browse_and_change(mnt)
    conns = {r["conn"] for r in sim.log()}
    assert len(sim.log()) >= 10 and len(conns) <= 2


def test_clock_offset_is_measured_at_start(mounts, sim):
    sim.config(clock_offset=3600)
    m = mounts()
    assert ls(m.path) == ["efs-backup", "efs-prod"]
    stamps = [int(r["headers"]["X-Ovh-Timestamp"]) for r in sim.log()
              if "X-Ovh-Timestamp" in r["headers"]]
    assert stamps and all(abs(s - (r["t"] + 3600)) < 5 for s, r in
                          zip(stamps, [r for r in sim.log() if "X-Ovh-Timestamp" in r["headers"]]))


def test_clock_change_is_cured_by_measuring_again(mnt, sim):
    sim.config(clock_offset=-1000)
    assert ls(mnt / "efs-prod") == ["db", "info.json", "logs", "www"]
    calls = sim.calls()
    assert [c for c in calls if c[1] == "/auth/time"] == [("GET", "/auth/time")] * 2
    assert [r["status"] for r in sim.log()][-3:] == [400, 200, 200]


def change_everything(m):
    """Every route the client uses but the access paths: browsing, mkdir, mv, rmdir, a
    description set and removed, and a hold."""
    browse_and_change(m)
    snap = m / WWW_DIR / "before-upgrade"
    run(["cat", str(m / "efs-prod/info.json"), str(m / "efs-prod/www/info.json")])
    assert run(["setfattr", "-n", "user.ovh.description", "-v", "kept", str(snap)]).returncode == 0
    assert run(["setfattr", "-x", "user.ovh.description", str(snap)]).returncode == 0
    daily = m / WWW_DIR / "daily-2026-11-25"
    assert run(["setfattr", "-n", "user.ovh.hold", "-v", "1", str(daily)]).returncode == 0


def test_requests_follow_ovh_published_schema(mnt, sim):
    """Every request the client made, against the vendored schema: route and method, path
    parameters of their types, query parameters the operation declares, and bodies of only
    the writable fields of their model (tests/sim/schema_check.py)."""
    change_everything(mnt)
    schema = Schema(SCHEMA)
    seen = schema.check_log(sim.log())
    # The routes seen are the client's (schema_check's list), and every change was made;
    # the access paths are read only for content links (test_content.py).
    assert seen <= set(CLIENT_ROUTES) | set(SETTINGS_ROUTES)
    assert set(CLIENT_ROUTES) - seen == {
        ("GET", "/storage/netapp/{serviceName}/share/{shareId}/accessPath")}
