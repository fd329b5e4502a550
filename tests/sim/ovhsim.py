#!/usr/bin/python3
"""ovhsim: a local simulator of the OVHcloud v1 API for Enterprise File Storage snapshots.

It lets ovhsnapfs be tested without an OVH account: same routes, models, signature check,
error bodies and asynchronous snapshot life cycle as the real API (see
shared/reference/ovh-api.md), plus an unauthenticated admin interface under /_sim/ to seed
data, change timings, inject faults and read the log of every API request.

Python 3 standard library only. Run:  python3 tests/sim/ovhsim.py --port 0 --port-file F

API (under /1.0 and /v1): GET /auth/time; GET /storage/netapp[/{svc}];
GET .../{svc}/share[?detail=&mountPointName=]; GET .../share/{id};
GET|POST .../share/{id}/snapshot[?detail=]; GET|PUT|DELETE .../snapshot/{id};
POST .../snapshot/{id}/hold (no body; automatic snapshots only, else 400: the answer is the
held copy, type manual, under a new id, keeping name, description, createdAt and path; it
stays "manage_starting" for hold_delay seconds, the state a copy taken over by a new id shows
in OpenStack Manila, whose snapshot states the schema's enum is (a guess); the old id is gone).
GET .../share/{id}/accessPath[/{accessPathId}] (storage.NetAppShareAccessPath).
GET|PUT .../share/{id}/snapshotReserve ({percent, status}; PUT {"percent": N}, 5..100,
the range OVH's control panel allows, else 400; void). GET|PUT .../share/{id}/snapshotPolicy
({id, status}, 404 when the share has none; PUT {"snapshotPolicyID": ID of one of the
service's policies}, else 400; void). GET .../{svc}/snapshotPolicy[/{id}]
(storage.NetAppSnapshotPolicy with its rules). POST .../share/{id}/revert
{"snapshotID": ID} (void, 202): only to the share's latest available manual snapshot (else
400), on an available share (else 409); the share is "reverting" and the snapshot
"restoring" for revert_delay seconds, then both "available" ("reverting_error" with
revert_fails); every snapshot created after the target is gone at once.
A seed's service may give "snapshotPolicies" (default: one, "default", isDefault); a share
"snapshotReserve" (percent, default 5) and "snapshotPolicyID" (default: the service's
default policy; null: none).
Each share has the access paths its seed gives ("accessPaths": [{id, path, preferred}]),
by default one: 10.0.0.5:/share_<id>, preferred; a snapshot's `path` defaults to the
preferred one's + /.snapshot/<name or id> (a seed may set it to null, or to anything).
Auth: AK/AS/CK signature, or "Authorization: Bearer <token>" (config tokens, or issued by:)

OAuth2 (at the server root, as www.ovh.com/auth/oauth2/token; logged, faults apply):
  POST /auth/oauth2/token           form grant_type=client_credentials&client_id=&
                                    client_secret=&scope=all, or the client in HTTP Basic;
                                    200 {"access_token", "token_type": "Bearer",
                                    "expires_in": token_ttl, "scope": "all"}; errors are
                                    RFC 6749 {"error", "error_description"}: 401
                                    invalid_client, 400 invalid_request|
                                    unsupported_grant_type|invalid_scope. The log masks the
                                    client_secret and Basic credentials as ***.

Admin (no auth, not logged):
  GET  /_sim/health                 {"ok": true}
  GET  /_sim/log                    {"requests": [{seq, t, conn, method, path, query, body,
                                     status, query_id, fault, headers}]}; status 0 = no reply
  POST /_sim/log/reset
  GET  /_sim/changes                {"changes": [{seq, t, who (User-Agent's first word),
                                     action: create|update|hold|delete, service, share, id,
                                     before, after (the snapshot; null for none), ready_at
                                     (create: epoch when it turns available)}]}: every change
                                     carried out, late ones included; emptied by /_sim/reset
  GET  /_sim/state                  {"services": [{..., "shares": [{..., "snapshots": [...],
                                     "accessPaths": [...]}]}]}
  GET  /_sim/settings               {"services": [{id, snapshotPolicies, "shares": [{id,
                                     snapshotReserve, snapshotPolicyID}]}]} (not in /state:
                                     the API serves them on routes of their own; a seed
                                     may give them, as above)
  POST /_sim/seed                   same shape; replaces the data (defaults for missing fields)
  POST /_sim/reset                  start-up seed and config, no faults, empty log
  GET|POST /_sim/config             create_delay, delete_delay, hold_delay, clock_offset, latency,
                                    snapshot_limit, service_snapshot_limit, limit_status,
                                    busy_status, delete_fails, unique_names
                                    (a guess: a create of a taken name is 409),
                                    put_reply_null (a PUT carried out answers null, as the
                                    client allows), app_key,
                                    app_secret, consumer_keys, tokens, time_window,
                                    oauth_clients, token_ttl, require_bearer (signed
                                    requests get 403 "This call requires an OAuth2 token")
  POST /_sim/fault                  {method, path (regex on the path without /1.0|/v1;
                                     the token endpoint's is /auth/oauth2/token),
                                     action: status|hang|drop|lost_reply|malformed|html|
                                     delay|raise|huge|late, times (default 1; -1 = forever),
                                     status, body, retry_after, seconds, body_text, rst, size
                                     (huge: a valid JSON array of that many bytes, default
                                     16 MiB);
                                     hang: no reply for `seconds` (default 3600), then the
                                     connection closes; "hang once" is times=1: the next
                                     matching request stalls, later ones answer at once;
                                     late: the request is held without a reply, carried out
                                     `seconds` (default 2) after it arrived, long after a
                                     client with a shorter timeout gave up, then the
                                     connection closes; clearing faults first cancels it}
  GET  /_sim/faults, POST /_sim/faults/clear

Request bodies are parsed as a strict JSON parser does: NaN, Infinity or a lone surrogate
("\\ud800") are 400. Ids in paths are UUIDs, matched in any case.

Seeded statuses never change by themselves; only snapshots created, held or deleted through
the API move (creating -> available after create_delay, manage_starting -> available after
hold_delay, deleting -> gone after delete_delay). A snapshot on its way somewhere (creating,
deleting, manage_starting, unmanage_starting, restoring) refuses a PUT, DELETE or hold with
busy_status. Which of this OVH documents and which is a guess: tests/sim/test_sim.py.
"""

import argparse
import base64
import binascii
import copy
import hashlib
import hmac
import http
import json
import os
import re
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, parse_qsl, unquote, unquote_plus, urlsplit

# --------------------------------------------------------------------------------------
# Schema facts (storage.* models of OVH's v1 schema), embedded so the simulator stands alone.
# --------------------------------------------------------------------------------------

SNAPSHOT_STATUSES = ("available", "creating", "deleting", "error", "error_deleting",
                     "manage_error", "manage_starting", "restoring", "unmanage_error",
                     "unmanage_starting")
SNAPSHOT_TYPES = ("automatic", "manual", "system")
SHARE_STATUSES = ("available", "awaiting_replication", "creating", "creating_from_snapshot",
                  "deleted", "deleting", "error", "error_deleting", "extending",
                  "extending_error", "inactive", "manage_error", "manage_starting", "migrating",
                  "migrating_to", "replication_change", "reverting", "reverting_error",
                  "shrinking", "shrinking_error", "shrinking_possible_data_loss_error",
                  "unmanage_error", "unmanage_starting", "unmanaged")
SERVICE_STATUSES = ("creating", "deleted", "deleting", "reopening", "running", "suspended",
                    "suspending")
REGIONS = ("ca-east-bhs", "eu-west-gra", "eu-west-lim", "eu-west-rbx", "eu-west-sbg")
PERFORMANCE_LEVELS = ("premium",)
PROTOCOLS = ("NFS",)
ACCESS_MODES = ("ro", "rw")
IAM_STATES = ("EXPIRED", "IN_CREATION", "OK", "SUSPENDED")

# field -> (kind, nullable, allowed enum values or None); key order is the reply order.
SERVICE_SPEC = {
    "id": ("uuid", False, None),
    "name": ("string", False, None),
    "createdAt": ("datetime", False, None),
    "performanceLevel": ("string", False, PERFORMANCE_LEVELS),
    "product": ("string", False, None),
    "quota": ("long", False, None),
    "region": ("string", False, REGIONS),
    "status": ("string", False, SERVICE_STATUSES),
    "iam": ("iam", True, None),
}
IAM_SPEC = {
    "displayName": ("string", True, None),
    "id": ("uuid", False, None),
    "state": ("string", True, IAM_STATES),
    "tags": ("tags", True, None),
    "urn": ("string", False, None),
}
SHARE_SPEC = {
    "id": ("uuid", False, None),
    "name": ("string", True, None),
    "description": ("string", True, None),
    "protocol": ("string", True, PROTOCOLS),
    "size": ("long", True, None),
    "mountPointName": ("string", True, None),
    "snapshotID": ("string", True, None),
    "createdAt": ("datetime", True, None),
    "status": ("string", True, SHARE_STATUSES),
    "accessMode": ("string", True, ACCESS_MODES),
}
SNAPSHOT_SPEC = {
    "id": ("uuid", False, None),
    "name": ("string", True, None),
    "description": ("string", True, None),
    "createdAt": ("datetime", True, None),
    "path": ("string", True, None),
    "status": ("string", True, SNAPSHOT_STATUSES),
    "type": ("string", True, SNAPSHOT_TYPES),
}
ACCESS_PATH_SPEC = {
    "id": ("uuid", False, None),
    "path": ("string", False, None),
    "preferred": ("boolean", False, None),
}
# storage.NetAppSnapshotPolicy; rules are storage.NetAppSnapshotPolicyRule[].
POLICY_STATUSES = ("available", "creating", "deleting", "error", "updating")
POLICY_SPEC = {
    "id": ("uuid", False, None),
    "name": ("string", True, None),
    "description": ("string", True, None),
    "createdAt": ("datetime", True, None),
    "isDefault": ("boolean", True, None),
    "rules": ("rules", True, None),
    "status": ("string", True, POLICY_STATUSES),
}
SCHEDULE_RANGES = {"minutes": (0, 59), "hours": (0, 23), "days": (1, 31), "months": (1, 12),
                   "weekdays": (0, 6)}
RESERVE_RANGE = (5, 100)  # what OVH's control panel lets a user set (reference 5)
DEFAULT_RULES = [{"copies": 7, "prefix": "daily",
                  "schedule": {"minutes": [10], "hours": [0], "days": [], "months": [],
                               "weekdays": []}}]
