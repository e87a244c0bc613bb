"""client.kubeconfig: parsing contexts and credentials, the search order, writing."""
from __future__ import annotations

import base64
import os
import ssl
import stat
from pathlib import Path

import pytest
import yaml

from client import kubeconfig
from client.kubeconfig import KubeconfigError

DOC = {
    "apiVersion": "v1", "kind": "Config", "current-context": "dev",
    "clusters": [
        {"name": "c1", "cluster": {"server": "https://10.0.0.1:6443/",
                                   "certificate-authority-data":
                                       base64.b64encode(b"PEM-CA").decode()}},
        {"name": "c2", "cluster": {"server": "https://c2:6443",
                                   "certificate-authority": "ca.crt"}},
    ],
    "users": [
        {"name": "u1", "user": {"token": "t1"}},
        {"name": "u2", "user": {"tokenFile": "tok", "client-certificate": "/abs/c.crt",
                                "client-key": "k.key"}},
        {"name": "u3", "user": {"client-certificate-data": base64.b64encode(b"CERT").decode(),
                                "client-key-data": base64.b64encode(b"KEY").decode()}},
    ],
    "contexts": [
        {"name": "dev", "context": {"cluster": "c1", "user": "u1", "namespace": "team"}},
        {"name": "prod", "context": {"cluster": "c2", "user": "u2"}},
        {"name": "certs", "context": {"cluster": "c1", "user": "u3"}},
    ],
}


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("PYKUBE_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def write(path: Path, doc: dict) -> Path:  # type: ignore[type-arg]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc))
    return path


def test_current_context(tmp_path: Path) -> None:
    cfg = kubeconfig.load(write(tmp_path / "kc", DOC))
    assert cfg.server == "https://10.0.0.1:6443"
    assert cfg.ca_data == b"PEM-CA" and cfg.ca_file is None
    assert cfg.token == "t1" and cfg.namespace == "team" and cfg.context_name == "dev"
    assert cfg.source == str(tmp_path / "kc")


def test_named_context_relative_files(tmp_path: Path) -> None:
    (tmp_path / "tok").write_text("from-file\n")
    cfg = kubeconfig.load(write(tmp_path / "kc", DOC), context="prod")
    assert cfg.ca_file == str(tmp_path / "ca.crt")
    assert cfg.token == "from-file"
    assert cfg.cert_file == "/abs/c.crt" and cfg.key_file == str(tmp_path / "k.key")
    assert cfg.namespace == "default"


def test_cert_data_and_errors(tmp_path: Path) -> None:
    cfg = kubeconfig.from_dict(DOC, context="certs")
    assert (cfg.cert_data, cfg.key_data, cfg.token) == (b"CERT", b"KEY", None)
    with pytest.raises(KubeconfigError, match="context"):
        kubeconfig.from_dict(DOC, context="nope")
    with pytest.raises(KubeconfigError):
        kubeconfig.from_dict({"contexts": []})


def test_search_order(isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(KubeconfigError, match="no kubeconfig"):
        kubeconfig.load()
    admin = kubeconfig.build_kubeconfig("https://127.0.0.1:1", b"CA", "admin-tok")
    kubeconfig.save(isolated / "data" / "admin.kubeconfig", admin)
    assert kubeconfig.load().token == "admin-tok"
    home_doc = kubeconfig.build_kubeconfig("https://home:1", None, "home-tok")
    kubeconfig.save(Path(os.environ["HOME"]) / ".kube" / "config", home_doc)
    assert kubeconfig.load().token == "home-tok"
    env_doc = kubeconfig.build_kubeconfig("https://env:1", None, "env-tok")
    kubeconfig.save(isolated / "env.kc", env_doc)
    monkeypatch.setenv("KUBECONFIG", f"{isolated / 'missing'}{os.pathsep}{isolated / 'env.kc'}")
    assert kubeconfig.load().token == "env-tok"
    explicit = kubeconfig.build_kubeconfig("https://x:1", None, "explicit-tok")
    kubeconfig.save(isolated / "x.kc", explicit)
    assert kubeconfig.load(isolated / "x.kc").token == "explicit-tok"
    with pytest.raises(KubeconfigError, match="no such file"):
        kubeconfig.load(isolated / "nope.kc")


def test_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PYKUBE_DATA_DIR", str(tmp_path))
    assert kubeconfig.data_dir() == tmp_path
    monkeypatch.delenv("PYKUBE_DATA_DIR")
    expected = Path("/var/lib/pykube") if os.geteuid() == 0 else \
        Path.home() / ".local/share/pykube"
    assert kubeconfig.data_dir() == expected


def test_build_save_roundtrip_and_mode(tmp_path: Path) -> None:
    doc = kubeconfig.build_kubeconfig("https://127.0.0.1:6443", "CA-PEM", "tok",
                                      cluster="k", user="me", context="ctx")
    path = tmp_path / "sub" / "admin.kubeconfig"
    kubeconfig.save(path, doc)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kubeconfig.read(path) == doc
    cfg = kubeconfig.load(path)
    assert (cfg.server, cfg.ca_data, cfg.token, cfg.context_name) == (
        "https://127.0.0.1:6443", b"CA-PEM", "tok", "ctx")


def test_use_and_set_context(tmp_path: Path) -> None:
    doc = yaml.safe_load(yaml.safe_dump(DOC))
    kubeconfig.use_context(doc, "certs")
    assert doc["current-context"] == "certs"
    with pytest.raises(KubeconfigError):
        kubeconfig.use_context(doc, "nope")
    assert kubeconfig.set_context(doc, namespace="kube-system") == "certs"
    assert kubeconfig.from_dict(doc).namespace == "kube-system"
    kubeconfig.set_context(doc, "new", cluster="c1", user="u1", namespace="n")
    assert kubeconfig.from_dict(doc, context="new").namespace == "n"
    kubeconfig.set_context(doc, "new", namespace="")
    assert kubeconfig.from_dict(doc, context="new").namespace == "default"


def test_ssl_context(tmp_path: Path) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    cfg = kubeconfig.ClientConfig(server="https://x", ca_data=cert_pem,
                                  cert_data=cert_pem, key_data=key_pem)
    ctx = cfg.ssl_context()
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED
    assert len(ctx.get_ca_certs()) == 1
    insecure = kubeconfig.ClientConfig(server="https://x", insecure_skip_tls_verify=True)
    ctx2 = insecure.ssl_context()
    assert isinstance(ctx2, ssl.SSLContext) and ctx2.verify_mode == ssl.CERT_NONE
    assert kubeconfig.ClientConfig(server="http://x").ssl_context() is True
