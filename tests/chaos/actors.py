"""The chaos run's outside actors: another host's signed API calls, and the fault schedule."""

import hashlib
import http.client
import json
import time

AK, AS, CK = "demo-ak", "demo-as", "demo-ck"  # the simulator's demo credentials
FAULT_ACTIONS = ("500", "502", "503", "429", "drop", "rst", "hang", "lost_reply", "late",
                 "malformed", "html", "delay")


def signed_call(port, method, path, body=None):
    """One API call as another host makes it (AK/AS/CK signature): (status, JSON or None);
    status 0 when no reply came (faults apply to it too)."""
    target = "/1.0" + path
    raw = b"" if body is None else json.dumps(body).encode()
    ts = str(int(time.time()))
    url = "http://127.0.0.1:%d%s" % (port, target)
    sig = "$1$" + hashlib.sha1("+".join([AS, CK, method, url, raw.decode(), ts])
                               .encode()).hexdigest()
    headers = {"X-Ovh-Application": AK, "X-Ovh-Consumer": CK, "X-Ovh-Timestamp": ts,
               "X-Ovh-Signature": sig, "User-Agent": "chaos-other-host/1",
               "Content-Type": "application/json"}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        conn.request(method, target, body=raw or None, headers=headers)
        r = conn.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data and r.status < 300 else None)
    except (OSError, http.client.HTTPException, ValueError):
        return 0, None
    finally:
        conn.close()


def fault_spec(rnd, oauth):
    """One fault of the simulator's (POST /_sim/fault), drawn from rnd."""
    action = rnd.choice(FAULT_ACTIONS)
    spec = {"method": rnd.choice(["GET", "GET", "POST", "PUT", "DELETE"]),
            "path": rnd.choice([r"/snapshot$", r"/snapshot/[^/]+$", r"/share$", r".*"]),
            "times": rnd.randint(1, 3)}
    if action in ("500", "502", "503"):
        spec.update(action="status", status=int(action))
    elif action == "429":
        spec.update(action="status", status=429, retry_after=1)
    elif action == "rst":
        spec.update(action="drop", rst=True)
    elif action in ("hang", "late", "delay"):
        spec.update(action=action, seconds=round(rnd.uniform(0.3, 4.0), 2))
    else:
        spec.update(action=action)
    if action in ("malformed", "html") and spec["method"] in ("PUT", "DELETE"):
        # The simulator answers these 200 without acting; an API's 200 has acted.
        spec["method"] = "GET"
    if oauth and rnd.random() < 0.15:
        spec.update(method="POST", path="/auth/oauth2/token")
    return spec
