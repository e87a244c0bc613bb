#!/usr/bin/env bash
# pykube installer: what `make up` runs. Safe to run again; it only does what is missing.
#
#   deploy/install.sh server [--quickstart]        control plane + local agent (make up)
#   deploy/install.sh agent --server URL --token T  a node joining a server
#
# Steps: Debian packages that are missing (apt), the Python venv with pykube in it, the
# offline images (pause, busybox, nginx) into <data dir>/agent/images, then the server or
# agent as a systemd unit when systemd runs, else as a background process (pid file
# <data dir>/run/<role>.pid, log <data dir>/logs/<role>.log). With --quickstart:
# deploy/quickstart.py waits for the node, applies manifests/nginx-app.yaml, follows the
# rollout and fetches the page through the LoadBalancer address.
#
# Settings (environment, or make variables of the same name):
#   DATA_DIR     data dir (default /var/lib/pykube)
#   PORT         apiserver port (default 6443)
#   SERVER_ARGS  extra `pykube server` flags, AGENT_ARGS extra `pykube agent` flags
#   UNIT         systemd unit name (default pykube-server / pykube-agent)
#   MODE         auto (default), systemd or background
#   VENV         the virtualenv (default <repo>/.venv)
#   MANIFEST     what --quickstart applies (default manifests/nginx-app.yaml)
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
ROLE=${1:-server}
[ $# -gt 0 ] && shift
DATA_DIR=${DATA_DIR:-/var/lib/pykube}
PORT=${PORT:-6443}
MODE=${MODE:-auto}
VENV=${VENV:-$REPO/.venv}
MANIFEST=${MANIFEST:-$REPO/manifests/nginx-app.yaml}
APT_PACKAGES="containerd runc containernetworking-plugins iptables ipset conntrack umoci busybox-static nginx-light iproute2 procps python3-venv"
case " ${SERVER_ARGS:-} " in *" --registry "*) APT_PACKAGES="$APT_PACKAGES docker-registry" ;; esac
QUICKSTART=0
AGENT_SERVER=""
AGENT_TOKEN=""

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

while [ $# -gt 0 ]; do
  case "$1" in
    --quickstart) QUICKSTART=1 ;;
    --server) AGENT_SERVER=$2; shift ;;
    --token) AGENT_TOKEN=$2; shift ;;
    *) die "unknown argument: $1" ;;
  esac
  shift
done
case "$ROLE" in
  server) UNIT=${UNIT:-pykube-server} ;;
  agent) UNIT=${UNIT:-pykube-agent}
         [ -n "$AGENT_SERVER" ] && [ -n "$AGENT_TOKEN" ] || die "agent needs --server URL --token TOKEN" ;;
  *) die "first argument: server or agent" ;;
esac
[ "$(id -u)" = 0 ] || die "run as root (containerd, CNI and iptables need it)"
mkdir -p "$DATA_DIR"
DATA_DIR=$(cd "$DATA_DIR" && pwd)

# ---------------------------------------------------------------- packages
missing=""
for p in $APT_PACKAGES; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  say "installing Debian packages:$missing"
  # Keep the packages' own services (nginx, the system containerd) from starting.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    policy=1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $missing || { [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ -n "$policy" ] && rm -f /usr/sbin/policy-rc.d
else
  say "Debian packages: all present"
fi

# ---------------------------------------------------------------- venv
PY=$VENV/bin/python
PYKUBE=$VENV/bin/pykube
if [ -x "$PYKUBE" ] && "$PY" -c 'import pykube.server, apiserver.server, kubelet.kubelet' 2>/dev/null; then
  say "Python venv: $VENV (pykube installed)"
else
  say "creating the Python venv $VENV"
  make -C "$REPO" --no-print-directory venv VENV="$VENV"
fi

# ---------------------------------------------------------------- images
say "offline images -> $DATA_DIR/agent/images"
"$PY" "$REPO/deploy/images/build.py" --out "$DATA_DIR/agent/images"

