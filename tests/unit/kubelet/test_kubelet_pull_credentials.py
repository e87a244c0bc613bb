"""Pull credentials, as a user meets them: `imagePullSecrets` made by `kubectl create secret
docker-registry` choose the credentials for the image's registry (docker.io's aliases are one;
a key with a path covers only that path; the most specific first), the image manager tries
them in turn and sends them to CRI, and a secret that is missing is a warning event."""
from __future__ import annotations

import base64
import json
from typing import Any

from api.models import Pod
from kubectl.cmd_create_secret import docker_registry_secret
from kubelet.events import KubeletEvents
from kubelet.images.credentials import credentials_for, image_host_path
from kubelet.images.manager import ImageManager
from kubelet.runtime.fake import FakeRuntime
from kubelet.runtime.interface import PullAuth, RuntimeServiceError
from tests.support.kubelet_pods import pod
from tests.unit.kubelet.test_kubelet_images import Recorder


def secret(server: str, user: str, password: str) -> dict[str, Any]:
    return docker_registry_secret("s", server, user, password)


def test_image_host_and_path() -> None:
    assert image_host_path("busybox") == ("docker.io", "library/busybox")
    assert image_host_path("10.0.0.1:5443/team/app:1") == ("10.0.0.1:5443", "team/app")
    assert image_host_path("reg.example/app@sha256:" + "a" * 64) == ("reg.example", "app")


def test_credentials_match_the_registry_of_the_image() -> None:
    hub = secret("https://index.docker.io/v1/", "hubuser", "hubpw")
    reg = secret("10.0.0.1:5443", "reguser", "regpw")
    assert credentials_for("busybox:1", [reg, hub]) == [PullAuth("hubuser", "hubpw")]
    assert credentials_for("docker.io/library/busybox", [hub]) == [PullAuth("hubuser", "hubpw")]
    assert credentials_for("10.0.0.1:5443/private/box:1", [hub, reg]) == [PullAuth("reguser", "regpw")]
    assert credentials_for("10.0.0.2:5443/private/box:1", [hub, reg]) == []
    assert credentials_for("quay.io/x/y", [hub]) == []


def test_a_key_with_a_path_is_tried_first_and_only_for_that_path() -> None:
    team = secret("reg.example/team", "team", "t")
    host = secret("https://reg.example", "any", "a")
    assert credentials_for("reg.example/team/app:1", [host, team]) == [PullAuth("team", "t"), PullAuth("any", "a")]
    assert credentials_for("reg.example/teamwork/app:1", [host, team]) == [PullAuth("any", "a")]


def test_auth_field_alone_and_old_dockercfg_and_junk() -> None:
    only_auth = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": base64.b64encode(
        json.dumps({"auths": {"reg.example": {"auth": base64.b64encode(b"u:p:q").decode()}}}).encode()).decode()}}
    assert credentials_for("reg.example/a", [only_auth]) == [PullAuth("u", "p:q")]
    old = {"type": "kubernetes.io/dockercfg", "data": {".dockercfg": base64.b64encode(
        json.dumps({"reg.example": {"username": "o", "password": "ld"}}).encode()).decode()}}
    assert credentials_for("reg.example/a", [old]) == [PullAuth("o", "ld")]
    junk = {"type": "kubernetes.io/dockerconfigjson", "data": {".dockerconfigjson": "not base64!"}}
    opaque = {"type": "Opaque", "data": {".dockerconfigjson": only_auth["data"][".dockerconfigjson"]}}
    assert credentials_for("reg.example/a", [junk, opaque]) == []


def test_the_password_never_shows_in_a_repr() -> None:
    assert "secretpw" not in repr(PullAuth("u", "secretpw"))


def puller(rt: FakeRuntime, secrets: dict[str, dict[str, Any]]) -> tuple[ImageManager, Recorder]:
    async def get(ns: str, name: str) -> dict[str, Any] | None:
        return secrets.get(f"{ns}/{name}")
    rec = Recorder()
    return ImageManager(rt, KubeletEvents(rec, "n1"), pull_secrets=get), rec  # type: ignore[arg-type]


def with_secrets(image: str, *names: str) -> Pod:
    return pod(containers=[{"name": "c", "image": image}], imagePullSecrets=[{"name": n} for n in names])


async def test_the_manager_sends_the_matching_credentials_to_the_runtime() -> None:
    rt = FakeRuntime()
    m, rec = puller(rt, {"default/regcred": secret("10.0.0.1:5443", "u", "p")})
    p = with_secrets("10.0.0.1:5443/private/box:1", "regcred", "gone")
    assert await m.ensure_image_exists(p, p.spec.containers[0]) is None
    assert rt.pull_auths == [("10.0.0.1:5443/private/box:1", PullAuth("u", "p"))]
    warn = [e for e in rec.events if e[1] == "FailedToRetrieveImagePullSecret"]
    assert warn and "(gone)" in warn[0][2]


async def test_each_credential_is_tried_until_one_works() -> None:
    class Picky(FakeRuntime):
        async def pull_image(self, image: str, auth: PullAuth | None = None) -> str:
            self.pull_auths.append((image, auth))
            if auth is None or auth.password != "right":
                raise RuntimeServiceError("pulling from host reg.example failed with status code: 401 Unauthorized")
            return (self._images.get(image) or self._add_image(image)).repo_digests[0]
    rt = Picky()
    m, _ = puller(rt, {"default/a": secret("reg.example", "u", "wrong"), "default/b": secret("reg.example", "u", "right")})
    p = with_secrets("reg.example/app:1", "a", "b")
    assert await m.ensure_image_exists(p, p.spec.containers[0]) is None
    assert [a.password for _, a in rt.pull_auths if a] == ["wrong", "right"]

    rt2 = Picky()
    m2, rec2 = puller(rt2, {"default/a": secret("reg.example", "u", "wrong")})
    p2 = with_secrets("reg.example/app:1", "a")
    reason, message = await m2.ensure_image_exists(p2, p2.spec.containers[0]) or ("", "")
    assert reason == "ErrImagePull" and "401 Unauthorized" in message
    assert any(e[1] == "Failed" and "401 Unauthorized" in e[2] for e in rec2.events)
