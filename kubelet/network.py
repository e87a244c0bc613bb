"""The node's pod network as containerd's CNI sees it: one conflist in the CNI conf dir.

Owns `cni_conflist` (pure: a bridge named `bridge` with isGateway, ipMasq and hairpinMode,
host-local IPAM on the node's pod CIDR with the first address as gateway and a default
route, portmap for hostPorts, loopback; the shape NODE-STACK.md found working) and
`write_cni_config`, which writes it atomically as `<conf dir>/10-<network>.conflist`
and leaves an identical file alone (so containerd does not reload for nothing).

The kubelet writes it once the pod CIDR is known (`--pod-cidr`, or spec.podCIDR set by
the node IPAM controller); until then containerd reports NetworkReady=false and the node
is NotReady. `remove_cni_config` deletes the file (used by tests and killall).
"""
from __future__ import annotations

import ipaddress
import json
import os
from pathlib import Path
from typing import Any

DEFAULT_BRIDGE = "cni0"
DEFAULT_NETWORK = "pykube"


def gateway_of(cidr: str) -> str:
    net = ipaddress.ip_network(cidr, strict=False)
    return str(net.network_address + 1)


def cni_conflist(cidr: str, bridge: str = DEFAULT_BRIDGE, network: str = DEFAULT_NETWORK,
                 ipam_dir: Path | str | None = None) -> dict[str, Any]:
    net = ipaddress.ip_network(cidr, strict=False)
    ipam: dict[str, Any] = {
        "type": "host-local",
        "ranges": [[{"subnet": str(net), "gateway": gateway_of(cidr)}]],
        "routes": [{"dst": "0.0.0.0/0" if net.version == 4 else "::/0"}],
    }
    if ipam_dir is not None:
        ipam["dataDir"] = str(ipam_dir)
    return {
        "cniVersion": "0.4.0",
        "name": network,
        "plugins": [
            {"type": "bridge", "bridge": bridge, "isGateway": True, "ipMasq": True,
             "hairpinMode": True, "ipam": ipam},
            {"type": "portmap", "capabilities": {"portMappings": True}},
            {"type": "loopback"},
        ],
    }


def conflist_path(conf_dir: Path, network: str = DEFAULT_NETWORK) -> Path:
    return conf_dir / f"10-{network}.conflist"


def write_cni_config(conf_dir: Path, cidr: str, bridge: str = DEFAULT_BRIDGE,
                     network: str = DEFAULT_NETWORK, ipam_dir: Path | None = None) -> bool:
    """Write the conflist; False when an identical one is already there."""
    conf_dir.mkdir(parents=True, exist_ok=True)
    path = conflist_path(conf_dir, network)
    data = json.dumps(cni_conflist(cidr, bridge, network, ipam_dir), indent=2) + "\n"
    try:
        if path.read_text() == data:
            return False
    except OSError:
        pass
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(data)
    os.replace(tmp, path)
    return True


def remove_cni_config(conf_dir: Path, network: str = DEFAULT_NETWORK) -> None:
    conflist_path(conf_dir, network).unlink(missing_ok=True)