# storage.NetAppShareSnapshot (POST) and storage.NetAppShareSnapshotUpdate (PUT): the
# only writable fields.
SNAPSHOT_WRITABLE = ("name", "description")

EXPORT_IP = "10.0.0.5"
MAX_BODY = 1 << 20
UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                     r"[0-9a-fA-F]{12}$")
DATETIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# --------------------------------------------------------------------------------------
# Demo seed: deterministic ids and dates so tests can name them.
# --------------------------------------------------------------------------------------

DEMO_SEED = {
    "services": [
        {
            "id": "5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0a001",
            "name": "efs-prod",
            "createdAt": "2025-03-14T09:12:45Z",
            "performanceLevel": "premium",
            "product": "enterprise-file-storage-premium-4tb",
            "quota": 4096,
            "region": "eu-west-gra",
            "status": "running",
            "iam": {
                "displayName": "efs-prod",
                "id": "c8a2e4f1-7d3b-4f5a-8e90-1b2c3d4e0a01",
                "tags": {"env": "prod"},
                "urn": "urn:v1:eu:resource:storageNetApp:5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0a001",
            },
            "snapshotPolicies": [
                {"id": "9b3e1c7a-5d2f-4a80-b1c4-0a0000000001", "name": "default",
                 "description": "one a day, a week kept", "createdAt": "2025-03-14T09:12:45Z",
                 "isDefault": True, "status": "available",
                 "rules": [{"copies": 7, "prefix": "daily",
                            "schedule": {"minutes": [10], "hours": [0], "days": [],
                                         "months": [], "weekdays": []}}]},
                {"id": "9b3e1c7a-5d2f-4a80-b1c4-0a0000000002", "name": "hourly-daily",
                 "description": "every hour for a day, every day for a month",
                 "createdAt": "2025-03-20T10:00:00Z", "isDefault": False,
                 "status": "available",
                 "rules": [{"copies": 24, "prefix": "hourly",
                            "schedule": {"minutes": [0], "hours": [], "days": [],
                                         "months": [], "weekdays": []}},
                           {"copies": 31, "prefix": "daily",
                            "schedule": {"minutes": [10], "hours": [0], "days": [],
                                         "months": [], "weekdays": []}}]},
                {"id": "9b3e1c7a-5d2f-4a80-b1c4-0a0000000003", "name": None,
                 "description": "weekly, on Sundays", "createdAt": "2025-04-01T08:00:00Z",
                 "isDefault": False, "status": "available",
                 "rules": [{"copies": 4, "prefix": "weekly",
                            "schedule": {"minutes": [0], "hours": [3], "days": [],
                                         "months": [], "weekdays": [0]}}]},
            ],
            "shares": [
                {
                    "id": "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0101",
                    "name": "www",
                    "description": "web site documents",
                    "protocol": "NFS",
                    "size": 500,
                    "mountPointName": "www",
                    "snapshotID": None,
                    "createdAt": "2025-03-14T09:30:00Z",
                    "status": "available",
                    "accessMode": "rw",
                    "snapshots": [
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010100000001",
                         "name": "daily-2026-11-24", "description": None,
                         "createdAt": "2026-11-24T00:10:03Z", "status": "available",
                         "type": "automatic"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010100000002",
                         "name": "daily-2026-11-25", "description": None,
                         "createdAt": "2026-11-25T00:10:02Z", "status": "available",
                         "type": "automatic"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010100000003",
                         "name": "before-upgrade", "description": "before the nginx upgrade",
                         "createdAt": "2026-11-25T14:02:37Z", "status": "available",
                         "type": "manual"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010100000004",
                         "name": None, "description": "made through the API without a name",
                         "createdAt": "2026-11-25T16:45:10Z", "status": "available",
                         "type": "manual"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010100000005",
                         "name": "dup", "description": "first of two snapshots named dup",
                         "createdAt": "2026-11-26T08:00:00Z", "status": "available",
                         "type": "manual"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010100000006",
                         "name": "dup", "description": "second of two snapshots named dup",
                         "createdAt": "2026-11-26T08:05:00Z", "status": "available",
                         "type": "manual"},
                    ],
                },
                {
                    "id": "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0102",
                    "name": "db",
                    "description": "PostgreSQL data",
                    "protocol": "NFS",
                    "size": 1000,
                    "mountPointName": "db",
                    "snapshotReserve": 10,
                    "snapshotPolicyID": "9b3e1c7a-5d2f-4a80-b1c4-0a0000000002",
                    "snapshotID": None,
                    "createdAt": "2025-03-14T09:31:12Z",
                    "status": "available",
                    "accessMode": "rw",
                    "snapshots": [
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010200000001",
                         "name": "daily-2026-11-25", "description": None,
                         "createdAt": "2026-11-25T00:10:05Z", "status": "available",
                         "type": "automatic"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010200000002",
                         "name": "pre-migration", "description": "schema v42 \u2192 v43",
                         "createdAt": "2026-11-25T21:30:00Z", "status": "available",
                         "type": "manual"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010200000003",
                         "name": "system-2026-11-26", "description": None,
                         "createdAt": "2026-11-26T00:05:00Z", "status": "available",
                         "type": "system"},
                    ],
                },
                {
                    "id": "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0103",
                    "name": "logs",
                    "description": None,
                    "protocol": "NFS",
                    "size": 200,
                    "mountPointName": "logs",
                    "snapshotPolicyID": None,
                    "snapshotID": None,
                    "createdAt": "2025-04-02T11:00:00Z",
                    "status": "available",
                    "accessMode": "rw",
                    "snapshots": [
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010300000001",
                         "name": "daily-2026-11-25", "description": None,
                         "createdAt": "2026-11-25T00:10:07Z", "status": "available",
                         "type": "automatic"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010300000002",
                         "name": "weekly/2026-47", "description": "a name with a slash",
                         "createdAt": "2026-11-25T06:00:00Z", "status": "available",
                         "type": "manual"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-010300000003",
                         "name": "rotate-2026-11", "description": None,
                         "createdAt": "2026-11-26T03:15:00Z", "status": "available",
                         "type": "manual"},
                    ],
                },
            ],
        },
        {
            "id": "5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0a002",
            "name": "efs-backup",
            "createdAt": "2025-06-02T15:40:00Z",
            "performanceLevel": "premium",
            "product": "enterprise-file-storage-premium-1tb",
            "quota": 1024,
            "region": "eu-west-rbx",
            "status": "running",
            "iam": {
                "displayName": "efs-backup",
                "id": "c8a2e4f1-7d3b-4f5a-8e90-1b2c3d4e0a02",
                "tags": {},
                "urn": "urn:v1:eu:resource:storageNetApp:5c1f8e2a-0b4d-4e6f-9a21-3d7c60f0a002",
            },
            "shares": [
                {
                    "id": "7e4b2d90-3a1c-4f58-b6e2-0c9d8a7b0201",
                    "name": "archive",
                    "description": "long-term copies",
                    "protocol": "NFS",
                    "size": 800,
                    "mountPointName": "archive",
                    "snapshotID": None,
                    "createdAt": "2025-06-02T16:00:00Z",
                    "status": "available",
                    "accessMode": "rw",
                    "snapshots": [
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-020100000001",
                         "name": "daily-2026-11-25", "description": None,
                         "createdAt": "2026-11-25T00:10:09Z", "status": "available",
                         "type": "automatic"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-020100000002",
                         "name": "monthly-2026-10", "description": "end of October",
                         "createdAt": "2026-10-31T23:00:00Z", "status": "available",
                         "type": "manual"},
                        {"id": "2f6d9c3b-8e1a-4b75-a0d4-020100000003",
                         "name": "before-restore-test", "description": None,
                         "createdAt": "2026-11-26T07:45:00Z", "status": "available",
                         "type": "manual"},
                    ],
                },
            ],
        },
    ],
}

DEFAULT_CONFIG = {
    "create_delay": 2.0,     # seconds a new snapshot stays "creating"
    "delete_delay": 2.0,     # seconds a deleted snapshot stays "deleting" before it vanishes
    "hold_delay": 0.0,       # seconds a held copy stays "manage_starting" (0: available at once)
    "clock_offset": 0.0,     # server clock = real clock + offset (tests clock skew)
    "latency": 0.0,          # seconds slept before every API reply
    "snapshot_limit": 200,   # snapshots per share (documented OVH limit)
    "service_snapshot_limit": 200,  # snapshots per service, all shares (documented OVH limit)
    # HTTP status of the over-the-limit reply (undocumented: a guess). Its wording, like every
    # refusal's here, is made up and holds none of the words a client might look for.
    "limit_status": 400,
    # HTTP status refusing a change of a snapshot on its way somewhere (creating, deleting,
    # manage_starting, ...): undocumented, a guess (python-ovh's 409 "Conflict").
    "busy_status": 409,
    "delete_fails": False,   # deletions end in error_deleting instead of vanishing
    # A guess, not documented by OVH (nothing says names are unique): refuse a create whose
    # name the share already has with 409, python-ovh's "already existing resource".
    "unique_names": False,
    # The schema says a PUT answers the snapshot; Terraform's provider ignores the answer and
    # reads it again, and the client's code says the API may answer null: this makes it so.
    "put_reply_null": False,
    "revert_delay": 2.0,     # seconds a reverted share stays "reverting"
    "revert_fails": False,   # reverts end in reverting_error instead of available
    "app_key": "demo-ak",
    "app_secret": "demo-as",
    "consumer_keys": ["demo-ck"],
    "tokens": [],            # OAuth2-style bearer tokens: [{"token": "...", "expires": epoch|null}]
    "time_window": 180,      # allowed |X-Ovh-Timestamp - server clock| in seconds
    "oauth_clients": [       # service accounts accepted by POST /auth/oauth2/token
        {"client_id": "demo-client-id", "client_secret": "demo-client-secret"}],
    "token_ttl": 3600,       # expires_in of the tokens it issues (seconds, server clock)
    "require_bearer": False,  # refuse AK/AS/CK-signed API requests with 403
}

TOKEN_PATH = "/auth/oauth2/token"
FORM_TYPE = "application/x-www-form-urlencoded"

# Default OVH classes per status, for error bodies the simulator makes up itself.
STATUS_CLASSES = {
    400: "Client::BadRequest", 401: "Client::Unauthorized", 403: "Client::Forbidden",
    404: "Client::NotFound", 405: "Client::MethodNotAllowed", 409: "Client::Conflict",
    413: "Client::BadRequest::PayloadTooLarge", 429: "Client::TooManyRequests",
    500: "Server::InternalServerError", 502: "Server::BadGateway",
    503: "Server::ServiceUnavailable", 504: "Server::GatewayTimeout",
}

JSON_TYPE = "application/json; charset=utf-8"


