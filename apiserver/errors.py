"""API errors as Kubernetes `Status` objects.

Owns `APIError` and the constructors for each reason the REST layer answers with
(NotFound, AlreadyExists, Conflict, Invalid, BadRequest, Unauthorized, Forbidden, Gone,
MethodNotAllowed, RequestEntityTooLarge, UnsupportedMediaType). Handlers raise them; the
app turns them into a JSON Status body with the same code.

    APIError
      ├── 400 BadRequest          malformed body, bad selector, bad patch
      ├── 401 Unauthorized        no or unknown bearer token
      ├── 403 Forbidden           terminating namespace, not permitted
      ├── 404 NotFound            object, namespace or resource type missing
      ├── 405 MethodNotAllowed
      ├── 409 AlreadyExists / Conflict
      │     └── StaleObjectError   resourceVersion mismatch: the one a writer may retry
      ├── 410 Gone (Expired)      resourceVersion too old
      ├── 413 RequestEntityTooLarge
      ├── 415 UnsupportedMediaType
      └── 422 Invalid             field errors in details.causes
"""
from __future__ import annotations

from typing import Any

from api import field
from apiserver.wire import dumps
from api.resources import ResourceInfo


class APIError(Exception):
    def __init__(self, code: int, reason: str, message: str,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details

    def status(self) -> dict[str, Any]:
        """The Status body, its fields in kube-apiserver's order (kind, apiVersion, metadata,
        status, message, reason, details, code): clients that compare bodies as strings see
        the same text."""
        body: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                "status": "Failure", "message": self.message,
                                "reason": self.reason}
        if self.details is not None:   # {} stays: kubectl debug reads details of a 404
            body["details"] = self.details
        body["code"] = self.code
        return body

    def body(self) -> bytes:
        return dumps(self.status())


def _details(resource: ResourceInfo | None, name: str | None, **extra: Any) -> dict[str, Any]:
    d: dict[str, Any] = {}
    if name:
        d["name"] = name
    if resource is not None:
        if resource.group:
            d["group"] = resource.group
        d["kind"] = resource.plural
    d.update(extra)
    return d


def not_found(resource: ResourceInfo, name: str) -> APIError:
    return APIError(404, "NotFound", f'{resource.group_resource} "{name}" not found',
                    _details(resource, name))


def already_exists(resource: ResourceInfo, name: str) -> APIError:
    return APIError(409, "AlreadyExists", f'{resource.group_resource} "{name}" already exists',
                    _details(resource, name))


class StaleObjectError(APIError):
    """409 Conflict because the object changed since the writer read it: the one conflict
    a read-modify-write loop retries (never decided by matching the message)."""


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def conflict(resource: ResourceInfo, name: str, why: str = "") -> APIError:
    """409 Conflict. Without `why` it is the stale-resourceVersion conflict (retryable)."""
    cls = APIError if why else StaleObjectError
    return cls(409, "Conflict",
               f'Operation cannot be fulfilled on {resource.group_resource} "{name}": {why or STALE}',
               _details(resource, name))


def invalid(resource: ResourceInfo, kind: str, name: str, errors: list[Any]) -> APIError:
    """errors: api.field.FieldError list. Message and causes in Kubernetes' words:
    `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: ...`."""
    qualified = f"{kind}.{resource.group}" if resource.group else kind
    return APIError(422, "Invalid", field.invalid_message(qualified, name, errors),
                    _details(resource, name, causes=field.causes(errors), kind=kind))


def integer(name: str, value: object) -> int:
    """A query or options integer (`limit`, `timeoutSeconds`, `gracePeriodSeconds`); 400
    BadRequest, in Go's words, when it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise bad_request(f"{name}: expected an integer, got {type(value).__name__}")
    try:
        return int(value)
    except ValueError:
        raise bad_request(f'{name}: strconv.ParseInt: parsing "{value}": invalid syntax') from None


def bad_request(message: str) -> APIError:
    return APIError(400, "BadRequest", message)


def unauthorized() -> APIError:
    return APIError(401, "Unauthorized", "Unauthorized")


def forbidden(message: str, resource: ResourceInfo | None = None, name: str | None = None) -> APIError:
    return APIError(403, "Forbidden", message, _details(resource, name) or None)


def gone(message: str) -> APIError:
    return APIError(410, "Expired", message)


def method_not_allowed(message: str = "the server does not allow this method on the requested resource") -> APIError:
    return APIError(405, "MethodNotAllowed", message)


def too_large(limit: int) -> APIError:
    return APIError(413, "RequestEntityTooLarge",
                    f"the request body is too large (limit {limit} bytes)")


def unsupported_media_type(ctype: str) -> APIError:
    return APIError(415, "UnsupportedMediaType", f'the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/merge-patch+json, application/json-patch+json, application/strategic-merge-patch+json (got "{ctype}")')


def namespace_not_found(ns: str) -> APIError:
    return APIError(404, "NotFound", f'namespaces "{ns}" not found',
                    {"name": ns, "kind": "namespaces"})


def resource_not_found(path: str) -> APIError:
    return APIError(404, "NotFound", f"the server could not find the requested resource ({path})",
                    {})
