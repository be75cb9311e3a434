#!/usr/bin/env bash
# Parser speed and memory, side by side in one run: `nginx-edit parse
# --format json` (and `--format crossplane` when the binary has it) and
# `nginx-edit check --no-resolve` (exit 1 on findings: ignored) against
# `crossplane parse` (PyPI crossplane==0.5.8) on
#   1. the 1.3 MB NGINX Controller config of the go-crossplane corpus
#      (../shared/corpus/go-crossplane/large-config/nginx.conf.bz2), and
#   2. a generated config of GEN_MB MB (scripts/gen-large-config.py).
# The release binary is measured twice: as `cargo build --release` links it
# (glibc and libpcre2-8 shared, what `cargo install` gives) and as
# scripts/build-static.sh links it (`nginx-edit-static`: nothing shared,
# the footprint goal's binary).
# Time: hyperfine (mean of several runs, one warm-up; crossplane's runs on
# the generated file are capped, it is slow); wall time, and CPU time
# (user + system), which a busy machine disturbs less. Memory: peak RSS from
# `/usr/bin/time -v`, next to the RSS of `nginx-edit --version` and
# `crossplane --version` (what each costs before reading a byte).
# Instructions: callgrind's count for parse and check on the first input
# (when valgrind is installed), for the check/parse ratio load cannot move.
#
# usage: bash scripts/bench-parse.sh
# env:   GEN_MB (default 32)       size of the generated config
#        RUNS (default 30)         hyperfine runs per command on the corpus file
#        BIG_RUNS (default 3)      hyperfine runs per command on the generated file
#        PEAK_RUNS (default 5)     runs per peak-RSS measurement (the median is kept)
#        OUT (default target/bench-parse)  where exports and the summary go
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
GEN_MB=${GEN_MB:-32}
RUNS=${RUNS:-30}
BIG_RUNS=${BIG_RUNS:-3}
OUT=${OUT:-$root/target/bench-parse}
mkdir -p "$OUT"

echo "== build" >&2
cargo build --release -q -p nginx-edit
target_dir=${CARGO_TARGET_DIR:-$root/target}
bin=$target_dir/release/nginx-edit
echo "== build static" >&2
bash scripts/build-static.sh nginx-edit >&2
sbin=$target_dir/static/nginx-edit

if ! crossplane --version 2>/dev/null | grep -q '0\.5\.8'; then
    echo "== pip install crossplane==0.5.8" >&2
    python3 -m pip install -q crossplane==0.5.8
fi
if ! command -v hyperfine >/dev/null; then
    echo "== apt-get install hyperfine" >&2
    sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y -q hyperfine >&2
fi
[ -x /usr/bin/time ] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
inputs=()
corpus=../shared/corpus/go-crossplane/large-config/nginx.conf.bz2
if [ -f "$corpus" ]; then
    bzip2 -dc "$corpus" > "$tmp/corpus-large.conf"
    inputs+=("$tmp/corpus-large.conf")
else
    echo "skip $corpus (missing)" >&2
fi
echo "== generate ${GEN_MB} MB config" >&2
python3 scripts/gen-large-config.py --mb "$GEN_MB" "$tmp/generated.conf"
inputs+=("$tmp/generated.conf")

# The formats this binary has (`--format crossplane` may not exist yet).
formats=(json)
if "$bin" parse --format crossplane "${inputs[0]}" >/dev/null 2>&1; then
    formats+=(crossplane)
fi

# Every command must succeed on every input before it is timed.
for f in "${inputs[@]}"; do
    for fmt in "${formats[@]}"; do
        "$bin" parse --format "$fmt" "$f" > "$tmp/out.json"
    done
    crossplane parse "$f" > "$tmp/out.json"
    python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["status"]=="ok", d["errors"][:3]' "$tmp/out.json"
done

# peak RSS in KiB of a command (stdout discarded): the median of
# PEAK_RUNS runs, since page-cache fault-around moves it by +-100 KiB.
PEAK_RUNS=${PEAK_RUNS:-5}
peak_rss() {
    for _ in $(seq "$PEAK_RUNS"); do
        /usr/bin/time -v "$@" 2> "$tmp/time.txt" > /dev/null || true
        awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time.txt"
    done | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'
}

times=$OUT/times.tsv
rss=$OUT/rss.tsv
printf 'input\tbytes\tcommand\tmean_s\tstddev_s\truns\tcpu_s\n' > "$times"
printf 'input\tcommand\trss_kib\n' > "$rss"
printf 'baseline\tnginx-edit --version\t%s\n' "$(peak_rss "$bin" --version)" >> "$rss"
printf 'baseline\tnginx-edit-static --version\t%s\n' "$(peak_rss "$sbin" --version)" >> "$rss"
printf 'baseline\tcrossplane --version\t%s\n' "$(peak_rss crossplane --version)" >> "$rss"

