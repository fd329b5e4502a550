"""Tests of the OVH API simulator (tests/sim/ovhsim.py).

The simulator stands in for OVH in every other test of ovhsnapfs, so these tests pin the
behaviour the C client relies on: the signature check and its exact error bodies, the
snapshot life cycle, the limits, the fault injection and the request log. They talk to a
real simulator process over HTTP with a signing client written here from the OVH formula,
independently of the simulator's own code.

What the simulator does is either documented by OVH or a guess, and each test of the API's
behaviour says which, with @documented(source) or @guess(why) (sources as in
shared/reference/ovh-api.md: S1 the /storage schema, S3 Terraform's provider, S4 OVH's EFS
guides, S5 the manager, S6 Trident, S7 python-ovh). In short:

  documented: routes, methods, parameters and models (field names, types, nullability,
              enums) of the schema; the AK/AS/CK signature and its error bodies (S7);
              create answers the snapshot in status creating, then available (S3, S6);
              delete goes through deleting and the snapshot vanishes, 404 (S5, S6);
              error_deleting as a deletion's failure (S5); hold gives a manual copy under
              a new id (S5); 200 snapshots per share and per service (S4).
  a guess:    every HTTP status of a refusal (400 over the limit, 409 for a snapshot busy,
              400 for a bad body) and every message's wording (made up, and free of the
              words a client might look for: only the status and the state can tell);
              the held copy passing through manage_starting (Manila's state for a taken-
              over snapshot); 200 with an empty body for a DELETE; names not unique.
"""

import base64
import hashlib
import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote_plus, urlencode

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from schema_check import CLIENT_ROUTES, SETTINGS_ROUTES, Schema  # noqa: E402

SIM = Path(__file__).resolve().parent / "ovhsim.py"
# OVH's published /storage schema (https://eu.api.ovh.com/1.0/storage.json), kept in the tree
# so that this check runs wherever the suite runs.
SCHEMA = Path(__file__).resolve().parent / "ovh-storage-schema.json"



def documented(source):
    """The behaviour a test pins is OVH's, as source shows it."""
    def mark(fn):
        fn.ovh_basis = ("documented", source)
        return fn
    return mark


def guess(why):
    """The behaviour a test pins is the simulator's guess: OVH documents none."""
    def mark(fn):
        fn.ovh_basis = ("guess", why)
        return fn
    return mark


AK, AS, CK = "demo-ak", "demo-as", "demo-ck"
DELAY = 0.3  # create/delete delay given to the simulator: long enough to observe, short

SVC = "5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0a001"
SVC2 = "5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0a002"
WWW = "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0101"
DB = "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0102"
WWW_SNAP = "2f6d9c3b-8e1a-4b75-a0d4-010100000003"
SNAPS = "/storage/netapp/%s/share/%s/snapshot" % (SVC, WWW)
MISSING = "00000000-0000-4000-8000-000000000000"

QUERY_ID_RE = re.compile(r"^EU\.ext-\d+\.[0-9a-f]{8}\.\d+\.[0-9a-f]+$")
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

UNSIGNED = {"class": "Client::Unauthorized", "message": "You must login first"}
INVALID_KEY = {"errorCode": "INVALID_KEY", "httpCode": "403 Forbidden",
               "message": "This application key is invalid"}
INVALID_CREDENTIAL = {"errorCode": "INVALID_CREDENTIAL", "httpCode": "403 Forbidden",
                      "message": "This credential does not exist"}
QUERY_TIME_OUT = {"errorCode": "QUERY_TIME_OUT", "httpCode": "400 Bad Request",
                  "message": "Query out of time"}
INVALID_SIGNATURE = {"errorCode": "INVALID_SIGNATURE", "httpCode": "400 Bad Request",
                     "message": "Invalid signature"}

TOKEN = "/auth/oauth2/token"
CLIENT_ID, CLIENT_SECRET = "demo-client-id", "demo-client-secret"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# --------------------------------------------------------------------------------------
# Harness: a simulator process and a small signing client
# --------------------------------------------------------------------------------------

def start_sim(tmp_path, *args):
    """Start ovhsim on a free port; return (process, port) once it listens."""
    name = uuid.uuid4().hex
    port_file, err_file = tmp_path / ("port-" + name), tmp_path / ("stderr-" + name)
    with open(err_file, "w") as err:  # a file, not a pipe: a full pipe would block the sim
        proc = subprocess.Popen(
            [sys.executable, str(SIM), "--port", "0", "--port-file", str(port_file),
             "--quiet", *args], stdout=subprocess.PIPE, stderr=err, text=True)
    deadline = time.monotonic() + 10
    while not port_file.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_sim(proc)
            pytest.fail("simulator did not start: %s" % err_file.read_text())
        time.sleep(0.02)
    return proc, int(port_file.read_text())


def stop_sim(proc):
    """Stop by PID: SIGTERM, then SIGKILL if it lingers. Returns the exit code."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.returncode


class Resp:
    def __init__(self, status, headers, data):
        self.status = status
        self.headers = headers
        self.data = data

    def json(self):
        return json.loads(self.data)


class Client:
    """Signs requests exactly as OVH's SDKs do (AK/AS/CK, "$1$" + sha1)."""

    def __init__(self, port, prefix="/1.0"):
        self.port = port
        self.prefix = prefix
        self.host = "127.0.0.1:%d" % port

    def connect(self, timeout=5):
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def sign(self, method, url, body, ts, secret=AS, ck=CK):
        data = "+".join([secret, ck, method, url, body.decode(), str(ts)])
        return "$1$" + hashlib.sha1(data.encode()).hexdigest()

    def call(self, method, path, body=None, query="", conn=None, headers=None, **auth):
        """One API request. auth: sign=False, ak, secret, ck, ts, sig_url, bearer."""
        target = self.prefix + path + ("?" + query if query else "")
        raw = b"" if body is None else (body if isinstance(body, bytes) else
                                        json.dumps(body).encode())
        hdrs = dict(headers or {})
        hdrs.update(self.auth_headers(method, target, raw, **auth))
        if raw:
            hdrs.setdefault("Content-Type", "application/json")
        return self.send(method, target, raw, hdrs, conn)

    def auth_headers(self, method, target, raw, sign=True, ak=AK, secret=AS, ck=CK,
                     ts=None, sig_url=None, bearer=None):
        if bearer is not None:
            return {"Authorization": "Bearer " + bearer}
        if not sign:
            return {}
        ts = int(time.time()) if ts is None else ts
        url = sig_url or "http://%s%s" % (self.host, target)
        return {"X-Ovh-Application": ak, "X-Ovh-Consumer": ck, "X-Ovh-Timestamp": str(ts),
                "X-Ovh-Signature": self.sign(method, url, raw, ts, secret, ck)}

    def send(self, method, target, raw=b"", headers=None, conn=None):
        own = conn is None
        conn = conn or self.connect()
        try:
            conn.request(method, target, body=raw or None, headers=headers or {})
            r = conn.getresponse()
            return Resp(r.status, r.headers, r.read())
        finally:
            if own:
                conn.close()

    def admin(self, method, path, body=None):
        raw = b"" if body is None else json.dumps(body).encode()
        r = self.send(method, path, raw, {"Content-Type": "application/json"})
        return r.status, json.loads(r.data)

    def ok(self, method, path, body=None, query=""):
        r = self.call(method, path, body, query)
        assert 200 <= r.status < 300, (r.status, r.data)
        return r.json() if r.data else None

    def log(self):
        return self.admin("GET", "/_sim/log")[1]["requests"]

    def config(self, **values):
        status, body = self.admin("POST", "/_sim/config", values)
        assert status == 200, body
        return body

    def fault(self, **spec):
        status, body = self.admin("POST", "/_sim/fault", spec)
        assert status == 200, body
        return body

    def token(self, form=None, basic=None, raw=None, method="POST"):
        """POST /auth/oauth2/token; form: dict of parameters, basic: (id, secret)."""
        if form is None:
            form = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET, "scope": "all"}
        headers = dict(FORM)
        if basic is not None:
            pair = "%s:%s" % (quote_plus(basic[0]), quote_plus(basic[1]))
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
        body = raw if raw is not None else urlencode(form).encode()
        return self.send(method, TOKEN, body, headers)


