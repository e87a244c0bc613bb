#!/usr/bin/env python3
"""The quickstart's cluster steps, run by `make up` after the server has started.

Waits for the apiserver and for every node to be Ready, applies the manifest with
`pykubectl apply -f`, follows each Deployment's rollout (one line whenever its numbers
change), prints `pykubectl get all -o wide`, then fetches each LoadBalancer Service's
page through its load-balancer address (and its ClusterIP). Every wait prints what it is
waiting for and, on timeout, where to look. Exit 0 when the page was served.

    quickstart.py --data-dir /var/lib/pykube --manifest manifests/nginx-app.yaml
"""
from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

from api.resources import by_kind
from client import kubeconfig
from client.errors import APIError, ClientError
from client.rest import Client

NODES = by_kind("v1", "Node")
DEPLOYMENTS = by_kind("apps/v1", "Deployment")
SERVICES = by_kind("v1", "Service")
PODS = by_kind("v1", "Pod")


def say(text: str) -> None:
    print(f"\033[1m==> {text}\033[0m", flush=True)


def note(text: str) -> None:
    print(f"    {text}", flush=True)


class Timeout(Exception):
    pass


async def until(what: str, probe: Any, timeout: float, interval: float = 1.0) -> Any:
    """Call `probe()` until it returns a non-None value; print its progress text when it
    changes (probe returns (value, progress))."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        try:
            value, progress = await probe()
        except (APIError, ClientError, httpx.HTTPError, OSError) as e:
            value, progress = None, f"{type(e).__name__}: {str(e)[:120]}"
        if progress and progress != last:
            note(progress)
            last = progress
        if value is not None:
            return value
        if time.monotonic() > deadline:
            raise Timeout(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(interval)


def ready(obj: dict[str, Any]) -> tuple[bool, str]:
    for c in obj.get("status", {}).get("conditions") or []:
        if c.get("type") == "Ready":
            return c.get("status") == "True", c.get("message") or c.get("reason") or ""
    return False, "no Ready condition yet"


async def wait_apiserver(path: Path, timeout: float) -> Client:
    async def probe() -> tuple[Client | None, str]:
        if not path.exists():
            return None, f"waiting for {path}"
        client = Client(kubeconfig.load(str(path)), component="quickstart")
        try:
            r = await client.request("GET", "/readyz")
            if r.status_code == 200:
                return client, "apiserver ready"
        except (ClientError, APIError, httpx.HTTPError, OSError):
            pass
        await client.close()
        return None, "waiting for the apiserver to answer /readyz"
    return await until("the apiserver", probe, timeout)


async def wait_nodes(client: Client, timeout: float) -> None:
    async def probe() -> tuple[bool | None, str]:
        nodes = (await client.list(NODES)).items
        if not nodes:
            return None, "waiting for a node to register"
        states = [(n["metadata"]["name"], *ready(n)) for n in nodes]
        text = ", ".join(f"{name} {'Ready' if ok else 'NotReady'}" + ("" if ok else f" ({why})")
                         for name, ok, why in states)
        return (True if all(ok for _, ok, _ in states) else None), text
    await until("the nodes to be Ready", probe, timeout)


def pykubectl(venv_bin: Path, kubeconfig_path: Path, *args: str) -> int:
    cmd = [str(venv_bin / "pykubectl"), "--kubeconfig", str(kubeconfig_path), *args]
    print(f"$ pykubectl {' '.join(args)}", flush=True)
    return subprocess.run(cmd, check=False).returncode


def rollout_progress(d: dict[str, Any]) -> tuple[bool, str]:
    spec, st = d.get("spec", {}), d.get("status", {})
    want = spec.get("replicas", 1)
    gen, seen = d["metadata"].get("generation", 0), st.get("observedGeneration", 0)
    updated, avail = st.get("updatedReplicas", 0), st.get("availableReplicas", 0)
    total = st.get("replicas", 0)
    done = seen >= gen and updated == want and avail == want and total == want
    return done, (f"deployment {d['metadata']['name']}: {updated} of {want} updated, "
                  f"{avail} available" + (" - rolled out" if done else ""))


async def wait_rollout(client: Client, ns: str, name: str, timeout: float) -> None:
    async def probe() -> tuple[bool | None, str]:
        d = await client.get(DEPLOYMENTS, name, namespace=ns)
        done, text = rollout_progress(d)
        if not done:
            pods = (await client.list(PODS, ns)).items
            waiting = sorted({cs["state"]["waiting"].get("reason", "")
                              for p in pods for cs in p.get("status", {}).get("containerStatuses") or []
                              if "waiting" in cs.get("state", {})} - {""})
            if waiting:
                text += f" (containers waiting: {', '.join(waiting)})"
        return (True if done else None), text
    await until(f"deployment {name}", probe, timeout)


async def fetch(url: str, timeout: float) -> str:
    async def probe() -> tuple[str | None, str]:
        async with httpx.AsyncClient(timeout=3) as c:
            r = await c.get(url)
        if r.status_code == 200:
            return r.text, f"GET {url}: {r.status_code}"
        return None, f"GET {url}: {r.status_code}"
    page: str = await until(url, probe, timeout)
    return page


async def serve_pages(client: Client, ns: str, name: str, timeout: float) -> None:
    async def lb() -> tuple[dict[str, Any] | None, str]:
        svc = await client.get(SERVICES, name, namespace=ns)
        ingress = (svc.get("status", {}).get("loadBalancer") or {}).get("ingress") or []
        if ingress and (ingress[0].get("ip") or ingress[0].get("hostname")):
            return svc, f"service {name}: load balancer at {ingress[0].get('ip') or ingress[0].get('hostname')}"
        return None, f"service {name}: waiting for a load-balancer address"
    svc = await until(f"service {name}'s load balancer", lb, timeout)
    port = svc["spec"]["ports"][0]["port"]
    ing = svc["status"]["loadBalancer"]["ingress"][0]
    host = ing.get("ip") or ing.get("hostname")
    for label, addr in (("LoadBalancer", host), ("ClusterIP", svc["spec"].get("clusterIP"))):
        if not addr or addr == "None":
            continue
        url = f"http://{addr}:{port}/"
        say(f"fetching {url} ({label})")
        page = await fetch(url, timeout)
        title = next((line.strip() for line in page.splitlines() if "<title>" in line), page[:80])
        note(title)


async def main(args: argparse.Namespace) -> int:
    venv_bin = Path(sys.executable).parent
    admin = args.data_dir / "admin.kubeconfig"
    docs = [d for d in yaml.safe_load_all(args.manifest.read_text()) if d]
    try:
        say("waiting for the apiserver")
        client = await wait_apiserver(admin, args.timeout)
        async with client:
            say("waiting for the node to be Ready")
            await wait_nodes(client, args.timeout)
            say(f"applying {args.manifest}")
            if pykubectl(venv_bin, admin, "apply", "-f", str(args.manifest)) != 0:
                return 1
            for d in docs:
                if d.get("kind") == "Deployment":
                    ns = d["metadata"].get("namespace", "default")
                    say(f"waiting for deployment {d['metadata']['name']} to roll out")
                    await wait_rollout(client, ns, d["metadata"]["name"], args.timeout)
            say("the cluster")
            pykubectl(venv_bin, admin, "get", "all", "-o", "wide")
            for d in docs:
                if d.get("kind") == "Service" and d.get("spec", {}).get("type") == "LoadBalancer":
                    await serve_pages(client, d["metadata"].get("namespace", "default"),
                                      d["metadata"]["name"], args.timeout)
    except Timeout as e:
        print(f"quickstart: {e}; see {args.log_hint} and `pykubectl --kubeconfig {admin} "
              f"get events`", file=sys.stderr)
        return 1
    say(f"done. Try: export KUBECONFIG={admin}; pykubectl get pods -o wide")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data-dir", type=Path, default=Path(os.environ.get("PYKUBE_DATA_DIR", "/var/lib/pykube")))
    p.add_argument("--manifest", type=Path, default=Path(__file__).resolve().parents[1] / "manifests/nginx-app.yaml")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds for each wait")
    p.add_argument("--log-hint", default="the server log")
    return p.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
