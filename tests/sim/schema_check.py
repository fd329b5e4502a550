"""Checks against OVH's published /storage schema (the vendored ovh-storage-schema.json).

One checker for both sides of the wire, so neither can drift from the schema unseen:
tests/sim/test_sim.py validates the simulator's answers with check_reply, and
tests/integration/test_api.py every request the client made (the simulator's request log)
with check_request. Python standard library only.
"""

import json
import re
import uuid
from pathlib import Path
from urllib.parse import parse_qsl

SCHEMA_FILE = Path(__file__).resolve().parent / "ovh-storage-schema.json"
RFC3339_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

# Every route ovhsnapfs calls (src/api/efs.c: list_path, snapshot_path), as the schema spells it.
CLIENT_ROUTES = [
    ("GET", "/storage/netapp"),
    ("GET", "/storage/netapp/{serviceName}/share"),
    ("GET", "/storage/netapp/{serviceName}/share/{shareId}/accessPath"),
    ("GET", "/storage/netapp/{serviceName}/share/{shareId}/snapshot"),
    ("POST", "/storage/netapp/{serviceName}/share/{shareId}/snapshot"),
    ("GET", "/storage/netapp/{serviceName}/share/{shareId}/snapshot/{snapshotId}"),
    ("PUT", "/storage/netapp/{serviceName}/share/{shareId}/snapshot/{snapshotId}"),
    ("DELETE", "/storage/netapp/{serviceName}/share/{shareId}/snapshot/{snapshotId}"),
    ("POST", "/storage/netapp/{serviceName}/share/{shareId}/snapshot/{snapshotId}/hold"),
]

# The share's settings (src/api/efs.c, src/fs/settings.c: user.ovh.snapshot_reserve, snapshot_policy,
# revert and SERVICE/.policies).
SETTINGS_ROUTES = [
    ("GET", "/storage/netapp/{serviceName}/share/{shareId}/snapshotReserve"),
    ("PUT", "/storage/netapp/{serviceName}/share/{shareId}/snapshotReserve"),
    ("GET", "/storage/netapp/{serviceName}/share/{shareId}/snapshotPolicy"),
    ("PUT", "/storage/netapp/{serviceName}/share/{shareId}/snapshotPolicy"),
    ("GET", "/storage/netapp/{serviceName}/snapshotPolicy"),
    ("GET", "/storage/netapp/{serviceName}/share/{shareId}"),
    ("POST", "/storage/netapp/{serviceName}/share/{shareId}/revert"),
]


