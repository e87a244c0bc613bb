"""Metadata helpers every component shares: timestamps, owner references, conditions,
pod readiness and the pod-template hash.

Each helper accepts either a typed model (api.models) or its wire dict, so controllers
working on informer models and the apiserver working on dicts use the same rules.
Invariants kept here, as Kubernetes keeps them:
- timestamps are RFC 3339 in UTC with second precision (`2026-01-02T03:04:05Z`);
- a condition's lastTransitionTime moves only when its status changes;
- an object has at most one controller reference (the ownerReference with controller=true);
- `compute_hash` is stable across processes (canonical JSON, FNV-1a 32, safe alphabet).
"""
from __future__ import annotations

import functools
import json
from collections.abc import MutableSequence
from datetime import UTC, datetime, timedelta
from typing import Any, get_args

from pydantic.alias_generators import to_snake as _to_snake

from api.models.base import K8sModel, OwnerReference

RFC3339 = "%Y-%m-%dT%H:%M:%SZ"
SAFE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_FNV32_OFFSET = 0x811C9DC5
_FNV32_PRIME = 0x01000193


# ---------------------------------------------------------------- time
def now_rfc3339(now: datetime | None = None) -> str:
    """`now` (default: the current time) as `2026-01-02T03:04:05Z`."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime(RFC3339)


def parse_rfc3339(value: str) -> datetime:
    """Parse an RFC 3339 timestamp (`Z` or an offset, optional fraction) to an aware datetime."""
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment


# ---------------------------------------------------------------- generic access
@functools.lru_cache(maxsize=1024)
def to_snake(camel: str) -> str:
    """pydantic's camelCase -> snake_case, remembered (it runs regular expressions, and the
    controllers ask for the same few field names millions of times)."""
    return _to_snake(camel)


def _get(obj: Any, camel: str) -> Any:
    """Read a field from a model (snake_case attribute) or a wire dict (camelCase key)."""
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(camel)
    return getattr(obj, to_snake(camel), None)


def _set(obj: Any, camel: str, value: Any) -> None:
    if isinstance(obj, dict):
        obj[camel] = value
    else:
        setattr(obj, to_snake(camel), value)


# ---------------------------------------------------------------- owner references
def _as_owner_ref(ref: Any) -> OwnerReference:
    if isinstance(ref, OwnerReference):
        return ref
    return OwnerReference.model_validate(ref)


def controller_ref(obj: Any) -> OwnerReference | None:
    """The ownerReference with `controller: true`, or None."""
    refs = _get(_get(obj, "metadata"), "ownerReferences") or []
    for ref in refs:
        if _get(ref, "controller"):
            return _as_owner_ref(ref)
    return None


def new_controller_ref(owner: Any) -> OwnerReference:
    """A controller reference pointing at `owner` (as a ReplicaSet gets from its Deployment)."""
    meta = _get(owner, "metadata")
    api_version = _get(owner, "apiVersion")
    kind = _get(owner, "kind")
    resource = getattr(type(owner), "RESOURCE", None)
    if resource is not None:
        api_version = api_version or resource.api_version
        kind = kind or resource.kind
    if not (api_version and kind and _get(meta, "name") and _get(meta, "uid")):
        raise ValueError("owner needs apiVersion, kind, metadata.name and metadata.uid")
    return OwnerReference(api_version=api_version, kind=kind, name=_get(meta, "name"),
                          uid=_get(meta, "uid"), controller=True, block_owner_deletion=True)


# ---------------------------------------------------------------- conditions
def _conditions_of(holder: Any) -> list[Any] | None:
    if holder is None:
        return None
    if isinstance(holder, list):
        return holder
    conditions = _get(holder, "conditions")
    return conditions if isinstance(conditions, list) else None


def get_condition(holder: Any, cond_type: str) -> Any | None:
    """The condition of `cond_type` in a status (model or dict) or a list of conditions."""
    for cond in _conditions_of(holder) or []:
        if _get(cond, "type") == cond_type:
            return cond
    return None


def set_condition(holder: Any, condition: Any, now: datetime | None = None) -> bool:
    """Put `condition` into a status (model or dict) or a list of conditions, in place.

    The condition replaces the one of the same type at the same position (or is appended).
    lastTransitionTime is kept from the existing condition when the status is unchanged and
    set to `now` when it changes and the new condition carries none. Returns whether anything
    changed.
    """
    conditions = _conditions_of(holder)
    if conditions is None:
        conditions = []
        _set(holder, "conditions", conditions)
    if not isinstance(conditions, MutableSequence):
        raise TypeError("conditions must be a list")
    condition = _coerce_condition(holder, condition)
    at = next((i for i, c in enumerate(conditions)
               if _get(c, "type") == _get(condition, "type")), None)
    existing = conditions[at] if at is not None else None
    if existing is not None and _get(existing, "status") == _get(condition, "status"):
        _set(condition, "lastTransitionTime", _get(existing, "lastTransitionTime"))
    elif not _get(condition, "lastTransitionTime"):
        _set(condition, "lastTransitionTime", now_rfc3339(now))
    if at is None:
        conditions.append(condition)
        return True
    if _plain(existing) == _plain(condition):
        return False
    conditions[at] = condition
    return True


def _coerce_condition(holder: Any, condition: Any) -> Any:
    """A private copy of `condition`, as a model when the holder is a model status."""
    if isinstance(holder, K8sModel) and isinstance(condition, dict):
        model = _condition_model(type(holder))
        if model is not None:
            return model.model_validate(condition)
    if isinstance(condition, K8sModel):
        if isinstance(holder, dict):
            return condition.to_dict()
        return condition.model_copy()
    return dict(condition)


def _condition_model(status_type: type[K8sModel]) -> type[K8sModel] | None:
    field = status_type.model_fields.get("conditions")
    stack = [field.annotation] if field is not None else []
    while stack:
        tp = stack.pop()
        if isinstance(tp, type) and issubclass(tp, K8sModel):
            return tp
        stack.extend(get_args(tp))
    return None


def _plain(cond: Any) -> dict[str, Any]:
    if isinstance(cond, K8sModel):
        return cond.to_dict()
    return {k: v for k, v in cond.items() if v is not None}


# ---------------------------------------------------------------- pods
def is_pod_ready(pod: Any) -> bool:
    """True when the pod's Ready condition is "True"."""
    cond = get_condition(_get(pod, "status"), "Ready")
    return cond is not None and _get(cond, "status") == "True"