# ---------------------------------------------------------------- the service
if [ "$ROLE" = server ]; then
  ARGS="--secure-port $PORT ${SERVER_ARGS:-}"
else
  install -d -m 0700 "$DATA_DIR/agent"
  printf '%s\n' "$AGENT_TOKEN" > "$DATA_DIR/agent/node-token" && chmod 600 "$DATA_DIR/agent/node-token"
  ARGS="${AGENT_ARGS:-}"
fi

if [ "$MODE" = auto ]; then
  if [ -d /run/systemd/system ]; then MODE=systemd; else MODE=background; fi
fi

start_systemd() {
  local unit=/etc/systemd/system/$UNIT.service tmp
  tmp=$(mktemp)
  sed -e "s|@REPO@|$REPO|g" -e "s|@PYKUBE@|$PYKUBE|g" -e "s|@DATA_DIR@|$DATA_DIR|g" \
      -e "s|@ARGS@|$ARGS|g" "$REPO/deploy/systemd/pykube-$ROLE.service" > "$tmp"
  if [ "$ROLE" = agent ]; then
    printf 'PYKUBE_SERVER=%s\nPYKUBE_TOKEN_FILE=%s\n' "$AGENT_SERVER" "$DATA_DIR/agent/node-token" \
      > /etc/default/pykube-agent
  fi
  if ! cmp -s "$tmp" "$unit"; then
    say "systemd unit $unit"
    install -m 0644 "$tmp" "$unit"
    systemctl daemon-reload
    systemctl enable "$UNIT" >/dev/null 2>&1 || true
    systemctl restart "$UNIT"
  else
    systemctl enable "$UNIT" >/dev/null 2>&1 || true
    systemctl is-active --quiet "$UNIT" && say "$UNIT is running" || { say "starting $UNIT"; systemctl start "$UNIT"; }
  fi
  rm -f "$tmp"
}

start_background() {
  local pidfile=$DATA_DIR/run/$ROLE.pid log=$DATA_DIR/logs/$ROLE.log pid=""
  [ -f "$pidfile" ] && pid=$(cat "$pidfile" 2>/dev/null || true)
  if [ -n "$pid" ] && [ -d "/proc/$pid" ] && grep -qa "$DATA_DIR" "/proc/$pid/cmdline" 2>/dev/null; then
    say "pykube $ROLE is running (pid $pid, log $log)"
    return
  fi
  mkdir -p "$DATA_DIR/logs" "$DATA_DIR/run"
  say "starting pykube $ROLE in the background (log $log)"
  if [ "$ROLE" = server ]; then
    # shellcheck disable=SC2086
    setsid nohup "$PYKUBE" server --data-dir "$DATA_DIR" $ARGS >>"$log" 2>&1 </dev/null &
  else
    # shellcheck disable=SC2086
    setsid nohup "$PYKUBE" agent --server "$AGENT_SERVER" --token-file "$DATA_DIR/agent/node-token" \
      --data-dir "$DATA_DIR" $ARGS >>"$log" 2>&1 </dev/null &
  fi
  pid=$!
  for _ in $(seq 1 100); do
    [ -f "$pidfile" ] && break
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "pykube $ROLE exited at start"; }
    sleep 0.1
  done
}

say "pykube $ROLE ($MODE), data dir $DATA_DIR"
if [ "$MODE" = systemd ]; then start_systemd; else start_background; fi

if [ "$ROLE" = server ] && [ "$QUICKSTART" = 1 ]; then
  LOG=$DATA_DIR/logs/server.log
  [ "$MODE" = systemd ] && LOG="journalctl -u $UNIT"
  exec "$PY" "$REPO/deploy/quickstart.py" --data-dir "$DATA_DIR" --manifest "$MANIFEST" --log-hint "$LOG"
fi
if [ "$ROLE" = server ]; then
  say "kubeconfig: $DATA_DIR/admin.kubeconfig   node token: $DATA_DIR/server/node-token"
fi
