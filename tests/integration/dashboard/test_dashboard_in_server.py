"""`pykube server` starts the dashboard on HTTPS with a certificate from the cluster CA,
and `--disable dashboard` starts none."""
from __future__ import annotations

import asyncio
import logging
import re
import ssl
from pathlib import Path

import httpx
import pytest

from pykube.main import build_parser
from pykube.server import serve

ARGS = ["--secure-port", "0", "--bind-address", "127.0.0.1", "--datastore-endpoint", "memory://",
        "--disable-agent", "--disable", "dns", "--leader-elect", "false"]


async def until(predicate: object, timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():  # type: ignore[operator]
            await asyncio.sleep(0.05)


async def test_server_runs_the_dashboard(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    data_dir = tmp_path / "d"
    args = build_parser().parse_args(["server", "-d", str(data_dir), *ARGS, "--dashboard-port", "0"])
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(serve(args))
    try:
        await until(lambda: "pykube server ready" in caplog.text or task.done())
        assert not task.done(), caplog.text
        m = re.search(r"dashboard on https://127\.0\.0\.1:(\d+)", caplog.text)
        assert m, caplog.text
        ca = ssl.create_default_context(cafile=str(data_dir / "server" / "tls" / "server-ca.crt"))
        async with httpx.AsyncClient(base_url=f"https://127.0.0.1:{m.group(1)}", verify=ca) as http:
            assert (await http.get("/api/whoami")).status_code == 401
            token = (data_dir / "server" / "token").read_text().strip()
            r = await http.post("/login", json={"token": token})
            assert r.status_code == 200 and r.json()["user"] == "system:admin"
            topo = (await http.get("/api/topology")).json()
            assert [s["name"] for s in topo["services"]] == ["kubernetes"] and topo["forbidden"] == []
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "dashboard stopped" in caplog.text


async def test_disable_dashboard(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    args = build_parser().parse_args(["server", "-d", str(tmp_path / "d"), *ARGS, "--disable", "dashboard"])
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(serve(args))
    try:
        await until(lambda: "pykube server ready" in caplog.text or task.done())
        assert not task.done(), caplog.text
        assert "dashboard on https" not in caplog.text and "dashboard stopped" not in caplog.text
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert "apiserver stopped" in caplog.text and "dashboard stopped" not in caplog.text