@pytest.fixture(scope="module")
def sim_proc(tmp_path_factory):
    proc, port = start_sim(tmp_path_factory.mktemp("sim"), "--create-delay", str(DELAY),
                           "--delete-delay", str(DELAY))
    try:
        yield proc, port
    finally:
        stop_sim(proc)


@pytest.fixture
def api(sim_proc):
    """A client on a freshly reset simulator (demo seed, start-up config, no faults)."""
    client = Client(sim_proc[1])
    assert client.admin("POST", "/_sim/reset") == (200, {"ok": True})
    return client


def wait_for(predicate, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def snapshot_ids(api):
    return [s["id"] for s in api.ok("GET", SNAPS, query="detail=true")]


# --------------------------------------------------------------------------------------
# Start-up and process behaviour
# --------------------------------------------------------------------------------------

def test_startup_prints_listening_line_and_sigterm_exits_cleanly(tmp_path):
    proc, port = start_sim(tmp_path, "--seed", "empty")
    line = proc.stdout.readline().strip()
    assert line == "ovhsim listening on http://127.0.0.1:%d/1.0" % port
    assert Client(port).ok("GET", "/storage/netapp") == []
    assert stop_sim(proc) == 0


def test_seed_file_and_custom_keys_are_used(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"services": [{"name": "from-file"}]}))
    proc, port = start_sim(tmp_path, "--seed", str(seed), "--app-key", "ak2",
                           "--app-secret", "as2", "--consumer-key", "ck2")
    try:
        client = Client(port)
        r = client.call("GET", "/storage/netapp", ak="ak2", secret="as2", ck="ck2")
        assert r.status == 200
        assert [s["name"] for s in r.json()] == ["from-file"]
        assert client.call("GET", "/storage/netapp").status == 403
    finally:
        stop_sim(proc)


def test_health(api):
    assert api.admin("GET", "/_sim/health") == (200, {"ok": True})


# --------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------

def test_auth_time_is_unauthenticated_server_clock(api):
    r = api.call("GET", "/auth/time", sign=False)
    assert r.status == 200
    assert isinstance(r.json(), int) and abs(r.json() - time.time()) < 5
    api.config(clock_offset=1000)
    assert abs(api.call("GET", "/auth/time", sign=False).json() - time.time() - 1000) < 5


def test_correct_signature_is_accepted_on_both_prefixes(api):
    assert api.call("GET", "/storage/netapp").status == 200
    v1 = Client(api.port, prefix="/v1")
    r = v1.call("GET", "/storage/netapp/%s/share" % SVC, query="detail=true")
    assert r.status == 200 and len(r.json()) == 3


@documented("S7")
def test_unsigned_request_is_401_login_first(api):
    r = api.call("GET", "/storage/netapp", sign=False)
    assert (r.status, r.json()) == (401, UNSIGNED)


@documented("S7 errorCode INVALID_KEY")
def test_unknown_application_key_is_403_invalid_key(api):
    r = api.call("GET", "/storage/netapp", ak="nope")
    assert (r.status, r.json()) == (403, INVALID_KEY)


@documented("S7 errorCode INVALID_CREDENTIAL")
def test_unknown_consumer_key_is_403_invalid_credential(api):
    r = api.call("GET", "/storage/netapp", ck="nope")
    assert (r.status, r.json()) == (403, INVALID_CREDENTIAL)


def test_consumer_keys_added_by_config_are_accepted(api):
    api.config(consumer_keys=["demo-ck", "ck-two"])
    assert api.call("GET", "/storage/netapp", ck="ck-two").status == 200


@pytest.mark.parametrize("ts", [int(time.time()) + 400, int(time.time()) - 400, "soon", ""])
def test_skewed_or_bad_timestamp_is_400_query_time_out(api, ts):
    r = api.call("GET", "/storage/netapp", ts=ts)
    assert (r.status, r.json()) == (400, QUERY_TIME_OUT)


def test_timestamp_must_follow_the_server_clock(api):
    api.config(clock_offset=-3600)
    assert api.call("GET", "/storage/netapp").json() == QUERY_TIME_OUT
    server_now = api.call("GET", "/auth/time", sign=False).json()
    assert api.call("GET", "/storage/netapp", ts=server_now).status == 200


@documented("S7")
def test_wrong_secret_is_400_invalid_signature(api):
    r = api.call("GET", "/storage/netapp", secret="wrong")
    assert (r.status, r.json()) == (400, INVALID_SIGNATURE)


@documented("S7 client.py signature")
def test_signature_covers_query_string_host_and_body(api):
    target = "/1.0%s" % SNAPS
    no_query = api.call("GET", SNAPS, query="detail=true",
                        sig_url="http://%s%s" % (api.host, target))
    assert (no_query.status, no_query.json()) == (400, INVALID_SIGNATURE)
    other_host = api.call("GET", SNAPS, sig_url="http://localhost:%d%s" % (api.port, target))
    assert other_host.json() == INVALID_SIGNATURE
    ts = int(time.time())
    headers = api.auth_headers("POST", target, b'{"name":"a"}', ts=ts)
    r = api.send("POST", target, b'{"name":"b"}', headers)
    assert (r.status, r.json()) == (400, INVALID_SIGNATURE)
    assert len(snapshot_ids(api)) == 6


def test_bearer_tokens_from_config(api):
    api.config(tokens=[{"token": "good", "expires": None},
                       {"token": "old", "expires": time.time() - 10}])
    assert api.call("GET", "/storage/netapp", bearer="good").status == 200
    for token in ("old", "unknown"):
        r = api.call("GET", "/storage/netapp", bearer=token)
        assert r.status == 401 and r.json()["class"] == "Client::Unauthorized"


# --------------------------------------------------------------------------------------
# OAuth2 client credentials (POST /auth/oauth2/token at the server root)
# --------------------------------------------------------------------------------------

def test_token_is_issued_and_accepted_as_bearer(api):
    r = api.token()
    assert r.status == 200 and r.headers["Content-Type"].startswith("application/json")
    assert r.headers["Cache-Control"] == "no-store"
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"], body["scope"]) == ("Bearer", 3600, "all")
    assert len(body["access_token"]) >= 32
    ok = api.call("GET", "/storage/netapp", bearer=body["access_token"])
    assert ok.status == 200 and len(ok.json()) == 2
    assert api.token().json()["access_token"] != body["access_token"]
    # Only at the root: the API prefixes do not have it.
    assert api.call("POST", TOKEN, sign=False).status == 404


def test_token_wrong_or_unknown_client_is_401_invalid_client(api):
    for client_id, secret in ((CLIENT_ID, "wrong"), ("nobody", CLIENT_SECRET)):
        r = api.token({"grant_type": "client_credentials", "client_id": client_id,
                       "client_secret": secret, "scope": "all"})
        assert r.status == 401
        assert r.json() == {"error": "invalid_client",
                            "error_description": "Client authentication failed"}


