"""A tiny in-memory apiserver behind `httpx.MockTransport`, for client unit tests.

Enough of the REST surface for the client's own tests: CRUD with resourceVersion
compare-and-swap, merge patch, paginated lists, and watch streams that replay history
after a resourceVersion, can be cut (a dropped connection), ended, or refused with 410
after `compact()`. Not a model of the real apiserver's validation or defaulting.
"""
from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx

from client.kubeconfig import ClientConfig
from client.rest import Client


def status(code: int, reason: str, message: str = "", **details: Any) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "code": code, "reason": reason, "message": message or reason,
            **({"details": details} if details else {})}


def merge(doc: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return patch
    out = dict(doc) if isinstance(doc, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = merge(out.get(k), v)
    return out


class FakeAPI:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str | None, str], dict[str, Any]] = {}
        self.history: list[tuple[int, str, str, str | None, dict[str, Any]]] = []
        self.rv = 100
        self.compacted = 0
        self.requests: list[httpx.Request] = []
        self.times: list[float] = []          # loop time of each request
        self.injected: list[tuple[str, httpx.Response]] = []   # (method, response)
        self.watch_opens = 0
        self._generation = 0
        self._end = 0
        self._changed = asyncio.Event()

    # ------------------------------------------------------------ test controls
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self, **kw: Any) -> Client:
        return Client(ClientConfig(server="http://fake", token="tok"), transport=self.transport(),
                      **kw)

    def inject(self, method: str, code: int, body: Any) -> None:
        self.injected.append((method, httpx.Response(code, json=body)))

    def cut_watches(self) -> None:
        """Every open watch stream fails like a dropped connection."""
        self._generation += 1
        self._wake()

    def end_watches(self) -> None:
        """Every open watch stream ends cleanly (like the server's timeout)."""
        self._end += 1
        self._wake()

    def compact(self) -> None:
        self.compacted = self.rv

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def _record(self, etype: str, plural: str, ns: str | None, obj: dict[str, Any]) -> None:
        self.history.append((self.rv, etype, plural, ns, obj))
        self._wake()

    # ------------------------------------------------------------ the server
    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.times.append(asyncio.get_running_loop().time())
        for i, (method, resp) in enumerate(self.injected):
            if method == request.method:
                del self.injected[i]
                return resp
        seg = [s for s in request.url.path.split("/") if s]
        rest = seg[2:] if seg[0] == "api" else seg[3:]
        ns = None
        if len(rest) >= 3 and rest[0] == "namespaces":
            ns, rest = rest[1], rest[2:]
        plural, name = rest[0], rest[1] if len(rest) > 1 else None
        sub = rest[2] if len(rest) > 2 else None
        q = request.url.params
        body = json.loads(request.content) if request.content else None
        if request.method == "GET" and name is None and q.get("watch"):
            return self._watch(plural, ns, int(q.get("resourceVersion") or 0))
        if request.method == "GET" and name is None:
            return self._list(plural, ns, int(q.get("limit") or 0), q.get("continue"))
        key = (plural, ns, name or (body or {}).get("metadata", {}).get("name"))
        cur = self.objects.get(key)  # type: ignore[arg-type]
        if request.method == "POST" and sub == "binding":
            if cur is None:
                return httpx.Response(404, json=status(404, "NotFound"))
            self.rv += 1
            cur = merge(cur, {"spec": {"nodeName": body["target"]["name"]},
                              "metadata": {"resourceVersion": str(self.rv)}})
            self.objects[key] = cur  # type: ignore[index]
            self._record("MODIFIED", plural, ns, cur)
            return httpx.Response(201, json={"kind": "Status", "status": "Success", "code": 201})
        if request.method == "POST":
            if cur is not None:
                return httpx.Response(409, json=status(409, "AlreadyExists",
                                                       f'{plural} "{key[2]}" already exists'))
            self.rv += 1
            obj = merge(body, {"metadata": {"resourceVersion": str(self.rv),
                                            "uid": str(uuid.uuid4()), "namespace": ns}})
            self.objects[key] = obj  # type: ignore[index]
            self._record("ADDED", plural, ns, obj)
            return httpx.Response(201, json=obj)
        if cur is None:
            return httpx.Response(404, json=status(404, "NotFound",
                                                   f'{plural} "{key[2]}" not found'))
        if request.method == "GET":
            return httpx.Response(200, json=cur)
        if request.method == "DELETE":
            del self.objects[key]  # type: ignore[arg-type]
            self.rv += 1
            gone = merge(cur, {"metadata": {"resourceVersion": str(self.rv)}})
            self._record("DELETED", plural, ns, gone)
            return httpx.Response(200, json={"kind": "Status", "apiVersion": "v1",
                                             "status": "Success", "code": 200})
        if request.method == "PUT":
            want = (body.get("metadata") or {}).get("resourceVersion")
            if want and want != cur["metadata"]["resourceVersion"]:
                return httpx.Response(409, json=status(409, "Conflict", "object was modified"))
            new = body
        elif request.method == "PATCH":
            new = merge(cur, body)
        else:
            return httpx.Response(405, json=status(405, "MethodNotAllowed"))
        self.rv += 1
        new = merge(new, {"metadata": {"resourceVersion": str(self.rv),
                                       "uid": cur["metadata"]["uid"], "namespace": ns}})
        self.objects[key] = new  # type: ignore[index]
        self._record("MODIFIED", plural, ns, new)
        return httpx.Response(200, json=new)

    def _list(self, plural: str, ns: str | None, limit: int, cont: str | None) -> httpx.Response:
        keys = sorted(k for k in self.objects if k[0] == plural and (ns is None or k[1] == ns))
        start = int(cont) if cont else 0
        end = start + limit if limit else len(keys)
        meta: dict[str, Any] = {"resourceVersion": str(self.rv)}
        if end < len(keys):
            meta["continue"] = str(end)
        items = [{k: v for k, v in self.objects[k].items() if k not in ("kind", "apiVersion")}
                 for k in keys[start:end]]
        return httpx.Response(200, json={"kind": "List", "apiVersion": "v1", "metadata": meta,
                                         "items": items})

    def _watch(self, plural: str, ns: str | None, since: int) -> httpx.Response:
        self.watch_opens += 1
        if since and since < self.compacted:
            line = json.dumps({"type": "ERROR", "object": status(410, "Expired", "too old")})
            return httpx.Response(200, content=(line + "\n").encode())
        return httpx.Response(200, content=self._events(plural, ns, since))

    async def _events(self, plural: str, ns: str | None, since: int) -> AsyncIterator[bytes]:
        gen, end, pos = self._generation, self._end, 0
        while True:
            while pos < len(self.history):
                rv, etype, p, ens, obj = self.history[pos]
                pos += 1
                if rv > since and p == plural and (ns is None or ens == ns):
                    yield (json.dumps({"type": etype, "object": obj}) + "\n").encode()
            if self._generation != gen:
                raise httpx.ReadError("connection cut")
            if self._end != end:
                return
            await self._changed.wait()