def is_pod_available(pod: Any, min_ready_seconds: int, now: datetime | str | None = None) -> bool:
    """Ready for at least `min_ready_seconds` (Kubernetes' podutil.IsPodAvailable)."""
    if not is_pod_ready(pod):
        return False
    if not min_ready_seconds:
        return True
    since = _get(get_condition(_get(pod, "status"), "Ready"), "lastTransitionTime")
    if not since:
        return False
    moment = parse_rfc3339(now) if isinstance(now, str) else (now or datetime.now(UTC))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return parse_rfc3339(since) + timedelta(seconds=min_ready_seconds) < moment


# ---------------------------------------------------------------- hashing
def fnv32a(data: bytes) -> int:
    h = _FNV32_OFFSET
    for byte in data:
        h ^= byte
        h = (h * _FNV32_PRIME) & 0xFFFFFFFF
    return h


def safe_encode(text: str) -> str:
    """Kubernetes' rand.SafeEncodeString: map each byte onto an alphabet without vowels."""
    return "".join(SAFE_ALPHABET[b % len(SAFE_ALPHABET)] for b in text.encode())


def compute_hash(template: Any, collision_count: int | None = None) -> str:
    """A short, stable hash of a pod template (the `pod-template-hash` label value).

    FNV-1a 32 over the canonical JSON (sorted keys, no spaces), then the collision count as
    4 little-endian bytes when given, rendered as decimal and safe-encoded like Kubernetes.
    """
    data = template.to_dict() if isinstance(template, K8sModel) else template
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    payload = canonical.encode()
    if collision_count is not None:
        payload += (collision_count & 0xFFFFFFFF).to_bytes(4, "little")
    return safe_encode(str(fnv32a(payload)))


__all__ = [
    "compute_hash", "controller_ref", "fnv32a", "get_condition", "is_pod_available",
    "is_pod_ready", "new_controller_ref", "now_rfc3339", "parse_rfc3339", "safe_encode",
    "set_condition",
]
