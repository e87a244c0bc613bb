"""Watch events: the `WatchEvent` value and the pure parsing of a watch stream.

Owns the wire form `{"type": "ADDED|MODIFIED|DELETED|BOOKMARK|ERROR", "object": {...}}`,
one JSON document per line: re-cutting byte chunks into lines and turning a line into a
typed event. An ERROR event becomes the matching `APIError` (410 -> `Gone`, so informers
relist). No I/O: `client.rest` reads the bytes and feeds them here.
"""
from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from api.models import K8sObject, ObjectMeta
from client.errors import APIError

T = TypeVar("T")

ADDED, MODIFIED, DELETED, BOOKMARK, ERROR = "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"
EVENT_TYPES = frozenset((ADDED, MODIFIED, DELETED, BOOKMARK, ERROR))


@dataclass(frozen=True)
class WatchEvent(Generic[T]):
    """One watch event. `object` is a Model when the watch was typed, else a dict."""

    type: str
    object: T

    @property
    def resource_version(self) -> str | None:
        return resource_version(self.object)


def resource_version(obj: Any) -> str | None:
    """metadata.resourceVersion of a model or a dict."""
    if isinstance(obj, dict):
        return (obj.get("metadata") or {}).get("resourceVersion")
    meta = getattr(obj, "metadata", None)
    return getattr(meta, "resource_version", None)


def _typed(model: type[K8sObject], data: dict[str, Any], etype: str) -> K8sObject:
    try:
        return model.from_dict(data)
    except ValueError:
        if etype != BOOKMARK:
            raise
        # A bookmark carries only metadata; a kind with required spec fields still gets one.
        return model.model_construct(metadata=ObjectMeta.from_dict(data.get("metadata") or {}))


def parse_line(line: bytes | str, model: type[K8sObject] | None = None) -> WatchEvent[Any] | None:
    """One line of a watch stream -> an event (None for a blank line).

    Raises `APIError` (a `Gone` for 410) for an ERROR event and `ValueError` for a line that
    is not a watch event.
    """
    if not line.strip():
        return None
    doc = json.loads(line)
    if not isinstance(doc, dict) or doc.get("type") not in EVENT_TYPES:
        raise ValueError(f"not a watch event: {str(line)[:200]}")
    etype: str = doc["type"]
    obj = doc.get("object")
    if not isinstance(obj, dict):
        raise ValueError(f"watch event without an object: {str(line)[:200]}")
    if etype == ERROR:
        raise APIError.from_response(int(obj.get("code") or 500), obj)
    if model is None:
        return WatchEvent(etype, obj)
    return WatchEvent(etype, _typed(model, obj, etype))


async def split_lines(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Re-cut a stream of byte chunks at newlines (a chunk may hold many or part of one)."""
    buf = b""
    async for chunk in chunks:
        buf += chunk
        while (i := buf.find(b"\n")) >= 0:
            line, buf = buf[:i], buf[i + 1:]
            yield line
    if buf.strip():
        yield buf
