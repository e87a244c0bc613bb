"""TLS bootstrap: the cluster CA, the apiserver's serving certificate, the admin token and
`admin.kubeconfig`, all generated on first start into the data dir and reused afterwards.

Owns the files under `<data dir>/server/tls/` and `<data dir>/admin.kubeconfig`. The
serving certificate is re-issued when the wanted SANs grow (a new `--tls-san`).
"""
from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass
class TLSFiles:
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_token: str


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def make_ca(common_name: str = "pykube-ca") -> tuple[bytes, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{common_name}@{int(_now().timestamp())}")])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                         content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False,
                                         encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def issue_cert(ca_cert_pem: bytes, ca_key_pem: bytes, common_name: str, sans: list[str],
               server: bool = True, organization: str | None = None,
               organizations: list[str] | None = None) -> tuple[bytes, bytes]:
    ca_cert = x509.load_pem_x509_certificate(ca_cert_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, None)
    key = ec.generate_private_key(ec.SECP256R1())
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, common_name)]
    for org in ([organization] if organization else []) + (organizations or []):
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    alt: list[x509.GeneralName] = []
    for s in sans:
        try:
            alt.append(x509.IPAddress(ipaddress.ip_address(s)))
        except ValueError:
            alt.append(x509.DNSName(s))
    builder = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(ca_cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(_now() - dt.timedelta(minutes=5))
               .not_valid_after(_now() + dt.timedelta(days=365))
               .add_extension(x509.ExtendedKeyUsage(
                   [ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH]),
                   critical=False))
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    cert = builder.sign(ca_key, hashes.SHA256())  # type: ignore[arg-type]
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def write_cert_kubeconfig(path: Path, server: str, ca_pem: bytes, cert_pem: bytes, key_pem: bytes,
                          user: str, cluster: str = "pykube", context: str = "default",
                          namespace: str | None = None) -> None:
    """A kubeconfig that authenticates with a client certificate."""
    ctx: dict[str, Any] = {"cluster": cluster, "user": user}
    if namespace:
        ctx["namespace"] = namespace
    cfg = {"apiVersion": "v1", "kind": "Config", "preferences": {},
           "clusters": [{"name": cluster, "cluster": {
               "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
           "users": [{"name": user, "user": {"client-certificate-data": base64.b64encode(cert_pem).decode(),
                                             "client-key-data": base64.b64encode(key_pem).decode()}}],
           "contexts": [{"name": context, "context": ctx}],
           "current-context": context}
    _write_private(path, yaml.safe_dump(cfg, sort_keys=False).encode())


def write_component_kubeconfig(data_dir: Path, name: str, user: str, groups: list[str], server: str) -> Path:
    """`<data dir>/server/cred/<name>.kubeconfig`: a client certificate for one control-plane
    component's own identity (k3s' layout), reissued on every start."""
    tls = data_dir / "server" / "tls"
    ca_pem, ca_key = (tls / "server-ca.crt").read_bytes(), (tls / "server-ca.key").read_bytes()
    cert, key = issue_cert(ca_pem, ca_key, user, [], server=False, organizations=groups)
    path = data_dir / "server" / "cred" / f"{name}.kubeconfig"
    write_cert_kubeconfig(path, server, ca_pem, cert, key, user)
    return path


def cert_sans(cert_pem: bytes) -> set[str]:
    cert = x509.load_pem_x509_certificate(cert_pem)
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return set()
    return {str(v) for v in ext.get_values_for_type(x509.IPAddress)} | \
        set(ext.get_values_for_type(x509.DNSName))


def host_sans() -> list[str]:
    names = {"localhost", "127.0.0.1", "kubernetes", "kubernetes.default",
             "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}
    host = socket.gethostname()
    names.add(host)
    try:
        for info in socket.getaddrinfo(host, None, socket.AF_INET):
            names.add(str(info[4][0]))
    except OSError:
        pass
    return sorted(names)


def ensure_tls(data_dir: Path, extra_sans: list[str]) -> TLSFiles:
    tls = data_dir / "server" / "tls"
    ca_cert, ca_key = tls / "server-ca.crt", tls / "server-ca.key"
    srv_cert, srv_key = tls / "serving-kube-apiserver.crt", tls / "serving-kube-apiserver.key"
    token_file = data_dir / "server" / "token"
    if not ca_cert.exists() or not ca_key.exists():
        c, k = make_ca()
        _write_private(ca_key, k)
        _write_private(ca_cert, c)
    want = sorted(set(host_sans()) | set(extra_sans))
    if not srv_cert.exists() or not set(want) <= cert_sans(srv_cert.read_bytes()):
        c, k = issue_cert(ca_cert.read_bytes(), ca_key.read_bytes(), "kube-apiserver", want)
        _write_private(srv_key, k)
        _write_private(srv_cert, c)
    if not token_file.exists():
        _write_private(token_file, secrets.token_hex(24).encode())
    return TLSFiles(ca_cert, ca_key, srv_cert, srv_key, token_file.read_text().strip())


def write_kubeconfig(path: Path, server: str, ca_pem: bytes, token: str,
                     user: str = "admin", cluster: str = "pykube", context: str = "default") -> None:
    cfg = {"apiVersion": "v1", "kind": "Config", "preferences": {},
           "clusters": [{"name": cluster, "cluster": {
               "server": server, "certificate-authority-data": base64.b64encode(ca_pem).decode()}}],
           "users": [{"name": user, "user": {"token": token}}],
           "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
           "current-context": context}
    _write_private(path, yaml.safe_dump(cfg, sort_keys=False).encode())
