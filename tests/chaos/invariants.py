"""What must hold after every chaos round, as pure checks over what the API lists.

Each function takes listed objects (wire dicts) and returns the problems it finds as
readable lines (empty: the invariant holds):
- `lost_writes`: every ConfigMap value the apiserver acknowledged is still there, or was
  overwritten by a later write that may have landed;
- `converged`: the Deployment's pods are exactly `replicas`, all of the current template,
  Running and Ready on a node, and its status says so;
- `allocations`: no ClusterIP or NodePort given to two Services, no pod IP to two pods.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from tests.chaos.workload import Ledger

Obj = dict[str, Any]


def lost_writes(ledger: Ledger, configmaps: list[Obj]) -> list[str]:
    stored = {c["metadata"]["name"]: int((c.get("data") or {}).get("v", "-1")) for c in configmaps}
    out = []
    for key, value in ledger.acked.items():
        if stored.get(key) not in ledger.possible(key):
            out.append(f"configmap {key}: acknowledged v={value} (or maybe {sorted(ledger.maybe.get(key, []))}), "
                       f"stored {stored.get(key)}")
    return out


def _ready(pod: Obj) -> bool:
    return any(c.get("type") == "Ready" and c.get("status") == "True"
               for c in (pod.get("status") or {}).get("conditions") or [])


def converged(deploy: Obj, pods: list[Obj], replicas: int, image: str) -> list[str]:
    live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
    out = []
    if len(live) != replicas:
        out.append(f"{len(live)} live pods, want {replicas}")
    for p in live:
        name = p["metadata"]["name"]
        images = [c.get("image") for c in p["spec"]["containers"]]
        if images != [image]:
            out.append(f"pod {name} runs {images}, want {image}")
        if not p["spec"].get("nodeName"):
            out.append(f"pod {name} not scheduled")
        elif (p.get("status") or {}).get("phase") != "Running" or not _ready(p):
            out.append(f"pod {name} on {p['spec']['nodeName']} not Running and Ready")
    st = deploy.get("status") or {}
    if st.get("observedGeneration") != deploy["metadata"].get("generation"):
        out.append(f"deployment status at generation {st.get('observedGeneration')}, "
                   f"spec at {deploy['metadata'].get('generation')}")
    for f in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas"):
        if st.get(f, 0) != replicas:
            out.append(f"deployment status.{f}={st.get(f, 0)}, want {replicas}")
    return out


def allocations(services: list[Obj], pods: list[Obj]) -> list[str]:
    out = []
    ips = Counter(s["spec"].get("clusterIP") for s in services if s["spec"].get("clusterIP") not in (None, "", "None"))
    out += [f"ClusterIP {ip} given to {n} Services" for ip, n in ips.items() if n > 1]
    ports = Counter(p.get("nodePort") for s in services for p in s["spec"].get("ports") or [] if p.get("nodePort"))
    out += [f"NodePort {port} given to {n} Services" for port, n in ports.items() if n > 1]
    pod_ips = Counter((p.get("status") or {}).get("podIP") for p in pods
                      if (p.get("status") or {}).get("podIP") and not p["metadata"].get("deletionTimestamp"))
    out += [f"pod IP {ip} given to {n} pods" for ip, n in pod_ips.items() if n > 1]
    return out
