#!/usr/bin/env bash
# Builds self-contained release binaries: glibc and PCRE2 linked in
# (`-C target-feature=+crt-static`, static-pie), nothing to install on the
# server but the binary. For the small-team layout (build once, copy to the
# VM or into an image) and for the smallest footprint: no shared library
# is mapped, so `nginx-edit parse` on the 1.33 MB corpus file peaks at about
# 0.4 MB less resident memory than the `cargo install` build
# (scripts/bench-parse.sh measures both).
#
# PCRE2 is the machine's own libpcre2-8.a (Debian: libpcre2-dev), the
# release Debian's nginx links, so `check` words regex errors as that nginx
# does. Host names (`check` without --no-resolve, bgswitch's URLs) are
# looked up by the linked-in glibc: /etc/hosts and DNS work as usual; NSS
# modules beyond those (LDAP, mDNS) need the same glibc release on the
# machine that runs the binary.
#
# usage: bash scripts/build-static.sh [PACKAGE...]
#        (default: nginx-edit bgswitch health-sidecar)
# out:   target/static/BINARY (or $CARGO_TARGET_DIR/static)
set -euo pipefail
cd "$(dirname "$0")/.."
packages=("$@")
[ ${#packages[@]} -gt 0 ] || packages=(nginx-edit bgswitch health-sidecar)

triple=$(rustc -vV | sed -n 's/^host: //p')
case $triple in
*-linux-gnu) ;;
*) echo "build-static.sh: for *-linux-gnu hosts; this one is $triple" >&2; exit 2 ;;
esac
[ -f /usr/lib/x86_64-linux-gnu/libpcre2-8.a ] || [ -n "$(find /usr/lib* -name libpcre2-8.a -print -quit 2>/dev/null)" ] || {
    echo "build-static.sh: libpcre2-8.a is missing (Debian: apt-get install libpcre2-dev)" >&2
    exit 2
}

# An explicit --target keeps the flag off build scripts and proc macros
# (which cannot be static) and the artifacts apart from target/release.
target_dir=${CARGO_TARGET_DIR:-$PWD/target}
args=()
for p in "${packages[@]}"; do args+=(-p "$p"); done
RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked --target "$triple" "${args[@]}"

mkdir -p "$target_dir/static"
for p in "${packages[@]}"; do
    bin=$target_dir/$triple/release/$p
    if ldd "$bin" 2>&1 | grep -q '=>'; then
        echo "build-static.sh: $bin still links shared libraries:" >&2
        ldd "$bin" >&2
        exit 1
    fi
    cp "$bin" "$target_dir/static/$p"
    echo "$target_dir/static/$p"
done
