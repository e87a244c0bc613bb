"""`create secret docker-registry` with the real kubectl and with pykubectl against the same
apiserver: the same object (byte for byte in `.dockerconfigjson`), output, errors and exit
codes; the Secret stored is of type kubernetes.io/dockerconfigjson."""
from __future__ import annotations

import base64
import json

from api.models.core import Secret
from client.rest import Client
from tests.integration.kubectl.conftest import KubectlFn
from tests.integration.kubectl.test_kubectl_batch import both, real


async def test_create_secret_docker_registry(kubectl: KubectlFn, kubeconfig_path: str, api: Client) -> None:
    creds = ["--docker-username=pykube", "--docker-password=s3cret"]
    for args in (["--docker-server=10.0.0.1:5443", *creds], [*creds, "--docker-email=a@b.c"]):
        for out in (["-o", "yaml"], ["-o", "name"]):   # -o json: kubectl keeps Go's field order there
            await both(kubectl, kubeconfig_path, "create", "secret", "docker-registry", "regcred", *args,
                       "--dry-run=client", *out)
    await both(kubectl, kubeconfig_path, "create", "secret", "docker-registry", "regcred", "--dry-run=client")
    await both(kubectl, kubeconfig_path, "create", "secret", "docker-registry", *creds, "--dry-run=client")

    theirs = await real(kubeconfig_path, "create", "secret", "docker-registry", "theirs",
                        "--docker-server=10.0.0.1:5443", *creds)
    ours = await kubectl("create", "secret", "docker-registry", "ours", "--docker-server=10.0.0.1:5443", *creds)
    assert (theirs.code, theirs.out, ours.code, ours.out) == (0, "secret/theirs created\n", 0, "secret/ours created\n")
    a, b = await api.get(Secret, "theirs", "default"), await api.get(Secret, "ours", "default")
    assert a.type == b.type == "kubernetes.io/dockerconfigjson"
    assert a.data == b.data
    doc = json.loads(base64.b64decode((b.data or {})[".dockerconfigjson"]))
    assert doc == {"auths": {"10.0.0.1:5443": {"username": "pykube", "password": "s3cret",
                                               "auth": base64.b64encode(b"pykube:s3cret").decode()}}}
    again = await kubectl("create", "secret", "docker-registry", "ours", "--docker-server=x", *creds)
    assert again.code == 1 and 'secrets "ours" already exists' in again.err
