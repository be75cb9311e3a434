#!/usr/bin/env bash
# One entry point for a fresh machine: installs what is missing, then runs
# the main job (`demo`) or the whole test suite (`test`).
#
#   bash scripts/dev.sh demo   # the main job
#   bash scripts/dev.sh test   # every test: unit, CLI, corpus, real nginx end to end
#   bash scripts/dev.sh deps   # only install what is missing (CI, before clippy builds)
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

need_nginx() {
  if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "installing nginx (Debian package) ..." >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq nginx >/dev/null
  fi
  # check's stream and mail fixtures `load_module` Debian's module packages.
  if [ ! -f /usr/lib/nginx/modules/ngx_stream_module.so ] || [ ! -f /usr/lib/nginx/modules/ngx_mail_module.so ]; then
    echo "installing libnginx-mod-stream libnginx-mod-mail ..." >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libnginx-mod-stream libnginx-mod-mail >/dev/null
  fi
  # Debian starts the packaged nginx on port 80; the tests use their own
  # nginx on loopback ports and need nothing from it.
  export PATH="$PATH:/usr/sbin"
}

# nginx-edit links the system PCRE2 (the library Debian's nginx uses) to
# compile a config's regexes as nginx does; without its pkg-config file the
# pcre2-sys crate builds its bundled copy instead (slower, and another
# PCRE2 release than nginx's).
need_pcre2() {
  if ! pkg-config --exists libpcre2-8 2>/dev/null; then
    echo "installing libpcre2-dev pkg-config ..." >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq libpcre2-dev pkg-config >/dev/null
  fi
}

need_tools() {
  command -v bzip2 >/dev/null 2>&1 || as_root apt-get install -y -qq bzip2 >/dev/null
  python3 -c 'import crossplane' 2>/dev/null || python3 -m pip install -q 'crossplane==0.5.8'
  command -v pre-commit >/dev/null 2>&1 || python3 -m pip install -q pre-commit
}

case "${1:-}" in
  demo)
    need_nginx
    need_pcre2
    cargo build --release -q -p bgswitch -p health-sidecar
    target/release/bgswitch demo
    ;;
  test)
    need_nginx
    need_pcre2
    need_tools
    cargo test --workspace --all-targets --locked
    ;;
  deps)
    need_nginx
    need_pcre2
    need_tools
    ;;
  *)
    echo "usage: bash scripts/dev.sh demo|test|deps" >&2
    exit 2
    ;;
esac
