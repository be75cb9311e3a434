#!/bin/sh
# pool.sh start POOL VERSION: pull and start VERSION on every host of POOL
# pool.sh stop POOL:          stop the app on every host of POOL (after
#                             the pool was drained)
# bgswitch deploy's `start` and `stop`; it runs this from this folder.
set -eu
action="${1:-}"
pool="${2:-}"
case "$pool" in
  blue) hosts="10.0.1.10 10.0.1.11" ;;
  green) hosts="10.0.2.10 10.0.2.11" ;;
  *) echo "unknown pool: $pool" >&2; exit 2 ;;
esac
case "$action" in
  start)
    [ $# -eq 3 ] || { echo "usage: pool.sh start POOL VERSION" >&2; exit 2; }
    remote="APP_TAG='$3' docker compose pull app && APP_TAG='$3' docker compose up -d --force-recreate app" ;;
  stop) remote="docker compose stop app" ;;
  *) echo "usage: pool.sh start POOL VERSION | pool.sh stop POOL" >&2; exit 2 ;;
esac
for host in $hosts; do
  ssh "deploy@$host" "cd /opt/app && $remote"
done