for f in "${inputs[@]}"; do
    name=$(basename "$f" .conf)
    bytes=$(stat -c %s "$f")
    runs=$RUNS
    [ "$name" = generated ] && runs=$BIG_RUNS
    args=()
    for fmt in "${formats[@]}"; do
        args+=(-n "nginx-edit parse --format $fmt" "$bin parse --format $fmt $f")
    done
    args+=(-n "nginx-edit-static parse --format json" "$sbin parse --format json $f")
    args+=(-n "nginx-edit check --no-resolve" "$bin check --no-resolve $f")
    args+=(-n "crossplane parse" "crossplane parse $f")
    echo "== $name ($bytes bytes): hyperfine, $runs runs each" >&2
    hyperfine -N -i --warmup 1 --runs "$runs" \
        --export-json "$OUT/$name.json" --export-markdown "$OUT/$name.md" \
        "${args[@]}" >&2
    python3 - "$OUT/$name.json" "$name" "$bytes" >> "$times" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["results"]:
    cpu = r["user"] + r["system"]
    print(f'{sys.argv[2]}\t{sys.argv[3]}\t{r["command"]}\t{r["mean"]:.6f}\t{r["stddev"] or 0:.6f}\t{len(r["times"])}\t{cpu:.6f}')
EOF
    # peak RSS, the median of PEAK_RUNS runs each
    for fmt in "${formats[@]}"; do
        printf '%s\tnginx-edit parse --format %s\t%s\n' "$name" "$fmt" \
            "$(peak_rss "$bin" parse --format "$fmt" "$f")" >> "$rss"
    done
    printf '%s\tnginx-edit-static parse --format json\t%s\n' "$name" \
        "$(peak_rss "$sbin" parse --format json "$f")" >> "$rss"
    printf '%s\tnginx-edit check --no-resolve\t%s\n' "$name" \
        "$(peak_rss "$bin" check --no-resolve "$f")" >> "$rss"
    printf '%s\tcrossplane parse\t%s\n' "$name" "$(peak_rss crossplane parse "$f")" >> "$rss"
done

# Instructions (callgrind's Ir) of parse and check on the smallest input:
# a count other load on the machine does not move, for the check/parse
# ratio. Optional: only when valgrind is installed.
instr=$OUT/instructions.tsv
printf 'input\tcommand\tinstructions\n' > "$instr"
if command -v valgrind >/dev/null; then
    f=${inputs[0]}
    name=$(basename "$f" .conf)
    echo "== $name: instructions under callgrind" >&2
    for cmd in "parse --format json" "check --no-resolve"; do
        # shellcheck disable=SC2086 # $cmd is two or three words
        # (check exits 1 on findings)
        n=$({ valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin" $cmd "$f" 2>&1 >/dev/null || true; } \
            | awk '/Collected/ {print $NF}')
        printf '%s\tnginx-edit %s\t%s\n' "$name" "$cmd" "$n" >> "$instr"
    done
fi

python3 - "$times" "$rss" "$instr" > "$OUT/summary.md" <<'EOF'
import csv, sys
times = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
rss = {(r["input"], r["command"]): int(r["rss_kib"]) * 1024
       for r in csv.DictReader(open(sys.argv[2]), delimiter="\t")}
base = {cmd.split()[0]: v for (inp, cmd), v in rss.items() if inp == "baseline"}
cp = {r["input"]: r for r in times if r["command"] == "crossplane parse"}
print("| input | size | command | mean time | MB/s | vs crossplane | CPU time (user+sys) | vs crossplane (CPU) | peak RSS | RSS / input | (RSS - baseline) / input |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for (inp, cmd), v in rss.items():
    if inp == "baseline":
        print(f"| (none) | | `{cmd}` | | | | | | {v / 1e6:.1f} MB | | |")
for r in times:
    size, mean, cpu = int(r["bytes"]), float(r["mean_s"]), float(r["cpu_s"])
    c = cp[r["input"]]
    v = rss[(r["input"], r["command"])]
    tool = r["command"].split()[0]
    print(f'| {r["input"]} | {size / 1e6:.2f} MB | `{r["command"]}` | '
          f'{mean * 1000:.1f} ms ± {float(r["stddev_s"]) * 1000:.1f} ({r["runs"]} runs) | '
          f'{size / mean / 1e6:.1f} | {float(c["mean_s"]) / mean:.1f}x | '
          f'{cpu * 1000:.1f} ms | {float(c["cpu_s"]) / cpu:.1f}x | {v / 1e6:.1f} MB | '
          f'{v / size:.2f}x | {(v - base[tool]) / size:.2f}x |')
# The check goal's own ratio: check against parse --format json.
instr = {(r["input"], r["command"]): int(r["instructions"])
         for r in csv.DictReader(open(sys.argv[3]), delimiter="\t") if r["instructions"]}
print()
print("| input | check / parse: wall | CPU | instructions |")
print("|---|---|---|---|")
for inp in dict.fromkeys(r["input"] for r in times):
    by = {r["command"]: r for r in times if r["input"] == inp}
    p, c = by["nginx-edit parse --format json"], by["nginx-edit check --no-resolve"]
    ip = instr.get((inp, "nginx-edit parse --format json"))
    ic = instr.get((inp, "nginx-edit check --no-resolve"))
    n = f"{ic / ip:.2f}x ({ic / 1e6:.0f}M / {ip / 1e6:.0f}M)" if ip and ic else "(not counted)"
    print(f'| {inp} | {float(c["mean_s"]) / float(p["mean_s"]):.2f}x | '
          f'{float(c["cpu_s"]) / float(p["cpu_s"]):.2f}x | {n} |')
EOF
echo >&2
echo "== summary (MB = 10^6 bytes; also in $OUT/summary.md, hyperfine exports in $OUT)" >&2
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); $("$bin" --version); crossplane $(crossplane --version 2>&1 | awk '{print $NF}'); $(hyperfine --version)"
cat "$OUT/summary.md"
