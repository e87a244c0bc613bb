"""The exceptions the client raises, built from the apiserver's `Status` answers.

Owns the mapping from an HTTP error answer (code + Status body) to one exception class,
so callers write `except NotFound:` and never look at HTTP codes::

    ClientError                    anything the client raises on purpose
    ├── ConnectionFailed           no answer: refused, reset, TLS failure, timeout
    └── APIError(status)           the server answered with an error Status
        ├── BadRequest             400
        ├── Unauthorized           401
        ├── Forbidden              403
        ├── NotFound               404
        ├── MethodNotAllowed       405
        ├── AlreadyExists          409, reason AlreadyExists (create of an existing name)
        ├── Conflict               409, any other reason (stale resourceVersion)
        ├── Gone                   410 (resourceVersion too old: relist)
        ├── UnsupportedMediaType   415
        ├── Invalid                422 (details.causes name the bad fields)
        ├── TooManyRequests        429
        └── ServerError            5xx

`APIError.status` is the Status dict, `.code`, `.reason`, `.message`, `.causes` read it.
The name is the apiserver's (`apiserver.errors.APIError`, the raising side of the same
Status); `ApiError` is an old spelling kept for code not yet moved over.
"""
from __future__ import annotations

import json
from typing import Any


class ClientError(Exception):
    """Base of everything the client raises on purpose."""


class ConnectionFailed(ClientError):
    """The apiserver could not be reached, or the connection broke mid-answer."""


class APIError(ClientError):
    """The apiserver answered with an error `Status`."""

    def __init__(self, status: dict[str, Any]) -> None:
        self.status: dict[str, Any] = status
        super().__init__(self.message or f"{self.code} {self.reason}")

    @property
    def code(self) -> int:
        return int(self.status.get("code") or 0)

    @property
    def reason(self) -> str:
        return str(self.status.get("reason") or "")

    @property
    def message(self) -> str:
        return str(self.status.get("message") or "")

    @property
    def details(self) -> dict[str, Any]:
        return self.status.get("details") or {}

    @property
    def causes(self) -> list[dict[str, Any]]:
        return list(self.details.get("causes") or [])

    @classmethod
    def from_response(cls, code: int, body: dict[str, Any] | bytes | str | None) -> APIError:
        """The exception for an answer: a Status body picks the class by reason, then by
        code; any other body (HTML from a proxy, empty) becomes a Status around its text."""
        status = _as_status(code, body)
        reason = str(status.get("reason") or "")
        klass = _BY_REASON.get(reason) or _BY_CODE.get(status["code"])
        if klass is None:
            klass = ServerError if status["code"] >= 500 else APIError
        return klass(status)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.reason!r}, {self.message!r})"


ApiError = APIError   # the old spelling; use APIError


class BadRequest(APIError):
    pass


class Unauthorized(APIError):
    pass


class Forbidden(APIError):
    pass


class NotFound(APIError):
    pass


class MethodNotAllowed(APIError):
    pass


class AlreadyExists(APIError):
    pass


class Conflict(APIError):
    pass


class Gone(APIError):
    pass


class UnsupportedMediaType(APIError):
    pass


class Invalid(APIError):
    pass


class TooManyRequests(APIError):
    pass


class ServerError(APIError):
    pass


_BY_REASON: dict[str, type[APIError]] = {
    "BadRequest": BadRequest, "Unauthorized": Unauthorized, "Forbidden": Forbidden,
    "NotFound": NotFound, "MethodNotAllowed": MethodNotAllowed,
    "AlreadyExists": AlreadyExists, "Conflict": Conflict, "Gone": Gone, "Expired": Gone,
    "UnsupportedMediaType": UnsupportedMediaType, "Invalid": Invalid,
    "TooManyRequests": TooManyRequests, "InternalError": ServerError,
    "ServiceUnavailable": ServerError, "Timeout": ServerError,
}
_BY_CODE: dict[int, type[APIError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    409: Conflict, 410: Gone, 415: UnsupportedMediaType, 422: Invalid, 429: TooManyRequests,
}
_REASON_FOR_CODE: dict[int, str] = {
    400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound",
    405: "MethodNotAllowed", 409: "Conflict", 410: "Gone", 415: "UnsupportedMediaType",
    422: "Invalid", 429: "TooManyRequests", 500: "InternalError", 503: "ServiceUnavailable",
    504: "Timeout",
}


def _as_status(code: int, body: dict[str, Any] | bytes | str | None) -> dict[str, Any]:
    parsed: Any = body
    if isinstance(body, (bytes, str)):
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
    if isinstance(parsed, dict) and parsed.get("kind") == "Status":
        status = dict(parsed)
        status.setdefault("code", code)
        status["code"] = int(status.get("code") or code)
        return status
    text = body.decode(errors="replace") if isinstance(body, bytes) else body
    message = text.strip()[:500] if isinstance(text, str) and text.strip() else \
        f"the server answered {code}"
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": message, "reason": _REASON_FOR_CODE.get(code, ""), "code": code}
