#!/usr/bin/env bash
# Runs `crossplane parse` (Python, nginxinc/crossplane 0.5.8) and
# `nginx-edit parse --format crossplane` on every config of the given folders
# and prints which outputs are byte-identical, which differ only in
# `errors`/`status` (same directive trees), and which have different trees.
#
# usage: scripts/crossplane-compare.sh [-v] [-- EXTRA FLAGS] [DIR...]
#   DIR       folders to scan (default: ../shared/corpus and fixtures, from
#             the workspace root); every file except *.json, *.md, *.tsv is
#             a config; *.bz2 files are decompressed to a temporary folder.
#   -v        print a unified diff of the trees of each differing file
#   EXTRA     flags for both tools, e.g. -- --include-comments --single-file
# env: NGINX_EDIT (default target/release/nginx-edit, built if missing),
#      CROSSPLANE (default crossplane).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
verbose=0
flags=()
dirs=()
while [ $# -gt 0 ]; do
    case "$1" in
        -v) verbose=1 ;;
        --) shift; while [ $# -gt 0 ] && [ "${1#--}" != "$1" ]; do flags+=("$1"); shift; done; continue ;;
        *) dirs+=("$1") ;;
    esac
    shift
done
[ ${#dirs[@]} -gt 0 ] || dirs=(../shared/corpus fixtures)
NGINX_EDIT=${NGINX_EDIT:-$root/target/release/nginx-edit}
CROSSPLANE=${CROSSPLANE:-crossplane}
if [ ! -x "$NGINX_EDIT" ]; then cargo build --release -q -p nginx-edit; fi
command -v "$CROSSPLANE" >/dev/null || { echo "crossplane not found (pip install crossplane==0.5.8)" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
list=$tmp/list
: > "$list"
for d in "${dirs[@]}"; do
    [ -d "$d" ] || { echo "skip $d (missing)" >&2; continue; }
    find "$d" -type f ! -name '*.json' ! -name '*.md' ! -name '*.tsv' | LC_ALL=C sort | while read -r f; do
        case "$f" in
            *.bz2) out=$tmp/bz2/${f%.bz2}; mkdir -p "$(dirname "$out")"; bzip2 -dc "$f" > "$out"; echo "$out" ;;
            *) echo "$f" ;;
        esac
    done >> "$list"
done

same=0; tree=0; diff=0; total=0; xp_time=0; ne_time=0
now() { date +%s%N; }
while read -r f; do
    total=$((total + 1))
    t0=$(now); "$CROSSPLANE" parse "${flags[@]}" "$f" > "$tmp/xp.json" 2>/dev/null || true
    t1=$(now); "$NGINX_EDIT" parse --format crossplane "${flags[@]}" "$f" > "$tmp/ne.json" 2>/dev/null || true
    t2=$(now)
    xp_time=$((xp_time + t1 - t0)); ne_time=$((ne_time + t2 - t1))
    if cmp -s "$tmp/xp.json" "$tmp/ne.json"; then
        same=$((same + 1)); continue
    fi
    # Same directive trees (every config's "parsed"), different errors?
    if python3 - "$tmp/xp.json" "$tmp/ne.json" "$verbose" "$f" <<'PY'
import json, sys, difflib
def load(p):
    try:
        with open(p) as fh:
            d = json.load(fh)
    except Exception as e:
        return {"unreadable": str(e)}
    return [(c["file"], c["parsed"]) for c in d.get("config", [])]
a, b = load(sys.argv[1]), load(sys.argv[2])
if a == b:
    sys.exit(0)
if sys.argv[3] == "1":
    fa = json.dumps(a, indent=1, ensure_ascii=False).splitlines()
    fb = json.dumps(b, indent=1, ensure_ascii=False).splitlines()
    print("\n".join(list(difflib.unified_diff(fa, fb, "crossplane", "nginx-edit", lineterm=""))[:60]))
sys.exit(1)
PY
    then
        tree=$((tree + 1)); echo "errors differ: $f"
    else
        diff=$((diff + 1)); echo "trees differ:  $f"
    fi
done < "$list"
echo "----"
echo "$total configs: $same identical, $tree same trees but different errors, $diff different trees"
echo "time: crossplane $((xp_time / 1000000)) ms, nginx-edit $((ne_time / 1000000)) ms (process start included)"
