"""Login credentials: the dashboard's server and CA, the user's credentials only."""
from __future__ import annotations

import base64

import pytest

from client.kubeconfig import ClientConfig
from dashboard.session import LoginError, credentials

BASE = ClientConfig(server="https://10.0.0.1:6443", ca_data=b"CA", token="dashboard-own-token")


def kubeconfig(user: str, server: str = "https://evil.example:6443", ns: str = "team-a") -> str:
    return (f"clusters: [{{name: c, cluster: {{server: '{server}'}}}}]\n"
            f"users: [{{name: u, user: {user}}}]\n"
            f"contexts: [{{name: x, context: {{cluster: c, user: u, namespace: {ns}}}}}]\ncurrent-context: x\n")


def test_a_token_replaces_the_dashboards_own_credentials() -> None:
    cfg = credentials(BASE, token=" abc ", namespace="ns1")
    assert (cfg.server, cfg.ca_data, cfg.token, cfg.namespace) == ("https://10.0.0.1:6443", b"CA", "abc", "ns1")


def test_a_kubeconfig_gives_its_credentials_but_never_its_server() -> None:
    cfg = credentials(BASE, kubeconfig_text=kubeconfig("{token: t0k}"))
    assert (cfg.server, cfg.token, cfg.namespace) == ("https://10.0.0.1:6443", "t0k", "team-a")
    pem = base64.b64encode(b"PEM").decode()
    cfg = credentials(BASE, kubeconfig_text=kubeconfig(f"{{client-certificate-data: {pem}, client-key-data: {pem}}}"))
    assert (cfg.token, cfg.cert_data, cfg.key_data) == (None, b"PEM", b"PEM")


@pytest.mark.parametrize("user,words", [
    ("{tokenFile: /etc/shadow}", "tokenFile"),
    ("{client-certificate: /a, client-key: /b}", "client-certificate, client-key"),
    ("{exec: {command: rm}}", "exec"),
    ("{}", "the kubeconfig has no user"),
])
def test_file_paths_and_programs_are_refused(user: str, words: str) -> None:
    with pytest.raises(LoginError, match=words):
        credentials(BASE, kubeconfig_text=kubeconfig(user))


def test_nothing_or_bad_yaml_is_refused() -> None:
    with pytest.raises(LoginError, match="give a bearer token or a kubeconfig"):
        credentials(BASE)
    with pytest.raises(LoginError, match="not YAML"):
        credentials(BASE, kubeconfig_text="a: [")
