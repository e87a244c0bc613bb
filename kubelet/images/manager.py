"""The image manager: a container's image present before it starts, with events and backoff.

Owns Kubernetes' pkg/kubelet/images `EnsureImageExists` for pykube:
- pull policy: `Never` never pulls (ErrImageNeverPull when missing); `IfNotPresent` pulls
  only a missing image; `Always` pulls every time (CRI ImageStatus is asked first, since
  containerd's PullImage always goes to the registry);
- a failed pull puts the (pod, image) pair in backoff (10 s doubling to 5 min): until it
  ends the container waits in ImagePullBackOff without trying, then ErrImagePull again;
- the sandbox image (`--pod-infra-container-image`) is made sure of before a sandbox is
  created: present, else built on the node when it is an offline image, else pulled;
- "pulling" an offline image (`local/busybox:1`, `local/nginx:1.22`, the pause image) builds
  it from the node's own files instead (offline.py): no registry serves them;
- credentials: the pod's `imagePullSecrets` (read through `pull_secrets`), matched to the
  image by credentials.py, each tried in turn (none when none match), as upstream's
  keyring; a secret that cannot be read is a FailedToRetrieveImagePullSecret warning and
  the pull goes on without it;
- events with the kubelet's reasons and words: Pulling, Pulled (pulled, or "already
  present on machine"), Failed (with the registry's answer), BackOff, ErrImageNeverPull.
The caller (sync.py) turns a returned (reason, message) into the container's waiting state.
"""
from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from api.models import Pod
from api.models.core import Container
from kubelet import events as ev
from kubelet.backoff import Backoff
from kubelet.events import KubeletEvents
from kubelet.images.credentials import credentials_for
from kubelet.images.offline import OfflineImages
from kubelet.runtime.interface import ImageInfo, PullAuth, Runtime, RuntimeServiceError

log = logging.getLogger("kubelet.images")

ERR_IMAGE_PULL, IMAGE_PULL_BACKOFF = "ErrImagePull", "ImagePullBackOff"
FAILED_TO_RETRIEVE_PULL_SECRET = "FailedToRetrieveImagePullSecret"

#: (namespace, name) -> the Secret as a plain dict, or None when it cannot be read
SecretGetter = Callable[[str, str], Awaitable[dict[str, Any] | None]]


