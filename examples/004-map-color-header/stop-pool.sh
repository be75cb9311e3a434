#!/bin/sh
# stop-pool.sh POOL: stop the app on every host of POOL (bgswitch deploy's
# `stop`, after the pool was drained).
set -eu
case "$1" in
  blue) hosts="10.0.1.10 10.0.1.11" ;;
  green) hosts="10.0.2.10 10.0.2.11" ;;
  *) echo "unknown pool: $1" >&2; exit 2 ;;
esac
for host in $hosts; do
  ssh "deploy@$host" "cd /opt/app && docker compose stop app"
done
