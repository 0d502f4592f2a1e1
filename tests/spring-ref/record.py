#!/usr/bin/env python3
"""Record Resilience4j's actuator answers for the fixed scenario of tests/spring-ref/README.md.

    tests/spring-ref/record.py            build + start the Spring reference service, drive the
                                          scenario, (re)write tests/spring-ref/golden/
    tests/spring-ref/record.py --check    the same into a temporary directory, then compare with
                                          golden/ (time-dependent values aside); exit 1 on a difference
    tests/spring-ref/record.py --out DIR  write the recording to DIR instead of golden/

A downstream HTTP server on a free loopback port answers /orders and /inventory as each step asks
(success, failure, slow, hang); the service (scripts/spring-ref.sh) calls it through its breakers.
After every phase the script saves, for that phase, golden/<phase>.json (the phase's actions with
their answers, then the GET/POST answers of the actuator: status, content type, body) and
golden/<phase>.prom (the resilience4j_* lines of /actuator/prometheus, HELP and TYPE included).
golden/scenario.json is the scenario as data, for a replay against fusebox.

Standard library only. Exit status: 0 ok, 1 scenario or comparison failure, 2 java/mvn missing
(nothing recorded), 3 build failed.
"""

import argparse
import difflib
import http.client
import http.server
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
SCRIPT = os.path.join(ROOT, "scripts", "spring-ref.sh")
YML = os.path.join(HERE, "application.yml")
GOLDEN = os.path.join(HERE, "golden")

# Downstream behaviours (README "Downstream").
SLOW_MS = 300  # > slowCallDurationThreshold 200 ms of `orders`
HANG_MS = 800  # > timeoutDuration 500 ms of `inventory`

BREAKERS = ["orders", "inventory"]


def call(breaker, downstream, status):
    """GET /call/{breaker} with the downstream told to behave as `downstream`; expect `status`.
    `downstream` is None when the breaker must not let the call through (no downstream hit)."""
    return {"do": "call", "breaker": breaker, "downstream": downstream, "expect": status}


def post(breaker, body, status):
    """POST /actuator/circuitbreakers/{breaker} with the raw `body` (JSON text); expect `status`."""
    return {"do": "post", "breaker": breaker, "body": body, "expect": status}


def get(path, status):
    """A GET of `path` whose answer goes into the phase's actions (bad requests and oddities)."""
    return {"do": "get", "path": path, "expect": status}


def wait(ms):
    return {"do": "wait", "ms": ms}


