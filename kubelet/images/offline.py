"""Offline images made on the node: the sandbox image, busybox and nginx, built when missing.

Owns `OfflineImages`, the kubelet's way to provide an image no registry serves: when a
reference names one of the builder's images (`local/pause:1`, `local/busybox:1`,
`local/nginx:1.22`, with or without `docker.io/`), `provide(ref)` builds its archive from
files already on the node (kubelet/images/builder.py: busybox-static, nginx-light, umoci)
into the air-gap directory `<data dir>/agent/images/` (kept, so the next start imports it
at once and an up-to-date archive is never rebuilt) and imports it into the containerd on
`socket` with `ctr images import`. Any other reference is the puller's business (CRI
PullImage from a registry). One build per image at a time.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from kubelet.images import builder
from kubelet.runtime.containerd import import_archive
from kubelet.runtime.interface import RuntimeServiceError

log = logging.getLogger("kubelet.images")


class OfflineImages:
    def __init__(self, images_dir: Path, socket: Path | str, ctr_bin: str = "ctr") -> None:
        self.images_dir, self.socket, self.ctr_bin = Path(images_dir), socket, ctr_bin
        self._locks: dict[str, asyncio.Lock] = {}
        self.built: list[str] = []   # image refs built by this kubelet (for logs and tests)

    def knows(self, ref: str) -> bool:
        return builder.spec_for(ref) is not None

    async def provide(self, ref: str) -> None:
        """Build (unless up to date) and import the offline image `ref` names."""
        spec = builder.spec_for(ref)
        if spec is None:
            raise RuntimeServiceError(f"{ref} is not an image this node can build")
        lock = self._locks.setdefault(spec.name, asyncio.Lock())
        async with lock:
            try:
                # the builder copies files and writes tars: off the kubelet's event loop
                rebuilt = await asyncio.to_thread(asyncio.run, builder.build(spec, self.images_dir))
            except (RuntimeError, OSError) as e:
                raise RuntimeServiceError(f"building the offline image {spec.ref} on this node failed: {e}") \
                    from None
            if rebuilt:
                self.built.append(spec.ref)
                log.info("built %s from this node's files into %s", spec.ref, self.images_dir)
            await import_archive(self.socket, self.images_dir / f"{spec.name}.tar", ctr_bin=self.ctr_bin)
