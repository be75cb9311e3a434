#!/usr/bin/env bash
# Live switch without a reload, measured beside a reload switch in one
# run, on real nginx labs on loopback (`bgswitch lab-up --kind map|flag`:
# nginx with two workers, two pools, two sidecars). The same load in both
# modes, through SWITCHES switches each (`switch --no-drain`):
#   - wrk, keep-alive, never retries (4 connections, paced by a Lua delay);
#   - Python http.client keep-alive clients that never retry (2);
#   - connection-per-request clients (2); 2.5 s requests (2).
# Then nginx's saturating throughput on the flag lab with and without the
# selector's `if (-f ...)` line (wrk, alternating rounds, medians), on
# /nginx-only (nginx alone: the cost of one stat() per request) and on /
# (through the proxy to the app).
#
#   bash scripts/bench-flag.sh [SWITCHES]     (default 40)
set -euo pipefail
cd "$(dirname "$0")/.."
switches="${1:-40}"
export PATH="$PATH:/usr/sbin"
command -v wrk >/dev/null || { echo "bench-flag needs wrk"; exit 2; }
cargo build --release -q -p bgswitch -p health-sidecar
bin=$PWD/target/release/bgswitch
here=$PWD/scripts/bench-flag
out=$(mktemp -d)
pids=()
cleanup() {
  for fd in 3 4; do eval "exec $fd>&-" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT

start_lab() { # kind fd: the lab lives until fd closes (not in a subshell)
  mkfifo "$out/keep-$1"
  "$bin" lab-up --kind "$1" < "$out/keep-$1" > "$out/config-$1" &
  eval "exec $2> \"$out/keep-$1\""
  for _ in $(seq 200); do [ -s "$out/config-$1" ] && break; sleep 0.1; done
  [ -s "$out/config-$1" ] || { echo "lab-up --kind $1 did not start"; exit 1; }
}

run_mode() { # kind config
  local kind=$1 cfg=$2 port
  port=$(sed -n 's|^url = "http://127.0.0.1:\([0-9]*\)/"|\1|p' "$cfg")
  wrk -t1 -c4 -d600s -s "$here/paced.lua" "http://127.0.0.1:$port/" > "$out/wrk-$kind.txt" 2>&1 &
  local wrk_pid=$!
  python3 "$here/clients.py" 127.0.0.1 "$port" > "$out/py-$kind.json" &
  local py_pid=$!
  pids+=("$wrk_pid" "$py_pid")
  sleep 1
  for i in $(seq "$switches"); do
    local to=green
    [ $((i % 2)) -eq 0 ] && to=blue
    "$bin" -c "$cfg" switch --to "$to" --no-drain --json >> "$out/switch-$kind.jsonl" || true
    sleep 0.3
  done
  sleep 1
  kill -INT "$wrk_pid"; kill -TERM "$py_pid"
  wait "$wrk_pid" "$py_pid" || true
}

start_lab map 3
start_lab flag 4
cfg_map=$(head -1 "$out/config-map")
cfg_flag=$(head -1 "$out/config-flag")
echo "labs: $(dirname "$cfg_map") (map), $(dirname "$cfg_flag") (flag)"
run_mode map "$cfg_map"
run_mode flag "$cfg_flag"

# Throughput with and without the selector, on the flag lab.
dir=$(dirname "$cfg_flag")
site="$dir/sites-available/app.conf"
port=$(sed -n 's|^url = "http://127.0.0.1:\([0-9]*\)/"|\1|p' "$cfg_flag")
cp "$site" "$out/with.conf"
grep -v 'if (-f ' "$site" > "$out/without.conf"
reload() { nginx -q -p "$dir" -c "$dir/nginx.conf" -s reload 2>/dev/null; sleep 1.5; }
for round in 1 2 3; do
  for variant in with without; do
    cp "$out/$variant.conf" "$site"; reload
    for path in /nginx-only /; do
      rps=$(wrk -t2 -c32 -d4s "http://127.0.0.1:$port$path" | sed -n 's/^Requests\/sec: *//p')
      echo "$variant $path $rps" >> "$out/throughput.txt"
    done
  done
done
cp "$out/with.conf" "$site"; reload

python3 - "$out" "$switches" <<'PY'
import json, re, statistics, sys, os
out, switches = sys.argv[1], int(sys.argv[2])
rows, med = {}, {}
for kind in ("map", "flag"):
    wrk = open(f"{out}/wrk-{kind}.txt").read()
    reqs = int(re.search(r"(\d+) requests in", wrk).group(1))
    errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", wrk))
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", wrk)
    errs += int(non2xx.group(1)) if non2xx else 0
    rows.setdefault("wrk keep-alive, no retry", {})[kind] = (errs, reqs)
    py = json.loads(open(f"{out}/py-{kind}.json").read() or "{}")
    for k, label in (("python-keepalive-noretry", "Python http.client keep-alive, no retry"),
                     ("connection-per-request", "connection per request"),
                     ("slow-2.5s", "2.5 s requests")):
        total, failed = py["counts"].get(k, [0, 0])
        rows.setdefault(label, {})[kind] = (failed, total)
    verified, total, ok = [], [], 0
    cur = {}
    for line in open(f"{out}/switch-{kind}.jsonl"):
        e = json.loads(line)
        if "step" in e:
            cur[e["step"]] = cur.get(e["step"], 0) + e["ms"]
        elif "result" in e:
            if e["result"] == "switched":
                ok += 1
                verified.append(sum(cur.get(s, 0) for s in ("lock", "read", "gate", "smoke", "edit", "reload", "flag", "verify")))
                total.append(e["ms"])
            cur = {}
    med[kind] = (ok, statistics.median(verified) if verified else float("nan"), statistics.median(total) if total else float("nan"))
print(f"\n| client (failed / requests) | kind = \"map\" (edit + reload) | kind = \"flag\" (no reload) |")
print("|---|---|---|")
for label, v in rows.items():
    print(f"| {label} | {v['map'][0]} / {v['map'][1]} | {v['flag'][0]} / {v['flag'][1]} |")
print(f"| switches that ended `switched` | {med['map'][0]} of {switches} | {med['flag'][0]} of {switches} |")
print(f"| median time to a verified switch (lock to verify) | {med['map'][1]:.0f} ms | {med['flag'][1]:.0f} ms |")
print(f"| median whole run (`switch --no-drain`) | {med['map'][2]:.0f} ms | {med['flag'][2]:.0f} ms |")
tp = {}
for line in open(f"{out}/throughput.txt"):
    variant, path, rps = line.split()
    tp.setdefault((variant, path), []).append(float(rps))
print("\n| nginx saturating throughput (wrk -t2 -c32, median of 3 x 4 s) | without the selector | with it | ratio |")
print("|---|---|---|---|")
for path, label in (("/nginx-only", "/nginx-only (nginx alone, `return 200`)"), ("/", "/ (proxied to the app)")):
    wo, wi = statistics.median(tp[("without", path)]), statistics.median(tp[("with", path)])
    print(f"| {label} | {wo:.0f} req/s | {wi:.0f} req/s | {wi / wo:.3f} |")
for kind in ("map", "flag"):
    py = json.loads(open(f"{out}/py-{kind}.json").read() or "{}")
    if py.get("errors"):
        print(f"\n{kind}: Python client errors: {py['errors']}")
PY
