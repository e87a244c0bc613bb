#!/usr/bin/env bash
# What `make down` runs: stop and remove the systemd unit deploy/install.sh made (when
# systemd runs), then `pykube killall` on the data dir: no process, container, bridge,
# route, iptables chain or mount is left. PURGE=1 also deletes the data dir.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/.." && pwd)
DATA_DIR=${DATA_DIR:-/var/lib/pykube}
VENV=${VENV:-$REPO/.venv}
PURGE=${PURGE:-}

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
[ "$(id -u)" = 0 ] || { echo "uninstall.sh: run as root" >&2; exit 1; }

if [ -d /run/systemd/system ]; then
  for unit in ${UNIT:-pykube-server} pykube-agent; do
    file=/etc/systemd/system/$unit.service
    [ -f "$file" ] && grep -qE -- "--data-dir $DATA_DIR( |\$)" "$file" || continue
    say "stopping and removing $unit"
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
    rm -f "$file"
    [ "$unit" = pykube-agent ] && rm -f /etc/default/pykube-agent
    systemctl daemon-reload
  done
fi

if [ ! -d "$DATA_DIR" ]; then
  say "$DATA_DIR does not exist: nothing to stop"
  exit 0
fi
if [ ! -x "$VENV/bin/pykube" ]; then
  echo "uninstall.sh: $VENV/bin/pykube is missing (make venv)" >&2
  exit 1
fi
say "pykube killall --data-dir $DATA_DIR${PURGE:+ --purge}"
exec "$VENV/bin/pykube" killall --data-dir "$DATA_DIR" ${PURGE:+--purge}
