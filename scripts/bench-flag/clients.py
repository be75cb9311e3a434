"""Load for bench-flag.sh: keep-alive clients that never retry (Python's
http.client, as `requests` and most service clients behave), clients with a
connection per request, and 2.5 s requests, until SIGTERM; then one JSON
line of requests and failures per client kind."""
import http.client
import json
import signal
import sys
import threading
import time

host, port = sys.argv[1], int(sys.argv[2])
stop = threading.Event()
lock = threading.Lock()
counts = {}
errors = {}


def record(kind, ok, what=""):
    with lock:
        c = counts.setdefault(kind, [0, 0])
        c[0] += 1
        if not ok:
            c[1] += 1
            errors.setdefault(kind, {}).setdefault(what, 0)
            errors[kind][what] += 1


def get(conn, path):
    conn.request("GET", path)
    r = conn.getresponse()
    r.read()
    return r


def keepalive():
    conn = None
    while not stop.is_set():
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, port, timeout=30)
            r = get(conn, "/")
            record("python-keepalive-noretry", r.status == 200, str(r.status))
            if (r.getheader("connection") or "").lower() == "close":
                conn.close()
                conn = None
        except Exception as e:  # no retry: a failure, then a new connection
            record("python-keepalive-noretry", False, type(e).__name__)
            if conn is not None:
                conn.close()
            conn = None
        time.sleep(0.002)


def fresh(kind, path):
    while not stop.is_set():
        conn = http.client.HTTPConnection(host, port, timeout=30)
        try:
            r = get(conn, path)
            record(kind, r.status == 200, str(r.status))
        except Exception as e:
            record(kind, False, type(e).__name__)
        finally:
            conn.close()
        time.sleep(0.002)


signal.signal(signal.SIGTERM, lambda *_: stop.set())
threads = [threading.Thread(target=keepalive) for _ in range(2)]
threads += [threading.Thread(target=fresh, args=("connection-per-request", "/")) for _ in range(2)]
threads += [threading.Thread(target=fresh, args=("slow-2.5s", "/slow?ms=2500")) for _ in range(2)]
for t in threads:
    t.start()
while not stop.is_set():
    time.sleep(0.1)
for t in threads:
    t.join()
print(json.dumps({"counts": counts, "errors": errors}))
