#!/usr/bin/env bash
# bgswitch's own cost per switch, measured beside a bare
# `nginx -t && nginx -s reload` in one run, on a real nginx on loopback
# (a lab: nginx, two pools, two sidecars). Gate and verify are satisfied,
# no soak, no drain.
#
#   bash scripts/bench-switch.sh [RUNS]
#
# Prints hyperfine's comparison and, from bgswitch's own step timings, the
# median time to a verified switch and the median of bgswitch's own work
# (everything but nginx -t and nginx's reload until its new workers run).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-30}"
command -v hyperfine >/dev/null || apt-get install -y -qq hyperfine >/dev/null
export PATH="$PATH:/usr/sbin"
cargo build --release -q -p bgswitch -p health-sidecar
bin=target/release/bgswitch
out=$(mktemp -d)
mkfifo "$out/keep"
"$bin" lab-up < "$out/keep" > "$out/config" &
exec 3> "$out/keep"
trap 'exec 3>&-; wait; rm -rf "$out"' EXIT
for _ in $(seq 100); do [ -s "$out/config" ] && break; sleep 0.1; done
cfg=$(head -1 "$out/config")
dir=$(dirname "$cfg")
echo "lab: $dir"

nginx_cmd="nginx -q -t -p $dir -c $dir/nginx.conf && nginx -p $dir -c $dir/nginx.conf -s reload"
hyperfine --warmup 3 --runs "$runs" --export-markdown "$out/hyperfine.md" \
  -n 'nginx -t && nginx -s reload' "$nginx_cmd" \
  -n 'bgswitch switch (verified)' "$bin -c $cfg switch --no-drain --json > $out/last.jsonl; cat $out/last.jsonl >> $out/all.jsonl"
cat "$out/hyperfine.md"

python3 - "$out/all.jsonl" <<'PY'
import json, statistics, sys
runs, cur = [], {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if "step" in e:
        cur[e["step"]] = e["ms"]
        for k in ("test_ms", "dump_ms", "handover_ms", "old_workers_ms"):
            if k in e:
                cur[k] = e[k]
    elif "result" in e:
        if e["result"] == "switched":
            cur["total"] = e["ms"]
            runs.append(cur)
        cur = {}
if not runs:
    sys.exit("no switch completed")
med = lambda k: statistics.median(r.get(k, 0) for r in runs)
# bgswitch's own work: the total minus what nginx does (nginx -t, the
# nginx -T dump that shows nginx sees the new bytes, the reload until the
# new workers run, the master's 100 ms handover while old workers still
# accept, and the old workers' last moments until they close their
# listening sockets).
nginx_keys = ("test_ms", "dump_ms", "reload", "handover_ms", "old_workers_ms")
own = statistics.median(r["total"] - sum(r.get(k, 0) for k in nginx_keys) for r in runs)
print(f"\n{len(runs)} verified switches (medians, ms):")
for k in ["lock", "read", "gate", "smoke", "edit", "test_ms", "dump_ms", "reload", "verify", "handover_ms", "old_workers_ms", "smoke-lb", "journal", "total"]:
    print(f"  {k:<9} {med(k):6.1f}")
print(f"  bgswitch's own work (total - nginx -t - nginx -T - reload until new workers - nginx's handover - old workers closing): {own:.1f} ms")
PY
