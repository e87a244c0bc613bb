"""Kubeconfig files: finding them, reading them into a `ClientConfig`, writing them.

Owns the standard kubeconfig shape (clusters, users, contexts, current-context), the
search order (`--kubeconfig`, `$KUBECONFIG`, `~/.kube/config`, the data dir's
`admin.kubeconfig`), the pykube data dir, and the small edits `pykubectl config` makes
(`use-context`, `set-context`). Relative file paths in a kubeconfig are resolved against
the kubeconfig's own directory, as kubectl does. Nothing here touches the network;
`ClientConfig.ssl_context()` turns the credentials into an `ssl.SSLContext` for the client.
"""
from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ADMIN_KUBECONFIG = "admin.kubeconfig"


class KubeconfigError(Exception):
    """No usable kubeconfig: none found, unknown context, missing server."""


@dataclass
class ClientConfig:
    """Everything the REST client needs to reach and authenticate to one apiserver."""

    server: str
    ca_data: bytes | None = None          # PEM
    ca_file: str | None = None
    token: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
    cert_data: bytes | None = None        # PEM
    key_data: bytes | None = None         # PEM
    insecure_skip_tls_verify: bool = False
    namespace: str = "default"
    context_name: str | None = None
    source: str | None = None             # the file it came from

    def ssl_context(self) -> ssl.SSLContext | bool:
        """The TLS settings for httpx's `verify=`: an SSLContext (True for plain http).
        Clients made from one config share one context while its TLS fields and files are
        unchanged (a context holds the parsed CA bundle: hundreds of hollow kubelets in one
        process would otherwise each keep a copy)."""
        if not self.server.startswith("https"):
            return True
        key = self._tls_key()
        cached: tuple[tuple[object, ...], ssl.SSLContext] | None = self.__dict__.get("_ssl_cache")
        if cached is not None and cached[0] == key:
            return cached[1]
        ctx = self._new_ssl_context()
        self.__dict__["_ssl_cache"] = (key, ctx)
        return ctx

    def _tls_key(self) -> tuple[object, ...]:
        def mtime(path: str | None) -> float | None:
            try:
                return os.stat(path).st_mtime if path else None
            except OSError:
                return None
        return (self.insecure_skip_tls_verify, self.ca_data, self.ca_file, mtime(self.ca_file), self.cert_file,
                mtime(self.cert_file), self.key_file, mtime(self.key_file), self.cert_data, self.key_data)

    def _new_ssl_context(self) -> ssl.SSLContext:
        if self.insecure_skip_tls_verify:
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_data or self.ca_file:
            ctx = ssl.create_default_context(cafile=self.ca_file,
                                             cadata=self.ca_data.decode() if self.ca_data else None)
        else:
            ctx = ssl.create_default_context()
        self._load_client_cert(ctx)
        return ctx

    def _load_client_cert(self, ctx: ssl.SSLContext) -> None:
        if self.cert_file and self.key_file:
            ctx.load_cert_chain(self.cert_file, self.key_file)
            return
        if not (self.cert_data and self.key_data):
            return
        # ssl only loads chains from files: write them privately, load, remove.
        with tempfile.TemporaryDirectory(prefix="pykube-cert-") as tmp:
            cert, key = Path(tmp, "cert.pem"), Path(tmp, "key.pem")
            for path, data in ((cert, self.cert_data), (key, self.key_data)):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            ctx.load_cert_chain(str(cert), str(key))


# ---------------------------------------------------------------- where files live
def data_dir() -> Path:
    """`$PYKUBE_DATA_DIR`, else /var/lib/pykube as root, else ~/.local/share/pykube."""
    env = os.environ.get("PYKUBE_DATA_DIR")
    if env:
        return Path(env)
    if os.geteuid() == 0:
        return Path("/var/lib/pykube")
    return Path.home() / ".local" / "share" / "pykube"


def candidate_paths(path: str | os.PathLike[str] | None = None) -> list[Path]:
    """The search order, most specific first (an explicit path is the only candidate)."""
    if path:
        return [Path(path).expanduser()]
    out: list[Path] = []
    env = os.environ.get("KUBECONFIG")
    if env:
        out.extend(Path(p).expanduser() for p in env.split(os.pathsep) if p)
    out.append(Path.home() / ".kube" / "config")
    out.append(data_dir() / ADMIN_KUBECONFIG)
    return out


def find(path: str | os.PathLike[str] | None = None) -> Path:
    """The first existing kubeconfig in the search order."""
    candidates = candidate_paths(path)
    for p in candidates:
        if p.is_file():
            return p
    if path:
        raise KubeconfigError(f"kubeconfig {path}: no such file")
    raise KubeconfigError("no kubeconfig found (tried " + ", ".join(map(str, candidates)) + ")")


