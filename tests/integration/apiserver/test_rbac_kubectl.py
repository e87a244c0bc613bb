"""RBAC as a team member meets it: real kubectl with a client certificate signed by the
cluster CA, working in her namespace, refused in the other team's with Kubernetes' words."""
from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from apiserver.tls import write_cert_kubeconfig
from controllers.csrsigning import sign_client_cert
from tests.integration.apiserver.test_real_clients import kubectl

RBAC = "/apis/rbac.authorization.k8s.io/v1"


def user_kubeconfig(srv: Any, tmp_path: Path, user: str, groups: list[str],
                    not_before: dt.datetime | None = None, seconds: int = 3600) -> Path:
    tls = srv.config.data_dir / "server" / "tls"
    key = ec.generate_private_key(ec.SECP256R1())
    cert = sign_client_cert((tls / "server-ca.crt").read_bytes(), (tls / "server-ca.key").read_bytes(),
                            key.public_key(), user, groups, seconds=seconds, not_before=not_before)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    path = tmp_path / f"{user}.kubeconfig"
    write_cert_kubeconfig(path, srv.url, srv.ca_path.read_bytes(), cert, key_pem, user)
    return path


async def wait_allowed(http: httpx.AsyncClient, user: str, verb: str, resource: str, namespace: str) -> None:
    """Until the authorizer's cache has seen a new binding (a SubjectAccessReview says yes)."""
    body = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
            "spec": {"user": user, "resourceAttributes": {"verb": verb, "resource": resource,
                                                          "namespace": namespace}}}
    for _ in range(200):
        r = await http.post("/apis/authorization.k8s.io/v1/subjectaccessreviews", json=body)
        assert r.status_code == 201, r.text
        if r.json()["status"]["allowed"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{user} never allowed to {verb} {resource}")


async def _teams(http: httpx.AsyncClient) -> None:
    for ns in ("team-a", "team-b"):
        r = await http.post("/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                        "metadata": {"name": ns}})
        assert r.status_code == 201, r.text
    rb = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
          "metadata": {"name": "alice-admin", "namespace": "team-a"},
          "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
          "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}]}
    assert (await http.post(f"{RBAC}/namespaces/team-a/rolebindings", json=rb)).status_code == 201
    await wait_allowed(http, "alice", "create", "pods", "team-a")


async def test_alice_works_in_her_namespace_and_is_refused_in_the_other(apiserver, http, tmp_path: Path) -> None:
    await _teams(http)
    kc = user_kubeconfig(apiserver, tmp_path, "alice", ["students"])
    code, out, err = await kubectl(kc, "get", "pods", "-n", "team-a")
    assert code == 0, err
    assert "No resources found in team-a namespace." in err
    code, out, err = await kubectl(kc, "create", "configmap", "notes", "-n", "team-a", "--from-literal=a=b")
    assert (code, out.strip()) == (0, "configmap/notes created"), err
    code, out, err = await kubectl(kc, "get", "pods", "-n", "team-b")
    assert code == 1
    assert err.strip() == ('Error from server (Forbidden): pods is forbidden: User "alice" cannot list '
                           'resource "pods" in API group "" in the namespace "team-b"')
    code, out, err = await kubectl(kc, "auth", "can-i", "create", "pods", "-n", "team-b")
    assert (code, out.strip()) == (1, "no")
    code, out, err = await kubectl(kc, "auth", "can-i", "create", "pods", "-n", "team-a")
    assert (code, out.strip()) == (0, "yes")
    code, out, err = await kubectl(kc, "auth", "can-i", "--list", "-n", "team-a")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert any(ln.split()[0] == "deployments.apps" for ln in lines[1:])
    code, out, err = await kubectl(kc, "auth", "whoami")
    assert code == 0 and "alice" in out and "students" in out and "system:authenticated" in out, out + err


async def test_no_one_grants_what_they_do_not_hold(apiserver, http, tmp_path: Path) -> None:
    await _teams(http)
    kc = user_kubeconfig(apiserver, tmp_path, "alice", [])
    code, out, err = await kubectl(kc, "create", "rolebinding", "me-root", "-n", "team-a",
                                   "--clusterrole=cluster-admin", "--user=alice")
    assert code == 1
    assert 'rolebindings.rbac.authorization.k8s.io "me-root" is forbidden: user "alice"' in err
    assert "attempting to grant RBAC permissions not currently held" in err
    # what she holds she may grant: view to bob in her namespace
    code, out, err = await kubectl(kc, "create", "rolebinding", "bob-view", "-n", "team-a",
                                   "--clusterrole=view", "--user=bob")
    assert code == 0, err
    # a Role with an unknown verb is accepted (as Kubernetes does); a binding to a missing
    # role is accepted and grants nothing
    admin = apiserver.kubeconfig_path
    role = tmp_path / "role.yaml"
    role.write_text("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: odd, namespace: team-b}\n"
                    "rules: [{apiGroups: [''], resources: [pods], verbs: [frobnicate]}]\n")
    assert (await kubectl(admin, "apply", "-f", str(role)))[0] == 0
    code, _, err = await kubectl(admin, "create", "rolebinding", "ghost", "-n", "team-b", "--role=nope", "--user=alice")
    assert code == 0, err
    code, out, _ = await kubectl(kc, "auth", "can-i", "get", "pods", "-n", "team-b")
    assert out.strip() == "no"


async def test_impersonation_is_authorized(apiserver, http, tmp_path: Path) -> None:
    await _teams(http)
    admin = apiserver.kubeconfig_path
    code, out, _ = await kubectl(admin, "auth", "can-i", "list", "pods", "-n", "team-b", "--as", "alice")
    assert (code, out.strip()) == (1, "no")
    code, out, _ = await kubectl(admin, "auth", "can-i", "list", "pods", "-n", "team-a", "--as", "alice")
    assert (code, out.strip()) == (0, "yes")
    kc = user_kubeconfig(apiserver, tmp_path, "alice", [])
    code, out, err = await kubectl(kc, "get", "pods", "-n", "team-a", "--as", "bob")
    assert code == 1
    assert 'users "bob" is forbidden: User "alice" cannot impersonate resource "users" in API group "" at the cluster scope' in err


async def test_expired_and_foreign_certificates_get_401(apiserver, tmp_path: Path) -> None:
    # a private discovery cache: with one left by an earlier test on the same port kubectl
    # skips discovery and words the 401 from the pods request ("Unauthorized") instead
    old = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=2)
    kc = user_kubeconfig(apiserver, tmp_path, "alice", [], not_before=old, seconds=3600)
    code, out, err = await kubectl(kc, "get", "pods", "--cache-dir", str(tmp_path / "cache"))
    assert code == 1
    assert "error: You must be logged in to the server (the server has asked for the client to provide credentials)" in err


async def test_pykubectl_auth_and_certificate_commands_answer_as_kubectl(apiserver, http, tmp_path: Path) -> None:
    import sys
    await _teams(http)
    kc = user_kubeconfig(apiserver, tmp_path, "alice", ["students"])

    async def pykubectl(*args: str, config: Path = kc) -> tuple[int, str, str]:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "kubectl.main", "--kubeconfig", str(config),
                                                    *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await proc.communicate()
        return proc.returncode or 0, out.decode(), err.decode()

    for args in (["auth", "can-i", "create", "pods", "-n", "team-b"], ["auth", "can-i", "create", "pods", "-n", "team-a"],
                 ["auth", "can-i", "create", "pods", "--subresource=exec", "-n", "team-a"], ["auth", "whoami"]):
        want, got = await kubectl(kc, *args), await pykubectl(*args)
        assert (got[0], got[1]) == (want[0], want[1]), (args, got, want)
    admin = apiserver.kubeconfig_path
    for args in (["auth", "can-i", "list", "pods", "-n", "team-b", "--as", "alice"],
                 ["auth", "can-i", "list", "pods", "-n", "team-a", "--as", "alice"]):
        want, got = await kubectl(admin, *args), await pykubectl(*args, config=admin)
        assert (got[0], got[1]) == (want[0], want[1]), (args, got, want)
    code, out, _ = await pykubectl("auth", "can-i", "--list", "-n", "team-a")
    assert code == 0 and out.splitlines()[0].split() == ["Resources", "Non-Resource", "URLs", "Resource", "Names", "Verbs"]
    assert any(line.split()[0] == "deployments.apps" for line in out.splitlines()[1:] if line.strip())
    # a CSR, approved by pykubectl and denied by kubectl, as kubectl prints it
    from pykube.team import objects
    for name in ("one", "two"):
        key, _ = objects.member_key()
        body = objects.csr("t", name, key, 3600)
        assert (await http.post("/apis/certificates.k8s.io/v1/certificatesigningrequests", json=body)).status_code == 201
    code, out, err = await pykubectl("certificate", "approve", "t-one", config=admin)
    assert (code, out) == (0, "certificatesigningrequest.certificates.k8s.io/t-one approved\n"), err
    code, out, err = await kubectl(admin, "certificate", "deny", "t-two")
    assert (code, out) == (0, "certificatesigningrequest.certificates.k8s.io/t-two denied\n"), err
    csr = (await http.get("/apis/certificates.k8s.io/v1/certificatesigningrequests/t-one")).json()
    assert [c["type"] for c in csr["status"]["conditions"]] == ["Approved"]
