"""Container environment: env and envFrom resolved to the strings a container gets.

Owns the pure rules of Kubernetes' makeEnvironmentVariables:
- `envFrom` first (configMapRef / secretRef, each key optionally prefixed; keys that are
  not valid variable names are skipped), then `env` in order, later names winning;
- `value` with `$(VAR)` references expanded from the variables defined before it
  (`$$(VAR)` stays literal, an unknown reference is left as written);
- `valueFrom.fieldRef` for metadata.name, metadata.namespace, metadata.uid,
  metadata.labels['k'], metadata.annotations['k'], spec.nodeName,
  spec.serviceAccountName, status.podIP(s), status.hostIP(s);
- `valueFrom.resourceFieldRef` for limits/requests of cpu and memory (with divisor);
- `valueFrom.configMapKeyRef` / `secretKeyRef`; a missing object or key is an
  `EnvError` (the kubelet reports CreateContainerConfigError) unless `optional`.
`expand_command` applies `$(VAR)` expansion to command and args, as the kubelet does.

ConfigMaps and Secrets come in as plain `{name: {key: value}}` maps (secret values
already base64-decoded); fetching them is the caller's business.
"""
from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from decimal import Decimal

from api.models.core import Container, Pod
from api.quantity import parse_quantity

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_FIELD_INDEX = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")

Data = Mapping[str, Mapping[str, str]]


class EnvError(Exception):
    """The environment cannot be built (CreateContainerConfigError)."""


@dataclass
class PodContext:
    """What fieldRefs read besides the pod object itself."""

    pod_ip: str = ""
    pod_ips: list[str] = field(default_factory=list)
    host_ip: str = ""
    node_name: str = ""


def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes' expansion: `$(VAR)` → env[VAR]; `$$` → `$`; unknown refs kept."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "$" and i + 1 < n:
            nxt = text[i + 1]
            if nxt == "$":
                out.append("$")
                i += 2
                continue
            if nxt == "(":
                end = text.find(")", i + 2)
                if end != -1:
                    name = text[i + 2:end]
                    out.append(env[name] if name in env else text[i:end + 1])
                    i = end + 1
                    continue
        out.append(c)
        i += 1
    return "".join(out)


def field_ref(pod: Pod, path: str, ctx: PodContext) -> str:
    meta = pod.metadata
    spec = pod.spec
    simple = {
        "metadata.name": meta.name or "",
        "metadata.namespace": meta.namespace or "",
        "metadata.uid": meta.uid or "",
        "spec.nodeName": (spec.node_name if spec else None) or ctx.node_name,
        "spec.serviceAccountName": (spec.service_account_name if spec else None) or "",
        "status.podIP": ctx.pod_ip,
        "status.podIPs": ",".join(ctx.pod_ips or ([ctx.pod_ip] if ctx.pod_ip else [])),
        "status.hostIP": ctx.host_ip,
        "status.hostIPs": ctx.host_ip,
    }
    if path in simple:
        return simple[path]
    m = _FIELD_INDEX.match(path)
    if m:
        source = (meta.labels if m.group(1) == "labels" else meta.annotations) or {}
        return source.get(m.group(2), "")
    if path in ("metadata.labels", "metadata.annotations"):
        source = (meta.labels if path == "metadata.labels" else meta.annotations) or {}
        return "\n".join(f'{k}="{v}"' for k, v in sorted(source.items()))
    raise EnvError(f"unsupported fieldRef fieldPath {path!r}")


def resource_field_ref(container: Container, resource: str, divisor: object) -> str:
    kind, _, name = resource.partition(".")
    res = container.resources
    source = (res.limits if kind == "limits" else res.requests) if res else None
    raw = (source or {}).get(name)
    if raw is None:
        return "0"
    value = parse_quantity(raw)
    div = parse_quantity(divisor) if divisor not in (None, "", 0) else Decimal(1)
    if div == 0:
        raise EnvError(f"invalid divisor for {resource}")
    return str(math.ceil(value / div))


def _lookup(data: Data, kind: str, ns: str, name: str, key: str, optional: bool) -> str | None:
    obj = data.get(name)
    if obj is None:
        if optional:
            return None
        raise EnvError(f'{kind} "{name}" not found')
    if key not in obj:
        if optional:
            return None
        raise EnvError(f"couldn't find key {key} in {kind} {ns}/{name}")
    return obj[key]


