"""`pykube ingress`: the ingress controller (run by `pykube server` unless `--disable
ingress`). It creates the default IngressClass `nginx` at once, and installs the Gateway
API's CRDs (GatewayClass, Gateway, HTTPRoute) with the GatewayClass `nginx` unless
`--disable-gateway-api`. `--data-plane pod` (default) programs the nginx pod it deploys in
kube-system on this node when the first Ingress (or Gateway of its class) appears;
`--data-plane process` runs nginx as its own child on `--http-listen` / `--https-listen`
(for machines that run no pods)."""
from __future__ import annotations

import argparse
import logging
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from client import kubeconfig
from client.errors import AlreadyExists
from client.rest import Client

log = logging.getLogger(__name__)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", default=None)
    p.add_argument("--node-name", default=None, help="the node the nginx pod runs on (default: the host name)")
    p.add_argument("--conf-dir", type=Path, default=Path("/var/lib/pykube/server/ingress"),
                   help="where nginx.conf and the certificates are written (a hostPath of the nginx pod)")
    p.add_argument("--data-plane", choices=("pod", "process"), default="pod")
    p.add_argument("--http-listen", default="80", help="nginx `listen` for HTTP (process data plane)")
    p.add_argument("--https-listen", default="443", help="nginx `listen` for HTTPS (process data plane)")
    p.add_argument("--disable-gateway-api", action="store_true",
                   help="do not install the Gateway API CRDs nor serve HTTPRoutes")


async def ensure_objects(client: Client, node_name: str, conf_dir: Path, kinds: tuple[str, ...]) -> None:
    """Create the data plane's objects of `kinds` (IngressClass, Deployment, Service); bring
    the Deployment's and Service's spec back to ours when they exist (the IngressClass is
    left as the user has it)."""
    from api.resources import by_kind
    from ingress.dataplane import manifests
    for obj in manifests(node_name, conf_dir):
        if obj["kind"] not in kinds:
            continue
        info = by_kind(obj["apiVersion"], obj["kind"])
        try:
            await client.create(obj)
        except AlreadyExists:
            if obj["kind"] != "IngressClass":
                await client.patch(info, obj["metadata"]["name"], {"spec": obj["spec"]}, obj["metadata"]["namespace"])


async def run_ingress(client: Client, node_name: str, conf_dir: Path, data_plane: str = "pod",
                      http: str = "80", https: str = "443", gateway: bool = True) -> None:
    from controllers.base import SharedInformers
    from ingress.controller import IngressController
    from ingress.dataplane import ConfigDir, PodReloader, ProcessNginx, Reloader
    from ingress.nginxconf import Listen, render
    from ingress.routes import build_plan
    listen = Listen(http, https) if data_plane == "pod" else Listen(http, https, pid=str(conf_dir / "nginx.pid"),
                                                                    user="")
    conf = ConfigDir(conf_dir)
    conf.prepare(render(build_plan([], {}, [], {}), listen))
    process: ProcessNginx | None = None
    reloader: Reloader
    deploy: Callable[[], Awaitable[None]] | None = None
    await ensure_objects(client, node_name, conf_dir, ("IngressClass",))
    if data_plane == "pod":
        async def deploy_pod() -> None:
            await ensure_objects(client, node_name, conf_dir, ("Deployment", "Service"))
        deploy = deploy_pod
        reloader = PodReloader(client)
    else:
        process = ProcessNginx(conf)
        await process.start()
        reloader = process
    gateway_api = False
    if gateway:
        from ingress import gateway_sync
        try:
            await gateway_sync.install(client)
            gateway_api = True
        except Exception as e:  # noqa: BLE001 - Ingresses are served even when the CRDs cannot be
            log.error("the Gateway API is not served: %s", e)
    informers = SharedInformers(client)
    ctrl = IngressController(client, informers, conf, reloader, listen, deploy=deploy, gateway_api=gateway_api)
    try:
        await ctrl.run()
    finally:
        await informers.stop_all()
        if ctrl.recorder is not None:
            await ctrl.recorder.close()
        if process is not None:
            await process.stop()


async def main(args: argparse.Namespace) -> None:
    node = args.node_name or socket.gethostname().lower()
    async with Client(kubeconfig.load(args.kubeconfig), component="ingress") as c:
        await run_ingress(c, node, args.conf_dir.resolve(), args.data_plane, args.http_listen, args.https_listen,
                          not args.disable_gateway_api)


def register(sub: Any) -> None:
    p = sub.add_parser("ingress", help="the ingress controller (nginx programmed from Ingresses)")
    add_arguments(p)

    def run(args: argparse.Namespace) -> int:
        from pykube.main import run_until_signal
        return run_until_signal(lambda: main(args))
    p.set_defaults(func=run)
