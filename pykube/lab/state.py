"""What `pykube lab` records about a lab, in `<lab dir>/lab.json`, and the pure decisions
over it (names, addresses, the flags each node gets).

Owns the `Lab` and `LabNode` records: the lab's tag (in every host name it makes: bridge
`pklbr<tag>`, namespaces `pkl-<tag>-<node>`, veths `pklv<tag><i>`, cgroups
`/pykube-lab-<tag>`), its subnet, datastore, and per node its role, address, data dir and
anchor pid. `lab up` writes it before it makes anything, so `lab down` can always find
what a half-made lab left.
"""
from __future__ import annotations

import json
import os
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

STATE_FILE = "lab.json"


@dataclass
class LabNode:
    name: str
    role: str              # "server" or "agent"
    index: int             # 1.. : the address is <prefix>.<10+index>
    ip: str
    netns: str
    host_veth: str
    data_dir: str
    anchor_pid: int = 0

    @property
    def is_server(self) -> bool:
        return self.role == "server"


@dataclass
class Lab:
    dir: str
    tag: str
    prefix: str            # 172.31.X
    datastore: str = "sqlite"
    node_monitor_grace_period: str = ""
    registry: bool = False  # server-1 runs the cluster registry (`pykube server --registry`)
    nodes: list[LabNode] = field(default_factory=list)
    etcd_pid: int = 0

    # ------------------------------------------------------------- names
    @property
    def bridge(self) -> str:
        return f"pklbr{self.tag}"

    @property
    def gateway(self) -> str:
        return f"{self.prefix}.1"

    @property
    def cgroup_top(self) -> str:
        return f"pykube-lab-{self.tag}"

    @property
    def path(self) -> Path:
        return Path(self.dir)

    @property
    def shared(self) -> Path:
        return self.path / "shared"

    @property
    def kubeconfig(self) -> Path:
        return self.path / "kubeconfig"

    @property
    def server(self) -> LabNode:
        return next(n for n in self.nodes if n.is_server)

    @property
    def etcd_url(self) -> str:
        return f"etcd://{self.server.ip}:2379"

    def node(self, name: str) -> LabNode:
        for n in self.nodes:
            if n.name == name:
                return n
        raise KeyError(f"no node {name!r} in this lab; nodes: {', '.join(n.name for n in self.nodes)}")

    @property
    def ha(self) -> bool:
        """Several servers: an embedded etcd cluster, server-1 `--cluster-init`, the others join."""
        return sum(n.is_server for n in self.nodes) > 1

    def cluster_role(self, node: LabNode) -> str:
        """provision.sh's CLUSTER: init (server-1 of an HA lab), join (its other servers), or ''."""
        if not (self.ha and node.is_server):
            return ""
        return "init" if node is self.server else "join"

    @property
    def registry_url(self) -> str:
        return f"https://{self.server.ip}:5443" if self.registry else ""

    def registries_file(self, node: LabNode) -> Path:
        """Where provision.sh puts the node's registries.yaml (its data dir, not /etc)."""
        return Path(node.data_dir) / "registries.yaml"

    def extra_args(self, node: LabNode) -> str:
        """Flags beyond provision.sh's own: what makes several nodes share one kernel."""
        args = [f"--cgroup-parent /{self.cgroup_top}/{node.name}/kubepods"]
        if not (node.is_server and self.registry):   # never the host's /etc/pykube/registries.yaml
            args.append(f"--private-registry {self.registries_file(node)}")
        if node.is_server:
            if self.datastore == "etcd":
                args.append(f"--datastore-endpoint {self.etcd_url}")
            if self.node_monitor_grace_period:
                args.append(f"--node-monitor-grace-period {self.node_monitor_grace_period}")
        return " ".join(args)

    # ------------------------------------------------------------- file
    def write(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = self.path / f".{STATE_FILE}.tmp"
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, self.path / STATE_FILE)

    @classmethod
    def read(cls, lab_dir: Path) -> Lab | None:
        try:
            raw: dict[str, Any] = json.loads((lab_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        nodes = [LabNode(**n) for n in raw.pop("nodes", [])]
        return cls(**raw, nodes=nodes)


def plan(lab_dir: Path, prefix: str, nodes: int, servers: int, datastore: str,
         grace: str = "", tag: str | None = None, registry: bool = False) -> Lab:
    """The lab `lab up` will make: servers first (`server-1`...), then `agent-1`..."""
    if servers < 1 or nodes < servers:
        raise ValueError(f"--nodes {nodes} --servers {servers}: need at least one server, and no more "
                         "servers than nodes")
    if servers > 1 and datastore != "sqlite":
        raise ValueError("--servers > 1 runs the servers' own etcd cluster (--cluster-init): leave out --datastore")
    if nodes > 200:
        raise ValueError("at most 200 nodes on one lab bridge")
    tag = tag or uuid.uuid4().hex[:6]
    lab = Lab(dir=str(lab_dir), tag=tag, prefix=prefix, datastore=datastore, node_monitor_grace_period=grace,
              registry=registry)
    for i in range(1, nodes + 1):
        role = "server" if i <= servers else "agent"
        name = f"server-{i}" if role == "server" else f"agent-{i - servers}"
        lab.nodes.append(LabNode(name=name, role=role, index=i, ip=f"{prefix}.{10 + i}",
                                 netns=f"pkl-{tag}-{name}", host_veth=f"pklv{tag}{i}",
                                 data_dir=str(lab_dir / "nodes" / name)))
    return lab
