"""The pod's /etc/hosts, as the kubelet manages it (kubelet_pods.go makeHostsMount).

A pod with its own network gets a Kubernetes-managed hosts file: localhost lines, its IPs
with its host name (and `<hostname>.<subdomain>.<ns>.svc.<domain>` when it has a subdomain),
then its `hostAliases`. A hostNetwork pod with aliases gets the node's /etc/hosts plus its
aliases; one without any keeps the node's file. The file lives in the pod's directory and
is mounted at /etc/hosts in every container that does not mount something there itself.
`render` is pure; `ensure` writes the file when its content changes.
"""
from __future__ import annotations

import os
from pathlib import Path

from api.models.pod import Pod

MANAGED_HEADER = "# Kubernetes-managed hosts file."
_LOCAL = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", "fe00::0\tip6-localnet",
          "fe00::0\tip6-mcastprefix", "fe00::1\tip6-allnodes", "fe00::2\tip6-allrouters"]


def _aliases(pod: Pod) -> list[str]:
    lines = []
    for alias in (pod.spec.host_aliases if pod.spec else None) or []:
        names = alias.get("hostnames") or []
        if alias.get("ip") and names:
            lines.append("\t".join([alias["ip"], *names]))
    return ["", "# Entries added by HostAliases.", *lines] if lines else []


def render(pod: Pod, ips: list[str], cluster_domain: str, node_hosts: str = "") -> str | None:
    """The hosts file of `pod` (None: the pod keeps the node's own, unmanaged)."""
    spec = pod.spec
    assert spec is not None
    if spec.host_network:
        aliases = _aliases(pod)
        if not aliases:
            return None
        return node_hosts.rstrip("\n") + "\n" + "\n".join(aliases[1:]) + "\n"
    hostname = (spec.hostname or pod.metadata.name or "")[:63]
    names = [hostname]
    if spec.subdomain:
        names = [f"{hostname}.{spec.subdomain}.{pod.metadata.namespace}.svc.{cluster_domain}", hostname]
    own = ["\t".join([ip, *names]) for ip in ips]
    return "\n".join([MANAGED_HEADER, *_LOCAL, *own, *_aliases(pod)]) + "\n"


def ensure(path: Path, content: str) -> None:
    if path.exists() and path.read_text() == content:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(content)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
