"""Pull credentials from a pod's `imagePullSecrets`, chosen for one image as the kubelet does.

Owns Kubernetes' pkg/credentialprovider keyring, pure: a Secret of type
`kubernetes.io/dockerconfigjson` (`.dockerconfigjson`: `{"auths": {KEY: {username,
password, auth}}}`) or the older `kubernetes.io/dockercfg` (`.dockercfg`: the map without
`auths`) gives entries keyed by a registry (`registry.example:5443`,
`https://index.docker.io/v1/`, `registry.example/team`); an image matches an entry when its
registry host equals the key's (docker.io, index.docker.io and registry-1.docker.io are
one) and its repository path starts with the key's path, if any. The most specific keys
come first; the puller tries each in turn, then none.

What goes to CRI (`PullAuth`) is the username and password only: containerd sends them to
whichever host answers, so credentials for `docker.io` work through a registries.yaml
mirror too (NODE-STACK.md: a `server_address` of `docker.io` would keep them from it).
"""
from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from kubelet.runtime.interface import PullAuth, normalize_image

DOCKER_CONFIG_JSON, DOCKER_CFG = "kubernetes.io/dockerconfigjson", "kubernetes.io/dockercfg"
_DOCKER_HUB = {"docker.io", "index.docker.io", "registry-1.docker.io"}


def _host_path(key: str) -> tuple[str, str]:
    """A keyring key → (host, path prefix): `https://index.docker.io/v1/` → (docker.io, '')."""
    k = key.strip()
    for scheme in ("https://", "http://"):
        if k.startswith(scheme):
            k = k[len(scheme):]
    host, _, path = k.partition("/")
    host = host.lower()
    if host in _DOCKER_HUB:
        host = "docker.io"
    path = path.strip("/")
    if path in ("v1", "v2") or path.startswith(("v1/", "v2/")):
        path = ""
    return host, path


def image_host_path(image: str) -> tuple[str, str]:
    """`busybox` → (docker.io, library/busybox); `10.0.0.1:5443/team/app:1` → (10.0.0.1:5443, team/app)."""
    ref = normalize_image(image)
    name = ref.split("@", 1)[0]
    host, _, path = name.partition("/")
    last = path.rsplit("/", 1)
    if ":" in last[-1]:
        path = path[: len(path) - len(last[-1])] + last[-1].split(":", 1)[0]
    return host, path


def _entry_auth(entry: Mapping[str, Any]) -> PullAuth | None:
    user, password = str(entry.get("username") or ""), str(entry.get("password") or "")
    if not user and entry.get("auth"):
        try:
            user, _, password = base64.b64decode(str(entry["auth"])).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
    if not user and not password:
        return None
    return PullAuth(username=user, password=password)


def secret_entries(secret: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The registry entries of one Secret (a plain dict, `data` base64 as on the wire);
    {} for another type or unreadable data."""
    kind = secret.get("type") or ""
    key = {DOCKER_CONFIG_JSON: ".dockerconfigjson", DOCKER_CFG: ".dockercfg"}.get(kind)
    raw = (secret.get("data") or {}).get(key or "")
    if not key or not raw:
        return {}
    try:
        doc = json.loads(base64.b64decode(raw))
    except (binascii.Error, ValueError):
        return {}
    if kind == DOCKER_CONFIG_JSON:
        doc = doc.get("auths") if isinstance(doc, dict) else None
    if not isinstance(doc, dict):
        return {}
    return {str(k): v for k, v in doc.items() if isinstance(v, dict)}


def credentials_for(image: str, secrets: list[Mapping[str, Any]]) -> list[PullAuth]:
    """The credentials to try for `image`, the most specific key first, each once."""
    host, path = image_host_path(image)
    found: list[tuple[int, int, PullAuth]] = []
    order = 0
    for secret in secrets:
        for key, entry in secret_entries(secret).items():
            khost, kpath = _host_path(key)
            if khost != host or (kpath and path != kpath and not path.startswith(kpath + "/")):
                continue
            auth = _entry_auth(entry)
            if auth is not None:
                found.append((-len(kpath), order, auth))
                order += 1
    out: list[PullAuth] = []
    for _, _, auth in sorted(found, key=lambda t: (t[0], t[1])):
        if auth not in out:
            out.append(auth)
    return out
