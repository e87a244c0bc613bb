"""The image manager over the fake runtime: pull policies, pull backoff, the sandbox image,
offline images built instead of pulled, and the events a user sees in `describe`."""
from __future__ import annotations

from typing import Any

import pytest

from api.models import Pod
from kubelet.events import KubeletEvents, container_field_path
from kubelet.images.manager import ImageManager
from kubelet.runtime.fake import FakeRuntime
from kubelet.runtime.interface import RuntimeServiceError
from tests.support.kubelet_pods import pod


class Recorder:
    """Stands in for client.events.EventRecorder: keeps what was recorded."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str, str]] = []   # type, reason, message, fieldPath

    def record(self, obj: Any, type: str, reason: str, message: str, field_path: str = "") -> None:
        self.events.append((type, reason, message, field_path))

    def reasons(self) -> list[str]:
        return [e[1] for e in self.events]


class Offline:
    """Stands in for OfflineImages: "builds" by adding the image to the fake runtime."""

    def __init__(self, rt: FakeRuntime, known: set[str]) -> None:
        self.rt, self.known, self.provided = rt, known, []   # type: list[str]

    def knows(self, ref: str) -> bool:
        return ref in self.known

    async def provide(self, ref: str) -> None:
        self.provided.append(ref)
        self.rt._add_image(ref)


def manager(rt: FakeRuntime, offline: Offline | None = None, sandbox: str = "") -> tuple[ImageManager, Recorder]:
    rec = Recorder()
    return ImageManager(rt, KubeletEvents(rec, "n1"), offline, sandbox), rec  # type: ignore[arg-type]


def web(image: str, policy: str | None = None) -> Pod:
    c: dict[str, Any] = {"name": "c", "image": image}
    if policy:
        c["imagePullPolicy"] = policy
    return pod(containers=[c])


async def test_present_image_is_not_pulled_and_says_so() -> None:
    rt = FakeRuntime(images=["busybox:1"])
    m, rec = manager(rt)
    p = web("busybox:1")
    assert await m.ensure_image_exists(p, p.spec.containers[0]) is None
    assert rec.events == [("Normal", "Pulled", 'Container image "busybox:1" already present on machine',
                           "spec.containers{c}")]


async def test_missing_image_is_pulled_with_events() -> None:
    rt = FakeRuntime()
    m, rec = manager(rt)
    p = web("nginx:1")
    assert await m.ensure_image_exists(p, p.spec.containers[0]) is None
    assert rec.reasons() == ["Pulling", "Pulled"]
    assert rec.events[0][2] == 'Pulling image "nginx:1"'
    assert rec.events[1][2].startswith('Successfully pulled image "nginx:1" in ') and "Image size: " in rec.events[1][2]


async def test_failed_pull_backs_off_then_tries_again() -> None:
    rt = FakeRuntime(pull_failures=["nope:1"])
    m, rec = manager(rt)
    p = web("nope:1")
    c = p.spec.containers[0]
    reason, msg = await m.ensure_image_exists(p, c) or ("", "")
    assert reason == "ErrImagePull" and "not found" in msg
    assert rec.reasons() == ["Pulling", "Failed"]
    assert rec.events[1][2].startswith('Failed to pull image "nope:1": ')
    assert m.retry_after(p, c) == 1.0                       # soon: the container shows ImagePullBackOff
    assert await m.ensure_image_exists(p, c) == ("ImagePullBackOff", 'Back-off pulling image "nope:1"')
    assert rec.events[-1] == ("Normal", "BackOff", 'Back-off pulling image "nope:1"', "spec.containers{c}")
    m.backoff.base = 0.0                                    # the backoff ends: the next sync pulls again
    m._failed_at = {k: 0.0 for k in m._failed_at}
    assert (await m.ensure_image_exists(p, c) or ("",))[0] == "ErrImagePull"
    m.forget(p.metadata.uid or "")
    assert not m._failed_at


async def test_pull_policies() -> None:
    rt = FakeRuntime(images=["busybox:1"])
    m, rec = manager(rt)
    never = web("absent:1", "Never")
    assert await m.ensure_image_exists(never, never.spec.containers[0]) == (
        "ErrImageNeverPull", 'Container image "absent:1" is not present with pull policy of Never')
    assert rec.events[-1][:2] == ("Warning", "ErrImageNeverPull")
    always = web("busybox:1", "Always")
    assert await m.ensure_image_exists(always, always.spec.containers[0]) is None
    assert rec.reasons()[-2:] == ["Pulling", "Pulled"]      # pulled although present


async def test_offline_images_are_built_not_pulled() -> None:
    rt = FakeRuntime(pull_failures=["local/busybox:1"])     # no registry serves it
    offline = Offline(rt, {"local/busybox:1", "local/pause:1"})
    m, rec = manager(rt, offline, sandbox="local/pause:1")
    p = web("local/busybox:1")
    assert await m.ensure_image_exists(p, p.spec.containers[0]) is None
    assert offline.provided == ["local/busybox:1"] and rec.reasons() == ["Pulling", "Pulled"]
    await m.ensure_sandbox_image()
    await m.ensure_sandbox_image()                          # once is enough
    assert offline.provided == ["local/busybox:1", "local/pause:1"]
    m.sandbox_failed()                                      # checked again, present: not rebuilt
    await m.ensure_sandbox_image()
    assert offline.provided == ["local/busybox:1", "local/pause:1"]


async def test_sandbox_image_that_cannot_be_had_is_an_error() -> None:
    rt = FakeRuntime(pull_failures=["registry.invalid/pause:3"])
    m, _ = manager(rt, sandbox="registry.invalid/pause:3")
    with pytest.raises(RuntimeServiceError):
        await m.ensure_sandbox_image()


def test_field_paths_name_init_containers_too() -> None:
    p = pod(containers=[{"name": "app", "image": "x"}], initContainers=[{"name": "setup", "image": "x"}])
    assert container_field_path(p, "app") == "spec.containers{app}"
    assert container_field_path(p, "setup") == "spec.initContainers{setup}"


def test_node_events_name_the_node() -> None:
    class Rec(Recorder):
        def record(self, obj: Any, type: str, reason: str, message: str, field_path: str = "") -> None:
            self.obj = obj
            super().record(obj, type, reason, message, field_path)
    rec = Rec()
    KubeletEvents(rec, "n1").node_ready(True)  # type: ignore[arg-type]
    assert rec.events == [("Normal", "NodeReady", "Node n1 status is now: NodeReady", "")]
    assert rec.obj["kind"] == "Node" and rec.obj["metadata"] == {"name": "n1", "uid": "n1"}
