"""A node's registries.yaml (k3s' format) as containerd's `certs.d` hosts files and CRI auth.

Owns the translation, pure: `parse(text)` reads

    mirrors:
      docker.io:
        endpoint: ["https://10.0.0.1:5443"]
    configs:
      "10.0.0.1:5443":
        auth: {username: pull, password: secret}       # or auth: <base64 user:pass>
        tls: {ca_file: /etc/pykube/ca.crt, insecure_skip_verify: false,
              cert_file: ..., key_file: ...}

(`/etc/pykube/registries.yaml` by default, the kubelet's `--private-registry`), and
`hosts_files(cfg, cluster_ca)` gives each `certs.d/<name>/hosts.toml` containerd reads
through `config_path` (NODE-STACK.md, "A real registry"): a mirrored name gets its endpoints
as `[host]` entries with pull and resolve, and `server` = its first endpoint, so an offline
node never falls back to the upstream registry (k3s' `--disable-default-registry-endpoint`);
a name under `configs` only gets itself as the host, push included; `*` is containerd's
`_default`. The cluster CA (the one the node joined with) is trusted for every configured
host, so the cluster registry `pykube server --registry` runs needs no `ca_file`.
`cri_auths(cfg)` gives the `configs.<host>.auth` credentials, which containerd's CRI uses
when a pull carries none (node-level credentials, like the kubelet's config.json upstream).
"""
from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

import yaml


class RegistriesError(ValueError):
    pass


@dataclass
class HostConfig:
    username: str = ""
    password: str = ""
    ca_file: str = ""
    cert_file: str = ""
    key_file: str = ""
    insecure_skip_verify: bool = False


@dataclass
class Registries:
    mirrors: dict[str, list[str]] = field(default_factory=dict)
    configs: dict[str, HostConfig] = field(default_factory=dict)


def _endpoint(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("https://", "http://")):
        url = f"https://{url}"
    return url


def _host_of(endpoint: str) -> str:
    return endpoint.split("://", 1)[1].split("/", 1)[0]


def _auth(raw: Any, where: str) -> tuple[str, str]:
    if not isinstance(raw, dict):
        raise RegistriesError(f"{where}.auth: a map of username and password")
    user, password = str(raw.get("username") or ""), str(raw.get("password") or "")
    if not user and raw.get("auth"):
        try:
            user, _, password = base64.b64decode(str(raw["auth"])).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as e:
            raise RegistriesError(f"{where}.auth.auth: not base64 of user:password") from e
    return user, password


def parse(text: str) -> Registries:
    """registries.yaml's text → Registries; RegistriesError names the bad field."""
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as e:
        raise RegistriesError(f"not YAML: {e}") from e
    if not isinstance(doc, dict):
        raise RegistriesError("the top level must be a map with mirrors and configs")
    out = Registries()
    for name, m in (doc.get("mirrors") or {}).items():
        eps = (m or {}).get("endpoint") if isinstance(m, dict) else None
        if not isinstance(eps, list) or not eps or not all(isinstance(e, str) and e for e in eps):
            raise RegistriesError(f"mirrors.{name}.endpoint: a list of registry URLs")
        out.mirrors[str(name)] = [_endpoint(e) for e in eps]
    for host, c in (doc.get("configs") or {}).items():
        where = f"configs.{host}"
        if not isinstance(c, dict):
            raise RegistriesError(f"{where}: a map with auth and tls")
        hc = HostConfig()
        if c.get("auth") is not None:
            hc.username, hc.password = _auth(c["auth"], where)
        tls = c.get("tls") or {}
        if not isinstance(tls, dict):
            raise RegistriesError(f"{where}.tls: a map")
        hc.ca_file, hc.cert_file, hc.key_file = (str(tls.get(k) or "") for k in ("ca_file", "cert_file", "key_file"))
        hc.insecure_skip_verify = bool(tls.get("insecure_skip_verify", False))
        out.configs[str(host).split("://", 1)[-1].rstrip("/")] = hc
    return out


def _s(value: str) -> str:
    return json.dumps(value)  # a JSON string is a TOML basic string


def _tls_lines(cfg: Registries, host: str, cluster_ca: str, indent: str) -> list[str]:
    hc = cfg.configs.get(host, HostConfig())
    cas = [c for c in (cluster_ca, hc.ca_file) if c]
    lines = []
    if cas:
        lines.append(f"{indent}ca = [{', '.join(_s(c) for c in cas)}]")
    if hc.cert_file and hc.key_file:
        lines.append(f"{indent}client = [[{_s(hc.cert_file)}, {_s(hc.key_file)}]]")
    if hc.insecure_skip_verify:
        lines.append(f"{indent}skip_verify = true")
    return lines


def _hosts_toml(cfg: Registries, endpoints: list[str], caps: list[str], cluster_ca: str) -> str:
    server = endpoints[0]
    lines = [f"server = {_s(server)}", *_tls_lines(cfg, _host_of(server), cluster_ca, "")]
    for ep in endpoints:
        lines += ["", f"[host.{_s(ep)}]", f"  capabilities = [{', '.join(_s(c) for c in caps)}]",
                  *_tls_lines(cfg, _host_of(ep), cluster_ca, "  ")]
    return "\n".join(lines) + "\n"


def hosts_files(cfg: Registries, cluster_ca: str = "") -> dict[str, str]:
    """certs.d directory name → its hosts.toml."""
    out: dict[str, str] = {}
    for name, eps in cfg.mirrors.items():
        out["_default" if name == "*" else name] = _hosts_toml(cfg, eps, ["pull", "resolve"], cluster_ca)
    for host in cfg.configs:
        if host not in out:
            out[host] = _hosts_toml(cfg, [f"https://{host}"], ["pull", "resolve", "push"], cluster_ca)
    return out


def cri_auths(cfg: Registries) -> dict[str, tuple[str, str]]:
    """host → (username, password) for containerd's CRI `registry.configs.<host>.auth`."""
    return {h: (c.username, c.password) for h, c in cfg.configs.items() if c.username or c.password}