# The scenario. Each phase: its actions, then the snapshot (SNAPSHOT_GETS + /actuator/prometheus).
PHASES = [
    ("00-start", "both breakers as configured, no call yet", []),
    ("01-orders-closed", "orders: 2 successes and 1 slow success (below minimumNumberOfCalls 4)", [
        call("orders", "success", 200),
        call("orders", "success", 200),
        call("orders", "slow", 200),
    ]),
    ("02-orders-open", "orders: 2 failures; 2 of 4 failed = 50 % >= 50 %: CLOSED -> OPEN", [
        call("orders", "failure", 500),
        call("orders", "failure", 500),
    ]),
    ("03-orders-not-permitted", "orders: 2 calls while OPEN, rejected, the downstream never sees them", [
        call("orders", None, 503),
        call("orders", None, 503),
    ]),
    ("04-orders-open-waited", "1.1 s pass (> waitDurationInOpenState 1 s); no call, so still OPEN", [
        wait(1100),
    ]),
    ("05-orders-half-open", "orders: 1 probe succeeds: OPEN -> HALF_OPEN on the call, 1 of 2 probes done", [
        call("orders", "success", 200),
    ]),
    ("06-orders-closed-again", "orders: the 2nd probe succeeds: 0 % failed: HALF_OPEN -> CLOSED", [
        call("orders", "success", 200),
    ]),
    ("07-orders-forced-open", "POST FORCE_OPEN on orders, then 1 call, rejected", [
        post("orders", '{"updateState":"FORCE_OPEN"}', 200),
        call("orders", None, 503),
    ]),
    ("08-orders-disabled", "POST DISABLE on orders, then 1 failing call, let through and not counted", [
        post("orders", '{"updateState":"DISABLE"}', 200),
        call("orders", "failure", 500),
    ]),
    ("09-orders-closed-by-post", "POST CLOSE on orders, then 1 success", [
        post("orders", '{"updateState":"CLOSE"}', 200),
        call("orders", "success", 200),
    ]),
    ("10-inventory-open", "inventory: success, failure, timeout; 2 of 3 failed: CLOSED -> OPEN, health DOWN", [
        call("inventory", "success", 200),
        call("inventory", "failure", 500),
        call("inventory", "hang", 504),
    ]),
    ("11-inventory-not-permitted", "inventory: 1 call while OPEN, rejected", [
        call("inventory", None, 503),
    ]),
    ("12-bad-requests", "answers to bad or unsupported requests; nothing changes", [
        post("orders", '{"updateState":"BOGUS"}', 400),
        post("orders", '{"updateState":', 400),
        post("orders", '{}', 400),
        post("orders", '', 400),
        get("/actuator/circuitbreakers/orders", 405),
        get("/actuator/circuitbreakerevents/orders/error", 200),
        get("/actuator/circuitbreakerevents/orders/STATE_TRANSITION", 200),
        get("/actuator/circuitbreakerevents/orders/bogus", 500),
        get("/actuator/circuitbreakerevents/nope", 200),
        get("/actuator/health/circuitBreakers", 503),
        get("/call/nope", 404),
    ]),
    ("13-post-creates-breaker", "POST FORCE_OPEN on an unknown name creates that breaker (default config)", [
        post("created-by-post", '{"updateState":"FORCE_OPEN"}', 200),
    ]),
]

SNAPSHOT_GETS = [
    "/actuator/circuitbreakers",
    "/actuator/circuitbreakerevents",
    "/actuator/circuitbreakerevents/orders",
    "/actuator/circuitbreakerevents/inventory",
    "/actuator/health",
]

OPENMETRICS = "application/openmetrics-text;version=1.0.0;charset=utf-8"


class ScenarioError(Exception):
    pass


# ------------------------------------------------------------------------------------------------
# Downstream


class Downstream:
    """A loopback HTTP server: GET /<breaker> answers as `behaviour[breaker]` says."""

    def __init__(self):
        self.behaviour = {}
        self.hits = {b: 0 for b in BREAKERS}
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                name = self.path.strip("/")
                with outer.lock:
                    mode = outer.behaviour.get(name)
                    if name in outer.hits:
                        outer.hits[name] += 1
                if mode == "success":
                    self.answer(200, "ok " + name)
                elif mode == "slow":
                    time.sleep(SLOW_MS / 1000)
                    self.answer(200, "ok " + name + " (slow)")
                elif mode == "hang":
                    time.sleep(HANG_MS / 1000)
                    self.answer(200, "ok " + name + " (too late)")
                elif mode == "failure":
                    self.answer(500, "boom")
                else:
                    self.answer(404, "no behaviour set for " + self.path)

            def answer(self, status, text):
                body = text.encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the caller gave up (timeout); nothing to answer to

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d/" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------------------------------
# HTTP to the service


