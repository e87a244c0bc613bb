"""Strategy of certificates.k8s.io/v1 CertificateSigningRequest.

On create the apiserver records who asked (spec.username, groups, uid from the request's
user; a client cannot claim to be someone else) and clears the status. The `approval`
subresource changes only the Approved/Denied conditions; `status` only the certificate and
the other conditions. The request must be a PEM `CERTIFICATE REQUEST` whose signature holds.
"""
from __future__ import annotations

import base64
import copy

from cryptography import x509

from api.field import FieldError, invalid, not_supported, required
from apiserver.auth.user import current_user
from apiserver.strategies import Obj, Strategy, builtin

APPROVAL = ("Approved", "Denied")
USAGES = ("signing", "digital signature", "content commitment", "key encipherment", "key agreement",
          "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
          "server auth", "client auth", "code signing", "email protection", "s/mime",
          "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
          "microsoft sgc", "netscape sgc")


def parse_request(spec: Obj) -> x509.CertificateSigningRequest:
    """The CSR in spec.request (base64 of PEM); ValueError with Kubernetes' reason."""
    try:
        pem = base64.b64decode(spec.get("request") or "", validate=True)
    except ValueError:
        raise ValueError("must be valid base64") from None
    if b"-----BEGIN CERTIFICATE REQUEST-----" not in pem:
        raise ValueError("PEM block type must be CERTIFICATE REQUEST")
    csr = x509.load_pem_x509_csr(pem)
    if not csr.is_signature_valid:
        raise ValueError("the certificate request's signature is invalid")
    return csr


@builtin("certificates.k8s.io", "CertificateSigningRequest")
class CertificateSigningRequestStrategy(Strategy):
    reset_status = True
    generation = False

    def initial_status(self, obj: Obj) -> Obj | None:
        return {}

    def prepare_for_create(self, obj: Obj) -> None:
        super().prepare_for_create(obj)
        user = current_user.get()
        spec = obj.setdefault("spec", {})
        for k in ("username", "uid", "groups", "extra"):
            spec.pop(k, None)
        if user is not None:
            spec["username"] = user.name
            spec["groups"] = list(user.groups)
            if user.uid:
                spec["uid"] = user.uid

    def prepare_for_update(self, new: Obj, old: Obj) -> None:
        super().prepare_for_update(new, old)
        new["spec"] = copy.deepcopy(old.get("spec") or {})   # a CSR's spec never changes

    def prepare_for_subresource_update(self, subresource: str, new: Obj, old: Obj) -> Obj:
        merged = copy.deepcopy(old)
        status = merged.setdefault("status", {})
        new_conds = (new.get("status") or {}).get("conditions") or []
        old_conds = status.get("conditions") or []
        if subresource == "approval":
            status["conditions"] = [c for c in old_conds if c.get("type") not in APPROVAL] + \
                [c for c in new_conds if c.get("type") in APPROVAL]
        else:
            status["conditions"] = [c for c in old_conds if c.get("type") in APPROVAL] + \
                [c for c in new_conds if c.get("type") not in APPROVAL]
            if "certificate" in (new.get("status") or {}):
                status["certificate"] = new["status"]["certificate"]
        return merged

    def validate(self, obj: Obj) -> list[FieldError]:
        errs = super().validate(obj)
        spec = obj.get("spec") or {}
        if not spec.get("request"):
            errs.append(required("spec.request"))
        else:
            try:
                parse_request(spec)
            except ValueError as e:
                errs.append(invalid("spec.request", "<request>", str(e)))
        if not spec.get("signerName"):
            errs.append(required("spec.signerName"))
        for i, u in enumerate(spec.get("usages") or []):
            if u not in USAGES:
                errs.append(not_supported(f"spec.usages[{i}]", u, list(USAGES)))
        secs = spec.get("expirationSeconds")
        if secs is not None and secs < 600:
            errs.append(invalid("spec.expirationSeconds", secs,
                                "may not specify a duration less than 600 seconds (10 minutes)"))
        return errs

    def validate_update(self, new: Obj, old: Obj) -> list[FieldError]:
        errs: list[FieldError] = []
        types = [c.get("type") for c in (new.get("status") or {}).get("conditions") or []]
        if "Approved" in types and "Denied" in types:
            errs.append(invalid("status.conditions", "Approved, Denied",
                                "Approved and Denied conditions are mutually exclusive"))
        return errs
