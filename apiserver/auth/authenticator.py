"""Authentication: a request's credentials to a UserInfo, or None (answered 401).

Owns the authenticators kube-apiserver chains, in its order:
- X.509 client certificates signed by the cluster CA: user = CN, groups = O. The TLS layer
  asks for the certificate and checks its chain (not its dates, see tls.py); an expired or
  not-yet-valid certificate is refused here, so the client gets a 401 Status rather than a
  broken handshake;
- bearer tokens: static tokens from the data dir (the admin's, the node join token, the
  components'), then any further token authenticators (service account JWTs) appended to
  `token_authenticators`.
Every authenticated user also gets `system:authenticated`. Anonymous requests are refused
(401) unless `anonymous` is on (`--anonymous-auth`), when they run as `system:anonymous` in
`system:unauthenticated`.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Callable, Mapping

from cryptography import x509
from cryptography.x509.oid import NameOID

from apiserver.auth.user import ANONYMOUS, UNAUTHENTICATED, UserInfo

TokenAuthenticator = Callable[[str], "UserInfo | None"]


def user_from_certificate(der: bytes, now: dt.datetime | None = None) -> UserInfo | None:
    """The identity a (chain-verified) client certificate names; None when outside its
    validity period."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    now = now or dt.datetime.now(dt.timezone.utc)
    if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
        return None
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not cns:
        return None
    groups = tuple(str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME))
    return UserInfo(str(cns[0].value), groups).with_authenticated()


class Authenticator:
    def __init__(self, tokens: Mapping[str, UserInfo | str], anonymous: bool = False) -> None:
        self.anonymous = anonymous
        self.tokens: dict[str, UserInfo] = {}
        for token, who in tokens.items():
            self.add_token(token, who)
        self.token_authenticators: list[TokenAuthenticator] = []

    def add_token(self, token: str, who: UserInfo | str) -> None:
        user = who if isinstance(who, UserInfo) else UserInfo(who)
        self.tokens[token] = user.with_authenticated()

    def authenticate(self, authorization: str | None, client_cert_der: bytes | None = None) -> UserInfo | None:
        if authorization and authorization[:7].lower() == "bearer ":
            token = authorization[7:].strip()
            user = self.tokens.get(token)
            if user is not None:
                return user
            for auth in self.token_authenticators:
                found = auth(token)
                if found is not None:
                    return found.with_authenticated()
            return None
        if client_cert_der:
            return user_from_certificate(client_cert_der)
        if self.anonymous:
            return UserInfo(ANONYMOUS, (UNAUTHENTICATED,))
        return None

    def authenticate_scope(self, scope: Mapping[str, Any]) -> UserInfo | None:
        """The user of an ASGI request (headers and the TLS extension the server adds)."""
        auth = None
        for k, v in scope.get("headers") or ():
            if k == b"authorization":
                auth = v.decode("latin-1")
                break
        tls = (scope.get("extensions") or {}).get("tls") or {}
        return self.authenticate(auth, tls.get("client_cert_der"))

    def user_for(self, header: str | None) -> str | None:
        """The user name for an Authorization header (bearer tokens only)."""
        user = self.authenticate(header)
        return user.name if user else None
