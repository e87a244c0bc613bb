"""The pod's /etc/hosts as the kubelet writes it: localhost lines, the pod's IP and names,
the hostAliases section; a hostNetwork pod keeps the node's file unless it has aliases."""
from __future__ import annotations

from typing import Any

from api.models import Pod
from kubelet.etchosts import render


def _pod(**spec: Any) -> Pod:
    return Pod.from_dict({"metadata": {"name": "hostaliases-pod", "namespace": "default"},
                          "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}})


ALIASES = [{"ip": "127.0.0.1", "hostnames": ["foo.local", "bar.local"]},
           {"ip": "10.1.2.3", "hostnames": ["foo.remote", "bar.remote"]}]


def test_managed_hosts_file_with_aliases() -> None:
    assert render(_pod(hostAliases=ALIASES), ["10.244.0.5"], "cluster.local") == (
        "# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
        "fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n"
        "10.244.0.5\thostaliases-pod\n\n# Entries added by HostAliases.\n"
        "127.0.0.1\tfoo.local\tbar.local\n10.1.2.3\tfoo.remote\tbar.remote\n")


def test_hostname_and_subdomain() -> None:
    text = render(_pod(hostname="web-0", subdomain="nginx"), ["10.244.0.7"], "cluster.local")
    assert text is not None and text.endswith("10.244.0.7\tweb-0.nginx.default.svc.cluster.local\tweb-0\n")


def test_host_network_pods() -> None:
    node = "127.0.0.1 localhost\n192.0.2.2 vm\n"
    assert render(_pod(hostNetwork=True), ["192.0.2.2"], "cluster.local", node) is None
    assert render(_pod(hostNetwork=True, hostAliases=ALIASES[:1]), ["192.0.2.2"], "cluster.local", node) == (
        node + "# Entries added by HostAliases.\n127.0.0.1\tfoo.local\tbar.local\n")
