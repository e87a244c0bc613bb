"""The kubeconfig files the launcher writes for its own components.

Owns `write_token_kubeconfig`: one cluster (server URL and CA data), one user with a
bearer token, one context; written atomically with mode 0600. The admin kubeconfig is
the apiserver's (apiserver/tls.py); this one is for agents (kubelet, kube-proxy).
"""
from __future__ import annotations

import base64
import os
from pathlib import Path

import yaml


def token_kubeconfig(server: str, ca_pem: bytes, token: str, user: str = "system:node",
                     cluster: str = "pykube", context: str = "default") -> dict[str, object]:
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": cluster, "cluster": {
                "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
            "current-context": context}


def write_token_kubeconfig(path: Path, server: str, ca_pem: bytes, token: str,
                           user: str = "system:node") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        yaml.safe_dump(token_kubeconfig(server, ca_pem, token, user), f, sort_keys=False)
    os.replace(tmp, path)