class ImageManager:
    def __init__(self, runtime: Runtime, events: KubeletEvents | None = None,
                 offline: OfflineImages | None = None, sandbox_image: str = "",
                 backoff: Backoff | None = None, pull_secrets: SecretGetter | None = None) -> None:
        self.runtime, self.offline, self.sandbox_image = runtime, offline, sandbox_image
        self.pull_secrets = pull_secrets
        self.events = events or KubeletEvents(None)
        self.backoff = backoff or Backoff()
        self._failed_at: dict[str, float] = {}
        self._sandbox_ready = False
        self._sandbox_lock = asyncio.Lock()

    async def pull(self, image: str, auths: list[PullAuth] | None = None) -> ImageInfo | None:
        """Get `image` onto the node: built here when it is an offline image, else CRI
        PullImage with each credential in turn (the last failure is raised)."""
        if self.offline is not None and self.offline.knows(image):
            await self.offline.provide(image)
        elif not auths:
            await self.runtime.pull_image(image)
        else:
            for i, auth in enumerate(auths):
                try:
                    await self.runtime.pull_image(image, auth)
                    break
                except RuntimeServiceError:
                    if i == len(auths) - 1:
                        raise
        return await self.runtime.image_status(image)

    async def credentials(self, pod: Pod, image: str) -> list[PullAuth]:
        """The pod's pull secrets' credentials for `image`; a missing secret is an event."""
        refs = [r.get("name") for r in (pod.spec.image_pull_secrets if pod.spec else None) or []]
        names = [str(n) for n in refs if n]
        if not names or self.pull_secrets is None:
            return []
        ns = pod.metadata.namespace or "default"
        found, missing = [], []
        for name in names:
            secret = await self.pull_secrets(ns, name)
            (found if secret is not None else missing).append(secret or name)
        if missing:
            self.events.pod(pod, ev.WARNING, FAILED_TO_RETRIEVE_PULL_SECRET,
                            f"Unable to retrieve some image pull secrets ({', '.join(map(str, missing))}); "
                            "attempting to pull the image may not succeed.")
        return credentials_for(image, [s for s in found if isinstance(s, dict)])

    async def ensure_sandbox_image(self) -> None:
        """Make sure the sandbox image exists (once; again after `sandbox_failed()`).
        Raises RuntimeServiceError when it can be neither built nor pulled."""
        if self._sandbox_ready or not self.sandbox_image:
            return
        async with self._sandbox_lock:
            if self._sandbox_ready:
                return
            if await self.runtime.image_status(self.sandbox_image) is None:
                log.info("sandbox image %s is missing; %s", self.sandbox_image,
                         "building it" if self.offline and self.offline.knows(self.sandbox_image) else "pulling it")
                if await self.pull(self.sandbox_image) is None:
                    raise RuntimeServiceError(f"sandbox image {self.sandbox_image} is still missing after a pull")
            self._sandbox_ready = True

    def sandbox_failed(self) -> None:
        """A sandbox could not be created: check the sandbox image again next time."""
        self._sandbox_ready = False

    async def ensure_image_exists(self, pod: Pod, c: Container) -> tuple[str, str] | None:
        """None when the image is there; else the container's waiting (reason, message)."""
        image, policy = c.image or "", c.image_pull_policy or "IfNotPresent"
        present = await self.runtime.image_status(image)
        if policy == "Never" and present is None:
            msg = ev.msg_never_pull(image)
            self.events.container(pod, c.name, ev.WARNING, ev.ERR_IMAGE_NEVER_PULL, msg)
            return ev.ERR_IMAGE_NEVER_PULL, msg
        if present is not None and policy != "Always":
            self.events.container(pod, c.name, ev.NORMAL, ev.PULLED, ev.msg_present(image))
            return None
        key = f"{pod.metadata.uid}_{image}"
        failed_at = self._failed_at.get(key)
        if failed_at is not None and self.backoff.in_backoff(key, failed_at, time.time()):
            msg = ev.msg_pull_backoff(image)
            self.events.container(pod, c.name, ev.NORMAL, ev.BACKOFF, msg)
            return IMAGE_PULL_BACKOFF, msg
        self.events.container(pod, c.name, ev.NORMAL, ev.PULLING, ev.msg_pulling(image))
        t0 = time.monotonic()
        try:
            info = await self.pull(image, await self.credentials(pod, image))
            if info is None:
                raise RuntimeServiceError("the image is still missing after the pull")
        except RuntimeServiceError as e:
            now = time.time()
            self._failed_at[key] = now
            self.backoff.next(key, now)
            self.events.container(pod, c.name, ev.WARNING, ev.FAILED, ev.msg_pull_failed(image, str(e)))
            return ERR_IMAGE_PULL, str(e)
        self._failed_at.pop(key, None)
        self.events.container(pod, c.name, ev.NORMAL, ev.PULLED,
                              ev.msg_pulled(image, time.monotonic() - t0, info.size))
        return None

    def retry_after(self, pod: Pod, c: Container) -> float:
        """Seconds until the pod worker should sync again: soon after a failed pull (the
        container then shows ImagePullBackOff), at the end of the backoff while in it."""
        key = f"{pod.metadata.uid}_{c.image or ''}"
        failed_at = self._failed_at.get(key)
        if failed_at is None:
            return 1.0
        remaining = self.backoff.remaining(key, failed_at, time.time())
        return 1.0 if remaining > self.backoff.delay(key) - 1.0 else remaining + 0.05

    def forget(self, pod_uid: str) -> None:
        self.backoff.forget(f"{pod_uid}_")
        for key in [k for k in self._failed_at if k.startswith(f"{pod_uid}_")]:
            del self._failed_at[key]
