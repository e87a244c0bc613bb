"""Where `pods/proxy`, `services/proxy` and `nodes/proxy` lead (pure, as kube-apiserver decides).

- The name segment may carry a scheme and a port: `[scheme:]name[:port]` (`web`,
  `web:8080`, `https:web:8443`, `my-nginx-svc:80`, `my-nginx-svc:http`).
- A pod: its IP and the port asked for, else its first container port, else 80.
- A service: the port asked for is a service port's name or number (none: the unnamed
  port); an endpoint address is chosen at random among the ready ones that serve that
  port, and the request goes to the endpoint's port (the target port). None: 503
  `no endpoints available for service "NAME"`.
- A node: its kubelet (the kubeletproxy's business), or another port given in the name.
- `backend_path(raw_path, plural, name)`: what follows `.../NAME/proxy` in the request path.
"""
from __future__ import annotations

import random
from typing import Any

from apiserver import errors

SCHEMES = ("", "http", "https")


def split_scheme_name_port(word: str) -> tuple[str, str, str]:
    parts = word.split(":")
    if len(parts) == 1:
        return "", parts[0], ""
    if len(parts) == 2:
        return "", parts[0], parts[1]
    if len(parts) == 3 and parts[0] in SCHEMES:
        return parts[0], parts[1], parts[2]
    raise errors.bad_request(f"invalid request {word!r}: expected [scheme:]name[:port]")


def pod_location(pod: dict[str, Any], scheme: str, port: str) -> tuple[str, str, int]:
    name = pod["metadata"]["name"]
    ip = (pod.get("status") or {}).get("podIP")
    if not ip:
        raise errors.bad_request(f"address not allowed: pod {name} has no IP address yet")
    if not port:
        ports = [p.get("containerPort") for c in (pod.get("spec") or {}).get("containers") or []
                 for p in c.get("ports") or []]
        port = str(ports[0]) if ports else "80"
    if not port.isdigit():
        named = {p.get("name"): p.get("containerPort") for c in (pod.get("spec") or {}).get("containers") or []
                 for p in c.get("ports") or []}
        if port not in named:
            raise errors.bad_request(f"no container port named {port!r} in pod {name}")
        port = str(named[port])
    return scheme or "http", ip, int(port)


def service_location(svc: dict[str, Any], endpoints: dict[str, Any] | None, scheme: str, port: str,
                     rng: random.Random | None = None) -> tuple[str, str, int]:
    name = svc["metadata"]["name"]
    port_name = port
    if port.isdigit():
        match = [p for p in (svc.get("spec") or {}).get("ports") or [] if p.get("port") == int(port)]
        if not match:
            raise errors.APIError(503, "ServiceUnavailable", f'no service port {port} found for service "{name}"')
        port_name = match[0].get("name") or ""
    rng = rng or random.Random()
    subsets = [s for s in (endpoints or {}).get("subsets") or [] if s.get("addresses")]
    rng.shuffle(subsets)
    for subset in subsets:
        for p in subset.get("ports") or []:
            if (p.get("name") or "") == port_name:
                addr = rng.choice(subset["addresses"])
                return scheme or "http", addr["ip"], int(p["port"])
    raise errors.APIError(503, "ServiceUnavailable", f'no endpoints available for service "{name}"')


def backend_path(raw_path: str, plural: str, name: str) -> str | None:
    """The path after `/{plural}/{name}/proxy` ("" when nothing follows; None if absent)."""
    marker = f"/{plural}/{name}/proxy"
    i = raw_path.find(marker)
    if i < 0:
        return None
    rest = raw_path[i + len(marker):]
    if rest and not rest.startswith("/"):
        return None
    return rest
