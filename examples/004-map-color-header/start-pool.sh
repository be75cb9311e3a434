#!/bin/sh
# start-pool.sh POOL VERSION: start VERSION on every host of POOL
# (bgswitch deploy's `start`; it runs this from this folder).
set -eu
case "$1" in
  blue) hosts="10.0.1.10 10.0.1.11" ;;
  green) hosts="10.0.2.10 10.0.2.11" ;;
  *) echo "unknown pool: $1" >&2; exit 2 ;;
esac
for host in $hosts; do
  ssh "deploy@$host" "cd /opt/app && APP_TAG='$2' docker compose pull app && APP_TAG='$2' docker compose up -d --force-recreate app"
done