def request(port, method, path, body=None, accept=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if accept:
        headers["Accept"] = accept
    try:
        conn.request(method, path, body=None if body is None else body.encode(), headers=headers)
        resp = conn.getresponse()
        raw = resp.read().decode()
        return resp.status, resp.getheader("Content-Type"), raw
    finally:
        conn.close()


def answer(port, method, path, body=None):
    status, ctype, raw = request(port, method, path, body)
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw
    return {"status": status, "contentType": ctype, "body": parsed}


def prometheus(port, accept=None):
    status, ctype, raw = request(port, "GET", "/actuator/prometheus", accept=accept)
    if status != 200:
        raise ScenarioError("/actuator/prometheus answered %d: %s" % (status, raw[:300]))
    keep = [
        line for line in raw.splitlines()
        if line.startswith("resilience4j_")
        or re.match(r"# (HELP|TYPE|UNIT) resilience4j_", line)
        or line == "# EOF"  # the OpenMetrics terminator
    ]
    return ctype, "\n".join(keep) + "\n"


# ------------------------------------------------------------------------------------------------
# Recording


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run_action(port, downstream, action):
    kind = action["do"]
    if kind == "wait":
        time.sleep(action["ms"] / 1000)
        return dict(action)
    if kind == "call":
        breaker = action["breaker"]
        with downstream.lock:
            downstream.behaviour[breaker] = action["downstream"]
            before = downstream.hits[breaker]
        began = time.monotonic()
        status, ctype, raw = request(port, "GET", "/call/" + breaker)
        took = (time.monotonic() - began) * 1000
        with downstream.lock:
            hits = downstream.hits[breaker] - before
        expected_hits = 0 if action["downstream"] is None else 1
        if hits != expected_hits:
            raise ScenarioError("GET /call/%s reached the downstream %d time(s), expected %d"
                                % (breaker, hits, expected_hits))
        result = dict(action, status=status, contentType=ctype, body=raw)
        timing = took
    elif kind == "post":
        path = "/actuator/circuitbreakers/" + action["breaker"]
        result = dict(action, **answer(port, "POST", path, action["body"]))
        timing = None
    elif kind == "get":
        result = dict(action, **answer(port, "GET", action["path"]))
        timing = None
    else:
        raise ScenarioError("unknown action " + kind)
    if result["status"] != action["expect"]:
        raise ScenarioError("%s answered %d, the scenario expects %d: %s"
                            % (describe(action), result["status"], action["expect"], result["body"]))
    del result["expect"]
    if timing is not None and action.get("downstream") == "slow" and timing < SLOW_MS:
        raise ScenarioError("the slow call took %.0f ms < %d ms" % (timing, SLOW_MS))
    return result


def describe(action):
    if action["do"] == "call":
        return "GET /call/" + action["breaker"]
    if action["do"] == "post":
        return "POST /actuator/circuitbreakers/%s %s" % (action["breaker"], action["body"])
    return "GET " + action.get("path", "?")


def snapshot(port):
    answers = {}
    for path in SNAPSHOT_GETS:
        answers["GET " + path] = answer(port, "GET", path)
    return answers


def record(out):
    os.makedirs(out, exist_ok=True)
    state = os.path.join(HERE, "target", "record-run")
    env = dict(os.environ, SPRING_REF_STATE_DIR=state)

    began = time.monotonic()
    build = subprocess.run([SCRIPT, "build"], env=env)
    if build.returncode != 0:
        return build.returncode
    build_s = time.monotonic() - began

    downstream = Downstream()
    started = False

    def stop_everything():
        # A second signal must not cut the cleanup short and leave the JVM running.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if started:
            subprocess.run([SCRIPT, "stop"], env=env, stdout=subprocess.DEVNULL)
        downstream.close()

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        port = free_port()
        t0 = time.monotonic()
        started = True  # from here on, `stop` is due whatever happens
        start = subprocess.run([SCRIPT, "start", YML, str(port), downstream.url], env=env,
                               stdout=subprocess.PIPE, text=True)
        if start.returncode != 0:
            return start.returncode
        start_s = time.monotonic() - t0

        t1 = time.monotonic()
        scenario = []
        for name, what, actions in PHASES:
            results = [run_action(port, downstream, a) for a in actions]
            doc = {"phase": name, "description": what, "actions": results, "answers": snapshot(port)}
            _, prom = prometheus(port)
            write(os.path.join(out, name + ".json"), json.dumps(doc, indent=2) + "\n")
            write(os.path.join(out, name + ".prom"), prom)
            scenario.append({"phase": name, "description": what, "actions": actions})
        # Content types and the OpenMetrics form, once, after the last phase.
        ctype, _ = prometheus(port)
        om_type, om = prometheus(port, accept=OPENMETRICS)
        write(os.path.join(out, PHASES[-1][0] + ".openmetrics"), om)
        scenario_s = time.monotonic() - t1

        write(os.path.join(out, "scenario.json"), json.dumps({
            "config": "tests/spring-ref/application.yml",
            "downstream": {
                "success": "200 text/plain 'ok <breaker>'",
                "failure": "500 text/plain 'boom'",
                "slow": "200 after %d ms" % SLOW_MS,
                "hang": "200 after %d ms (the inventory time limit is 500 ms)" % HANG_MS,
                "null": "the call must not reach the downstream",
            },
            "snapshot": ["GET " + p for p in SNAPSHOT_GETS] + ["GET /actuator/prometheus"],
            "prometheusContentType": ctype,
            "openMetricsContentType": om_type,
            "phases": scenario,
        }, indent=2) + "\n")
        print("spring-ref record: build %.1fs, start %.1fs, scenario %.1fs; %d phases written to %s"
              % (build_s, start_s, scenario_s, len(PHASES), out), file=sys.stderr)
        return 0
    except ScenarioError as e:
        print("spring-ref record: scenario failed: %s" % e, file=sys.stderr)
        print("  (service log: %s)" % os.path.join(state, "spring-ref.log"), file=sys.stderr)
        return 1
    finally:
        stop_everything()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


# ------------------------------------------------------------------------------------------------
# Comparison (--check): everything equal except the time-dependent values listed in README.md


TIME_KEYS = {"creationTime", "durationInMs", "timestamp"}


def normalise_json(value):
    if isinstance(value, dict):
        return {k: ("<time>" if k in TIME_KEYS else normalise_json(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_json(v) for v in value]
    return value


def normalise_prom(text):
    out = []
    for line in text.splitlines():
        m = re.match(r"(resilience4j_\w+_seconds_(?:sum|max)\{[^}]*\}) \S+$", line)
        out.append(m.group(1) + " <seconds>" if m else line)
    return out


def compare(a_dir, b_dir):
    names = sorted(set(os.listdir(a_dir)) | set(os.listdir(b_dir)))
    differences = 0
    for name in names:
        a, b = os.path.join(a_dir, name), os.path.join(b_dir, name)
        if not (os.path.exists(a) and os.path.exists(b)):
            print("only in one recording: " + name)
            differences += 1
            continue
        with open(a) as fa, open(b) as fb:
            ta, tb = fa.read(), fb.read()
        if name.endswith(".json"):
            la = json.dumps(normalise_json(json.loads(ta)), indent=2).splitlines()
            lb = json.dumps(normalise_json(json.loads(tb)), indent=2).splitlines()
        else:
            la, lb = normalise_prom(ta), normalise_prom(tb)
        if la != lb:
            differences += 1
            sys.stdout.writelines(
                line + "\n" for line in difflib.unified_diff(la, lb, a, b, lineterm="", n=2))
    return differences


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=GOLDEN, help="where to write (default: golden/)")
    parser.add_argument("--check", action="store_true",
                        help="record into a temporary directory and compare with golden/")
    args = parser.parse_args()
    if not args.check:
        return record(args.out)
    tmp = tempfile.mkdtemp(prefix="spring-ref-")
    try:
        rc = record(tmp)
        if rc != 0:
            return rc
        differences = compare(GOLDEN, tmp)
        if differences:
            print("spring-ref record: %d file(s) differ from golden/" % differences, file=sys.stderr)
            return 1
        print("spring-ref record: the new recording matches golden/ (times aside)", file=sys.stderr)
        return 0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