class Schema:
    def __init__(self, path=SCHEMA_FILE):
        self.doc = json.loads(Path(path).read_text())
        self.models = self.doc["models"]
        self.ops = {}  # (method, schema path) -> operation
        for api in self.doc["apis"]:
            for op in api["operations"]:
                self.ops[(op["httpMethod"], api["path"])] = op

    def route(self, method, path):
        """(schema path, operation, {path parameter: value}) of a concrete path; None if none."""
        for (m, pattern), op in self.ops.items():
            if m != method:
                continue
            names = re.findall(r"\{([^}]+)\}", pattern)
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(pattern)) + "$"
            found = re.match(regex, path)
            if found:
                return pattern, op, dict(zip(names, found.groups()))
        return None

    # ---- values ----

    def check_value(self, type_name, value, where):
        """A value of a schema type: models (strictly), enums, arrays and the scalars."""
        if type_name.endswith("[]"):
            assert isinstance(value, list), "%s: expected an array of %s" % (where, type_name)
            for i, item in enumerate(value):
                self.check_value(type_name[:-2], item, "%s[%d]" % (where, i))
        elif type_name in self.models and "enum" in self.models[type_name]:
            assert value in self.models[type_name]["enum"], \
                "%s: %r not in %s" % (where, value, type_name)
        elif type_name in self.models:
            self.check_object(type_name, value, where)
        elif type_name == "uuid":
            assert isinstance(value, str) and str(uuid.UUID(value)) == value.lower(), where
        elif type_name == "datetime":
            assert isinstance(value, str) and RFC3339_RE.match(value), where
        elif type_name == "long":
            assert isinstance(value, int) and not isinstance(value, bool), where
        elif type_name == "string":
            assert isinstance(value, str), where
        elif type_name == "boolean":
            assert isinstance(value, bool), where
        elif type_name.startswith("map[string]"):
            assert isinstance(value, dict), where
            for key, item in value.items():
                self.check_value(type_name[len("map[string]"):], item, "%s.%s" % (where, key))
        else:
            raise AssertionError("%s: unexpected schema type %s" % (where, type_name))

    def check_object(self, model_name, obj, where, complete=False):
        """Every key a property of the model, of its type, null only where it may be;
        complete: every property there (a full object, not a list without detail)."""
        props = self.models[model_name]["properties"]
        assert isinstance(obj, dict), "%s: expected a %s object" % (where, model_name)
        for key, value in obj.items():
            assert key in props, "%s: %s is not in %s" % (where, key, model_name)
            if value is None:
                assert props[key]["canBeNull"], "%s.%s may not be null" % (where, key)
                continue
            self.check_value(props[key]["type"], value, "%s.%s" % (where, key))
        if complete:
            missing = set(props) - set(obj)
            assert not missing, "%s: %s lacks %s" % (where, model_name, sorted(missing))
        elif "id" in props:
            assert "id" in obj, "%s: %s without its id" % (where, model_name)

    # ---- both sides of a call ----

    def check_reply(self, method, path, status, body, complete=True):
        """An answer of the API to method path: 2xx, and a body of the operation's type."""
        found = self.route(method, path)
        assert found, "no such route in the schema: %s %s" % (method, path)
        pattern, op, params = found
        assert 200 <= status < 300, "%s %s: HTTP %d" % (method, path, status)
        rtype = op["responseType"]
        if rtype == "void":
            assert body in (b"", b"null"), "%s %s: void answered %r" % (method, path, body)
            return
        value = json.loads(body)
        if rtype.endswith("[]") and complete:
            assert isinstance(value, list), "%s %s: not an array" % (method, path)
            for i, item in enumerate(value):
                self.check_object(rtype[:-2], item, "%s %s[%d]" % (method, path, i), True)
        elif rtype in self.models and "properties" in self.models[rtype]:
            self.check_object(rtype, value, "%s %s" % (method, path), complete)
        else:
            self.check_value(rtype, value, "%s %s" % (method, path))

    def check_log(self, entries):
        """check_request on each request of the simulator's log (its /1.0 prefix taken off;
        /auth/time, outside the /storage schema, skipped); the set of (method, route) seen."""
        seen = set()
        for r in entries:
            path = r["path"][4:]
            if path == "/auth/time":
                continue
            self.check_request(r["method"], path, r["query"], r["body"])
            seen.add((r["method"], self.route(r["method"], path)[0]))
        return seen

    def check_request(self, method, path, query, body):
        """A request as the client sent it: a route of the schema, its path parameters of
        their types, only its query parameters with values of their types, and a body of
        only the writable fields of its model, with values of their types."""
        found = self.route(method, path)
        assert found, "no such route in the schema: %s %s" % (method, path)
        pattern, op, params = found
        where = "%s %s" % (method, pattern)
        declared = {p.get("name"): p for p in op["parameters"]}
        for name, value in params.items():
            assert declared[name]["paramType"] == "path", where
            if declared[name]["dataType"] == "uuid":
                self.check_value("uuid", value.lower(), "%s {%s}" % (where, name))
        for key, value in parse_qsl(query or "", keep_blank_values=True):
            assert declared.get(key, {}).get("paramType") == "query", "%s ?%s" % (where, key)
            if declared[key]["dataType"] == "boolean":
                assert value in ("true", "false"), "%s ?%s=%s" % (where, key, value)
        body_params = [p for p in op["parameters"] if p["paramType"] == "body"]
        if not body:
            assert not any(p.get("required") for p in body_params), "%s: no body" % where
            return
        assert body_params, "%s takes no body" % where
        model = self.models[body_params[0]["dataType"]]["properties"]
        sent = json.loads(body)
        assert isinstance(sent, dict), where
        for key, value in sent.items():
            assert key in model and not model[key]["readOnly"], \
                "%s: %s is not a writable field of %s" % (where, key, body_params[0]["dataType"])
            if value is None:
                assert model[key]["canBeNull"], "%s: %s may not be null" % (where, key)
            else:
                self.check_value(model[key]["type"], value, "%s body.%s" % (where, key))
