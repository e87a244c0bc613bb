"""A body over the 3 MiB limit sent without a Content-Length (chunked): the limit is found
while reading, the answer is the 413 Status, and the connection stays usable. (Clients that
write the whole body before reading, urllib and the official Python client, are covered in
test_rest.py.)"""
from __future__ import annotations

from typing import Any

import httpx

CMS = "/api/v1/namespaces/default/configmaps"


async def test_chunked_body_over_the_limit(http: httpx.AsyncClient) -> None:
    async def chunks() -> Any:                  # no Content-Length: the limit is found while reading
        for _ in range(5):
            yield b"x" * (1024 * 1024)
    r = await http.post(CMS, content=chunks(), headers={"Content-Type": "application/json"})
    assert r.status_code == 413 and r.json()["reason"] == "RequestEntityTooLarge"
    r = await http.get(CMS)                     # the same connection answers the next request
    assert r.status_code == 200
