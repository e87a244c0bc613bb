"""The chaos suite's steady workload, and the ledger of what the apiserver acknowledged.

Owns `Workload`: a Deployment `web` that is scaled (2..6) and rolled (the image flips
between two tags), ConfigMap writes (each key updated in turn; an answered write is
acknowledged, a write whose answer was lost may or may not have landed), Services created
and deleted (ClusterIP and NodePort allocation under churn), and pods of `web` deleted at
random. Every call goes through `client.rest.Client` and tolerates an apiserver that is away:
the operation is retried or skipped, never fatal. `sample()` records the Deployment's pods
as seen at one moment, for the surge bound.
"""
from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from typing import Any

from api.resources import resolve
from client.errors import AlreadyExists, APIError, ClientError, Conflict, NotFound
from client.rest import Client

NS = "default"
DEPLOY, PODS, CMS, SVCS = resolve("deployments"), resolve("pods"), resolve("configmaps"), resolve("services")
IMAGES = ("local/web:1", "local/web:2")
CM_KEYS = 8


def deployment(replicas: int, image: str) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": "web"}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 1}},
                     "template": {"metadata": {"labels": {"app": "web"}},
                                  "spec": {"containers": [{"name": "web", "image": image}]}}}}


@dataclass
class Ledger:
    """Per ConfigMap key: the last value the apiserver acknowledged, and the values of
    writes after it whose answers were lost (they may have landed)."""

    acked: dict[str, int] = field(default_factory=dict)
    maybe: dict[str, set[int]] = field(default_factory=dict)
    writes: int = 0

    def possible(self, key: str) -> set[int]:
        return {self.acked[key], *self.maybe.get(key, set())} if key in self.acked else set(self.maybe.get(key, set()))


@dataclass
class Workload:
    client: Client
    rnd: random.Random
    ledger: Ledger = field(default_factory=Ledger)
    replicas: int = 3
    image: str = IMAGES[0]
    maybe_replicas: set[int] = field(default_factory=set)   # asked, answer lost
    maybe_images: set[str] = field(default_factory=set)
    max_replicas_seen: int = 3      # the largest replicas asked since the last check
    services: set[str] = field(default_factory=set)
    ops: dict[str, int] = field(default_factory=dict)
    surge_violations: list[str] = field(default_factory=list)

    def _count(self, op: str) -> None:
        self.ops[op] = self.ops.get(op, 0) + 1

    async def setup(self) -> None:
        await retry(lambda: self.client.create(deployment(self.replicas, self.image)), AlreadyExists)

    async def step(self) -> None:
        """One random operation. `replicas` and `image` are the last the apiserver acknowledged;
        a change whose answer was lost may have landed too (`maybe_*`)."""
        op = self.rnd.choice(["scale", "roll", "cm", "cm", "cm", "svc", "kill-pod"])
        try:
            if op == "scale":
                want = self.rnd.randint(2, 6)
                self.max_replicas_seen = max(self.max_replicas_seen, want)
                self.maybe_replicas.add(want)
                await self.client.patch(DEPLOY, "web", {"spec": {"replicas": want}}, NS)
                self.replicas, self.maybe_replicas = want, set()
            elif op == "roll":
                want_image = IMAGES[1] if self.image == IMAGES[0] else IMAGES[0]
                self.maybe_images.add(want_image)
                await self.client.patch(DEPLOY, "web", {"spec": {"template": {"spec": {
                    "containers": [{"name": "web", "image": want_image}]}}}}, NS)
                self.image, self.maybe_images = want_image, set()
            elif op == "cm":
                await self.write_configmap()
            elif op == "svc":
                await self.churn_service()
            else:
                pods = (await self.client.list(PODS, NS, label_selector="app=web")).items
                if pods:
                    victim = self.rnd.choice(pods)["metadata"]["name"]
                    await self.client.delete(PODS, victim, NS)
            self._count(op)
        except ClientError:
            self._count(op + " (apiserver away)")

    async def write_configmap(self) -> None:
        key = f"cm-{self.rnd.randrange(CM_KEYS)}"
        value = self.ledger.writes = self.ledger.writes + 1
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": key, "namespace": NS},
                "data": {"v": str(value)}}
        try:
            try:
                await self.client.create(body)
            except AlreadyExists:
                await self.client.patch(CMS, key, {"data": {"v": str(value)}}, NS)
        except (APIError, ClientError) as e:
            if not isinstance(e, APIError) or e.code >= 500:
                self.ledger.maybe.setdefault(key, set()).add(value)   # the answer was lost
            raise
        self.ledger.acked[key] = value
        self.ledger.maybe.pop(key, None)

    async def churn_service(self) -> None:
        if self.services and self.rnd.random() < 0.4:
            name = self.rnd.choice(sorted(self.services))
            try:
                await self.client.delete(SVCS, name, NS)
            except NotFound:
                pass
            self.services.discard(name)
            return
        name = f"svc-{self.rnd.randrange(1000)}"
        body = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "namespace": NS},
                "spec": {"type": "NodePort", "selector": {"app": "web"}, "ports": [{"port": 80}]}}
        try:
            await self.client.create(body)
        except AlreadyExists:
            pass
        self.services.add(name)

    async def sample(self) -> None:
        """The surge bound at this moment: live pods of `web` <= the most replicas asked
        since the last convergence + maxSurge (1)."""
        try:
            pods = (await self.client.list(PODS, NS, label_selector="app=web")).items
        except ClientError:
            return
        live = [p for p in pods if not p["metadata"].get("deletionTimestamp")]
        bound = self.max_replicas_seen + 1
        if len(live) > bound:
            self.surge_violations.append(f"{len(live)} live pods > {bound} ({sorted(p['metadata']['name'] for p in live)})")


async def retry(call: Any, *ok: type[Exception], attempts: int = 100) -> Any:
    for _ in range(attempts):
        try:
            return await call()
        except ok:
            return None
        except Conflict:
            pass
        except ClientError:
            pass
        await asyncio.sleep(0.2)
    raise AssertionError("the apiserver never answered")
