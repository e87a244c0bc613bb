"""ServiceAccount tokens: bound JWTs the apiserver signs and checks (the TokenRequest API).

A token is an ES256 JWT signed with the apiserver's service-account key
(`<data dir>/server/tls/service-account.key`, made on first start), with Kubernetes'
claims: `iss` (https://kubernetes.default.svc.cluster.local), `sub`
(`system:serviceaccount:<ns>:<name>`), `aud`, `iat`/`nbf`/`exp`, and `kubernetes.io` naming
the namespace, the ServiceAccount (name, uid) and, for a token bound to a pod, the pod
(name, uid). `authenticate` accepts a token only while its signature, times and audience
hold and the ServiceAccount (and bound pod) it names still exist with the same uid, so
deleting the pod or the ServiceAccount revokes it at once.
"""
from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path
from typing import Any, Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

from apiserver.auth.user import UserInfo

ISSUER = "https://kubernetes.default.svc.cluster.local"
Lookup = Callable[[str, str, str], "dict[str, Any] | None"]   # (plural, namespace, name) -> object


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_key(path: Path) -> ec.EllipticCurvePrivateKey:
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        return key
    key = ec.generate_private_key(ec.SECP256R1())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    path.chmod(0o600)
    return key


class TokenSigner:
    def __init__(self, key: ec.EllipticCurvePrivateKey, lookup: Lookup, issuer: str = ISSUER,
                 audiences: tuple[str, ...] = (ISSUER,)) -> None:
        self.key, self.lookup, self.issuer, self.audiences = key, lookup, issuer, audiences
        der = key.public_key().public_bytes(serialization.Encoding.DER,
                                            serialization.PublicFormat.SubjectPublicKeyInfo)
        digest = hashes.Hash(hashes.SHA256())
        digest.update(der)
        self.kid = _b64(digest.finalize())

    def issue(self, namespace: str, sa: dict[str, Any], audiences: list[str] | None, seconds: int,
              pod: dict[str, Any] | None = None, now: float | None = None) -> tuple[str, int]:
        """(token, expiry as a Unix time) for ServiceAccount `sa`, bound to `pod` if given."""
        now = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "aud": audiences or list(self.audiences), "exp": now + seconds, "iat": now, "nbf": now,
            "iss": self.issuer, "jti": str(uuid.uuid4()),
            "sub": f"system:serviceaccount:{namespace}:{sa['metadata']['name']}",
            "kubernetes.io": {"namespace": namespace, "serviceaccount": {
                "name": sa["metadata"]["name"], "uid": sa["metadata"].get("uid", "")}}}
        if pod is not None:
            claims["kubernetes.io"]["pod"] = {"name": pod["metadata"]["name"], "uid": pod["metadata"].get("uid", "")}
        header = {"alg": "ES256", "kid": self.kid, "typ": "JWT"}
        signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
        r, s = decode_dss_signature(self.key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256())))
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return f"{signing_input}.{_b64(sig)}", now + seconds

    def claims(self, token: str, now: float | None = None) -> dict[str, Any] | None:
        """The claims of a token this signer made and that is still valid, else None."""
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            sig = _unb64(parts[2])
            if len(sig) != 64:
                return None
            der = encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big"))
            self.key.public_key().verify(der, f"{parts[0]}.{parts[1]}".encode(), ec.ECDSA(hashes.SHA256()))
            claims = json.loads(_unb64(parts[1]))
        except (InvalidSignature, ValueError):
            return None
        now = now if now is not None else time.time()
        if claims.get("iss") != self.issuer or not (claims.get("nbf", 0) - 60 <= now < claims.get("exp", 0)):
            return None
        aud = claims.get("aud") or []
        if not set(aud if isinstance(aud, list) else [aud]) & set(self.audiences):
            return None
        return claims

    def authenticate(self, token: str) -> UserInfo | None:
        claims = self.claims(token)
        if claims is None:
            return None
        k8s = claims.get("kubernetes.io") or {}
        ns, sa_ref = k8s.get("namespace", ""), k8s.get("serviceaccount") or {}
        sa = self.lookup("serviceaccounts", ns, sa_ref.get("name", ""))
        if sa is None or sa["metadata"].get("uid") != sa_ref.get("uid"):
            return None
        extra: dict[str, list[str]] = {"authentication.kubernetes.io/credential-id": [f"JTI={claims.get('jti')}"]}
        pod_ref = k8s.get("pod")
        if pod_ref:
            pod = self.lookup("pods", ns, pod_ref.get("name", ""))
            if pod is None or pod["metadata"].get("uid") != pod_ref.get("uid") or \
                    pod["metadata"].get("deletionTimestamp"):
                return None
            extra["authentication.kubernetes.io/pod-name"] = [pod_ref["name"]]
            extra["authentication.kubernetes.io/pod-uid"] = [pod_ref.get("uid", "")]
        return UserInfo(claims["sub"], ("system:serviceaccounts", f"system:serviceaccounts:{ns}"),
                        sa_ref.get("uid", ""), extra)
