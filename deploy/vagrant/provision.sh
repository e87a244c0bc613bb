#!/usr/bin/env bash
# Provision one lab machine: the script the Vagrant VMs run, and the very same one
# `pykube lab up` runs inside each of its network-namespace nodes.
#
#   provision.sh server     the control plane (plus its local agent), then share its address,
#                           node token and admin kubeconfig in $SHARED
#   provision.sh agent      wait for the server's files in $SHARED, then join it
#
# Both end in deploy/install.sh (server | agent --server URL --token T), the installer a
# real machine runs. Settings (environment):
#   REPO        the pykube checkout (default: the one holding this script; Vagrant: /vagrant)
#   NODE_IP     this machine's address on the lab network (required)
#   NODE_NAME   the node's name (default: the host name)
#   SHARED      the folder every machine sees (default /vagrant/.lab: Vagrant's synced folder)
#   DATA_DIR    pykube's data dir (default /var/lib/pykube)
#   VENV        where pykube is installed (default /opt/pykube/venv)
#   PORT        apiserver port (default 6443)
#   EXTRA_ARGS  extra `pykube server` / `pykube agent` flags
#   CLUSTER     an HA control plane: `init` (the first server: --cluster-init, an embedded
#               etcd) or `join` (one more server: waits for the first's URL and token in
#               $SHARED, runs `pykube server --server URL --token T`)
#   REGISTRY    1: the server runs the cluster registry (`--registry`) and shares the nodes'
#               registries.yaml in $SHARED; every agent installs it as $REGISTRIES
#   REGISTRIES  where an agent keeps registries.yaml (default /etc/pykube/registries.yaml)
#   MODE        systemd | background | auto (install.sh's)
#   WAIT        seconds to wait for the server's files or the node token (default 600)
set -euo pipefail

REPO=${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}
ROLE=${1:-}
NODE_IP=${NODE_IP:-}
NODE_NAME=${NODE_NAME:-$(hostname)}
SHARED=${SHARED:-/vagrant/.lab}
DATA_DIR=${DATA_DIR:-/var/lib/pykube}
export VENV=${VENV:-/opt/pykube/venv}
export PORT=${PORT:-6443}
export MODE=${MODE:-auto}
export DATA_DIR
EXTRA_ARGS=${EXTRA_ARGS:-}
WAIT=${WAIT:-600}
REGISTRY=${REGISTRY:-0}
CLUSTER=${CLUSTER:-}
REGISTRIES=${REGISTRIES:-/etc/pykube/registries.yaml}

say() { printf '\033[1m==> [%s] %s\033[0m\n' "$NODE_NAME" "$*"; }
die() { printf 'provision.sh: %s\n' "$*" >&2; exit 1; }

case "$ROLE" in server|agent) ;; *) die "usage: provision.sh server|agent" ;; esac
[ -n "$NODE_IP" ] || die "NODE_IP is required (this machine's address on the lab network)"
[ "$(id -u)" = 0 ] || die "run as root"

# What install.sh itself needs to create the venv (a bare Debian box has neither).
need=""
for p in make python3-venv; do dpkg -s "$p" >/dev/null 2>&1 || need="$need $p"; done
if [ -n "$need" ]; then
  say "installing$need"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need
fi

# wait_for FILE...: until every file exists and is not empty
wait_for() {
  local deadline=$(( $(date +%s) + WAIT )) f
  for f in "$@"; do
    until [ -s "$f" ]; do
      [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${WAIT}s waiting for $f"
      sleep 0.5
    done
  done
}

# share NAME SOURCE: copy into $SHARED atomically (agents never read half a file)
share() {
  install -m 0600 "$2" "$SHARED/.$1.tmp" && mv -f "$SHARED/.$1.tmp" "$SHARED/$1"
}

mkdir -p "$SHARED"
if [ "$ROLE" = server ] && [ "$CLUSTER" = join ]; then
  say "waiting for the first server's URL and token in $SHARED"
  wait_for "$SHARED/server-url" "$SHARED/node-token"
  export SERVER_ARGS="--node-name $NODE_NAME --node-ip $NODE_IP --advertise-address $NODE_IP --tls-san $NODE_IP $EXTRA_ARGS --server $(cat "$SHARED/server-url") --token $(cat "$SHARED/node-token")"
  if [ -s "$SHARED/registries.yaml" ]; then
    install -D -m 0600 "$SHARED/registries.yaml" "$REGISTRIES"
    SERVER_ARGS="$SERVER_ARGS --private-registry $REGISTRIES"
  fi
  say "pykube server on $NODE_IP, joining $(cat "$SHARED/server-url")"
  "$REPO/deploy/install.sh" server
  wait_for "$DATA_DIR/server/node-token" "$DATA_DIR/admin.kubeconfig"
  say "joined: $(cat "$SHARED/server-url")'s control plane has one more server"
elif [ "$ROLE" = server ]; then
  export SERVER_ARGS="--node-name $NODE_NAME --node-ip $NODE_IP --advertise-address $NODE_IP --tls-san $NODE_IP $EXTRA_ARGS"
  [ "$CLUSTER" = init ] && SERVER_ARGS="$SERVER_ARGS --cluster-init"
  [ "$REGISTRY" = 1 ] && SERVER_ARGS="$SERVER_ARGS --registry"
  say "pykube server on $NODE_IP"
  "$REPO/deploy/install.sh" server
  wait_for "$DATA_DIR/server/node-token" "$DATA_DIR/admin.kubeconfig"
  shared="server-url, node-token, admin.kubeconfig"
  if [ "$REGISTRY" = 1 ]; then
    wait_for "$DATA_DIR/server/registry/registries.yaml" "$DATA_DIR/server/registry/password"
    share registries.yaml "$DATA_DIR/server/registry/registries.yaml"
    share registry-password "$DATA_DIR/server/registry/password"
    shared="$shared, registries.yaml, registry-password"
  fi
  printf 'https://%s:%s\n' "$NODE_IP" "$PORT" > "$SHARED/.server-url.tmp" && mv -f "$SHARED/.server-url.tmp" "$SHARED/server-url"
  share node-token "$DATA_DIR/server/node-token"
  share admin.kubeconfig "$DATA_DIR/admin.kubeconfig"
  say "shared in $SHARED: $shared"
else
  say "waiting for the server's token in $SHARED"
  wait_for "$SHARED/server-url" "$SHARED/node-token"
  export AGENT_ARGS="--node-name $NODE_NAME --node-ip $NODE_IP $EXTRA_ARGS"
  if [ -s "$SHARED/registries.yaml" ]; then
    say "registries.yaml -> $REGISTRIES"
    install -D -m 0600 "$SHARED/registries.yaml" "$REGISTRIES"
    AGENT_ARGS="$AGENT_ARGS --private-registry $REGISTRIES"
  fi
  "$REPO/deploy/install.sh" agent --server "$(cat "$SHARED/server-url")" --token "$(cat "$SHARED/node-token")"
fi
