"""What a running server or agent leaves in its data dir for `pykube killall` to find.

Owns `<data dir>/run/`: `<role>.pid` (the process, present while it runs; a second server
or agent on the same data dir is refused while that process lives) and `<role>.json` (the
host state it makes: CNI bridge and conf dir, containerd dir, pod and service ranges,
cgroup parent, proxy settings). The JSON file outlives the process: pods, bridge and rules
stay after a stop (as with k3s) until killall removes them.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROLES = ("server", "agent")


def run_dir(data_dir: Path) -> Path:
    return data_dir / "run"


def pid_file(data_dir: Path, role: str) -> Path:
    return run_dir(data_dir) / f"{role}.pid"


def state_file(data_dir: Path, role: str) -> Path:
    return run_dir(data_dir) / f"{role}.json"


@dataclass
class HostState:
    """The host resources one server or agent creates (for cleanup)."""
    role: str
    data_dir: str
    node_name: str = ""
    cluster_cidr: str = ""
    service_cidr: str = ""
    cni_bridge: str = ""
    cni_network: str = ""
    cni_conf_dir: str = ""
    containerd_dir: str = ""
    managed_containerd: bool = False
    cgroup_parent: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def write(self) -> None:
        path = state_file(Path(self.data_dir), self.role)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2) + "\n")
        os.replace(tmp, path)

    @classmethod
    def read(cls, data_dir: Path, role: str) -> HostState | None:
        try:
            raw = json.loads(state_file(data_dir, role).read_text())
        except (OSError, ValueError):
            return None
        known = {k: v for k, v in raw.items() if k in cls.__dataclass_fields__}
        return cls(**known)


def pid_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def read_pid(data_dir: Path, role: str) -> int | None:
    try:
        pid = int(pid_file(data_dir, role).read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if pid_alive(pid) else None


class AlreadyRunning(RuntimeError):
    pass


def claim_pid_file(data_dir: Path, role: str) -> Path:
    """Write our pid, refusing when another live process holds this data dir's role."""
    other = read_pid(data_dir, role)
    if other is not None and other != os.getpid():
        raise AlreadyRunning(f"a pykube {role} already runs on {data_dir} (pid {other}); "
                             f"stop it first (pykube killall --data-dir {data_dir})")
    path = pid_file(data_dir, role)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{os.getpid()}\n")
    return path


def release_pid_file(data_dir: Path, role: str) -> None:
    path = pid_file(data_dir, role)
    try:
        if int(path.read_text().split()[0]) == os.getpid():
            path.unlink()
    except (OSError, ValueError, IndexError):
        pass
