"""How pykubectl words a failure: one line on stderr, the way kubectl words it.

Owns `CmdError` (a user error: `error: <message>`), `StatusError` (a server's Status,
optionally wrapped with what we were doing: `Error from server (AlreadyExists): error
when creating "f.yaml": deployments.apps "x" already exists`) and `format_error`, which
maps any exception the commands let escape (client errors included) to that line.
"""
from __future__ import annotations

from typing import Any


class CmdError(Exception):
    """A usage or client-side error; printed as `error: <message>`."""

    def __init__(self, message: str, usage_hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.usage_hint = usage_hint


class StatusError(Exception):
    """A server error Status, with a prefix saying what pykubectl was doing."""

    def __init__(self, status: dict[str, Any], prefix: str = "") -> None:
        self.status = status
        self.prefix = prefix
        super().__init__(prefix + str(status.get("message") or ""))


class Silent(Exception):
    """Exit 1 after errors that were already printed."""


def wrap(exc: Exception, prefix: str) -> Exception:
    """An APIError with `prefix` in front of its message (other exceptions unchanged)."""
    from client.errors import APIError
    if isinstance(exc, APIError):
        return StatusError(exc.status, prefix)
    return exc


def is_bug(e: BaseException) -> bool:
    """True for exceptions no user input explains (they keep their traceback under
    PYKUBECTL_DEBUG); False for the failures commands report and go on from."""
    from client.errors import ClientError
    from client.kubeconfig import KubeconfigError
    from kubectl.manifests import ManifestError
    from kubectl.printers import PrinterError
    return not isinstance(e, (CmdError, ClientError, KubeconfigError, StatusError, ManifestError,
                              PrinterError, OSError, TimeoutError))


def format_error(exc: BaseException) -> str:
    """The line kubectl prints for `exc` (without the trailing newline)."""
    from client.errors import APIError, ConnectionFailed
    if isinstance(exc, CmdError):
        return f"error: {exc.message}"
    status: dict[str, Any] | None = None
    prefix = ""
    if isinstance(exc, StatusError):
        status, prefix = exc.status, exc.prefix
    elif isinstance(exc, APIError):
        status = exc.status
    if status is not None:
        reason = str(status.get("reason") or "")
        message = str(status.get("message") or "")
        if reason == "Invalid" and (status.get("details") or {}).get("causes"):
            return invalid_message(status)
        if reason == "Unauthorized":
            return f"error: You must be logged in to the server ({message or 'Unauthorized'})"
        if not message:
            message = f"the server responded with the status code {status.get('code')} but did not return more information"
        if reason and reason != "Unknown":
            return f"Error from server ({reason}): {prefix}{message}"
        return f"Error from server: {prefix}{message}"
    if isinstance(exc, ConnectionFailed):
        return connection_message(str(exc))
    from client.kubeconfig import KubeconfigError
    if isinstance(exc, KubeconfigError):
        return f"error: {exc}"
    return f"error: {exc}"


def invalid_message(status: dict[str, Any]) -> str:
    """kubectl's wording for 422s: `The Deployment "x" is invalid: spec.replicas: ...`, or
    for several causes one `* cause` line each after the head (kubectl's MultilineError)."""
    details = status.get("details") or {}
    head = "The request is invalid"
    if details.get("kind") or details.get("name"):
        head = f'The {details.get("kind", "")} "{details.get("name", "")}" is invalid'
    texts = []
    for c in details.get("causes") or []:
        field, msg = str(c.get("field") or ""), str(c.get("message") or "")
        texts.append(msg if not field or msg.startswith(field + ":") else f"{field}: {msg}")
    if len(texts) == 1:
        return f"{head}: {texts[0]}"
    return f"{head}: \n" + "\n".join(f"* {t}" for t in texts)


_SERVER: list[str] = []


def set_server(url: str) -> None:
    """Remember the server URL so connection errors can name host:port like kubectl."""
    _SERVER[:] = [url]


def connection_message(detail: str) -> str:
    host = _SERVER[0].split("://", 1)[-1].rstrip("/") if _SERVER else "localhost:8080"
    if "refused" in detail.lower() or "ConnectError" in detail:
        return (f"The connection to the server {host} was refused - "
                "did you specify the right host or port?")
    return f"Unable to connect to the server: {detail}"
