"""One pykubectl invocation's surroundings: streams, kubeconfig, namespace and the client.

Owns what every command shares: where output and errors go, which kubeconfig and context
are in use, the effective namespace (`-n`, else the context's, else `default`), the one
REST client (made on first use, closed at the end), `Warning:` lines from the server, and
the running count of errors so partial failures still exit 1.
"""
from __future__ import annotations

import argparse
import re
from typing import IO, TYPE_CHECKING, Any

from kubectl.errors import format_error

if TYPE_CHECKING:
    from client.kubeconfig import ClientConfig
    from client.rest import Client


class Context:
    def __init__(self, args: argparse.Namespace, stdin: IO[str], stdout: IO[str],
                 stderr: IO[str]) -> None:
        self.args = args
        self.stdin, self.stdout, self.stderr = stdin, stdout, stderr
        self.failed = False
        self._config: ClientConfig | None = None
        self._client: Client | None = None

    # ------------------------------------------------------------ output
    def out(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()

    def err(self, text: str) -> None:
        self.stderr.write(text)
        self.stderr.flush()

    def warn(self, text: str) -> None:
        # client.rest hands over one header value; several warnings can share it
        # (`299 - "a", 299 - "b"`), so split them again here
        for part in re.split(r'",\s*\d{3} \S+ "', text):
            self.err(f"Warning: {part}\n")

    def error(self, exc: BaseException) -> None:
        """Print one failure and remember to exit 1; the command goes on."""
        self.err(format_error(exc) + "\n")
        self.failed = True

    # ------------------------------------------------------------ configuration
    @property
    def kubeconfig_path(self) -> str | None:
        return getattr(self.args, "kubeconfig", None)

    @property
    def config(self) -> ClientConfig:
        if self._config is None:
            from client import kubeconfig
            self._config = kubeconfig.load(self.kubeconfig_path, getattr(self.args, "context", None))
            from kubectl.errors import set_server
            set_server(self._config.server)
        return self._config

    @property
    def namespace_explicit(self) -> bool:
        return bool(getattr(self.args, "namespace", None))

    @property
    def namespace(self) -> str:
        ns = getattr(self.args, "namespace", None)
        if ns:
            return str(ns)
        from client.kubeconfig import KubeconfigError
        try:
            return self.config.namespace or "default"
        except KubeconfigError:
            return "default"      # client-side work (--dry-run=client) needs no cluster

    @property
    def request_timeout(self) -> float | None:
        from kubectl.cli import parse_duration
        t = parse_duration(str(getattr(self.args, "request_timeout", "0") or "0"), "--request-timeout")
        return t if t > 0 else None

    async def client(self) -> Client:
        if self._client is None:
            from client.rest import Client
            as_user = getattr(self.args, "as_user", None)
            self._client = Client(self.config, component="kubectl",
                                  timeout=self.request_timeout or 30.0,
                                  warning_handler=self.warn,
                                  impersonate=(as_user, list(getattr(self.args, "as_group", []) or []))
                                  if as_user else None)
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()
            self._client = None

    def any(self, name: str, default: Any = None) -> Any:
        return getattr(self.args, name, default)