def test_token_bad_grant_type_or_missing_fields_is_400(api):
    full = {"grant_type": "client_credentials", "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET, "scope": "all"}
    r = api.token(dict(full, grant_type="password"))
    assert r.status == 400 and r.json()["error"] == "unsupported_grant_type"
    assert r.json()["error_description"]
    for missing in ("grant_type", "client_id", "client_secret"):
        form = {k: v for k, v in full.items() if k != missing}
        r = api.token(form)
        assert (r.status, r.json()["error"]) == (400, "invalid_request"), missing
    r = api.token(raw=b"grant_type=client_credentials&grant_type=client_credentials")
    assert (r.status, r.json()["error"]) == (400, "invalid_request")
    r = api.token(dict(full, scope="admin"))
    assert (r.status, r.json()["error"]) == (400, "invalid_scope")
    assert api.token(method="GET").status == 405
    json_body = api.send("POST", TOKEN, json.dumps(full).encode(),
                         {"Content-Type": "application/json"})
    assert (json_body.status, json_body.json()["error"]) == (400, "invalid_request")


def test_token_expires_after_token_ttl(api):
    api.config(token_ttl=1)
    first = api.token().json()
    assert first["expires_in"] == 1
    assert api.call("GET", "/storage/netapp", bearer=first["access_token"]).status == 200
    time.sleep(1.2)
    r = api.call("GET", "/storage/netapp", bearer=first["access_token"])
    assert (r.status, r.json()) == (401, {"class": "Client::Unauthorized",
                                          "message": "The access token has expired"})
    api.config(token_ttl=3600)
    fresh = api.token().json()["access_token"]
    assert api.call("GET", "/storage/netapp", bearer=fresh).status == 200
    api.admin("POST", "/_sim/reset")  # forgets issued tokens, restores the knobs
    assert api.call("GET", "/storage/netapp", bearer=fresh).status == 401
    cfg = api.admin("GET", "/_sim/config")[1]
    assert (cfg["token_ttl"], cfg["tokens"], cfg["require_bearer"]) == (3600, [], False)


def test_token_with_http_basic_client_authentication(api):
    r = api.token({"grant_type": "client_credentials", "scope": "all"},
                  basic=(CLIENT_ID, CLIENT_SECRET))
    assert r.status == 200
    assert api.call("GET", "/storage/netapp", bearer=r.json()["access_token"]).status == 200
    bad = api.token({"grant_type": "client_credentials"}, basic=(CLIENT_ID, "wrong"))
    assert (bad.status, bad.json()["error"]) == (401, "invalid_client")
    assert bad.headers["WWW-Authenticate"].startswith("Basic")
    both = api.token({"grant_type": "client_credentials", "client_secret": CLIENT_SECRET},
                     basic=(CLIENT_ID, CLIENT_SECRET))
    assert (both.status, both.json()["error"]) == (400, "invalid_request")


def test_oauth_clients_knob_and_cli_options(api, tmp_path):
    api.config(oauth_clients=[{"client_id": "svc-1", "client_secret": "s&=+ 1"}])
    form = {"grant_type": "client_credentials", "client_id": "svc-1",
            "client_secret": "s&=+ 1", "scope": "all"}
    assert api.token(form).status == 200
    assert api.token().status == 401
    assert api.admin("POST", "/_sim/config", {"oauth_clients": [{"client_id": 1}]})[0] == 400
    assert api.admin("POST", "/_sim/config", {"token_ttl": -1})[0] == 400
    proc, port = start_sim(tmp_path, "--seed", "empty", "--client-id", "cli-id",
                           "--client-secret", "cli-secret", "--token-ttl", "7")
    try:
        r = Client(port).token(basic=("cli-id", "cli-secret"),
                               form={"grant_type": "client_credentials"})
        assert r.status == 200 and r.json()["expires_in"] == 7
    finally:
        stop_sim(proc)


def test_token_request_is_logged_with_the_secret_masked(api):
    api.admin("POST", "/_sim/log/reset")
    api.token()
    api.token({"grant_type": "client_credentials"}, basic=(CLIENT_ID, CLIENT_SECRET))
    api.token(raw=b"grant_type=client_credentials&client_id=x&client%5Fsecret=" +
              CLIENT_SECRET.encode())
    log = api.log()
    assert [(e["method"], e["path"], e["status"]) for e in log] == [
        ("POST", TOKEN, 200), ("POST", TOKEN, 200), ("POST", TOKEN, 401)]
    assert log[0]["body"] == ("grant_type=client_credentials&client_id=demo-client-id"
                              "&client_secret=***&scope=all")
    assert log[1]["headers"]["Authorization"] == "Basic ***"
    assert log[2]["body"].endswith("client%5Fsecret=***")
    assert CLIENT_SECRET not in json.dumps(log)
    assert all(QUERY_ID_RE.match(e["query_id"]) for e in log)


def test_faults_apply_to_the_token_endpoint(api):
    api.fault(method="POST", path="^/auth/oauth2/token$", action="status", status=503)
    assert api.call("GET", "/storage/netapp").status == 200
    assert api.token().status == 503
    api.fault(path="^/auth/oauth2/token$", action="drop")
    with pytest.raises(ConnectionError):
        api.token()
    assert api.log()[-1]["fault"] == "drop" and "***" in api.log()[-1]["body"]
    assert api.token().status == 200


def test_require_bearer_refuses_signed_requests(api):
    api.config(require_bearer=True)
    r = api.call("GET", "/storage/netapp")
    assert (r.status, r.json()) == (403, {"class": "Client::Forbidden",
                                          "message": "This call requires an OAuth2 token"})
    assert api.call("GET", "/auth/time", sign=False).status == 200
    token = api.token().json()["access_token"]
    assert api.call("GET", "/storage/netapp", bearer=token).status == 200


# --------------------------------------------------------------------------------------
# Reads
# --------------------------------------------------------------------------------------

def test_demo_seed_is_deterministic(api):
    services = api.ok("GET", "/storage/netapp")
    assert [(s["id"], s["name"], s["region"]) for s in services] == [
        (SVC, "efs-prod", "eu-west-gra"), (SVC2, "efs-backup", "eu-west-rbx")]
    shares = api.ok("GET", "/storage/netapp/%s/share" % SVC, query="detail=true")
    assert [s["name"] for s in shares] == ["www", "db", "logs"]
    snaps = api.ok("GET", SNAPS, query="detail=true")
    names = [s["name"] for s in snaps]
    assert names.count("dup") == 2 and None in names and "daily-2026-11-25" in names
    assert snaps[0]["type"] == "automatic"
    assert [s["createdAt"] for s in snaps] == sorted(s["createdAt"] for s in snaps)


def test_single_objects_match_the_lists(api):
    assert api.ok("GET", "/storage/netapp/%s" % SVC) == api.ok("GET", "/storage/netapp")[0]
    share = api.ok("GET", "/storage/netapp/%s/share/%s" % (SVC, DB))
    assert share["name"] == "db" and share["protocol"] == "NFS"
    snap = api.ok("GET", "%s/%s" % (SNAPS, WWW_SNAP))
    assert snap["name"] == "before-upgrade" and snap["status"] == "available"


@guess("what a list without detail holds is undocumented")
@pytest.mark.parametrize("query", ["", "detail=false"])
def test_lists_without_detail_give_ids_only(api, query):
    shares = api.ok("GET", "/storage/netapp/%s/share" % SVC, query=query)
    assert shares == [{"id": s["id"]} for s in
                      api.ok("GET", "/storage/netapp/%s/share" % SVC, query="detail=true")]
    assert api.ok("GET", SNAPS, query=query) == [{"id": i} for i in snapshot_ids(api)]


def test_share_list_filters_on_mount_point_name(api):
    shares = api.ok("GET", "/storage/netapp/%s/share" % SVC, query="detail=true&mountPointName=db")
    assert [s["id"] for s in shares] == [DB]


ACCESS = "/storage/netapp/%s/share/%s/accessPath" % (SVC, WWW)


def test_access_paths_are_full_objects_and_snapshot_paths_are_built_from_them(api):
    paths = api.ok("GET", ACCESS)
    assert [(a["path"], a["preferred"]) for a in paths] == [("10.0.0.5:/share_" + WWW, True)]
    assert api.ok("GET", "%s/%s" % (ACCESS, paths[0]["id"])) == paths[0]
    assert api.ok("GET", ACCESS) == paths  # ids are stable
    snap = api.ok("GET", "%s/%s" % (SNAPS, WWW_SNAP))
    assert snap["path"] == paths[0]["path"] + "/.snapshot/before-upgrade"
    new = api.ok("POST", SNAPS, {"name": "fresh"})
    assert new["path"] == paths[0]["path"] + "/.snapshot/fresh"
    r = api.call("GET", "%s/%s" % (ACCESS, MISSING))
    assert r.status == 404 and r.json()["class"] == "Client::NotFound"
    assert api.call("POST", ACCESS, {}).status == 405


def test_seeded_access_paths_and_snapshot_paths(api):
    ap = [{"id": MISSING, "path": "h:/other", "preferred": False},
          {"path": "h:/e/", "preferred": True}]
    seed = {"services": [{"id": SVC, "shares": [{"id": WWW, "accessPaths": ap, "snapshots": [
        {"name": "a"}, {"name": "b", "path": None}, {"name": "c", "path": "h:/e/../x"}]}]}]}
    assert api.admin("POST", "/_sim/seed", seed)[0] == 200
    assert [a["path"] for a in api.ok("GET", ACCESS)] == ["h:/other", "h:/e/"]
    snaps = api.ok("GET", SNAPS, query="detail=true")
    assert [s["path"] for s in snaps] == ["h:/e/.snapshot/a", None, "h:/e/../x"]
    seed["services"][0]["shares"][0]["accessPaths"] = []
    assert api.admin("POST", "/_sim/seed", seed)[0] == 200
    assert api.ok("GET", ACCESS) == []
    assert api.ok("GET", SNAPS, query="detail=true")[0]["path"] is None
    bad = {"services": [{"shares": [{"accessPaths": [{"path": 5}]}]}]}
    assert api.admin("POST", "/_sim/seed", bad)[0] == 400


@guess("status of a bad query parameter")
def test_bad_detail_value_is_400(api):
    r = api.call("GET", SNAPS, query="detail=yes")
    assert r.status == 400 and r.json()["class"] == "Client::BadRequest"


@documented("S6 ovh_error.go: Client::NotFound")
@pytest.mark.parametrize("path", [
    "/storage/netapp/%s" % MISSING,
    "/storage/netapp/%s/share/%s" % (SVC, MISSING),
    "/storage/netapp/%s/share/%s/snapshot" % (SVC2, WWW),
    "%s/%s" % (SNAPS, MISSING),
    "/storage/netapp/%s/nothing" % SVC,
])
def test_unknown_ids_and_routes_are_404_not_found(api, path):
    r = api.call("GET", path)
    assert r.status == 404 and r.json()["class"] == "Client::NotFound"
    assert isinstance(r.json()["message"], str)


def test_unprefixed_path_is_404_and_wrong_method_is_405(api):
    r = api.send("GET", "/storage/netapp")
    assert r.status == 404 and r.json()["class"] == "Client::NotFound"
    r = api.call("PATCH", "%s/%s" % (SNAPS, WWW_SNAP), {"name": "x"})
    assert r.status == 405 and r.json()["class"] == "Client::MethodNotAllowed"


def test_every_reply_has_a_unique_query_id_and_json_content_type(api):
    replies = [api.call("GET", "/auth/time", sign=False), api.call("GET", "/storage/netapp"),
               api.call("GET", "/storage/netapp", sign=False),
               api.call("GET", "/storage/netapp", secret="x"), api.call("GET", "/nope")]
    ids = [r.headers["X-Ovh-QueryID"] for r in replies]
    assert all(QUERY_ID_RE.match(i) for i in ids) and len(set(ids)) == len(ids)
    assert {r.headers["Content-Type"] for r in replies} == {"application/json; charset=utf-8"}


# --------------------------------------------------------------------------------------
# Snapshot life cycle
# --------------------------------------------------------------------------------------

@documented("S3 WaitForSnapshotCreation, S6")
def test_create_is_creating_then_available_after_the_delay(api):
    created = api.ok("POST", SNAPS, {"name": "mine", "description": None})
    assert created["status"] == "creating" and created["type"] == "manual"
    assert created["name"] == "mine" and created["description"] is None
    assert uuid.UUID(created["id"]).version == 4
    assert RFC3339_RE.match(created["createdAt"]) and created["path"].endswith("/mine")
    url = "%s/%s" % (SNAPS, created["id"])
    assert api.ok("GET", url)["status"] == "creating"
    assert snapshot_ids(api)[-1] == created["id"]
    time.sleep(DELAY + 0.1)
    assert api.ok("GET", url)["status"] == "available"


@guess("nothing says names are unique; body fields optional per S1")
def test_create_accepts_empty_object_and_duplicate_names(api):
    first = api.ok("POST", SNAPS, {"name": "dup"})
    second = api.ok("POST", SNAPS, {"name": "dup"})
    anonymous = api.ok("POST", SNAPS, {})
    assert first["id"] != second["id"] and anonymous["name"] is None
    assert anonymous["path"].endswith("/" + anonymous["id"])


@guess("status 400 for a bad body: undocumented")
@pytest.mark.parametrize("raw", [
    b'{"name": "x", "type": "manual"}', b'{"id": "x"}', b'["x"]', b'"x"', b"{",
    b'{"name": 5}', b'{"description": true}', b""])
def test_create_rejects_bad_bodies_with_400_and_creates_nothing(api, raw):
    r = api.call("POST", SNAPS, raw)
    assert r.status == 400 and r.json()["class"] == "Client::BadRequest", r.data
    assert len(snapshot_ids(api)) == 6


@documented("S1 storage.NetAppShareSnapshotUpdate")
def test_update_renames_and_rejects_other_keys(api):
    url = "%s/%s" % (SNAPS, WWW_SNAP)
    updated = api.ok("PUT", url, {"name": "renamed", "description": "d"})
    assert (updated["name"], updated["description"]) == ("renamed", "d")
    assert api.ok("GET", url)["name"] == "renamed"
    r = api.call("PUT", url, {"status": "available"})
    assert r.status == 400 and r.json()["class"] == "Client::BadRequest"


@documented("S1: description canBeNull")
def test_update_description_to_null(api):
    url = "%s/%s" % (SNAPS, WWW_SNAP)
    assert api.ok("PUT", url, {"description": None})["description"] is None
    assert api.ok("GET", url)["description"] is None
    assert api.log()[-2]["body"] == '{"description": null}'


AUTO_SNAP = "2f6d9c3b-8e1a-4b75-a0d4-010100000002"  # daily-2026-11-25, automatic


@documented("S5 restore/service.js: the new id")
def test_hold_makes_a_manual_copy_under_a_new_id(api):
    old = api.ok("GET", "%s/%s" % (SNAPS, AUTO_SNAP))
    held = api.ok("POST", "%s/%s/hold" % (SNAPS, AUTO_SNAP))
    assert held["id"] != AUTO_SNAP and held["type"] == "manual"
    assert held["status"] == "available"
    for field in ("name", "description", "createdAt", "path"):
        assert held[field] == old[field]
    assert api.call("GET", "%s/%s" % (SNAPS, AUTO_SNAP)).status == 404
    assert api.ok("GET", "%s/%s" % (SNAPS, held["id"])) == held
    ids = snapshot_ids(api)
    assert held["id"] in ids and AUTO_SNAP not in ids and len(ids) == 6


@guess("manage_starting: Manila's state for a taken-over snapshot")
def test_hold_delay_knob_starts_the_copy_manage_starting(api):
    api.config(hold_delay=DELAY)
    held = api.ok("POST", "%s/%s/hold" % (SNAPS, AUTO_SNAP))
    assert held["status"] == "manage_starting"
    r = api.call("DELETE", "%s/%s" % (SNAPS, held["id"]))  # busy while it starts
    assert r.status == 409
    assert wait_for(lambda: api.ok("GET", "%s/%s" % (SNAPS, held["id"]))["status"]
                    == "available")


@guess("status and wording of the refusal")
def test_hold_of_a_manual_snapshot_or_with_a_body_is_400(api):
    r = api.call("POST", "%s/%s/hold" % (SNAPS, WWW_SNAP))
    assert r.status == 400 and "automatic" in r.json()["message"]
    r = api.call("POST", "%s/%s/hold" % (SNAPS, AUTO_SNAP), {"name": "x"})
    assert r.status == 400
    assert api.call("GET", "%s/%s/hold" % (SNAPS, AUTO_SNAP)).status == 405
    assert api.call("POST", "%s/%s/hold" % (SNAPS, MISSING)).status == 404
    assert AUTO_SNAP in snapshot_ids(api)


@documented("S5 isBeingDeleted, S6: no deleted status, it vanishes")
def test_delete_is_deleting_then_404(api):
    url = "%s/%s" % (SNAPS, WWW_SNAP)
    r = api.call("DELETE", url)
    assert (r.status, r.data, r.headers["Content-Length"]) == (200, b"", "0")
    assert api.ok("GET", url)["status"] == "deleting"
    time.sleep(DELAY + 0.1)
    assert api.call("GET", url).status == 404
    assert WWW_SNAP not in snapshot_ids(api)
    assert api.call("DELETE", url).status == 404


@guess("python-ovh's 409; the real status is undocumented")
def test_update_or_delete_while_busy_is_409_conflict(api):
    created = api.ok("POST", SNAPS, {"name": "busy"})
    url = "%s/%s" % (SNAPS, created["id"])
    for method, body in (("PUT", {"name": "x"}), ("DELETE", None)):
        r = api.call(method, url, body)
        assert r.status == 409 and r.json()["class"] == "Client::Conflict"
        assert not re.search(r"busy|creating|deleting|status", r.json()["message"], re.I)
    api.ok("DELETE", "%s/%s" % (SNAPS, WWW_SNAP))
    r = api.call("DELETE", "%s/%s" % (SNAPS, WWW_SNAP))
    assert r.status == 409


@guess("the status of a refusal of a busy snapshot is undocumented")
def test_busy_status_knob(api):
    api.config(busy_status=400)
    api.ok("DELETE", "%s/%s" % (SNAPS, WWW_SNAP))
    r = api.call("DELETE", "%s/%s" % (SNAPS, WWW_SNAP))
    assert r.status == 400 and r.json()["class"] == "Client::BadRequest"


@documented("S5: error_deleting, Deletion error")
def test_delete_fails_knob_ends_in_error_deleting(api):
    api.config(delete_fails=True, delete_delay=0)
    api.ok("DELETE", "%s/%s" % (SNAPS, WWW_SNAP))
    assert api.ok("GET", "%s/%s" % (SNAPS, WWW_SNAP))["status"] == "error_deleting"


def seed_share_with(api, count):
    snaps = [{"name": "s%d" % i} for i in range(count)]
    seed = {"services": [{"id": SVC, "shares": [{"id": WWW, "snapshots": snaps}]}]}
    assert api.admin("POST", "/_sim/seed", seed) == (200, {"ok": True})


@documented("S4: 200 per volume; the 400 itself a guess")
def test_two_hundred_snapshots_per_share_then_400(api):
    seed_share_with(api, 199)
    assert api.call("POST", SNAPS, {"name": "200th"}).status == 200
    r = api.call("POST", SNAPS, {"name": "201st"})
    assert r.status == 400 and r.json()["class"] == "Client::BadRequest"
    # Worded in none of the words a client might look for: only the count can tell.
    assert not re.search(r"limit|maximum|quota|too many|200", r.json()["message"], re.I)
    assert len(snapshot_ids(api)) == 200


@documented("S4 netapp_faq: Maximum number of snapshots per service: 200")
def test_service_limit_counts_every_share(api):
    snaps = [{"name": "s%d" % i} for i in range(100)]
    seed = {"services": [{"id": SVC, "shares": [{"id": WWW, "snapshots": snaps},
                                                 {"id": DB, "snapshots": snaps}]}]}
    assert api.admin("POST", "/_sim/seed", seed) == (200, {"ok": True})
    r = api.call("POST", SNAPS, {"name": "one-more"})
    assert r.status == 400 and len(snapshot_ids(api)) == 100
    api.config(service_snapshot_limit=201)
    assert api.call("POST", SNAPS, {"name": "one-more"}).status == 200


@guess("the over-the-limit status is undocumented")
def test_limit_status_knob(api):
    seed_share_with(api, 200)
    api.config(limit_status=409)
    r = api.call("POST", SNAPS, {"name": "over"})
    assert r.status == 409 and r.json()["class"] == "Client::Conflict"


# --------------------------------------------------------------------------------------
# Connections, log, admin
# --------------------------------------------------------------------------------------

def test_keep_alive_requests_share_one_connection_id(api):
    api.admin("POST", "/_sim/log/reset")
    conn = api.connect()
    try:
        assert api.call("GET", "/auth/time", sign=False, conn=conn).status == 200
        assert api.call("GET", "/storage/netapp", conn=conn).status == 200
    finally:
        conn.close()
    api.call("GET", "/auth/time", sign=False)
    conns = [e["conn"] for e in api.log()]
    assert len(conns) == 3 and conns[0] == conns[1] != conns[2]


def test_log_records_api_requests_but_not_admin_ones(api):
    api.admin("POST", "/_sim/log/reset")
    api.call("GET", SNAPS, query="detail=true")
    api.call("POST", SNAPS, {"name": "logged"})
    api.call("GET", "/storage/netapp", sign=False)
    api.admin("GET", "/_sim/state")
    log = api.log()
    assert [(e["seq"], e["method"], e["path"], e["query"], e["status"]) for e in log] == [
        (1, "GET", "/1.0" + SNAPS, "detail=true", 200),
        (2, "POST", "/1.0" + SNAPS, "", 200),
        (3, "GET", "/1.0/storage/netapp", "", 401)]
    assert json.loads(log[1]["body"]) == {"name": "logged"} and log[0]["body"] == ""
    assert all(QUERY_ID_RE.match(e["query_id"]) for e in log)
    assert all(isinstance(e["t"], float) and isinstance(e["conn"], int) for e in log)


def test_state_round_trips_through_seed(api):
    api.ok("POST", SNAPS, {"name": "pending"})
    state = api.admin("GET", "/_sim/state")[1]
    statuses = [s["status"] for s in state["services"][0]["shares"][0]["snapshots"]]
    assert statuses[-1] == "creating"
    assert api.admin("POST", "/_sim/seed", state) == (200, {"ok": True})
    assert api.admin("GET", "/_sim/state")[1] == state


def test_seed_fills_defaults_and_refuses_bad_documents(api):
    seed = {"services": [{"shares": [{"name": "only", "snapshots": [{}]}]}]}
    assert api.admin("POST", "/_sim/seed", seed)[0] == 200
    svc = api.admin("GET", "/_sim/state")[1]["services"][0]
    assert uuid.UUID(svc["id"]) and svc["status"] == "running" and svc["iam"]["urn"]
    snap = svc["shares"][0]["snapshots"][0]
    assert snap["status"] == "available" and snap["type"] == "manual"
    for bad in ({"services": [{"colour": "red"}]}, {"services": [{"region": "mars"}]},
                {"services": [{"id": "not-a-uuid"}]}, {"services": {}}, [1]):
        status, body = api.admin("POST", "/_sim/seed", bad)
        assert status == 400 and body["error"], bad


def test_config_merge_validation_and_reset(api):
    cfg = api.config(create_delay=5, latency=0)
    assert cfg["create_delay"] == 5 and cfg["delete_delay"] == DELAY
    assert api.admin("POST", "/_sim/config", {"create_delay": -1})[0] == 400
    assert api.admin("POST", "/_sim/config", {"nonsense": 1})[0] == 400
    api.ok("DELETE", "%s/%s" % (SNAPS, WWW_SNAP))
    api.fault(action="drop")
    api.admin("POST", "/_sim/reset")
    assert api.log() == [] and api.admin("GET", "/_sim/faults")[1] == {"faults": []}
    assert api.admin("GET", "/_sim/config")[1]["create_delay"] == DELAY
    assert api.ok("GET", "%s/%s" % (SNAPS, WWW_SNAP))["status"] == "available"


def test_latency_delays_api_replies(api):
    api.config(latency=0.3)
    start = time.monotonic()
    api.call("GET", "/auth/time", sign=False)
    assert time.monotonic() - start >= 0.3


def test_unknown_admin_route_is_404(api):
    assert api.admin("GET", "/_sim/nothing")[0] == 404
    assert api.admin("GET", "/_sim/seed")[0] == 405


# --------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------

def test_status_fault_with_retry_after_does_not_perform_the_request(api):
    api.fault(method="POST", path="/snapshot$", action="status", status=503, retry_after=2)
    r = api.call("POST", SNAPS, {"name": "x"})
    assert r.status == 503 and r.headers["Retry-After"] == "2"
    assert r.json() == {"class": "Server::ServiceUnavailable", "message": "Service unavailable"}
    assert QUERY_ID_RE.match(r.headers["X-Ovh-QueryID"])
    assert len(snapshot_ids(api)) == 6
    assert api.call("POST", SNAPS, {"name": "x"}).status == 200


def test_status_fault_defaults_and_custom_body(api):
    api.fault(action="status")
    r = api.call("GET", "/storage/netapp")
    assert (r.status, r.json()) == (500, {"class": "Server::InternalServerError",
                                          "message": "Internal server error"})
    api.fault(action="status", status=429, body={"class": "Client::TooManyRequests",
                                                 "message": "slow down"})
    assert api.call("GET", "/storage/netapp").json()["message"] == "slow down"


def test_fault_matching_by_method_path_and_times(api):
    api.fault(method="GET", path="^/auth/time$", action="status", status=500, times=2)
    assert api.call("GET", "/storage/netapp").status == 200
    assert [api.call("GET", "/auth/time", sign=False).status for _ in range(3)] == [500, 500, 200]
    api.fault(path="/snapshot", action="status", status=502, times=-1)
    assert [api.call("GET", SNAPS).status for _ in range(3)] == [502] * 3
    assert [f["times"] for f in api.admin("GET", "/_sim/faults")[1]["faults"]] == [-1]
    api.admin("POST", "/_sim/faults/clear")
    assert api.call("GET", SNAPS).status == 200
    assert api.admin("POST", "/_sim/fault", {"action": "explode"})[0] == 400
    assert api.admin("POST", "/_sim/fault", {"action": "drop", "path": "("})[0] == 400


@pytest.mark.parametrize("rst", [False, True])
def test_drop_closes_without_reply_and_does_not_perform(api, rst):
    api.fault(method="POST", action="drop", rst=rst)
    with pytest.raises(ConnectionError) as caught:
        api.call("POST", SNAPS, {"name": "dropped"})
    expected = ConnectionResetError if rst else http.client.RemoteDisconnected
    assert type(caught.value) is expected
    assert len(snapshot_ids(api)) == 6
    assert api.log()[0]["status"] == 0 and api.log()[0]["fault"] == "drop"


def test_lost_reply_performs_the_request_then_closes(api):
    api.fault(method="POST", action="lost_reply")
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.call("POST", SNAPS, {"name": "lost"})
    snaps = api.ok("GET", SNAPS, query="detail=true")
    assert [s["name"] for s in snaps].count("lost") == 1


def test_late_request_is_carried_out_after_the_client_gave_up(api):
    api.fault(method="POST", action="late", seconds=1.0)
    conn = api.connect(timeout=0.3)
    start = time.monotonic()
    with pytest.raises((TimeoutError, OSError)):
        api.call("POST", SNAPS, {"name": "late"}, conn=conn)
    conn.close()
    assert time.monotonic() - start < 0.9
    names = lambda: [s["name"] for s in api.ok("GET", SNAPS, query="detail=true")]
    assert "late" not in names()  # not yet: the client gave up first
    post = [r for r in api.log() if r["method"] == "POST"]
    assert len(post) == 1 and post[0]["status"] == 0 and post[0]["fault"] == "late"
    assert wait_for(lambda: "late" in names(), timeout=3)
    assert time.monotonic() - start >= 0.95
    assert names().count("late") == 1


def test_clearing_faults_cancels_a_late_request(api):
    api.fault(method="POST", action="late", seconds=0.6)
    conn = api.connect(timeout=0.2)
    with pytest.raises((TimeoutError, OSError)):
        api.call("POST", SNAPS, {"name": "cancelled"}, conn=conn)
    conn.close()
    assert api.admin("POST", "/_sim/faults/clear")[0] == 200
    time.sleep(0.9)
    assert "cancelled" not in [s["name"] for s in api.ok("GET", SNAPS, query="detail=true")]


def test_malformed_reply_is_200_with_invalid_json(api):
    api.fault(action="malformed")
    r = api.call("GET", SNAPS, query="detail=true")
    assert r.status == 200 and r.data == b'{"id": "trunc'
    with pytest.raises(ValueError):
        r.json()
    api.fault(action="malformed", body_text="[{")
    assert api.call("GET", SNAPS).data == b"[{"


def test_html_fault_is_an_html_error_page(api):
    api.fault(action="html")
    r = api.call("GET", "/storage/netapp")
    assert r.status == 502 and r.headers["Content-Type"].startswith("text/html")
    assert b"<html>" in r.data


def test_hang_closes_after_its_seconds_without_reply(api):
    api.fault(action="hang", seconds=0.5)
    start = time.monotonic()
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
        api.call("GET", "/storage/netapp")
    assert 0.45 <= time.monotonic() - start < 4
    assert api.log()[0]["status"] == 0 and api.log()[0]["fault"] == "hang"


def test_hang_once_stalls_one_request_then_later_ones_answer(api):
    """A connection that stalls once: times=1 (the default), on the API and the token route."""
    for path, send in [("/storage/netapp$", lambda: api.call("GET", "/storage/netapp")),
                       ("^/auth/oauth2/token$", api.token)]:
        api.admin("POST", "/_sim/log/reset")
        api.fault(path=path, action="hang", seconds=0.5, times=1)
        start = time.monotonic()
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            send()
        assert 0.45 <= time.monotonic() - start < 4
        start = time.monotonic()
        assert send().status == 200
        assert time.monotonic() - start < 0.4
        assert [(e["status"], e["fault"]) for e in api.log()] == [(0, "hang"), (200, None)]
        assert api.admin("GET", "/_sim/faults")[1] == {"faults": []}


def test_clearing_faults_wakes_a_hanging_request(api):
    api.fault(action="hang", seconds=60)
    outcome = []

    def request():
        try:
            api.call("GET", "/storage/netapp")
            outcome.append("reply")
        except (http.client.HTTPException, OSError) as exc:
            outcome.append(type(exc).__name__)

    thread = threading.Thread(target=request)
    start = time.monotonic()
    thread.start()
    assert wait_for(lambda: len(api.log()) == 1)
    api.admin("POST", "/_sim/faults/clear")
    thread.join(5)
    assert outcome and outcome[0] != "reply" and time.monotonic() - start < 5


def test_delay_fault_answers_normally_but_late(api):
    api.fault(action="delay", seconds=0.3)
    start = time.monotonic()
    assert api.call("GET", "/storage/netapp").status == 200
    assert time.monotonic() - start >= 0.3


def test_handler_exception_gives_500_and_the_server_survives(api):
    api.fault(action="raise")
    r = api.call("GET", "/storage/netapp")
    assert (r.status, r.json()["class"]) == (500, "Server::InternalServerError")
    assert api.call("GET", "/storage/netapp").status == 200


def test_garbage_on_the_wire_does_not_crash(api):
    for raw in (b"NONSENSE\r\n\r\n", b"GET /1.0/auth/time HTTP/1.1\r\nContent-Length: x\r\n\r\n",
                b"\x00\xff\xfe garbage\r\n\r\n", b"POST /_sim/seed HTTP/1.1\r\n"
                b"Content-Length: 3\r\n\r\n{{{"):
        with socket.create_connection(("127.0.0.1", api.port), timeout=5) as s:
            s.sendall(raw)
            reply = s.recv(65536)
            assert reply.startswith(b"HTTP/1.") and b" 200 " not in reply.split(b"\r\n")[0]
    assert api.admin("GET", "/_sim/health") == (200, {"ok": True})


def test_chunked_body_is_read_and_signed(api):
    target = "/1.0" + SNAPS
    body = b'{"name":"chunked"}'
    headers = api.auth_headers("POST", target, body)
    headers.update({"Transfer-Encoding": "chunked", "Content-Type": "application/json"})
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    with socket.create_connection(("127.0.0.1", api.port), timeout=5) as s:
        head = "POST %s HTTP/1.1\r\nHost: %s\r\n" % (target, api.host)
        head += "".join("%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
        s.sendall(head.encode() + chunked)
        assert s.recv(65536).split(b"\r\n")[0] == b"HTTP/1.1 200 OK"


# --------------------------------------------------------------------------------------
# Schema conformance
# --------------------------------------------------------------------------------------

def all_api_objects(api):
    """Every service, share and snapshot the API returns, in every status it can show."""
    api.config(delete_fails=True, delete_delay=0)
    api.ok("DELETE", "%s/%s" % (SNAPS, WWW_SNAP))  # -> error_deleting
    api.config(delete_fails=False, delete_delay=30)
    api.ok("DELETE", "%s/%s" % (SNAPS, snapshot_ids(api)[0]))  # -> deleting
    objects = {"storage.NetAppShareSnapshot": [api.ok("POST", SNAPS, {"name": "new"})],
               "storage.NetAppServiceWithIAM": [], "storage.NetAppShare": [],
               "storage.NetAppShareAccessPath": []}
    for svc in api.ok("GET", "/storage/netapp"):
        objects["storage.NetAppServiceWithIAM"] += [svc, api.ok("GET", "/storage/netapp/" +
                                                                svc["id"])]
        base = "/storage/netapp/%s/share" % svc["id"]
        for share in api.ok("GET", base, query="detail=true"):
            objects["storage.NetAppShare"] += [share, api.ok("GET", base + "/" + share["id"])]
            snaps = api.ok("GET", "%s/%s/snapshot" % (base, share["id"]), query="detail=true")
            objects["storage.NetAppShareSnapshot"] += snaps
            paths = api.ok("GET", "%s/%s/accessPath" % (base, share["id"]))
            objects["storage.NetAppShareAccessPath"] += paths + [
                api.ok("GET", "%s/%s/accessPath/%s" % (base, share["id"], a["id"]))
                for a in paths]
    return objects


@documented("S1 the vendored schema")
def test_every_field_and_enum_value_is_in_the_ovh_schema(api):
    schema = Schema(SCHEMA)
    objects = all_api_objects(api)
    for model, items in objects.items():
        assert items, model
        for i, obj in enumerate(items):
            schema.check_object(model, obj, "%s[%d]" % (model, i), complete=True)
    statuses = {s["status"] for s in objects["storage.NetAppShareSnapshot"]}
    assert {"available", "creating", "deleting", "error_deleting"} <= statuses
    types = {s["type"] for s in objects["storage.NetAppShareSnapshot"]}
    assert types == {"automatic", "manual", "system"}


def client_route_calls(api):
    """One real call of every route the client uses (schema_check.CLIENT_ROUTES), with the
    query the client sends: (method, path, query, body)."""
    share = "/storage/netapp/%s/share/%s" % (SVC, WWW)
    made = api.ok("POST", SNAPS, {"name": "conform"})["id"]
    api.config(hold_delay=DELAY)  # the held copy answers manage_starting
    return {
        ("GET", "/storage/netapp"): ("/storage/netapp", "", None),
        ("GET", "/storage/netapp/{serviceName}/share"): (
            "/storage/netapp/%s/share" % SVC, "detail=true", None),
        ("GET", "/storage/netapp/{serviceName}/share/{shareId}/accessPath"): (
            share + "/accessPath", "", None),
        ("GET", "/storage/netapp/{serviceName}/share/{shareId}/snapshot"): (
            SNAPS, "detail=true", None),
        ("POST", "/storage/netapp/{serviceName}/share/{shareId}/snapshot"): (
            SNAPS, "", {"name": "another", "description": "d"}),
        ("GET", "/storage/netapp/{serviceName}/share/{shareId}/snapshot/{snapshotId}"): (
            "%s/%s" % (SNAPS, made), "", None),
        ("PUT", "/storage/netapp/{serviceName}/share/{shareId}/snapshot/{snapshotId}"): (
            "%s/%s" % (SNAPS, WWW_SNAP), "", {"name": "renamed", "description": None}),
        ("POST", "/storage/netapp/{serviceName}/share/{shareId}/snapshot/{snapshotId}/hold"): (
            "%s/%s/hold" % (SNAPS, AUTO_SNAP), "", None),
        ("DELETE", "/storage/netapp/{serviceName}/share/{shareId}/snapshot/{snapshotId}"): (
            "%s/%s" % (SNAPS, WWW_SNAP), "", None),
    }


@documented("S1 the vendored schema: responseType of every operation the client calls")
def test_every_route_the_client_uses_answers_the_schemas_model(api):
    schema = Schema(SCHEMA)
    calls = client_route_calls(api)
    assert set(calls) == set(CLIENT_ROUTES)
    answers = {}
    for method, route in CLIENT_ROUTES:  # the DELETE last: the PUT and GETs need WWW_SNAP
        path, query, body = calls[(method, route)]
        r = api.call(method, path, body, query)
        schema.check_reply(method, path, r.status, r.data)
        schema.check_request(method, path, query, json.dumps(body) if body else "")
        answers[method, route] = r.data
    held = json.loads(answers["POST", CLIENT_ROUTES[-1][1]])
    assert held["status"] == "manage_starting"
    # Lists without detail hold objects of the model too, with their id.
    for path in ("/storage/netapp/%s/share" % SVC, SNAPS):
        r = api.call("GET", path)
        schema.check_reply("GET", path, r.status, r.data, complete=False)


def test_the_schema_checker_finds_drift(api):
    """The checker itself: a field too many, a wrong type, a bad enum, a null id fail."""
    schema = Schema(SCHEMA)
    good = api.ok("GET", "%s/%s" % (SNAPS, WWW_SNAP))
    path = "%s/%s" % (SNAPS, WWW_SNAP)
    schema.check_reply("GET", path, 200, json.dumps(good).encode())
    for bad in ({"extra": 1}, {"status": "other"}, {"createdAt": 5}, {"id": None},
                {"type": "Manual"}):
        with pytest.raises(AssertionError):
            schema.check_reply("GET", path, 200, json.dumps(dict(good, **bad)).encode())
    with pytest.raises(AssertionError):
        schema.check_reply("GET", path, 200, json.dumps({"name": "x"}).encode())  # no fields
    with pytest.raises(AssertionError):
        schema.check_request("PUT", path, "", json.dumps({"status": "available"}))
    with pytest.raises(AssertionError):
        schema.check_request("GET", SNAPS, "details=true", "")
    with pytest.raises(AssertionError):
        schema.check_request("PATCH", path, "", "")


def test_every_behaviour_test_of_the_api_says_documented_or_guess():
    """The life cycle, the limits and the refusals: which is OVH's, which the simulator's."""
    section = ("test_create_", "test_update_", "test_hold_", "test_delete_", "test_two_hundred_",
               "test_limit_", "test_busy_", "test_service_")
    untold = [name for name, fn in globals().items() if name.startswith(section) and
              callable(fn) and not hasattr(fn, "ovh_basis")]
    assert not untold, untold


# --------------------------------------------------------------------------------------
# Share settings: snapshot reserve, snapshot policies, revert (issue 18)
# --------------------------------------------------------------------------------------

SHARE = "/storage/netapp/%s/share/%s" % (SVC, WWW)
POLICIES = "/storage/netapp/%s/snapshotPolicy" % SVC
DEFAULT_POLICY = "9b3e1c7a-5d2f-4a80-b1c4-0a0000000001"
HOURLY_POLICY = "9b3e1c7a-5d2f-4a80-b1c4-0a0000000002"


def test_settings_replies_follow_the_schema(api):
    schema = Schema(SCHEMA)
    for path in (SHARE + "/snapshotReserve", SHARE + "/snapshotPolicy", POLICIES,
                 POLICIES + "/" + HOURLY_POLICY):
        r = api.call("GET", path)
        schema.check_reply("GET", path, r.status, r.data)
    policies = api.ok("GET", POLICIES)
    assert len(policies) == 3 and all(len(p["rules"]) <= 4 for p in policies)
    assert api.ok("GET", POLICIES + "/" + HOURLY_POLICY) == policies[1]


def test_every_settings_route_the_client_uses_answers_the_schemas_model(api):
    """schema_check's own checker over SETTINGS_ROUTES, as for the snapshot routes."""
    schema = Schema(SCHEMA)
    latest = "2f6d9c3b-8e1a-4b75-a0d4-010100000006"  # www's newest manual snapshot
    api.config(revert_delay=0)
    calls = [("GET", SHARE + "/snapshotReserve", None), ("PUT", SHARE + "/snapshotReserve",
                                                         {"percent": 12}),
             ("GET", SHARE + "/snapshotPolicy", None),
             ("PUT", SHARE + "/snapshotPolicy", {"snapshotPolicyID": HOURLY_POLICY}),
             ("GET", POLICIES, None), ("GET", SHARE, None),
             ("POST", SHARE + "/revert", {"snapshotID": latest})]
    routes = set()
    for method, path, body in calls:
        r = api.call(method, path, body)
        schema.check_request(method, path, "", json.dumps(body) if body else "")
        schema.check_reply(method, path, r.status, r.data)
        routes.add((method, schema.route(method, path)[0]))
    assert routes == set(SETTINGS_ROUTES)


def test_reserve_is_5_by_default_and_put_takes_a_percent_in_range(api):
    assert api.ok("GET", SHARE + "/snapshotReserve") == {"percent": 5, "status": "active"}
    r = api.call("PUT", SHARE + "/snapshotReserve", {"percent": 12})
    assert (r.status, r.data) == (200, b"")
    assert api.ok("GET", SHARE + "/snapshotReserve")["percent"] == 12
    for bad in ({"percent": 4}, {"percent": 101}, {"percent": "10"}, {"percent": 10.5},
                {"percent": 10, "status": "active"}, {}):
        assert api.call("PUT", SHARE + "/snapshotReserve", bad).status == 400, bad
    assert api.ok("GET", SHARE + "/snapshotReserve")["percent"] == 12


def test_share_policy_get_put_and_none(api):
    assert api.ok("GET", SHARE + "/snapshotPolicy") == {"id": DEFAULT_POLICY,
                                                         "status": "active"}
    assert api.call("PUT", SHARE + "/snapshotPolicy",
                    {"snapshotPolicyID": HOURLY_POLICY}).status == 200
    assert api.ok("GET", SHARE + "/snapshotPolicy")["id"] == HOURLY_POLICY
    assert api.call("PUT", SHARE + "/snapshotPolicy", {"snapshotPolicyID": MISSING}).status \
        == 400
    assert api.call("PUT", SHARE + "/snapshotPolicy", {"id": HOURLY_POLICY}).status == 400
    logs = "/storage/netapp/%s/share/7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0103" % SVC
    assert api.call("GET", logs + "/snapshotPolicy").status == 404
    assert api.call("GET", POLICIES + "/" + MISSING).status == 404


def test_revert_only_to_the_latest_manual_snapshot_and_drops_newer_ones(api):
    latest = "2f6d9c3b-8e1a-4b75-a0d4-010100000006"  # www dup (second), newest manual
    api.ok("POST", SNAPS + "/" + AUTO_SNAP + "/hold")  # older than latest: stays
    r = api.call("POST", SHARE + "/revert", {"snapshotID": WWW_SNAP})
    assert r.status == 400
    api.config(revert_delay=DELAY)
    r = api.call("POST", SHARE + "/revert", {"snapshotID": latest})
    assert (r.status, r.data) == (202, b"")
    assert api.ok("GET", SHARE)["status"] == "reverting"
    assert api.ok("GET", SNAPS + "/" + latest)["status"] == "restoring"
    assert api.call("POST", SHARE + "/revert", {"snapshotID": latest}).status == 409
    assert api.call("POST", SNAPS, {"name": "during"}).status == 409
    assert wait_for(lambda: api.ok("GET", SHARE)["status"] == "available")
    assert api.ok("GET", SNAPS + "/" + latest)["status"] == "available"


def test_revert_removes_automatic_snapshots_newer_than_the_target(api):
    newer = {"id": MISSING, "name": "daily-later", "createdAt": "2026-12-01T00:10:00Z",
             "type": "automatic"}
    state = api.admin("GET", "/_sim/state")[1]
    state["services"][0]["shares"][0]["snapshots"].append(newer)
    assert api.admin("POST", "/_sim/seed", state)[0] == 200
    api.config(revert_delay=0, revert_fails=True)
    api.ok("POST", SHARE + "/revert", {"snapshotID": "2f6d9c3b-8e1a-4b75-a0d4-010100000006"})
    assert MISSING not in snapshot_ids(api) and len(snapshot_ids(api)) == 6
    assert api.ok("GET", SHARE)["status"] == "reverting_error"


def test_settings_come_from_the_seed_and_show_in_the_admin_view_only(api):
    seed = {"services": [{"id": SVC, "name": "one",
                          "snapshotPolicies": [{"id": HOURLY_POLICY, "name": "p",
                                                "rules": []}],
                          "shares": [{"id": WWW, "snapshotReserve": 20},
                                     {"id": DB, "snapshotPolicyID": None}]}]}
    assert api.admin("POST", "/_sim/seed", seed)[0] == 200
    view = api.admin("GET", "/_sim/settings")[1]["services"][0]
    assert [p["id"] for p in view["snapshotPolicies"]] == [HOURLY_POLICY]
    assert view["shares"] == [{"id": WWW, "snapshotReserve": 20, "snapshotPolicyID": None},
                              {"id": DB, "snapshotReserve": 5, "snapshotPolicyID": None}]
    state = api.admin("GET", "/_sim/state")[1]["services"][0]
    assert "snapshotPolicies" not in state and "snapshotReserve" not in state["shares"][0]
    bad = {"services": [{"id": SVC, "shares": [{"id": WWW, "snapshotPolicyID": MISSING}]}]}
    assert api.admin("POST", "/_sim/seed", bad)[0] == 400


def test_a_lone_surrogate_in_a_body_is_refused_400_and_nothing_is_stored(api):
    """`"\\ud800"` is valid JSON syntax but no Unicode text: a strict parser (OVH's) refuses it,
    rather than store a name that no reply could then carry."""
    before = len(api.ok("GET", SNAPS))
    for method, path in (("POST", SNAPS), ("PUT", SNAPS + "/" + WWW_SNAP)):
        r = api.call(method, path, b'{"name": "x\\ud800y"}')
        assert r.status == 400, (method, r.status, r.data)
    assert len(api.ok("GET", SNAPS)) == before
    assert api.ok("GET", SNAPS + "/" + WWW_SNAP)["name"] == "before-upgrade"


def test_ids_are_matched_in_any_case_as_uuids_are(api):
    r = api.call("GET", SNAPS.upper().replace("/STORAGE/NETAPP/", "/storage/netapp/")
                 .replace("/SHARE/", "/share/").replace("/SNAPSHOT", "/snapshot") +
                 "/" + WWW_SNAP.upper())
    assert r.status == 200 and r.json()["id"] == WWW_SNAP


def test_changes_records_every_change_with_who_what_and_when(api):
    api.config(create_delay=0)
    made = api.ok("POST", SNAPS, {"name": "rec"})
    api.ok("PUT", SNAPS + "/" + made["id"], {"description": "d"})
    api.call("DELETE", SNAPS + "/" + WWW_SNAP)
    changes = api.admin("GET", "/_sim/changes")[1]["changes"]
    assert [(c["action"], c["id"]) for c in changes] == [
        ("create", made["id"]), ("update", made["id"]), ("delete", WWW_SNAP)]
    assert changes[1]["before"]["description"] is None
    assert changes[1]["after"]["description"] == "d"
    assert changes[2]["before"]["name"] == "before-upgrade" and changes[2]["after"] is None
    assert changes[0]["ready_at"] >= changes[0]["t"]
    assert api.admin("POST", "/_sim/reset") == (200, {"ok": True})
    assert api.admin("GET", "/_sim/changes")[1]["changes"] == []
