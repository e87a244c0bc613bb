"""Helpers shared by the pykubectl integration tests: the nginx quickstart manifest with
knobs for the fields the apply tests change, and `printed` for commands that keep running."""
from __future__ import annotations

import asyncio
import io


async def printed(stream: io.StringIO, text: str, timeout: float = 5.0) -> None:
    """Wait until a running command has printed `text`."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while text not in stream.getvalue():
        assert loop.time() < end, f"timed out waiting for {text!r} in {stream.getvalue()!r}"
        await asyncio.sleep(0.02)



NGINX = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: nginx-deployment
  labels:
    app: nginx
    tier: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: nginx
  template:
    metadata:
      labels:
        app: nginx
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
        env:
        - name: A
          value: "1"
{extra}---
apiVersion: v1
kind: Service
metadata:
  name: my-nginx-svc
  labels:
    app: nginx
spec:
  type: LoadBalancer
  ports:
  - port: 80
  selector:
    app: nginx
"""


def nginx(replicas: int = 2, image: str = "nginx:1.14.2", extra: str = "") -> str:
    return NGINX.format(replicas=replicas, image=image, extra=extra)
