"""Test support: `pykube apiserver` as a process of its own, to be killed or stopped.

`start(data_dir, port, store)` spawns it (its log in `<data dir>.log`), `wait_ready` waits
for /readyz, `http_client(data_dir)` is an httpx client with the admin token and CA,
`log_of(data_dir)` reads the log back.
"""
from __future__ import annotations

import asyncio
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import yaml


def log_path(data_dir: Path) -> Path:
    return data_dir.with_name(data_dir.name + ".log")


def log_of(data_dir: Path) -> str:
    try:
        return log_path(data_dir).read_text(errors="replace")
    except OSError:
        return ""


def start(data_dir: Path, port: int, store: str | None = None) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "pykube.main", "apiserver", "--data-dir", str(data_dir),
           "--secure-port", str(port)]
    if store:
        cmd += ["--datastore-endpoint", store]
    with open(log_path(data_dir), "ab") as log:
        return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log)


def http_client(data_dir: Path) -> httpx.AsyncClient:
    cfg = yaml.safe_load((data_dir / "admin.kubeconfig").read_text())
    token = cfg["users"][0]["user"]["token"]
    return httpx.AsyncClient(base_url=cfg["clusters"][0]["cluster"]["server"],
                             verify=ssl.create_default_context(cafile=str(ca_path(data_dir))),
                             headers={"Authorization": f"Bearer {token}"}, timeout=10)


def ca_path(data_dir: Path) -> Path:
    return data_dir / "server" / "tls" / "server-ca.crt"


async def wait_ready(proc: subprocess.Popen[bytes], data_dir: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"apiserver exited: {log_of(data_dir)[-2000:]}")
        if (data_dir / "admin.kubeconfig").exists():
            try:
                async with http_client(data_dir) as c:
                    if (await c.get("/readyz")).status_code == 200:
                        return
            except httpx.HTTPError:
                pass
        await asyncio.sleep(0.1)
    raise AssertionError("apiserver did not become ready")


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Make sure it is gone (the tests' cleanup)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
