#!/usr/bin/env python3
"""results/test/load.py: concurrent clients against `vcons serve` (python3 threads, urllib).

  load.py URL SUBMISSION_DIR CLIENTS SECONDS ACKS_OUT

Each client, until the time is up: posts the next unsent submission of SUBMISSION_DIR (*.json),
or, once all are sent, one already acknowledged again (which must get the same id back, not a new
row); lists the results (?limit=20, sorted by score) and fetches one. Every answer with 200/201 to
a POST is an acknowledgement, written to ACKS_OUT as JSON lines {"file", "digest", "id"}. Prints
one summary line as JSON (requests, failures, rates, latency percentiles) on stdout. Connection
errors are counted, not fatal (the kill -9 phase expects them)."""
import hashlib
import json
import os
import random
import sys
import threading
import time
import urllib.error
import urllib.request

url, subdir, clients, seconds, acks_out = sys.argv[1:6]
clients, seconds = int(clients), float(seconds)
files = sorted(os.path.join(subdir, f) for f in os.listdir(subdir) if f.endswith(".json"))
lock = threading.Lock()
state = {"next": 0, "acked": [], "posts": 0, "gets": 0, "fail_http": 0, "fail_conn": 0,
         "dupe_mismatch": 0, "resubmits": 0}
lat = {"post": [], "get": []}
acks = open(acks_out, "w")


def request(kind, req):
    t = time.monotonic()
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            body, code = r.read(), r.status
    except urllib.error.HTTPError as e:
        body, code = e.read(), e.code
    except (urllib.error.URLError, OSError):
        with lock:
            state["fail_conn"] += 1
        return None, None
    with lock:
        lat[kind].append(time.monotonic() - t)
        state["posts" if kind == "post" else "gets"] += 1
        if code >= 300:
            state["fail_http"] += 1
    return code, body


def post(path, again):
    data = open(path, "rb").read()
    digest = hashlib.sha256(json.loads(data)["manifest"].encode()).hexdigest()
    req = urllib.request.Request(url + "/api/results", data=data,
                                 headers={"Content-Type": "application/json"})
    code, body = request("post", req)
    if code in (200, 201):
        a = json.loads(body)
        with lock:
            if again:
                state["resubmits"] += 1
                state["dupe_mismatch"] += a["id"] != again["id"] or a["created"]
            else:
                rec = {"file": os.path.basename(path), "digest": digest, "id": a["id"]}
                state["acked"].append(rec)
                acks.write(json.dumps(rec) + "\n")
                acks.flush()


def client(deadline, seed):
    rnd = random.Random(seed)
    while time.monotonic() < deadline:
        with lock:
            i = state["next"]
            state["next"] += 1
            again = rnd.choice(state["acked"]) if i >= len(files) and state["acked"] else None
        if i < len(files):
            post(files[i], None)
        elif again:
            post(os.path.join(subdir, again["file"]), again)
        request("get", url + "/api/results?limit=20&sort=score&order=desc")
        with lock:
            some = rnd.choice(state["acked"]) if state["acked"] else None
        if some:
            request("get", f"{url}/api/results/{some['id']}")
        if state["fail_conn"]:
            time.sleep(0.05)  # the server is down (kill -9 phase): do not spin


def pct(v, p):
    v = sorted(v)
    return round(1000 * v[min(len(v) - 1, int(p / 100 * len(v)))], 2) if v else None


start = time.monotonic()
deadline = start + seconds
threads = [threading.Thread(target=client, args=(deadline, k)) for k in range(clients)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.monotonic() - start
print(json.dumps({
    "clients": clients, "seconds": round(elapsed, 1), "posts": state["posts"],
    "acknowledged_new": len(state["acked"]), "resubmits": state["resubmits"],
    "gets": state["gets"], "http_failures": state["fail_http"],
    "connection_failures": state["fail_conn"], "resubmit_mismatch": state["dupe_mismatch"],
    "requests_per_s": round((state["posts"] + state["gets"]) / elapsed, 1),
    "post_ms_p50": pct(lat["post"], 50), "post_ms_p99": pct(lat["post"], 99),
    "get_ms_p50": pct(lat["get"], 50), "get_ms_p99": pct(lat["get"], 99)}))