# --------------------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------------------

def rfc3339(epoch):
    """Format an epoch as OVH does in createdAt (UTC, seconds precision)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def dump_json(value):
    """Serialize compactly and in UTF-8, as the real API answers."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _reject_constant(name):
    raise ValueError("invalid JSON constant %s" % name)


def parse_json(raw):
    """Parse a request body strictly (no NaN/Infinity, no lone surrogate); raise ValueError
    when invalid."""
    text = raw.decode("utf-8")
    value = json.loads(text, parse_constant=_reject_constant)
    try:
        # A lone surrogate ("\ud800") is no Unicode text: strict parsers refuse it.
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("invalid JSON: a lone surrogate in a string") from None
    return value


def status_class(status):
    """OVH error class used for a status when nothing more specific applies."""
    if status in STATUS_CLASSES:
        return STATUS_CLASSES[status]
    return "Server::Error" if status >= 500 else "Client::Error"


def status_message(status):
    """Human message for a status, in OVH's sentence case ("Internal server error")."""
    try:
        return http.HTTPStatus(status).phrase.capitalize()
    except ValueError:
        return "Error %d" % status


class ApiError(Exception):
    """An API failure with the exact HTTP status and JSON body to send back."""

    def __init__(self, status, body, headers=()):
        super().__init__(body.get("message", "") if isinstance(body, dict) else "")
        self.status = status
        self.body = body
        self.headers = list(headers)


def ovh_error(status, message, cls=None):
    """The usual OVH error shape: {"class": ..., "message": ...}."""
    return ApiError(status, {"class": cls or status_class(status), "message": message})


def auth_error(status_line, code, message):
    """The authentication-layer shape: {"errorCode", "httpCode", "message"}."""
    status = int(status_line.split()[0])
    return ApiError(status, {"errorCode": code, "httpCode": status_line, "message": message})


class Reply:
    """An HTTP reply ready to send: status, raw payload, content type and extra headers."""

    def __init__(self, status, payload=b"", content_type=JSON_TYPE, headers=()):
        self.status = status
        self.payload = payload
        self.content_type = content_type
        self.headers = list(headers)

    @classmethod
    def json(cls, status, value, headers=()):
        return cls(status, dump_json(value), JSON_TYPE, headers)

    @classmethod
    def from_error(cls, err):
        return cls(err.status, dump_json(err.body), JSON_TYPE, err.headers)


class SeedError(ValueError):
    """A seed, config or fault document that cannot be accepted (admin 400)."""


# --------------------------------------------------------------------------------------
# Seed validation: every object keeps exactly the schema's fields, with sensible defaults.
# --------------------------------------------------------------------------------------

def _check_value(kind, value, where):
    """Raise SeedError unless value has the JSON type the schema gives to kind."""
    ok = {
        "uuid": lambda v: isinstance(v, str) and UUID_RE.match(v),
        "string": lambda v: isinstance(v, str),
        "datetime": lambda v: isinstance(v, str) and DATETIME_RE.match(v),
        "long": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "tags": lambda v: isinstance(v, dict) and all(
            isinstance(k, str) and isinstance(x, str) for k, x in v.items()),
        "iam": lambda v: isinstance(v, dict),
        "rules": _valid_rules,
    }[kind](value)
    if not ok:
        raise SeedError("%s: %r is not a valid %s" % (where, value, kind))


def _valid_rule(rule):
    if not isinstance(rule, dict) or set(rule) != {"copies", "prefix", "schedule"}:
        return False
    sched = rule["schedule"]
    if not isinstance(rule["copies"], int) or isinstance(rule["copies"], bool):
        return False
    if not isinstance(rule["prefix"], str) or not isinstance(sched, dict):
        return False
    if set(sched) - set(SCHEDULE_RANGES) or not sched.get("minutes"):
        return False
    return all(isinstance(v, list) and all(
        isinstance(x, int) and SCHEDULE_RANGES[k][0] <= x <= SCHEDULE_RANGES[k][1] for x in v)
        for k, v in sched.items() if v is not None)


def _valid_rules(value):
    """storage.NetAppSnapshotPolicyRule[]: at most four rules, minutes required."""
    return isinstance(value, list) and len(value) <= 4 and all(_valid_rule(r) for r in value)


def normalize_policies(raw, svc_id, now, where):
    items = raw.get("snapshotPolicies")
    if items is None and "snapshotPolicies" not in raw:
        items = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "policy:" + svc_id)),
                  "name": "default", "description": "made by the simulator",
                  "isDefault": True, "rules": DEFAULT_RULES}]
    items = _child_list({"snapshotPolicies": items}, "snapshotPolicies", where)
    out = []
    for i, item in enumerate(items):
        p_where = "%s.snapshotPolicies[%d]" % (where, i)
        p_id = _require_object(item, p_where)
        out.append(normalize(item, POLICY_SPEC, {"id": p_id, "createdAt": rfc3339(now),
                                                 "isDefault": False, "rules": [],
                                                 "status": "available"}, p_where))
    _check_unique([p["id"] for p in out], where + ".snapshotPolicies")
    return out


def normalize_share_settings(raw, share, policies, where):
    """The share's snapshot reserve and policy (private: served by their own routes)."""
    percent = raw.get("snapshotReserve", 5)
    _check_value("long", percent, where + ".snapshotReserve")
    share["_reserve"] = percent
    default = [p["id"] for p in policies if p["isDefault"]]
    policy = raw.get("snapshotPolicyID", default[0] if default else None)
    if policy is not None and policy.lower() not in [p["id"].lower() for p in policies]:
        raise SeedError("%s.snapshotPolicyID: %r is not a policy of the service"
                        % (where, policy))
    share["_policy"] = policy


def normalize(raw, spec, defaults, where, children=()):
    """Check raw against spec and fill the missing fields from defaults.

    Unknown keys are refused so that the simulator never emits a field the real API lacks.
    """
    if not isinstance(raw, dict):
        raise SeedError("%s: expected an object" % where)
    unknown = set(raw) - set(spec) - set(children)
    if unknown:
        raise SeedError("%s: unknown field(s) %s" % (where, ", ".join(sorted(unknown))))
    out = {}
    for field, (kind, nullable, enum) in spec.items():
        value = raw[field] if field in raw else defaults.get(field)
        if value is None:
            if not nullable:
                raise SeedError("%s.%s: may not be null" % (where, field))
        else:
            _check_value(kind, value, "%s.%s" % (where, field))
            if enum is not None and value not in enum:
                raise SeedError("%s.%s: %r is not one of %s" % (where, field, value, enum))
        out[field] = value
    return out


def export_path(share_id):
    """An NFS-style access path; the real format is undocumented, clients treat it as opaque."""
    return "%s:/share_%s" % (EXPORT_IP, share_id)


def snapshot_path(share, name, snap_id):
    """Where NetApp shows a snapshot over NFS: under the preferred access path's .snapshot."""
    paths = share["_access_paths"]
    preferred = [a for a in paths if a["preferred"]] or paths
    if not preferred:
        return None
    return "%s/.snapshot/%s" % (preferred[0]["path"].rstrip("/"), name or snap_id)


def normalize_access_paths(raw, share_id, where):
    items = raw.get("accessPaths")
    if items is None and "accessPaths" not in raw:
        items = [{"id": str(uuid.uuid5(uuid.NAMESPACE_URL, "accessPath:" + share_id)),
                  "path": export_path(share_id), "preferred": True}]
    items = _child_list({"accessPaths": items}, "accessPaths", where)
    out = []
    for i, item in enumerate(items):
        ap_where = "%s.accessPaths[%d]" % (where, i)
        ap_id = _require_object(item, ap_where)
        out.append(normalize(item, ACCESS_PATH_SPEC, {"id": ap_id, "preferred": False},
                             ap_where))
    _check_unique([a["id"] for a in out], where + ".accessPaths")
    return out


def _require_object(raw, where):
    if not isinstance(raw, dict):
        raise SeedError("%s: expected an object" % where)
    return raw.get("id") or str(uuid.uuid4())


def normalize_snapshot(raw, share, now, where):
    snap_id = _require_object(raw, where)
    defaults = {"id": snap_id, "createdAt": rfc3339(now), "status": "available",
                "type": "manual", "path": snapshot_path(share, raw.get("name"), snap_id)}
    return normalize(raw, SNAPSHOT_SPEC, defaults, where)


def normalize_share(raw, now, where):
    share_id = _require_object(raw, where)
    defaults = {"id": share_id, "protocol": "NFS", "size": 100, "createdAt": rfc3339(now),
                "status": "available", "accessMode": "rw"}
    share = normalize(raw, SHARE_SPEC, defaults, where,
                      children=("snapshots", "accessPaths", "snapshotReserve",
                                "snapshotPolicyID"))
    share["_access_paths"] = normalize_access_paths(raw, share_id, where)
    snaps = _child_list(raw, "snapshots", where)
    share["_snapshots"] = [
        normalize_snapshot(s, share, now, "%s.snapshots[%d]" % (where, i))
        for i, s in enumerate(snaps)]
    _check_unique([s["id"] for s in share["_snapshots"]], where + ".snapshots")
    return share


def default_iam(svc_id, name):
    return {"displayName": name, "id": str(uuid.uuid4()), "tags": {},
            "urn": "urn:v1:eu:resource:storageNetApp:%s" % svc_id}


def normalize_iam(raw, svc_id, name, where):
    """iam.ResourceMetadata; `state` is emitted only when the seed gives it, as OVH does."""
    iam = normalize(raw, IAM_SPEC, default_iam(svc_id, name), where)
    if "state" not in raw:
        del iam["state"]
    return iam


def normalize_service(raw, now, where):
    svc_id = _require_object(raw, where)
    name = raw.get("name") if isinstance(raw.get("name"), str) else "efs-" + str(svc_id)[:8]
    defaults = {"id": svc_id, "name": name, "createdAt": rfc3339(now),
                "performanceLevel": "premium",
                "product": "enterprise-file-storage-premium-1tb", "quota": 1024,
                "region": "eu-west-gra", "status": "running",
                "iam": default_iam(svc_id, name)}
    service = normalize(raw, SERVICE_SPEC, defaults, where,
                        children=("shares", "snapshotPolicies"))
    if service["iam"] is not None:
        service["iam"] = normalize_iam(service["iam"], svc_id, name, where + ".iam")
    shares = _child_list(raw, "shares", where)
    service["_shares"] = [normalize_share(s, now, "%s.shares[%d]" % (where, i))
                          for i, s in enumerate(shares)]
    service["_policies"] = normalize_policies(raw, svc_id, now, where)
    for i, (raw_share, share) in enumerate(zip(shares, service["_shares"])):
        normalize_share_settings(raw_share, share, service["_policies"],
                                 "%s.shares[%d]" % (where, i))
    return service


