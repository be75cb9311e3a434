#!/usr/bin/env bash
# Measures health-sidecar's footprint beside a real app, on loopback:
#   - RSS (VmRSS, and the peak VmHWM) after 5 s idle, and after the load;
#   - /health latency p50/p99 under `wrk -t1 -c16` for DURATION seconds
#     (one wrk thread: on a 2-core machine a second one mostly steals the
#     CPU the server under test needs, which measures the scheduler),
#     once saturating and once paced at 16 x 100 requests/s.
# If npm can install lightship (a Node sidecar users pick today), the same
# numbers are taken for it in the same run.
#
# Usage: health-sidecar/scripts/footprint.sh [DURATION_SECONDS]   (default 15)
#        FOOTPRINT_NICE=-10 health-sidecar/scripts/footprint.sh   (as root: run
#        the servers and wrk at that nice level, to keep unrelated builds on a
#        shared machine from preempting them; the table says so)
# Needs: cargo, wrk; optional: node + npm. Prints a Markdown table.
set -euo pipefail

DURATION="${1:-15}"
NICE=()
if [[ -n "${FOOTPRINT_NICE:-}" ]]; then NICE=(nice -n "$FOOTPRINT_NICE"); fi
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
cd "$ROOT"
command -v wrk >/dev/null || { echo "footprint: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

cargo build --release -q -p health-sidecar --bins
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}/release"
SIDECAR="$TARGET/health-sidecar"
TESTAPP="$TARGET/sidecar-testapp"

WORK="$(mktemp -d)"
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
kib() { awk -v k="$1" '/^'"$1"':/ {print $2}' "/proc/$2/status"; }
mib() { awk -v v="$1" 'BEGIN {printf "%.1f", v/1024}'; }
wait_http() { # port path
  for _ in $(seq 1 100); do
    curl -fs -o /dev/null "http://127.0.0.1:$1$2" && return 0
    sleep 0.1
  done
  echo "footprint: nothing answered on 127.0.0.1:$1$2" >&2; return 1
}

# wrk_run OUT URL [wrk args...] -> "p50 p99 req/s errors"
wrk_run() {
  local out="$1" url="$2"; shift 2
  "${NICE[@]}" wrk -t1 -c16 -d"${DURATION}s" --latency "$@" "$url" >"$out"
  local p50 p99 rps errors
  p50=$(awk '$1 == "50%" {print $2}' "$out")
  p99=$(awk '$1 == "99%" {print $2}' "$out")
  rps=$(awk '/^Requests\/sec/ {printf "%d", $2}' "$out")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' "$out" | tr '\n' ' ')
  echo "$p50|$p99|$rps|${errors:-none}"
}

# Paced load: each of the 16 connections waits 5-15 ms (random, so they do
# not fire in lockstep bursts) between requests: about 1,600 req/s in all,
# far above any real probe traffic but below saturation, so the latency is
# the server's rather than the queue's.
cat >"$WORK/pace.lua" <<'LUA'
function delay() return math.random(5, 15) end
LUA

# measure NAME PID URL -> two Markdown rows (saturated, paced)
measure() {
  local name="$1" pid="$2" url="$3"
  sleep 5
  local idle_rss load_rss load_hwm sat paced
  idle_rss=$(kib VmRSS "$pid")
  sat=$(wrk_run "$WORK/wrk-sat.txt" "$url")
  paced=$(wrk_run "$WORK/wrk-paced.txt" "$url" -s "$WORK/pace.lua")
  load_rss=$(kib VmRSS "$pid"); load_hwm=$(kib VmHWM "$pid")
  IFS='|' read -r s50 s99 srps serr <<<"$sat"
  IFS='|' read -r p50 p99 prps perr <<<"$paced"
  printf '| %s | %s MiB | %s MiB | %s MiB | saturating | %s | %s | %s | %s |\n' \
    "$name" "$(mib "$idle_rss")" "$(mib "$load_rss")" "$(mib "$load_hwm")" "$s50" "$s99" "$srps" "$serr"
  printf '| | | | | paced, 16 x ~100/s | %s | %s | %s | %s |\n' "$p50" "$p99" "$prps" "$perr"
}

echo "health-sidecar footprint, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "wrk -t1 -c16 -d${DURATION}s --latency on loopback; RSS from /proc/PID/status (VmRSS, VmHWM); nice: ${FOOTPRINT_NICE:-0}"
echo
echo "| sidecar | RSS idle | RSS after load | peak RSS (VmHWM) | load | /health p50 | /health p99 | req/s | errors |"
echo "|---|---|---|---|---|---|---|---|---|"

# health-sidecar supervising the test app, probing it over HTTP every second.
APP_PORT=$(free_port); SC_PORT=$(free_port)
"${NICE[@]}" "$SIDECAR" --listen "127.0.0.1:$SC_PORT" --probe "http://127.0.0.1:$APP_PORT/health" \
  --app-port "$APP_PORT" --version-label footprint -- "$TESTAPP" --port "$APP_PORT" \
  2>"$WORK/sidecar.log" &
SC_PID=$!; PIDS+=("$SC_PID")
wait_http "$SC_PORT" /livez
for _ in $(seq 1 50); do curl -fs -o /dev/null "http://127.0.0.1:$SC_PORT/health" && break; sleep 0.1; done
SC_VERSION=$("$SIDECAR" --version | awk '{print $2}')
measure "health-sidecar $SC_VERSION (release)" "$SC_PID" "http://127.0.0.1:$SC_PORT/health"

# lightship (Node), if npm can install it here.
NODE_DIR="$WORK/node"
mkdir -p "$NODE_DIR"
if command -v npm >/dev/null && (cd "$NODE_DIR" && npm install --silent --no-audit --no-fund lightship >/dev/null 2>&1); then
  LS_VERSION=$(node -p "require('$NODE_DIR/node_modules/lightship/package.json').version" 2>/dev/null \
    || sed -n 's/.*"version": *"\([^"]*\)".*/\1/p' "$NODE_DIR/node_modules/lightship/package.json" | head -1)
  cat >"$NODE_DIR/lightship.mjs" <<'JS'
import { createLightship } from 'lightship';
const lightship = await createLightship({ detectKubernetes: false, port: Number(process.env.PORT) });
lightship.signalReady();
JS
  LS_PORT=$(free_port)
  (cd "$NODE_DIR" && PORT="$LS_PORT" exec "${NICE[@]}" node lightship.mjs >"$WORK/lightship.log" 2>&1) &
  LS_PID=$!; PIDS+=("$LS_PID")
  wait_http "$LS_PORT" /health
  measure "lightship $LS_VERSION (node $(node --version))" "$LS_PID" "http://127.0.0.1:$LS_PORT/health"
else
  echo "| lightship | not measured: npm could not install it here | | | | | | | |"
fi