def service_env(name: str, cluster_ip: str, ports: list[dict[str, Any]]) -> dict[str, str]:
    """The Docker-link style variables of one Service (`KUBERNETES_SERVICE_HOST`, ...)."""
    if not cluster_ip or cluster_ip == "None" or not ports:
        return {}
    prefix = name.upper().replace("-", "_")
    first = ports[0]
    proto = (first.get("protocol") or "TCP").lower()
    env = {f"{prefix}_SERVICE_HOST": cluster_ip, f"{prefix}_SERVICE_PORT": str(first.get("port")),
           f"{prefix}_PORT": f"{proto}://{cluster_ip}:{first.get('port')}"}
    for p in ports:
        pproto = (p.get("protocol") or "TCP")
        if p.get("name"):
            env[f"{prefix}_SERVICE_PORT_{p['name'].upper().replace('-', '_')}"] = str(p.get("port"))
        base = f"{prefix}_PORT_{p.get('port')}_{pproto}"
        env[base] = f"{pproto.lower()}://{cluster_ip}:{p.get('port')}"
        env[f"{base}_PROTO"] = pproto.lower()
        env[f"{base}_PORT"] = str(p.get("port"))
        env[f"{base}_ADDR"] = cluster_ip
    return env


def resolve_env(pod: Pod, container: Container, ctx: PodContext,
                config_maps: Data, secrets: Data, services: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of `container`, in definition order, after the Service variables
    (`services`: at least the `kubernetes` Service's, which every container gets)."""
    ns = pod.metadata.namespace or "default"
    env: dict[str, str] = dict(services or {})
    for src in container.env_from or []:
        prefix = src.prefix or ""
        for ref, data, kind in ((src.config_map_ref, config_maps, "configmap"),
                                (src.secret_ref, secrets, "secret")):
            if ref is None:
                continue
            name, optional = ref.get("name", ""), bool(ref.get("optional"))
            obj = data.get(name)
            if obj is None:
                if optional:
                    continue
                raise EnvError(f'{kind} "{name}" not found')
            for k, v in obj.items():
                if _ENV_NAME.match(prefix + k):
                    env[prefix + k] = v
    for var in container.env or []:
        if var.value_from is None:
            env[var.name] = expand(var.value or "", env)
            continue
        vf = var.value_from
        value: str | None
        if vf.field_ref is not None:
            value = field_ref(pod, vf.field_ref.field_path, ctx)
        elif vf.resource_field_ref is not None:
            rf = vf.resource_field_ref
            target = container
            if rf.container_name and pod.spec:
                target = next((c for c in pod.spec.containers if c.name == rf.container_name), container)
            value = resource_field_ref(target, rf.resource, rf.divisor)
        elif vf.config_map_key_ref is not None:
            r = vf.config_map_key_ref
            value = _lookup(config_maps, "configmap", ns, r.name or "", r.key, bool(r.optional))
        elif vf.secret_key_ref is not None:
            r = vf.secret_key_ref
            value = _lookup(secrets, "secret", ns, r.name or "", r.key, bool(r.optional))
        else:
            value = ""
        if value is not None:
            env[var.name] = value
    return env


def expand_command(words: list[str] | None, env: Mapping[str, str]) -> list[str]:
    return [expand(w, env) for w in words or []]


def referenced_objects(container: Container) -> tuple[set[str], set[str]]:
    """Names of the ConfigMaps and Secrets a container's environment reads."""
    cms: set[str] = set()
    secrets: set[str] = set()
    for src in container.env_from or []:
        if src.config_map_ref and src.config_map_ref.get("name"):
            cms.add(src.config_map_ref["name"])
        if src.secret_ref and src.secret_ref.get("name"):
            secrets.add(src.secret_ref["name"])
    for var in container.env or []:
        vf = var.value_from
        if vf and vf.config_map_key_ref and vf.config_map_key_ref.name:
            cms.add(vf.config_map_key_ref.name)
        if vf and vf.secret_key_ref and vf.secret_key_ref.name:
            secrets.add(vf.secret_key_ref.name)
    return cms, secrets