def _child_list(raw, key, where):
    """The nested list under key; absent or null means empty."""
    items = raw.get(key)
    if items is None:
        return []
    if not isinstance(items, list):
        raise SeedError("%s.%s: expected a list" % (where, key))
    return items


def _check_unique(ids, where):
    seen = set()
    for i in ids:
        if i.lower() in seen:
            raise SeedError("%s: duplicate id %s" % (where, i))
        seen.add(i.lower())


def normalize_seed(seed, now):
    """Validate a whole {"services": [...]} document; return the internal model."""
    if not isinstance(seed, dict) or set(seed) - {"services"}:
        raise SeedError('seed: expected {"services": [...]}')
    raw_services = _child_list(seed, "services", "seed")
    services = [normalize_service(s, now, "services[%d]" % i)
                for i, s in enumerate(raw_services)]
    _check_unique([s["id"] for s in services], "services")
    _check_unique([sh["id"] for s in services for sh in s["_shares"]], "shares")
    return services


def public(obj):
    """A deep copy without the simulator's private keys (those starting with '_')."""
    return {k: copy.deepcopy(v) for k, v in obj.items() if not k.startswith("_")}


# --------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------

class Config:
    """Runtime knobs. Merged by POST /_sim/config; reset restores the start-up values."""

    def __init__(self, lock, initial):
        self._lock = lock
        self._initial = copy.deepcopy(initial)
        self._values = copy.deepcopy(initial)

    def get(self, key):
        with self._lock:
            return copy.deepcopy(self._values[key])

    def snapshot(self):
        with self._lock:
            return copy.deepcopy(self._values)

    def restore(self):
        with self._lock:
            self._values = copy.deepcopy(self._initial)

    def add_token(self, token, expires):
        """Register a bearer token issued by the token endpoint (kept until reset)."""
        with self._lock:
            self._values["tokens"].append({"token": token, "expires": expires})

    def merge(self, changes):
        """Validate every key first, then apply all of them: a bad document changes nothing."""
        if not isinstance(changes, dict):
            raise SeedError("config: expected an object")
        clean = {key: self._validate(key, value) for key, value in changes.items()}
        with self._lock:
            self._values.update(clean)
            return copy.deepcopy(self._values)

    @staticmethod
    def _validate(key, value):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if key in ("create_delay", "delete_delay", "hold_delay", "latency", "time_window",
                   "revert_delay"):
            if not number or value < 0:
                raise SeedError("config.%s: expected a number >= 0" % key)
        elif key == "clock_offset":
            if not number:
                raise SeedError("config.clock_offset: expected a number")
        elif key in ("snapshot_limit", "service_snapshot_limit", "limit_status", "busy_status"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 0 or (
                    key.endswith("_status") and not 100 <= value <= 599):
                raise SeedError("config.%s: expected an integer in range" % key)
        elif key in ("delete_fails", "require_bearer", "unique_names", "put_reply_null",
                     "revert_fails"):
            if not isinstance(value, bool):
                raise SeedError("config.%s: expected a boolean" % key)
        elif key == "token_ttl":
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise SeedError("config.token_ttl: expected an integer >= 0")
        elif key == "oauth_clients":
            if not isinstance(value, list) or not all(
                    isinstance(c, dict) and set(c) == {"client_id", "client_secret"}
                    and isinstance(c["client_id"], str) and isinstance(c["client_secret"], str)
                    for c in value):
                raise SeedError('config.oauth_clients: items are {"client_id": str, '
                                '"client_secret": str}')
        elif key in ("app_key", "app_secret"):
            if not isinstance(value, str):
                raise SeedError("config.%s: expected a string" % key)
        elif key == "consumer_keys":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise SeedError("config.consumer_keys: expected a list of strings")
        elif key == "tokens":
            return Config._validate_tokens(value)
        else:
            raise SeedError("config: unknown key %s" % key)
        return value

    @staticmethod
    def _validate_tokens(value):
        if not isinstance(value, list):
            raise SeedError("config.tokens: expected a list")
        out = []
        for item in value:
            if isinstance(item, str):
                item = {"token": item, "expires": None}
            if (not isinstance(item, dict) or not isinstance(item.get("token"), str)
                    or set(item) - {"token", "expires"}):
                raise SeedError('config.tokens: items are {"token": str, "expires": epoch}')
            expires = item.get("expires")
            if expires is not None and (isinstance(expires, bool)
                                        or not isinstance(expires, (int, float))):
                raise SeedError("config.tokens: expires must be an epoch or null")
            out.append({"token": item["token"], "expires": expires})
        return out


# --------------------------------------------------------------------------------------
# State: the data model and the snapshot life cycle
# --------------------------------------------------------------------------------------

class State:
    """Services, shares and snapshots, guarded by the simulator's single lock.

    Transitions (creating -> available, deleting -> gone) are computed lazily from
    monotonic deadlines whenever a share is touched, so no timer threads are needed and a
    test can reason only about elapsed time.
    """

    def __init__(self, lock, config):
        self._lock = lock
        self._config = config
        self._services = []

    # ---- whole-model operations (admin) ----

    def load(self, seed):
        services = normalize_seed(seed, self._server_now())
        with self._lock:
            self._services = services

    def dump(self):
        with self._lock:
            out = []
            for svc in self._services:
                item = public(svc)
                item["shares"] = []
                for share in svc["_shares"]:
                    self._settle(share)
                    self._settle_revert(share)
                    sh = public(share)
                    sh["snapshots"] = [public(s) for s in share["_snapshots"]]
                    sh["accessPaths"] = [public(a) for a in share["_access_paths"]]
                    item["shares"].append(sh)
                out.append(item)
            return {"services": out}

    # ---- reads ----

    def services(self):
        with self._lock:
            return [public(s) for s in self._services]

    def service(self, svc_id):
        with self._lock:
            return public(self._find_service(svc_id))

    def shares(self, svc_id, mount_point=None):
        with self._lock:
            shares = self._find_service(svc_id)["_shares"]
            for share in shares:
                self._settle_revert(share)
            return [public(s) for s in shares
                    if mount_point is None or s["mountPointName"] == mount_point]

    def share(self, svc_id, share_id):
        with self._lock:
            return public(self._find_share(svc_id, share_id))

    def snapshots(self, svc_id, share_id):
        with self._lock:
            share = self._find_share(svc_id, share_id)
            self._settle(share)
            return [public(s) for s in share["_snapshots"]]

    def snapshot(self, svc_id, share_id, snap_id):
        with self._lock:
            return public(self._find_snapshot(svc_id, share_id, snap_id))

    def access_paths(self, svc_id, share_id):
        with self._lock:
            return [public(a) for a in self._find_share(svc_id, share_id)["_access_paths"]]

    def access_path(self, svc_id, share_id, ap_id):
        with self._lock:
            for ap in self._find_share(svc_id, share_id)["_access_paths"]:
                if ap["id"].lower() == ap_id.lower():
                    return public(ap)
        raise ovh_error(404, "The requested object (accessPathId = %s) does not exist" % ap_id)

    # ---- writes ----

    def create_snapshot(self, svc_id, share_id, fields):
        cfg = self._config.snapshot()
        with self._lock:
            share = self._find_share(svc_id, share_id)
            self._settle(share)
            self._check_can_create(self._find_service(svc_id), share, cfg)
            if cfg["unique_names"] and fields.get("name") and any(
                    s["name"] == fields["name"] for s in share["_snapshots"]):
                raise ovh_error(409, "This resource already exists")
            snap_id = str(uuid.uuid4())
            snap = {"id": snap_id, "name": fields.get("name"),
                    "description": fields.get("description"),
                    "createdAt": rfc3339(self._server_now()),
                    "path": snapshot_path(share, fields.get("name"), snap_id),
                    "status": "creating", "type": "manual",
                    "_ready_at": time.monotonic() + cfg["create_delay"]}
            share["_snapshots"].append(snap)
            return public(snap)

    def update_snapshot(self, svc_id, share_id, snap_id, fields):
        cfg = self._config.snapshot()
        with self._lock:
            snap = self._find_snapshot(svc_id, share_id, snap_id)
            self._check_not_busy(snap, cfg)
            snap.update(fields)
            return public(snap)

    def hold_snapshot(self, svc_id, share_id, snap_id):
        """Turn an automatic snapshot into a manual copy under a new id (reference 4.4)."""
        cfg = self._config.snapshot()
        with self._lock:
            share = self._find_share(svc_id, share_id)
            snap = self._find_snapshot(svc_id, share_id, snap_id)
            self._check_not_busy(snap, cfg)
            if snap["type"] != "automatic":
                raise ovh_error(400, "Snapshot %s is of type %s: only automatic snapshots "
                                     "can be held" % (snap["id"], snap["type"]))
            held = {k: v for k, v in snap.items() if not k.startswith("_")}
            held.update(id=str(uuid.uuid4()), type="manual")
            if cfg["hold_delay"] > 0:
                held.update(status="manage_starting",
                            _ready_at=time.monotonic() + cfg["hold_delay"])
            share["_snapshots"][share["_snapshots"].index(snap)] = held
            return public(held)

    def delete_snapshot(self, svc_id, share_id, snap_id):
        cfg = self._config.snapshot()
        with self._lock:
            snap = self._find_snapshot(svc_id, share_id, snap_id)
            self._check_not_busy(snap, cfg)
            snap["status"] = "deleting"
            snap["_gone_at"] = time.monotonic() + cfg["delete_delay"]
            snap["_delete_fails"] = cfg["delete_fails"]

    # ---- share settings: snapshot reserve, snapshot policy, revert ----

    def settings(self):
        """What GET /_sim/settings shows: policies, and each share's reserve and policy."""
        with self._lock:
            return {"services": [
                {"id": svc["id"], "snapshotPolicies": [public(p) for p in svc["_policies"]],
                 "shares": [{"id": sh["id"], "snapshotReserve": sh["_reserve"],
                             "snapshotPolicyID": sh["_policy"]} for sh in svc["_shares"]]}
                for svc in self._services]}

    def reserve(self, svc_id, share_id):
        with self._lock:
            share = self._find_share(svc_id, share_id)
            return {"percent": share["_reserve"], "status": "active"}

    def set_reserve(self, svc_id, share_id, percent):
        with self._lock:
            self._find_share(svc_id, share_id)["_reserve"] = percent

    def policies(self, svc_id):
        with self._lock:
            return [public(p) for p in self._find_service(svc_id)["_policies"]]

    def policy(self, svc_id, policy_id):
        with self._lock:
            return public(self._find_policy(svc_id, policy_id))

    def share_policy(self, svc_id, share_id):
        with self._lock:
            share = self._find_share(svc_id, share_id)
            if share["_policy"] is None:
                raise ovh_error(404, "Share %s has no snapshot policy" % share_id)
            return {"id": share["_policy"], "status": "active"}

    def set_share_policy(self, svc_id, share_id, policy_id):
        with self._lock:
            share = self._find_share(svc_id, share_id)
            try:
                policy = self._find_policy(svc_id, policy_id)
            except ApiError:
                raise ovh_error(400, "Snapshot policy %s does not exist" % policy_id)
            share["_policy"] = policy["id"]

    def revert(self, svc_id, share_id, snap_id):
        """Back to the latest available manual snapshot (reference 4.5); newer ones go."""
        cfg = self._config.snapshot()
        with self._lock:
            share = self._find_share(svc_id, share_id)
            self._settle(share)
            if share["status"] != "available":
                raise ovh_error(409, "Share %s is in status %s" % (share_id, share["status"]))
            snap = self._find_snapshot(svc_id, share_id, snap_id)
            manual = [s for s in share["_snapshots"]
                      if s["type"] == "manual" and s["status"] == "available"]
            latest = max(manual, key=lambda s: s["createdAt"] or "", default=None)
            if snap is not latest:
                raise ovh_error(400, "It's only possible to revert a share to its latest "
                                     "available snapshot")
            share["_snapshots"] = [s for s in share["_snapshots"] if s is snap or
                                   (s["createdAt"] or "") <= (snap["createdAt"] or "")]
            share["status"] = "reverting"
            snap["status"] = "restoring"
            share["_reverted_at"] = time.monotonic() + cfg["revert_delay"]
            share["_revert_fails"] = cfg["revert_fails"]
            share["_restoring"] = snap

    @staticmethod
    def _settle_revert(share):
        if "_reverted_at" not in share or time.monotonic() < share["_reverted_at"]:
            return
        share["status"] = "reverting_error" if share["_revert_fails"] else "available"
        if share["_restoring"]["status"] == "restoring":
            share["_restoring"]["status"] = "available"
        for key in ("_reverted_at", "_revert_fails", "_restoring"):
            del share[key]

    def _find_policy(self, svc_id, policy_id):
        for policy in self._find_service(svc_id)["_policies"]:
            if policy["id"].lower() == policy_id.lower():
                return policy
        raise ovh_error(404, "The requested object (snapshotPolicyId = %s) does not exist"
                        % policy_id)

    # ---- internals (call with the lock held) ----

    def _server_now(self):
        return time.time() + self._config.get("clock_offset")

    @staticmethod
    def _settle(share):
        """Apply every transition whose deadline has passed."""
        now = time.monotonic()
        kept = []
        for snap in share["_snapshots"]:
            if snap["status"] in ("creating", "manage_starting") and now >= snap.get(
                    "_ready_at", float("inf")):
                snap["status"] = "available"
            if snap["status"] == "deleting" and now >= snap.get("_gone_at", float("inf")):
                if not snap.get("_delete_fails"):
                    continue
                snap["status"] = "error_deleting"
                snap.pop("_gone_at", None)
            kept.append(snap)
        share["_snapshots"] = kept

    def _check_can_create(self, svc, share, cfg):
        # The real wording is undocumented: this one holds none of the words a client might
        # look for ("limit", "maximum", "quota", "too many"), so only the count can tell.
        in_service = 0
        for other in svc["_shares"]:
            self._settle(other)
            in_service += len(other["_snapshots"])
        if (len(share["_snapshots"]) >= cfg["snapshot_limit"] or
                in_service >= cfg["service_snapshot_limit"]):
            raise ovh_error(cfg["limit_status"], "Snapshot creation refused for share %s"
                            % share["id"])
        if share["status"] != "available":
            raise ovh_error(409, "Share %s is in status %s: snapshots can only be created "
                                 "on an available share" % (share["id"], share["status"]))

    BUSY = ("creating", "deleting", "manage_starting", "unmanage_starting", "restoring")

    @classmethod
    def _check_not_busy(cls, snap, cfg):
        if snap["status"] in cls.BUSY:
            raise ovh_error(cfg["busy_status"], "Action not permitted on snapshot %s"
                            % snap["id"])

    def _find_service(self, svc_id):
        for svc in self._services:
            if svc["id"].lower() == svc_id.lower():
                return svc
        raise ovh_error(404, "The requested object (serviceName = %s) does not exist" % svc_id)

    def _find_share(self, svc_id, share_id):
        for share in self._find_service(svc_id)["_shares"]:
            if share["id"].lower() == share_id.lower():
                self._settle_revert(share)
                return share
        raise ovh_error(404, "The requested object (shareId = %s) does not exist" % share_id)

    def _find_snapshot(self, svc_id, share_id, snap_id):
        share = self._find_share(svc_id, share_id)
        self._settle(share)
        for snap in share["_snapshots"]:
            if snap["id"].lower() == snap_id.lower():
                return snap
        raise ovh_error(404, "The requested object (snapshotId = %s) does not exist" % snap_id)


# --------------------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------------------

class Auth:
    """OVH's two authentication schemes: AK/AS/CK signature and OAuth2 bearer tokens."""

    def __init__(self, config):
        self._config = config

    def check(self, req):
        """Return None when the request is authenticated, else the ApiError to send."""
        cfg = self._config.snapshot()
        authz = req.headers.get("Authorization", "")
        if authz[:7].lower() == "bearer ":
            return self._check_bearer(authz[7:].strip(), cfg)
        if req.headers.get("X-Ovh-Application") is None:
            return self._login_first()
        if cfg["require_bearer"]:
            return ovh_error(403, "This call requires an OAuth2 token", "Client::Forbidden")
        return self._check_signature(req, cfg)

    @staticmethod
    def _login_first():
        return ovh_error(401, "You must login first", "Client::Unauthorized")

    @staticmethod
    def _check_bearer(token, cfg):
        now = time.time() + cfg["clock_offset"]
        for item in cfg["tokens"]:
            if hmac.compare_digest(item["token"].encode(), token.encode()):
                if item["expires"] is not None and now >= item["expires"]:
                    return ovh_error(401, "The access token has expired",
                                     "Client::Unauthorized")
                return None
        return ovh_error(401, "Invalid access token", "Client::Unauthorized")

    def _check_signature(self, req, cfg):
        h = req.headers
        if h["X-Ovh-Application"] != cfg["app_key"]:
            return auth_error("403 Forbidden", "INVALID_KEY", "This application key is invalid")
        consumer = h.get("X-Ovh-Consumer")
        if consumer is None:
            return self._login_first()
        if consumer not in cfg["consumer_keys"]:
            return auth_error("403 Forbidden", "INVALID_CREDENTIAL",
                              "This credential does not exist")
        stamp = h.get("X-Ovh-Timestamp") or ""
        now = time.time() + cfg["clock_offset"]
        if not re.fullmatch(r"[0-9]{1,15}", stamp) or abs(int(stamp) - now) > cfg["time_window"]:
            return auth_error("400 Bad Request", "QUERY_TIME_OUT", "Query out of time")
        expected = self.signature(cfg["app_secret"], consumer, req.method, req.full_url,
                                  req.body, stamp)
        given = h.get("X-Ovh-Signature") or ""
        if not hmac.compare_digest(expected.encode(), given.encode("latin-1", "replace")):
            return auth_error("400 Bad Request", "INVALID_SIGNATURE", "Invalid signature")
        return None

    @staticmethod
    def signature(secret, consumer, method, full_url, body, stamp):
        """"$1$" + sha1_hex(AS+CK+METHOD+URL+BODY+TS joined with '+'), over the wire bytes.

        http.server decodes the request line and headers as latin-1, so encoding them back
        as latin-1 gives exactly the bytes the client signed.
        """
        parts = (secret.encode("utf-8"), consumer.encode("latin-1", "replace"),
                 method.encode("latin-1", "replace"), full_url.encode("latin-1", "replace"),
                 body, stamp.encode("latin-1", "replace"))
        return "$1$" + hashlib.sha1(b"+".join(parts)).hexdigest()


# --------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------

class Faults:
    """Injected failures, matched in insertion order, each consuming one of its `times`."""

    ACTIONS = ("status", "hang", "drop", "lost_reply", "malformed", "html", "delay", "raise",
               "huge", "late")
    KEYS = {"method", "path", "action", "times", "status", "body", "retry_after", "seconds",
            "body_text", "rst", "size"}

    def __init__(self, lock):
        self._lock = lock
        self._items = []
        self._next_id = 1
        self._wake = threading.Event()

    def add(self, spec):
        fault = self._validate(spec)
        with self._lock:
            fault["id"] = self._next_id
            self._next_id += 1
            self._items.append(fault)
            return self._visible(fault)

    def list(self):
        with self._lock:
            return [self._visible(f) for f in self._items]

    def clear(self):
        """Drop every fault and wake the requests hanging on one."""
        with self._lock:
            self._items = []
            wake, self._wake = self._wake, threading.Event()
        wake.set()

    def take(self, method, path):
        """The first fault matching the request (consuming one use), or None.

        The returned copy carries `_wake`, the event that cuts a hang short.
        """
        with self._lock:
            for fault in self._items:
                if fault["method"] and fault["method"] != method:
                    continue
                if fault["_regex"] and not fault["_regex"].search(path):
                    continue
                if fault["times"] > 0:
                    fault["times"] -= 1
                    if fault["times"] == 0:
                        self._items.remove(fault)
                taken = dict(fault)
                taken["_wake"] = self._wake
                return taken
        return None

    @staticmethod
    def _visible(fault):
        return {k: v for k, v in fault.items() if not k.startswith("_")}

    def _validate(self, spec):
        if not isinstance(spec, dict):
            raise SeedError("fault: expected an object")
        unknown = set(spec) - self.KEYS
        if unknown:
            raise SeedError("fault: unknown key(s) %s" % ", ".join(sorted(unknown)))
        action = spec.get("action")
        if action not in self.ACTIONS:
            raise SeedError("fault.action: one of %s" % ", ".join(self.ACTIONS))
        fault = {"method": self._method(spec.get("method")), "path": spec.get("path"),
                 "action": action, "times": self._times(spec.get("times", 1))}
        fault["_regex"] = self._regex(fault["path"])
        for key in ("status", "body", "retry_after", "seconds", "body_text", "rst", "size"):
            if key in spec:
                fault[key] = spec[key]
        self._check_options(fault)
        return fault

    @staticmethod
    def _method(method):
        if method is not None and not isinstance(method, str):
            raise SeedError("fault.method: a string or null")
        return method.upper() if method else None

    @staticmethod
    def _times(times):
        if not isinstance(times, int) or isinstance(times, bool) or times == 0 or times < -1:
            raise SeedError("fault.times: a positive integer, or -1 for forever")
        return times

    @staticmethod
    def _regex(path):
        if path is None:
            return None
        if not isinstance(path, str):
            raise SeedError("fault.path: a regular expression string or null")
        try:
            return re.compile(path)
        except re.error as exc:
            raise SeedError("fault.path: invalid regular expression: %s" % exc)

    @staticmethod
    def _check_options(fault):
        status = fault.get("status")
        if status is not None and (not isinstance(status, int) or isinstance(status, bool)
                                   or not 100 <= status <= 599):
            raise SeedError("fault.status: an HTTP status code")
        for key in ("seconds", "retry_after"):
            value = fault.get(key)
            if value is not None and (isinstance(value, bool)
                                      or not isinstance(value, (int, float)) or value < 0):
                raise SeedError("fault.%s: a number >= 0" % key)
        if fault.get("body_text") is not None and not isinstance(fault["body_text"], str):
            raise SeedError("fault.body_text: a string")
        size = fault.get("size")
        if size is not None and (isinstance(size, bool) or not isinstance(size, int)
                                 or not 0 <= size <= 256 << 20):
            raise SeedError("fault.size: a byte count up to 256 MiB")

    @staticmethod
    def reply(fault):
        """The canned reply of the status, malformed and html actions."""
        action = fault["action"]
        if action == "huge":
            # A valid JSON array of `size` bytes (default 16 MiB): a reply no client should buffer.
            size = max(fault.get("size", 16 << 20), 2)
            return Reply(200, b"[" + b" " * (size - 2) + b"]")
        if action == "malformed":
            text = fault.get("body_text")
            return Reply(200, ('{"id": "trunc' if text is None else text).encode("utf-8"))
        status = fault.get("status") or (502 if action == "html" else 500)
        if action == "html":
            page = ("<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1>"
                    "</center><hr><center>nginx</center></body></html>\n"
                    % (status, status_message(status), status, status_message(status)))
            return Reply(status, page.encode("utf-8"), "text/html; charset=utf-8")
        headers = []
        if fault.get("retry_after") is not None:
            headers.append(("Retry-After", "%g" % fault["retry_after"]))
        body = fault.get("body")
        if body is None:
            body = {"class": status_class(status), "message": status_message(status)}
        return Reply.json(status, body, headers)


# --------------------------------------------------------------------------------------
# Request log
# --------------------------------------------------------------------------------------

class RequestLog:
    """Every API request (not admin ones), recorded when its reply is sent or given up."""

    def __init__(self, lock):
        self._lock = lock
        self._entries = []

    def record(self, req, status, fault=None):
        with self._lock:
            self._entries.append({
                "seq": len(self._entries) + 1, "t": req.t, "conn": req.conn,
                "method": req.method, "path": req.path, "query": req.query,
                "body": req.log_body(), "status": status,
                "query_id": req.query_id, "fault": fault,
                "headers": req.log_headers()})

    def entries(self):
        with self._lock:
            return copy.deepcopy(self._entries)

    def reset(self):
        with self._lock:
            self._entries = []


class ChangeLog:
    """Every change the API carried out to a snapshot: who (the client's User-Agent), what,
    when (epoch seconds), and the snapshot before and after; what a late request did too."""

    def __init__(self, lock):
        self._lock = lock
        self._entries = []

    def record(self, req, action, svc, share, before, after, ready_in=0.0):
        with self._lock:
            self._entries.append({
                "seq": len(self._entries) + 1, "t": time.time(),
                "who": (req.headers.get("User-Agent") or "").split(" ")[0],
                "action": action, "service": svc, "share": share,
                "id": (after or before)["id"], "before": before, "after": after,
                "ready_at": time.time() + ready_in if action == "create" else None})

    def entries(self):
        with self._lock:
            return copy.deepcopy(self._entries)

    def reset(self):
        with self._lock:
            self._entries = []


# --------------------------------------------------------------------------------------
# The API routes
# --------------------------------------------------------------------------------------

class Request:
    """What the API layer needs to know about one HTTP request."""

    def __init__(self, method, target, headers, body, conn, query_id, host):
        self.method = method
        path, _, self.query = target.partition("?")
        self.path = path
        self.headers = headers
        self.body = body
        self.conn = conn
        self.query_id = query_id
        self.t = time.time()
        self.full_url = "http://" + host + target
        if target.startswith(("http://", "https://")):  # absolute-form request target
            self.full_url = target
            self.path = urlsplit(path).path or "/"
        self.api_path = self._strip_prefix(self.path)

    def log_body(self):
        """The body as the request log shows it: a token request's client_secret masked."""
        text = self.body.decode("utf-8", "replace")
        if self.path != TOKEN_PATH:
            return text
        pairs = []
        for pair in text.split("&"):
            key, eq, _ = pair.partition("=")
            if eq and unquote_plus(key) == "client_secret":
                pair = key + "=***"
            pairs.append(pair)
        return "&".join(pairs)

    def log_headers(self):
        """The headers as logged: a token request's Basic credentials masked."""
        headers = dict(self.headers.items())
        if self.path == TOKEN_PATH:
            for name, value in headers.items():
                if name.lower() == "authorization" and value[:6].lower() == "basic ":
                    headers[name] = value[:6] + "***"
        return headers

    @staticmethod
    def _strip_prefix(path):
        """The path without /1.0 or /v1, or None when it has neither prefix."""
        for prefix in ("/1.0", "/v1"):
            if path == prefix or path.startswith(prefix + "/"):
                return path[len(prefix):] or "/"
        return None


SEG = r"([^/]+)"
NETAPP = r"/storage/netapp"
ROUTES = [
    (re.compile(r"^/auth/time$"), {"GET": "auth_time"}),
    (re.compile(r"^%s$" % NETAPP), {"GET": "list_services"}),
    (re.compile(r"^%s/%s$" % (NETAPP, SEG)), {"GET": "get_service"}),
    (re.compile(r"^%s/%s/share$" % (NETAPP, SEG)), {"GET": "list_shares"}),
    (re.compile(r"^%s/%s/share/%s$" % (NETAPP, SEG, SEG)), {"GET": "get_share"}),
    (re.compile(r"^%s/%s/share/%s/snapshot$" % (NETAPP, SEG, SEG)),
     {"GET": "list_snapshots", "POST": "create_snapshot"}),
    (re.compile(r"^%s/%s/share/%s/snapshot/%s$" % (NETAPP, SEG, SEG, SEG)),
     {"GET": "get_snapshot", "PUT": "update_snapshot", "DELETE": "delete_snapshot"}),
    (re.compile(r"^%s/%s/share/%s/snapshot/%s/hold$" % (NETAPP, SEG, SEG, SEG)),
     {"POST": "hold_snapshot"}),
    (re.compile(r"^%s/%s/share/%s/snapshotReserve$" % (NETAPP, SEG, SEG)),
     {"GET": "get_reserve", "PUT": "put_reserve"}),
    (re.compile(r"^%s/%s/share/%s/snapshotPolicy$" % (NETAPP, SEG, SEG)),
     {"GET": "get_share_policy", "PUT": "put_share_policy"}),
    (re.compile(r"^%s/%s/share/%s/revert$" % (NETAPP, SEG, SEG)), {"POST": "revert"}),
    (re.compile(r"^%s/%s/snapshotPolicy$" % (NETAPP, SEG)), {"GET": "list_policies"}),
    (re.compile(r"^%s/%s/snapshotPolicy/%s$" % (NETAPP, SEG, SEG)), {"GET": "get_policy"}),
    (re.compile(r"^%s/%s/share/%s/accessPath$" % (NETAPP, SEG, SEG)),
     {"GET": "list_access_paths"}),
    (re.compile(r"^%s/%s/share/%s/accessPath/%s$" % (NETAPP, SEG, SEG, SEG)),
     {"GET": "get_access_path"}),
]


class Api:
    """Routes an authenticated request to the State and shapes OVH's replies."""

    def __init__(self, state, auth, config, changes=None):
        self._state = state
        self._auth = auth
        self._config = config
        self._oauth = TokenEndpoint(config)
        self._changes = changes or ChangeLog(threading.RLock())

    def _changing(self, req, action, svc, share, snap, change):
        """Carry out change() (the new snapshot, or None) and record it with the one before."""
        with self._state._lock:
            before = self._state.snapshot(svc, share, snap) if snap else None
            after = change()
            ready_in = self._config.get("create_delay") if action == "create" else 0.0
            self._changes.record(req, action, svc, share, before, after, ready_in)
            return after

    def handle(self, req):
        try:
            return self._route(req)
        except ApiError as err:
            return Reply.from_error(err)

    def _route(self, req):
        if req.path == TOKEN_PATH:
            return self._oauth.handle(req)
        if req.api_path is None:
            raise ovh_error(404, "Got an invalid (or empty) URL", "Client::NotFound")
        handler_name, args = self._match(req.method, req.api_path)
        if handler_name != "auth_time":
            err = self._auth.check(req)
            if err is not None:
                raise err
        return getattr(self, "_" + handler_name)(req, *args)

    @staticmethod
    def _match(method, path):
        for regex, methods in ROUTES:
            m = regex.match(path)
            if not m:
                continue
            if method not in methods:
                raise ApiError(405, {"class": "Client::MethodNotAllowed",
                                     "message": "Method %s not allowed on this path" % method},
                               [("Allow", ", ".join(sorted(methods)))])
            return methods[method], [unquote(g) for g in m.groups()]
        raise ovh_error(404, "Got an invalid (or empty) URL", "Client::NotFound")

    # ---- query and body parsing ----

    @staticmethod
    def _query(req):
        return {k: v[-1] for k, v in parse_qs(req.query, keep_blank_values=True).items()}

    def _detail(self, req):
        value = self._query(req).get("detail")
        if value is None:
            return False
        if value.lower() not in ("true", "false"):
            raise ovh_error(400, "Invalid value for parameter detail: %r is not a boolean"
                            % value)
        return value.lower() == "true"

    @staticmethod
    def _snapshot_fields(req, model):
        """Parse a NetAppShareSnapshot(Update) body: an object with name/description only."""
        try:
            body = parse_json(req.body)
        except (ValueError, UnicodeDecodeError):
            raise ovh_error(400, "Invalid JSON in request body")
        if not isinstance(body, dict):
            raise ovh_error(400, "Request body must be a %s object" % model)
        for key, value in body.items():
            if key not in SNAPSHOT_WRITABLE:
                raise ovh_error(400, "Invalid property %s for type %s: read-only or unknown"
                                % (key, model))
            if value is not None and not isinstance(value, str):
                raise ovh_error(400, "Invalid value for property %s: expected a string" % key)
        return body

    # ---- handlers ----

    def _auth_time(self, req):
        return Reply.json(200, int(time.time() + self._config.get("clock_offset")))

    def _list_services(self, req):
        return Reply.json(200, self._state.services())

    def _get_service(self, req, svc):
        return Reply.json(200, self._state.service(svc))

    def _list_shares(self, req, svc):
        detail = self._detail(req)
        shares = self._state.shares(svc, self._query(req).get("mountPointName"))
        return Reply.json(200, shares if detail else [{"id": s["id"]} for s in shares])

    def _get_share(self, req, svc, share):
        return Reply.json(200, self._state.share(svc, share))

    def _list_snapshots(self, req, svc, share):
        detail = self._detail(req)
        snaps = self._state.snapshots(svc, share)
        return Reply.json(200, snaps if detail else [{"id": s["id"]} for s in snaps])

    def _create_snapshot(self, req, svc, share):
        fields = self._snapshot_fields(req, "storage.NetAppShareSnapshot")
        return Reply.json(200, self._changing(
            req, "create", svc, share, None,
            lambda: self._state.create_snapshot(svc, share, fields)))

    def _get_snapshot(self, req, svc, share, snap):
        return Reply.json(200, self._state.snapshot(svc, share, snap))

    def _update_snapshot(self, req, svc, share, snap):
        fields = self._snapshot_fields(req, "storage.NetAppShareSnapshotUpdate")
        done = self._changing(req, "update", svc, share, snap,
                              lambda: self._state.update_snapshot(svc, share, snap, fields))
        return Reply.json(200, None if self._config.get("put_reply_null") else done)

    def _hold_snapshot(self, req, svc, share, snap):
        if req.body.strip() not in (b"", b"{}"):
            raise ovh_error(400, "This call takes no body")
        return Reply.json(200, self._changing(
            req, "hold", svc, share, snap,
            lambda: self._state.hold_snapshot(svc, share, snap)))

    def _delete_snapshot(self, req, svc, share, snap):
        self._changing(req, "delete", svc, share, snap,
                       lambda: self._state.delete_snapshot(svc, share, snap))
        return Reply(200, b"")

    def _list_access_paths(self, req, svc, share):
        """storage.NetAppShareAccessPath[]: full objects, as the schema and Terraform say."""
        return Reply.json(200, self._state.access_paths(svc, share))

    def _get_access_path(self, req, svc, share, ap):
        return Reply.json(200, self._state.access_path(svc, share, ap))

    # ---- share settings ----

    @staticmethod
    def _one_field(req, model, field, check):
        """A body that is exactly {field: value} with check(value) true, else 400."""
        try:
            body = parse_json(req.body)
        except (ValueError, UnicodeDecodeError):
            raise ovh_error(400, "Invalid JSON in request body")
        if not isinstance(body, dict) or set(body) != {field}:
            raise ovh_error(400, "Request body must be a %s object with %s only"
                            % (model, field))
        if not check(body[field]):
            raise ovh_error(400, "Invalid value for property %s: %r" % (field, body[field]))
        return body[field]

    def _get_reserve(self, req, svc, share):
        return Reply.json(200, self._state.reserve(svc, share))

    def _put_reserve(self, req, svc, share):
        percent = self._one_field(
            req, "storage.NetAppShareSnapshotReserveUpdate", "percent",
            lambda v: isinstance(v, int) and not isinstance(v, bool)
            and RESERVE_RANGE[0] <= v <= RESERVE_RANGE[1])
        self._state.set_reserve(svc, share, percent)
        return Reply(200, b"")

    def _get_share_policy(self, req, svc, share):
        return Reply.json(200, self._state.share_policy(svc, share))

    def _put_share_policy(self, req, svc, share):
        policy = self._one_field(req, "storage.NetAppShareSnapshotPolicyUpdate",
                                 "snapshotPolicyID",
                                 lambda v: isinstance(v, str) and UUID_RE.match(v))
        self._state.set_share_policy(svc, share, policy)
        return Reply(200, b"")

    def _list_policies(self, req, svc):
        return Reply.json(200, self._state.policies(svc))

    def _get_policy(self, req, svc, policy):
        return Reply.json(200, self._state.policy(svc, policy))

    def _revert(self, req, svc, share):
        snap = self._one_field(req, "storage.NetAppShareRevertToSnapshot", "snapshotID",
                               lambda v: isinstance(v, str) and UUID_RE.match(v))
        self._state.revert(svc, share, snap)
        return Reply(202, b"")


class TokenEndpoint:
    """POST /auth/oauth2/token: OAuth2 client credentials grant (RFC 6749 §4.4), as OVH's.

    Errors use the RFC 6749 §5.2 shape {"error", "error_description"}, not OVH's.
    """

    NO_CACHE = [("Cache-Control", "no-store"), ("Pragma", "no-cache")]

    def __init__(self, config):
        self._config = config

    @classmethod
    def error(cls, status, code, description, headers=()):
        return ApiError(status, {"error": code, "error_description": description},
                        list(headers) + cls.NO_CACHE)

    def handle(self, req):
        try:
            return self._issue(req)
        except ApiError as err:
            return Reply.from_error(err)

    def _issue(self, req):
        if req.method != "POST":
            raise self.error(405, "invalid_request", "The token endpoint only accepts POST",
                             [("Allow", "POST")])
        params = self._form(req)
        basic = self._basic(req)
        for name in ("grant_type",) + (() if basic else ("client_id", "client_secret")):
            if not params.get(name):
                raise self.error(400, "invalid_request", "Missing %s parameter" % name)
        if basic:
            if "client_secret" in params:
                raise self.error(400, "invalid_request",
                                 "More than one client authentication method was used")
            if params.get("client_id", basic[0]) != basic[0]:
                raise self.error(400, "invalid_request",
                                 "client_id does not match the Authorization header")
        if params["grant_type"] != "client_credentials":
            raise self.error(400, "unsupported_grant_type",
                             "Grant type %s is not supported" % params["grant_type"])
        client_id, secret = basic or (params["client_id"], params["client_secret"])
        if not self._known(client_id, secret):
            challenge = [("WWW-Authenticate", 'Basic realm="ovh"')] if basic else []
            raise self.error(401, "invalid_client", "Client authentication failed",
                             challenge)
        scope = params.get("scope", "all")
        if scope.split() != ["all"]:
            raise self.error(400, "invalid_scope", "Unknown scope %s" % scope)
        return self._grant()

    def _form(self, req):
        """The form parameters; each at most once (RFC 6749 §3.2)."""
        ctype = (req.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype != FORM_TYPE:
            raise self.error(400, "invalid_request", "Content-Type must be " + FORM_TYPE)
        try:
            pairs = parse_qsl(req.body.decode("utf-8"), keep_blank_values=True,
                              strict_parsing=bool(req.body), errors="strict")
        except (ValueError, UnicodeDecodeError):
            raise self.error(400, "invalid_request", "Malformed form body")
        params = {}
        for key, value in pairs:
            if key in params:
                raise self.error(400, "invalid_request", "Repeated %s parameter" % key)
            params[key] = value
        return params

    def _basic(self, req):
        """(client_id, client_secret) from an HTTP Basic header (RFC 6749 §2.3.1), or None."""
        authz = req.headers.get("Authorization") or ""
        if not authz:
            return None
        scheme, _, token = authz.partition(" ")
        if scheme.lower() != "basic":
            raise self.error(400, "invalid_request",
                             "Unsupported Authorization scheme %s" % scheme)
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        client_id, colon, secret = decoded.partition(":")
        if not colon:
            raise self.error(401, "invalid_client", "Malformed Basic credentials",
                             [("WWW-Authenticate", 'Basic realm="ovh"')])
        return unquote_plus(client_id), unquote_plus(secret)

    def _known(self, client_id, secret):
        ok = False
        for client in self._config.get("oauth_clients"):
            same_id = hmac.compare_digest(client["client_id"].encode(), client_id.encode())
            same_secret = hmac.compare_digest(client["client_secret"].encode(),
                                              secret.encode())
            ok = ok or (same_id and same_secret)
        return ok

    def _grant(self):
        cfg = self._config.snapshot()
        token = secrets.token_urlsafe(32)
        ttl = cfg["token_ttl"]
        self._config.add_token(token, time.time() + cfg["clock_offset"] + ttl)
        return Reply.json(200, {"access_token": token, "token_type": "Bearer",
                                "expires_in": ttl, "scope": "all"}, self.NO_CACHE)


# --------------------------------------------------------------------------------------
# Admin interface (/_sim/...)
# --------------------------------------------------------------------------------------

class Admin:
    """Test control: no auth, JSON in and out, never recorded in the request log."""

    def __init__(self, sim):
        self._sim = sim
        self._routes = {
            ("GET", "/_sim/health"): lambda body: {"ok": True},
            ("GET", "/_sim/log"): lambda body: {"requests": sim.log.entries()},
            ("POST", "/_sim/log/reset"): self._reset_log,
            ("GET", "/_sim/changes"): lambda body: {"changes": sim.changes.entries()},
            ("GET", "/_sim/state"): lambda body: sim.state.dump(),
            ("GET", "/_sim/settings"): lambda body: sim.state.settings(),
            ("POST", "/_sim/seed"): self._seed,
            ("POST", "/_sim/reset"): self._reset,
            ("GET", "/_sim/config"): lambda body: sim.config.snapshot(),
            ("POST", "/_sim/config"): lambda body: sim.config.merge(self._json(body)),
            ("POST", "/_sim/fault"): lambda body: sim.faults.add(self._json(body)),
            ("GET", "/_sim/faults"): lambda body: {"faults": sim.faults.list()},
            ("POST", "/_sim/faults/clear"): self._clear_faults,
        }

    def handle(self, method, path, body):
        """Return a Reply for an admin request."""
        action = self._routes.get((method, path))
        if action is None:
            known = any(p == path for _, p in self._routes)
            status = 405 if known else 404
            return Reply.json(status, {"error": "%s %s: %s" % (
                method, path, "method not allowed" if known else "no such admin route")})
        try:
            return Reply.json(200, action(body))
        except SeedError as exc:
            return Reply.json(400, {"error": str(exc)})

    @staticmethod
    def _json(body):
        try:
            return parse_json(body) if body.strip() else {}
        except (ValueError, UnicodeDecodeError) as exc:
            raise SeedError("invalid JSON: %s" % exc)

    def _reset_log(self, body):
        self._sim.log.reset()
        return {"ok": True}

    def _seed(self, body):
        self._sim.state.load(self._json(body))
        return {"ok": True}

    def _reset(self, body):
        self._sim.reset()
        return {"ok": True}

    def _clear_faults(self, body):
        self._sim.faults.clear()
        return {"ok": True}


# --------------------------------------------------------------------------------------
# HTTP handler
# --------------------------------------------------------------------------------------

class BodyError(Exception):
    """The request body cannot be read; the connection cannot be reused afterwards."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Handler(BaseHTTPRequestHandler):
    """One instance per TCP connection; keep-alive serves many requests through it."""

    protocol_version = "HTTP/1.1"
    server_version = "ovhsim/1.0"
    timeout = 300  # an idle keep-alive connection is closed after this many seconds
    # Headers and body go out in two writes: without TCP_NODELAY, Nagle's algorithm would hold
    # the body until the client's delayed ACK, adding ~40 ms to every reused-connection reply.
    disable_nagle_algorithm = True

    def version_string(self):
        return self.server_version

    def setup(self):
        super().setup()
        self.sim = self.server.sim
        self.conn_id = self.sim.next_conn_id()

    def _dispatch(self):
        """Entry point for every method: admin requests first, then the API."""
        try:
            path = self.path.partition("?")[0]
            if path == "/_sim" or path.startswith("/_sim/"):
                self._serve_admin(path)
            else:
                self._serve_api()
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # never let a bug kill the connection silently
            self._report_crash()

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _dispatch

    # ---- admin ----

    def _serve_admin(self, path):
        try:
            body = self._read_body()
        except BodyError as err:
            self.close_connection = True
            self._send(Reply.json(err.status, {"error": str(err)}), None)
            return
        self._send(self.sim.admin.handle(self.command, path, body), None)

    # ---- API ----

    def _serve_api(self):
        req = Request(self.command, self.path, self.headers, b"", self.conn_id,
                      self.sim.new_query_id(), self.headers.get("Host") or self.sim.address)
        try:
            req.body = self._read_body()
        except BodyError as err:
            self.close_connection = True
            self._reply(req, Reply.from_error(ovh_error(err.status, str(err))))
            return
        fault = self.sim.faults.take(req.method, req.api_path or req.path)
        action = fault["action"] if fault else None
        if action in ("drop", "hang", "lost_reply", "late"):
            self._no_reply(req, fault)
            return
        if action == "delay":
            fault["_wake"].wait(fault.get("seconds", 1.0))
        if action in ("status", "malformed", "html", "huge"):
            reply = Faults.reply(fault)
        elif action == "raise":
            reply = self._crash_reply("fault action raise")
        else:
            reply = self._perform(req)
        self._reply(req, reply, action)

    def _perform(self, req):
        try:
            return self.sim.api.handle(req)
        except Exception:
            return self._crash_reply(traceback.format_exc())

    def _reply(self, req, reply, action=None):
        latency = self.sim.config.get("latency")
        if latency:
            self.sim.stopping.wait(latency)
        # Recorded just before the bytes leave, so a client that got the reply always
        # finds the request in the log.
        self.sim.log.record(req, reply.status, action)
        self._send(reply, req.query_id)

    def _no_reply(self, req, fault):
        """drop, hang, lost_reply and late: the client never gets an answer."""
        action = fault["action"]
        if action == "lost_reply":
            self._perform(req)
        self.sim.log.record(req, 0, action)
        self.log_message('"%s" gets no reply (fault %s)', self.requestline, action)
        if action == "hang":
            fault["_wake"].wait(fault.get("seconds", 3600))
        if action == "late" and not fault["_wake"].wait(fault.get("seconds", 2.0)):
            # A slow backend or a queueing proxy: the client gave up, the API still acts.
            self._perform(req)
        self.close_connection = True
        if fault.get("rst"):
            # linger on with timeout 0, closed before socketserver's orderly shutdown:
            # the client sees a TCP reset instead of a clean end of stream.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()

    # ---- low-level I/O ----

    def _read_body(self):
        """The raw body bytes: Content-Length or chunked; b"" when there is none."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return self._read_chunked()
        length = self.headers.get("Content-Length")
        if length is None:
            return b""
        if not length.strip().isdigit():
            raise BodyError(400, "Invalid Content-Length")
        length = int(length)
        if length > MAX_BODY:
            raise BodyError(413, "Request body too large")
        body = self.rfile.read(length)
        if len(body) != length:
            raise BodyError(400, "Truncated request body")
        return body

    def _read_chunked(self):
        body = b""
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BodyError(400, "Invalid chunked encoding")
            if size == 0:
                while self.rfile.readline(1024).strip():
                    pass  # trailers
                return body
            if len(body) + size > MAX_BODY:
                raise BodyError(413, "Request body too large")
            body += self.rfile.read(size)
            self.rfile.readline(1024)

    def _send(self, reply, query_id):
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.payload)))
        if query_id:
            self.send_header("X-Ovh-QueryID", query_id)
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(reply.payload)
        self.wfile.flush()

    def send_error(self, code, message=None, explain=None):
        """Protocol-level errors (bad request line...) get an OVH-shaped JSON body too."""
        self.close_connection = True
        if self.request_version == "HTTP/0.9":
            self.request_version = "HTTP/1.1"  # nobody speaks 0.9: always send a status line
        body = {"class": status_class(code), "message": message or status_message(code)}
        try:
            self._send(Reply.json(code, body), self.sim.new_query_id())
        except OSError:
            pass

    def _crash_reply(self, text):
        sys.stderr.write("ovhsim: internal error: %s\n" % text.rstrip())
        sys.stderr.flush()
        return Reply.from_error(ovh_error(500, "Internal server error",
                                          "Server::InternalServerError"))

    def _report_crash(self):
        self.close_connection = True
        try:
            self._send(self._crash_reply(traceback.format_exc()), self.sim.new_query_id())
        except OSError:
            pass

    def log_message(self, fmt, *args):
        if not self.sim.quiet:
            sys.stderr.write("ovhsim: conn %s: %s\n" % (getattr(self, "conn_id", "?"),
                                                        fmt % args))


