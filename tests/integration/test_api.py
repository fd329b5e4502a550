"""The client as the OVH API sees it: signatures, clock, connections, routes, bodies."""

import json
import re
from pathlib import Path

import pytest

from conftest import REPO, fsop, ls, run

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


def schema_routes():
    schema = json.loads(SCHEMA.read_text())
    routes = {}
    for api in schema["apis"]:
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", api["path"]) + "$"
        for op in api["operations"]:
            routes[(op["httpMethod"], pattern)] = op
    return schema, routes


def test_requests_follow_ovh_published_schema(mnt, sim):
    browse_and_change(mnt)
    schema, routes = schema_routes()
    for r in sim.log():
        path = r["path"][4:]
        if path == "/auth/time":
            continue
        ops = [op for (method, pat), op in routes.items()
               if method == r["method"] and re.match(pat, path)]
        assert ops, "no such route in the schema: %s %s" % (r["method"], path)
        params = {p.get("name"): p for p in ops[0]["parameters"]}
        for key in [q.split("=")[0] for q in r["query"].split("&") if q]:
            assert params.get(key, {}).get("paramType") == "query", key
        if r["body"]:
            body_param = next(p for p in ops[0]["parameters"] if p["paramType"] == "body")
            model = schema["models"][body_param["dataType"]]
            writable = {k for k, v in model["properties"].items() if not v["readOnly"]}
            assert set(json.loads(r["body"])) <= writable
