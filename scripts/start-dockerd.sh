#!/bin/sh
# Starts the Docker daemon in the background when it is not already answering, and waits until
# it does (CI step; the container builder's tests need a real daemon). Idempotent.
# Usage: scripts/start-dockerd.sh [timeout-seconds]
set -eu
timeout="${1:-60}"
if docker info >/dev/null 2>&1; then
  exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  echo "start-dockerd: dockerd not installed (apt-get install docker.io)" >&2
  exit 1
fi
log="${KILN_DOCKERD_LOG:-/var/log/kiln-dockerd.log}"
# No registry is reachable here, so nothing needs the daemon's network setup beyond defaults.
nohup dockerd >"$log" 2>&1 &
i=0
while ! docker info >/dev/null 2>&1; do
  i=$((i + 1))
  if [ "$i" -gt "$timeout" ]; then
    echo "start-dockerd: daemon did not answer within ${timeout}s; see $log" >&2
    tail -20 "$log" >&2 || true
    exit 1
  fi
  sleep 1
done
echo "start-dockerd: daemon ready"
