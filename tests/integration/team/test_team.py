"""`pykube team` against a live apiserver and the CSR signing controller: two teams, real
kubectl with each member's kubeconfig, each confined to their own namespace."""
from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any, AsyncIterator

import pytest
import yaml

from client import kubeconfig
from client.events import EventRecorder
from client.rest import Client
from controllers.base import SharedInformers
from controllers.csrsigning import CSRSigningController
from tests.integration.apiserver.test_real_clients import kubectl


@pytest.fixture
async def signer(apiserver: Any) -> AsyncIterator[None]:
    """The controller-manager's CSR signer, with the apiserver's own CA."""
    tls = apiserver.config.data_dir / "server" / "tls"
    async with Client(kubeconfig.load(apiserver.kubeconfig_path), component="test") as c:
        informers = SharedInformers(c)
        ctl = CSRSigningController(c, informers, EventRecorder(c, "csr-signer"),
                                   ca_cert=tls / "server-ca.crt", ca_key=tls / "server-ca.key")
        await informers.start_all()
        task = asyncio.create_task(ctl.run(1))
        yield
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await informers.stop_all()


async def pykube(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "pykube.main", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_two_teams_each_confined_to_their_namespace(apiserver: Any, signer: None, tmp_path: Path) -> None:
    admin = str(apiserver.kubeconfig_path)
    code, out, err = await pykube("team", "--kubeconfig", admin, "create", "alpha", "--member", "alice",
                                  "--member", "bob", "--output-dir", str(tmp_path))
    assert code == 0, err
    assert "namespace/alpha created" in out
    assert "rolebinding.rbac.authorization.k8s.io/team-admins created" in out
    assert "resourcequota/team-quota created" in out and "limitrange/team-limits created" in out
    code, out, err = await pykube("team", "--kubeconfig", admin, "create", "beta", "--member", "carol",
                                  "--output-dir", str(tmp_path))
    assert code == 0, err
    alice = tmp_path / "alpha-alice.kubeconfig"
    assert yaml.safe_load(alice.read_text())["contexts"][0]["context"]["namespace"] == "alpha"
    assert oct(alice.stat().st_mode & 0o777) == "0o600"
    # alice works in alpha (her context's namespace) ...
    code, out, err = await kubectl(alice, "create", "deployment", "web", "--image=nginx")
    assert (code, out.strip()) == (0, "deployment.apps/web created"), err
    code, out, err = await kubectl(alice, "get", "deployments")
    assert code == 0 and out.split()[5] == "web", out + err
    # ... and gets Kubernetes' Forbidden in beta
    code, out, err = await kubectl(alice, "get", "pods", "-n", "beta")
    assert code == 1
    assert err.strip() == ('Error from server (Forbidden): pods is forbidden: User "alice" cannot list '
                           'resource "pods" in API group "" in the namespace "beta"')
    code, out, _ = await kubectl(alice, "auth", "can-i", "create", "pods", "-n", "beta")
    assert (code, out.strip()) == (1, "no")
    code, out, err = await kubectl(alice, "auth", "whoami")
    assert "alice" in out and "alpha" in out, err
    # her pods get the team's default requests and limits, and count against its quota
    code, out, err = await kubectl(alice, "run", "box", "--image=busybox:1", "--", "sleep", "3600")
    assert code == 0, err
    code, out, err = await kubectl(alice, "get", "pod", "box", "-o", "jsonpath={.spec.containers[0].resources}")
    assert '"requests":{"cpu":"100m","memory":"128Mi"}' in out, out + err
    code, out, err = await kubectl(alice, "run", "root", "--image=busybox:1", "--privileged")
    assert code == 1 and 'violates PodSecurity "baseline:latest"' in err
    # the teacher sees ordinary objects
    code, out, err = await kubectl(Path(admin), "get", "csr")
    assert code == 0 and "alpha-alice" in out and "Approved,Issued" in out, out + err
    code, out, err = await pykube("team", "--kubeconfig", admin, "list")
    assert code == 0 and "alpha" in out and "alice,bob" in out and "carol" in out, out + err
    # a new member joins
    code, out, err = await pykube("team", "--kubeconfig", admin, "add-member", "alpha", "--member", "dave",
                                  "--output-dir", str(tmp_path))
    assert code == 0, err
    dave = tmp_path / "alpha-dave.kubeconfig"
    code, out, err = await kubectl(dave, "auth", "can-i", "create", "pods")
    for _ in range(100):   # the authorizer's cache catches up with the updated binding
        if out.strip() == "yes":
            break
        await asyncio.sleep(0.05)
        code, out, err = await kubectl(dave, "auth", "can-i", "create", "pods")
    assert out.strip() == "yes"
    code, out, err = await pykube("team", "--kubeconfig", admin, "delete", "beta")
    assert code == 0 and 'namespace "beta" deleted' in out, err


async def test_a_malformed_csr_is_invalid(apiserver: Any, http: Any) -> None:
    r = await http.post("/apis/certificates.k8s.io/v1/certificatesigningrequests", json={
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": {"name": "bad"},
        "spec": {"request": "bm90IGEgY3Ny", "signerName": "kubernetes.io/kube-apiserver-client",
                 "usages": ["client auth"]}})
    assert r.status_code == 422, r.text
    assert r.json()["details"]["causes"][0]["field"] == "spec.request"
    assert "PEM block type must be CERTIFICATE REQUEST" in r.json()["message"]
