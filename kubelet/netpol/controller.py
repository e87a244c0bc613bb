"""`NetworkPolicyController`: keeps this node's ipsets and iptables chains equal to what the
cluster's NetworkPolicies say about the pods on this node.

Watches every pod (peers live on other nodes too), every namespace (namespaceSelectors read
their labels) and every NetworkPolicy; any change schedules one sync (coalesced), and a
periodic resync repairs rules someone removed by hand. A sync computes the rules
(policy.py), renders them (rules.py), then: `ipset restore` (sets first, so the rules that
use them can load), `iptables-restore --noflush`, the FORWARD/INPUT jumps, and finally the
destruction of sets nothing uses any more. `cleanup()` removes everything of ours.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from api.models import Namespace, NetworkPolicy, Pod
from client.informer import Informer
from client.rest import Client
from kubelet.netpol import policy, rules
from kubelet.proxy.iptables import IPTables, Runner

log = logging.getLogger(__name__)


def _dict(o: Any) -> dict[str, Any]:
    return o.to_dict() if hasattr(o, "to_dict") else dict(o)


class NetworkPolicyController:
    def __init__(self, client: Client, node_name: str, runner: Runner | None = None,
                 resync_seconds: float = 30.0) -> None:
        self.client, self.node_name = client, node_name
        self.runner = runner or Runner()
        self.iptables = IPTables(self.runner)
        self.resync_seconds = resync_seconds
        self.pods = Informer(client, Pod)
        self.namespaces = Informer(client, Namespace)
        self.policies = Informer(client, NetworkPolicy)
        self._changed = asyncio.Event()
        self.syncs = 0
        for inf in (self.pods, self.namespaces, self.policies):
            inf.add_handlers(lambda *_: self._changed.set(), lambda *_: self._changed.set(),
                             lambda *_: self._changed.set())

    async def run(self) -> None:
        for inf in (self.pods, self.namespaces, self.policies):
            await inf.start()
        try:
            while True:
                self._changed.clear()
                try:
                    await self.sync()
                except Exception:   # a failed command: retried at the next change or resync
                    log.exception("network policy sync failed")
                try:
                    await asyncio.wait_for(self._changed.wait(), self.resync_seconds)
                    await asyncio.sleep(0.05)   # coalesce a burst of events into one sync
                except asyncio.TimeoutError:
                    pass
        finally:
            for inf in (self.pods, self.namespaces, self.policies):
                await inf.stop()

    def desired(self) -> list[policy.PodRules]:
        all_pods, local = [], []
        for p in self.pods.store.list():
            d = _dict(p)
            info = policy.PodInfo.from_pod(d)
            if info is None or (d.get("status") or {}).get("phase") in ("Succeeded", "Failed"):
                continue
            all_pods.append(info)
            if (d.get("spec") or {}).get("nodeName") == self.node_name:
                local.append(info)
        ns_labels = {n.metadata.name or "": dict(n.metadata.labels or {}) for n in self.namespaces.store.list()}
        pols = [_dict(p) for p in self.policies.store.list()]
        return policy.pod_rules(local, all_pods, pols, ns_labels)

    async def sync(self) -> None:
        out = rules.render(self.desired(), await our_chains(self.runner))
        if out.ipset:
            await self.runner.run("ipset", "restore", stdin=out.ipset)
        await self.iptables.restore(out.iptables)
        for parent, chain in rules.JUMPS:
            await self.iptables.ensure_rule("filter", parent, ["-j", chain])
        for stale in sorted(await our_sets(self.runner) - out.sets):
            await self.runner.run("ipset", "destroy", stale, check=False)
        self.syncs += 1


async def our_chains(runner: Runner) -> set[str]:
    _, out, _ = await runner.run("iptables-save", "-t", "filter")
    return {line[1:].split()[0] for line in out.splitlines()
            if line.startswith(":") and line[1:].startswith(rules.PREFIXES)}


async def our_sets(runner: Runner) -> set[str]:
    try:
        code, out, _ = await runner.run("ipset", "list", "-n", check=False)
    except OSError:   # no ipset installed: nothing of ours can exist
        return set()
    return {s for s in out.split() if s.startswith("PYKUBE-NP-")} if code == 0 else set()


async def cleanup(runner: Runner | None = None) -> bool:
    """Remove every jump, chain and set network policy makes; True when anything was there."""
    runner = runner or Runner()
    ipt = IPTables(runner)
    found = False
    for parent, chain in rules.JUMPS:
        found |= await ipt.delete_rule("filter", parent, ["-j", chain])
    text = rules.cleanup_text(await our_chains(runner))
    if text:
        await ipt.restore(text)
        found = True
    for s in sorted(await our_sets(runner)):
        await runner.run("ipset", "destroy", s, check=False)
        found = True
    return found
