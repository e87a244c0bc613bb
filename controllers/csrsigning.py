"""The CSR signing controller: issues the certificates of approved CertificateSigningRequests.

Signs, with the cluster CA (`--cluster-signing-cert-file/--cluster-signing-key-file`), the
requests for the signers kube-controller-manager serves:
- `kubernetes.io/kube-apiserver-client`: any client identity, usages ⊆ client auth,
  digital signature, key encipherment;
- `kubernetes.io/kube-apiserver-client-kubelet`: CN `system:node:<name>`, O `system:nodes`.
The certificate names the subject's CN as the user and its O values as groups, and lives
`spec.expirationSeconds` (default one year). A request that breaks a signer's rules gets a
`Failed` condition; denied, pending, already issued or other signers' requests are left alone.

`decide` is pure; the reconcile only reads the cache, signs and writes the status.
"""
from __future__ import annotations

import base64
import logging
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from api.meta import now_rfc3339
from api.models import CertificateSigningRequest
from client.errors import NotFound
from controllers.base import Controller

log = logging.getLogger(__name__)

CLIENT = "kubernetes.io/kube-apiserver-client"
KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
CLIENT_USAGES = {"client auth", "digital signature", "key encipherment"}
DEFAULT_SECONDS = 365 * 86400


def _conditions(csr: dict[str, Any]) -> set[str]:
    return {c.get("type", "") for c in (csr.get("status") or {}).get("conditions") or []
            if c.get("status", "True") == "True"}


def decide(csr: dict[str, Any]) -> tuple[str, str]:
    """("sign", "") | ("fail", reason message) | ("skip", why) for one request."""
    spec, status = csr.get("spec") or {}, csr.get("status") or {}
    if spec.get("signerName") not in (CLIENT, KUBELET_CLIENT):
        return "skip", "not a signer this controller serves"
    conds = _conditions(csr)
    if "Approved" not in conds or "Denied" in conds or "Failed" in conds or status.get("certificate"):
        return "skip", "not approved, or already finished"
    usages = set(spec.get("usages") or [])
    if not usages or not usages <= CLIENT_USAGES or "client auth" not in usages:
        return "fail", f"invalid usage for client certificate: {sorted(usages - CLIENT_USAGES) or 'client auth missing'}"
    try:
        req = x509.load_pem_x509_csr(base64.b64decode(spec.get("request") or ""))
    except ValueError as e:
        return "fail", f"unable to parse csr: {e}"
    cn = [a.value for a in req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    if not cn or not cn[0]:
        return "fail", "subject common name (the user name) is required"
    if spec.get("signerName") == KUBELET_CLIENT:
        orgs = [a.value for a in req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        if not str(cn[0]).startswith("system:node:") or orgs != ["system:nodes"]:
            return "fail", 'subject must be CN "system:node:<name>", O "system:nodes"'
    return "sign", ""


def sign_client_cert(ca_cert_pem: bytes, ca_key_pem: bytes, public_key: Any, user: str,
                     groups: list[str], seconds: int = 365 * 86400,
                     not_before: datetime | None = None) -> bytes:
    """A client certificate for `public_key` naming `user` (CN) and `groups` (O), signed by
    the cluster CA: what the kube-apiserver-client signer issues for an approved CSR."""
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, None)
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in groups]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, user))
    start = not_before or (datetime.now(timezone.utc) - timedelta(minutes=5))
    cert = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(ca_cert.subject)
            .public_key(public_key).serial_number(x509.random_serial_number())
            .not_valid_before(start).not_valid_after(start + timedelta(seconds=seconds))
            .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=True, content_commitment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM)


class CSRSigningController(Controller):
    NAME = "csrsigning"

    def __init__(self, *args: Any, ca_cert: Path, ca_key: Path, **kw: Any) -> None:
        super().__init__(*args, **kw)
        self.ca_cert, self.ca_key = ca_cert, ca_key
        self.csrs = self.watch(CertificateSigningRequest)

    async def reconcile(self, key: Any) -> None:
        obj = self.csrs.store.get(key)
        if obj is None:
            return
        csr = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
        verdict, why = decide(csr)
        if verdict == "skip":
            return
        status = csr.setdefault("status", {})
        if verdict == "fail":
            status.setdefault("conditions", []).append(
                {"type": "Failed", "status": "True", "reason": "SignerValidationFailure", "message": why,
                 "lastUpdateTime": now_rfc3339(), "lastTransitionTime": now_rfc3339()})
        else:
            status["certificate"] = base64.b64encode(self.sign(csr)).decode()
        try:
            await self.client.update_status(csr)
        except NotFound:
            return
        log.info("csr %s: %s", key, "issued" if verdict == "sign" else f"failed: {why}")

    def sign(self, csr: dict[str, Any]) -> bytes:
        spec = csr["spec"]
        req = x509.load_pem_x509_csr(base64.b64decode(spec["request"]))
        cn = str(req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
        orgs = [str(a.value) for a in req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        return sign_client_cert(self.ca_cert.read_bytes(), self.ca_key.read_bytes(), req.public_key(),
                                cn, orgs, seconds=spec.get("expirationSeconds") or DEFAULT_SECONDS)
