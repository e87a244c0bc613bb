"""The objects a team is made of, as wire dicts (pure: no I/O)."""
from __future__ import annotations

import base64
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Obj = dict[str, Any]
TEAM_LABEL = "pykube.io/team"
RBAC = "rbac.authorization.k8s.io"
SIGNER = "kubernetes.io/kube-apiserver-client"


def namespace(team: str) -> Obj:
    return {"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": team, "labels": {
                TEAM_LABEL: team,
                "pod-security.kubernetes.io/enforce": "baseline",
                "pod-security.kubernetes.io/warn": "restricted"}}}


def quota(team: str, cpu: str, memory: str, pods: int) -> Obj:
    return {"apiVersion": "v1", "kind": "ResourceQuota",
            "metadata": {"name": "team-quota", "namespace": team, "labels": {TEAM_LABEL: team}},
            "spec": {"hard": {"requests.cpu": cpu, "requests.memory": memory,
                              "limits.cpu": cpu, "limits.memory": memory, "pods": str(pods)}}}


def limits(team: str) -> Obj:
    return {"apiVersion": "v1", "kind": "LimitRange",
            "metadata": {"name": "team-limits", "namespace": team, "labels": {TEAM_LABEL: team}},
            "spec": {"limits": [{"type": "Container",
                                 "defaultRequest": {"cpu": "100m", "memory": "128Mi"},
                                 "default": {"cpu": "500m", "memory": "256Mi"}}]}}


def isolation(team: str, ingress_namespace: str | None = "kube-system") -> Obj:
    """Traffic into the team's pods only from its own namespace (and the ingress controller's);
    egress is left open (DNS included)."""
    sources: list[Obj] = [{"podSelector": {}}]
    if ingress_namespace:
        sources.append({"namespaceSelector": {"matchLabels": {
            "kubernetes.io/metadata.name": ingress_namespace}}})
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": "team-isolation", "namespace": team, "labels": {TEAM_LABEL: team}},
            "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": sources}]}}


def admins(team: str, members: list[str]) -> Obj:
    return {"apiVersion": f"{RBAC}/v1", "kind": "RoleBinding",
            "metadata": {"name": "team-admins", "namespace": team, "labels": {TEAM_LABEL: team}},
            "roleRef": {"apiGroup": RBAC, "kind": "ClusterRole", "name": "admin"},
            "subjects": [{"apiGroup": RBAC, "kind": "User", "name": m} for m in members]}


def member_key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    return key, pem


def csr(team: str, member: str, key: ec.EllipticCurvePrivateKey, seconds: int) -> Obj:
    """A CertificateSigningRequest for `member` (CN) in group `team` (O)."""
    request = (x509.CertificateSigningRequestBuilder()
               .subject_name(x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, team),
                                        x509.NameAttribute(NameOID.COMMON_NAME, member)]))
               .sign(key, hashes.SHA256()))
    pem = request.public_bytes(serialization.Encoding.PEM)
    return {"apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
            "metadata": {"name": f"{team}-{member}", "labels": {TEAM_LABEL: team}},
            "spec": {"request": base64.b64encode(pem).decode(), "signerName": SIGNER,
                     "expirationSeconds": seconds,
                     "usages": ["client auth", "digital signature", "key encipherment"]}}


def approved(obj: Obj, now: str) -> Obj:
    """`obj` (a CSR) with the Approved condition `kubectl certificate approve` adds."""
    out = dict(obj)
    status = dict(out.get("status") or {})
    conds = [c for c in status.get("conditions") or [] if c.get("type") != "Approved"]
    conds.append({"type": "Approved", "status": "True", "reason": "PykubeTeamApprove",
                  "message": "This CSR was approved by pykube team.", "lastUpdateTime": now})
    status["conditions"] = conds
    out["status"] = status
    return out


def kubeconfig(server: str, ca_pem: bytes, team: str, member: str, cert_pem: bytes, key_pem: bytes) -> Obj:
    user, cluster = f"{member}@{team}", "pykube"
    return {"apiVersion": "v1", "kind": "Config", "preferences": {},
            "clusters": [{"name": cluster, "cluster": {
                "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
            "users": [{"name": user, "user": {
                "client-certificate-data": base64.b64encode(cert_pem).decode(),
                "client-key-data": base64.b64encode(key_pem).decode()}}],
            "contexts": [{"name": f"{team}-{member}", "context": {
                "cluster": cluster, "user": user, "namespace": team}}],
            "current-context": f"{team}-{member}"}
