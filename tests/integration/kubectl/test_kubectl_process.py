"""pykubectl as a separate process (`python -m kubectl.main`): exit codes and streams
through the real entry point."""
from __future__ import annotations

import asyncio
import os
import sys
from typing import Any


async def pykubectl(kubeconfig: str, *args: str, stdin: bytes = b"") -> tuple[int, str, str]:
    env = dict(os.environ, KUBECONFIG=kubeconfig)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "kubectl.main", *args, env=env, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_exit_codes_and_streams(kubeconfig_path: str) -> None:
    manifest = b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-stdin\n"
    assert await pykubectl(kubeconfig_path, "apply", "-f", "-", stdin=manifest) == \
        (0, "configmap/from-stdin created\n", "")
    assert await pykubectl(kubeconfig_path, "get", "deploy", "x") == \
        (1, "", 'Error from server (NotFound): deployments.apps "x" not found\n')
    code, out, _ = await pykubectl(kubeconfig_path, "get", "cm", "from-stdin", "-o", "name")
    assert (code, out) == (0, "configmap/from-stdin\n")


async def test_completion_script_drives_the_command(kubeconfig_path: str, apiserver: Any) -> None:
    code, script, _ = await pykubectl(kubeconfig_path, "completion", "bash")
    assert code == 0
    bash = (f"{script}\npykubectl() {{ {sys.executable} -m kubectl.main \"$@\"; }}\n"
            "COMP_WORDS=(pykubectl get svc ''); COMP_CWORD=3; _pykubectl; echo \"${COMPREPLY[@]}\"\n"
            "COMP_WORDS=(pykubectl rol); COMP_CWORD=1; _pykubectl; echo \"${COMPREPLY[@]}\"\n")
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", bash, env=dict(os.environ, KUBECONFIG=kubeconfig_path),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert out.decode().splitlines() == ["kubernetes", "rollout"], err.decode()