# --------------------------------------------------------------------------------------
# The simulator: ties everything together
# --------------------------------------------------------------------------------------

class Server(ThreadingHTTPServer):
    """Threaded server; daemon threads so hung or idle connections never block exit."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 resets connections under parallel load


class Simulator:
    """Owns the single lock, the components and the HTTP server."""

    def __init__(self, seed, config, quiet=False, port=0):
        self.lock = threading.RLock()
        self.quiet = quiet
        self.stopping = threading.Event()
        self.config = Config(self.lock, config)
        self.state = State(self.lock, self.config)
        self._seed = copy.deepcopy(seed)
        self.state.load(seed)  # raises SeedError on a bad seed
        self.auth = Auth(self.config)
        self.changes = ChangeLog(self.lock)
        self.api = Api(self.state, self.auth, self.config, self.changes)
        self.faults = Faults(self.lock)
        self.log = RequestLog(self.lock)
        self.admin = Admin(self)
        self._conn_ids = 0
        self._query_ids = 0
        self.server = Server(("127.0.0.1", port), Handler)
        self.server.sim = self
        self.port = self.server.server_address[1]
        self.address = "127.0.0.1:%d" % self.port

    def next_conn_id(self):
        with self.lock:
            self._conn_ids += 1
            return self._conn_ids

    def new_query_id(self):
        """Unique per request, shaped like OVH's: EU.ext-N.<hex time>.<counter>.<hex>."""
        with self.lock:
            self._query_ids += 1
            counter = self._query_ids
        now = int(time.time() + self.config.get("clock_offset"))
        return "EU.ext-1.%08x.%d.%s" % (now, counter, secrets.token_hex(16))

    def reset(self):
        self.config.restore()
        self.state.load(self._seed)
        self.faults.clear()
        self.log.reset()
        self.changes.reset()

    def serve(self):
        thread = threading.Thread(target=self.server.serve_forever, args=(0.1,), daemon=True)
        thread.start()
        return thread

    def stop(self):
        self.stopping.set()
        self.faults.clear()
        self.server.shutdown()
        self.server.server_close()


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------