def read(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The kubeconfig at `path` as a dict (an empty file gives an empty config)."""
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    if not isinstance(doc, dict):
        raise KubeconfigError(f"kubeconfig {path}: not a mapping")
    return doc


def load(path: str | os.PathLike[str] | None = None, context: str | None = None) -> ClientConfig:
    """Find a kubeconfig (see `candidate_paths`) and resolve `context` (or current-context)."""
    found = find(path)
    cfg = from_dict(read(found), context=context, base_dir=found.parent)
    cfg.source = str(found)
    return cfg


# ---------------------------------------------------------------- resolving a context
def _named(doc: dict[str, Any], section: str, name: str, inner: str) -> dict[str, Any]:
    for entry in doc.get(section) or []:
        if entry.get("name") == name:
            return entry.get(inner) or {}
    raise KubeconfigError(f'{section[:-1]} "{name}" not found in kubeconfig')


def _file(value: str | None, base_dir: Path | None) -> str | None:
    if not value:
        return None
    p = Path(value).expanduser()
    if not p.is_absolute() and base_dir is not None:
        p = base_dir / p
    return str(p)


def _b64(value: str | None) -> bytes | None:
    return base64.b64decode(value) if value else None


def from_dict(doc: dict[str, Any], context: str | None = None,
              base_dir: Path | None = None) -> ClientConfig:
    """Resolve one context of a kubeconfig dict into a `ClientConfig`."""
    ctx_name = context or doc.get("current-context")
    if not ctx_name:
        contexts = doc.get("contexts") or []
        if len(contexts) != 1:
            raise KubeconfigError("kubeconfig has no current-context")
        ctx_name = contexts[0].get("name")
    ctx = _named(doc, "contexts", str(ctx_name), "context")
    cluster = _named(doc, "clusters", ctx.get("cluster", ""), "cluster")
    user = _named(doc, "users", ctx["user"], "user") if ctx.get("user") else {}
    server = cluster.get("server")
    if not server:
        raise KubeconfigError(f'cluster "{ctx.get("cluster")}" has no server')
    token = user.get("token")
    token_file = _file(user.get("tokenFile"), base_dir)
    if not token and token_file:
        token = Path(token_file).read_text(encoding="utf-8").strip()
    return ClientConfig(
        server=server.rstrip("/"),
        ca_data=_b64(cluster.get("certificate-authority-data")),
        ca_file=_file(cluster.get("certificate-authority"), base_dir),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        token=token,
        cert_file=_file(user.get("client-certificate"), base_dir),
        key_file=_file(user.get("client-key"), base_dir),
        cert_data=_b64(user.get("client-certificate-data")),
        key_data=_b64(user.get("client-key-data")),
        namespace=ctx.get("namespace") or "default",
        context_name=str(ctx_name),
    )


# ---------------------------------------------------------------- writing
def build_kubeconfig(server: str, ca_pem: bytes | str | None, token: str | None,
                     cluster: str = "pykube", user: str = "admin",
                     context: str = "default", namespace: str | None = None) -> dict[str, Any]:
    """A one-cluster, one-user, one-context kubeconfig (what `pykube server` writes)."""
    cluster_entry: dict[str, Any] = {"server": server}
    if ca_pem:
        pem = ca_pem.encode() if isinstance(ca_pem, str) else ca_pem
        cluster_entry["certificate-authority-data"] = base64.b64encode(pem).decode()
    ctx: dict[str, Any] = {"cluster": cluster, "user": user}
    if namespace:
        ctx["namespace"] = namespace
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "preferences": {},
        "clusters": [{"name": cluster, "cluster": cluster_entry}],
        "users": [{"name": user, "user": {"token": token} if token else {}}],
        "contexts": [{"name": context, "context": ctx}],
        "current-context": context,
    }


def save(path: str | os.PathLike[str], doc: dict[str, Any]) -> None:
    """Write atomically with mode 0600 (a kubeconfig holds credentials)."""
    target = Path(path).expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            yaml.safe_dump(doc, f, default_flow_style=False, sort_keys=False)
        os.chmod(tmp, 0o600)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def use_context(doc: dict[str, Any], name: str) -> None:
    """`config use-context NAME`: in place; the context must exist."""
    _named(doc, "contexts", name, "context")
    doc["current-context"] = name


def set_context(doc: dict[str, Any], name: str | None = None, *, namespace: str | None = None,
                cluster: str | None = None, user: str | None = None) -> str:
    """`config set-context [NAME|--current] --namespace=..`: in place; creates the context
    when it does not exist. Returns the context's name."""
    name = name or doc.get("current-context")
    if not name:
        raise KubeconfigError("no current context is set")
    contexts = doc.setdefault("contexts", [])
    entry = next((c for c in contexts if c.get("name") == name), None)
    if entry is None:
        entry = {"name": name, "context": {}}
        contexts.append(entry)
    ctx = entry.setdefault("context", {})
    for key, value in (("namespace", namespace), ("cluster", cluster), ("user", user)):
        if value is not None:
            if value:
                ctx[key] = value
            else:
                ctx.pop(key, None)
    return str(name)