def load_seed(spec):
    if spec == "demo":
        return copy.deepcopy(DEMO_SEED)
    if spec == "empty":
        return {"services": []}
    with open(spec, encoding="utf-8") as f:
        return json.load(f)


def write_port_file(path, port):
    """Atomic, so a waiting test never reads a half-written number."""
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def parse_args(argv):
    p = argparse.ArgumentParser(description="Simulator of the OVHcloud EFS snapshot API.")
    p.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (0: any free)")
    p.add_argument("--port-file", help="write the chosen port there once listening")
    p.add_argument("--seed", default="demo", help="demo, empty or PATH.json")
    p.add_argument("--app-key", default="demo-ak")
    p.add_argument("--app-secret", default="demo-as")
    p.add_argument("--consumer-key", action="append",
                   help="accepted consumer key (repeatable; default demo-ck)")
    p.add_argument("--client-id", default="demo-client-id", help="OAuth2 client id")
    p.add_argument("--client-secret", default="demo-client-secret",
                   help="OAuth2 client secret")
    p.add_argument("--token-ttl", type=int, default=3600,
                   help="expires_in of issued OAuth2 tokens, in seconds")
    p.add_argument("--create-delay", type=float, default=2.0)
    p.add_argument("--delete-delay", type=float, default=2.0)
    p.add_argument("--clock-offset", type=float, default=0.0)
    p.add_argument("--quiet", action="store_true", help="no per-request lines on stderr")
    return p.parse_args(argv)


def config_from_args(args):
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    cfg.update(app_key=args.app_key, app_secret=args.app_secret,
               consumer_keys=args.consumer_key or ["demo-ck"],
               create_delay=args.create_delay, delete_delay=args.delete_delay,
               clock_offset=args.clock_offset, token_ttl=max(0, args.token_ttl),
               oauth_clients=[{"client_id": args.client_id,
                               "client_secret": args.client_secret}])
    return cfg


def main(argv=None):
    args = parse_args(argv)
    try:
        sim = Simulator(load_seed(args.seed), config_from_args(args), args.quiet, args.port)
    except (OSError, ValueError) as exc:
        sys.stderr.write("ovhsim: %s\n" % exc)
        return 2
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    sim.serve()
    if args.port_file:
        write_port_file(args.port_file, sim.port)
    print("ovhsim listening on http://127.0.0.1:%d/1.0" % sim.port, flush=True)
    while not stop.wait(0.1):
        pass
    sim.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
