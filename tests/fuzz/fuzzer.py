"""API fuzzing: schemathesis requests generated from the apiserver's own OpenAPI v2 document.

Owns `fuzz(target, total, seed)`: it reads `/openapi/v2` from a running apiserver, makes
every operation there (list, get, create, update, patch, delete, deletecollection, for every
resource and subresource) into a schemathesis strategy, valid bodies and parameters as well
as invalid ones (schemathesis' positive and negative modes), and sends about `total`
requests, one at a time. It checks each answer:

- never a 5xx;
- every 4xx is a `Status` (`kind: Status`, `apiVersion: v1`, its `code` the HTTP code);
- a rejected write (a 4xx to POST, PUT, PATCH or DELETE) and a dry run stored nothing: the
  store's revision (a list's `metadata.resourceVersion`, read consistently) is the same
  after it as before.

Half of the requests are pointed at objects that exist (namespace `fuzz`, objects named
`seed` made at the start), so updates, patches and deletes reach validation rather than
stopping at NotFound. Watches and the exec stream (long-running) are left out: they are
not request/answer operations. `Report` counts requests and answers by code, per operation
too, and keeps the failures.
"""
from __future__ import annotations

import json
import random
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis import GenerationMode

NS = "fuzz"
SEED_NAME = "seed"
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
LONG_RUNNING_PARAMS = {"watch", "follow"}
# the values Kubernetes accepts for these string parameters (its OpenAPI says only
# "string"): with them, schemathesis' valid requests are valid, and its invalid ones still
# send anything else
ENUMS = {"dryRun": ["All"], "propagationPolicy": ["Background", "Foreground", "Orphan"],
         "fieldValidation": ["Ignore", "Warn", "Strict"]}
REVISION_PATH = "/api/v1/namespaces"


@dataclass
class Target:
    """Where the apiserver is and how to authenticate to it."""
    url: str
    token: str
    ca: str


@dataclass
class Report:
    sent: int = 0
    by_code: Counter[int] = field(default_factory=Counter)
    by_operation: dict[str, Counter[int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    rejections: Counter[str] = field(default_factory=Counter)    # 4xx by code and message start
    seeded: list[str] = field(default_factory=list)
    ungenerated: dict[str, str] = field(default_factory=dict)   # operations schemathesis made nothing for
    seconds: float = 0.0

    def count(self, label: str, code: int) -> None:
        self.sent += 1
        self.by_code[code] += 1
        self.by_operation.setdefault(label, Counter())[code] += 1

    def fail(self, what: str) -> None:
        if len(self.failures) < 200:
            self.failures.append(what)

    def summary(self) -> str:
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(self.by_code.items()))
        server_errors = sum(n for c, n in self.by_code.items() if c >= 500)
        lines = [f"fuzz: {self.sent} requests in {self.seconds:.0f}s over {len(self.by_operation)} operations "
                 f"({len(self.seeded)} seed objects)",
                 f"answers by code: {codes}",
                 "most frequent rejections:"]
        lines += [f"  {n:6d}  {what}" for what, n in self.rejections.most_common(12)]
        lines += [f"operations without a generated request: {len(self.ungenerated)}"]
        lines += [f"  {op}: {why}" for op, why in sorted(self.ungenerated.items())[:10]]
        lines += [f"5xx: {server_errors}; failed checks: {len(self.failures)}"]
        return "\n".join(lines + [f"  FAIL {f}" for f in self.failures[:50]])


def load_spec(session: requests.Session, target: Target) -> dict[str, Any]:
    r = session.get(target.url + "/openapi/v2", timeout=30)
    r.raise_for_status()
    return dict(r.json())


def fuzzable(spec: dict[str, Any]) -> dict[str, Any]:
    """The document without what is not request/answer: watch and follow parameters, the
    exec stream (a WebSocket/SPDY upgrade), and `/watch/` paths."""
    spec = json.loads(json.dumps(spec))
    paths: dict[str, Any] = {}
    for path, item in spec["paths"].items():
        if "/watch/" in path:
            continue
        item["parameters"] = [p for p in item.get("parameters", []) if p.get("name") not in LONG_RUNNING_PARAMS]
        for method in ("get", "put", "post", "delete", "patch"):
            op = item.get(method)
            if op is None:
                continue
            if op.get("x-kubernetes-action") == "connect" or \
                    (path == "/api/v1/namespaces" and method == "delete"):
                # the exec stream; deleting every namespace (then nothing can be created)
                del item[method]
                continue
            op["parameters"] = [p for p in op.get("parameters", []) if p.get("name") not in LONG_RUNNING_PARAMS]
            for p in op["parameters"]:
                if p.get("name") in ENUMS and p.get("in") == "query":
                    p["enum"] = ENUMS[p["name"]]
        paths[path] = item
    spec["paths"] = paths
    # the admin's bearer token goes on every request; generated credentials would only
    # exercise the 401 path over and over
    spec.pop("securityDefinitions", None)
    spec.pop("security", None)
    return spec


# minimal valid bodies for kinds whose spec has required fields (others need only a name)
_SPECS: dict[str, dict[str, Any]] = {
    "Pod": {"spec": {"containers": [{"name": "c", "image": "busybox"}]}},
    "Service": {"spec": {"ports": [{"port": 80}]}},
    "Deployment": {"spec": {"selector": {"matchLabels": {"app": "seed"}},
                            "template": {"metadata": {"labels": {"app": "seed"}},
                                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}},
    "ReplicaSet": {"spec": {"selector": {"matchLabels": {"app": "seed-rs"}},
                            "template": {"metadata": {"labels": {"app": "seed-rs"}},
                                         "spec": {"containers": [{"name": "c", "image": "busybox"}]}}}},
    "RoleBinding": {"roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "seed"},
                    "subjects": [{"kind": "User", "name": "fuzz", "apiGroup": "rbac.authorization.k8s.io"}]},
}


def seed_objects(session: requests.Session, target: Target, spec: dict[str, Any]) -> list[str]:
    """A namespace `fuzz` and, for every creatable kind, an object named `seed` (those the
    minimal body satisfies): what the retargeted requests hit."""
    made: list[str] = []
    session.post(target.url + "/api/v1/namespaces", json={"apiVersion": "v1", "kind": "Namespace",
                                                            "metadata": {"name": NS}}, timeout=10)
    for path, item in spec["paths"].items():
        op = item.get("post")
        if op is None or op.get("x-kubernetes-action") != "post" or path.endswith("}"):
            continue
        gvk = op.get("x-kubernetes-group-version-kind") or {}
        kind = gvk.get("kind")
        if not kind or "{name}" in path:
            continue
        api_version = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
        body = {"apiVersion": api_version, "kind": kind, "metadata": {"name": SEED_NAME},
                **json.loads(json.dumps(_SPECS.get(kind, {})))}
        r = session.post(target.url + path.replace("{namespace}", NS), json=body, timeout=10)
        if r.status_code < 300:
            made.append(f"{kind}/{SEED_NAME}")
    return made


class Fuzzer:
    def __init__(self, target: Target, total: int, seed: int) -> None:
        self.target, self.total, self.seed = target, total, seed
        self.session = requests.Session()
        self.session.verify = target.ca
        self.session.trust_env = False       # REQUESTS_CA_BUNDLE would replace our CA
        self.session.headers["Authorization"] = f"Bearer {target.token}"
        self.report = Report()
        self.rng = random.Random(seed)
        self.revision = ""          # the store's revision as last read; "" after a write
        self.strategies: dict[tuple[str, GenerationMode], Any] = {}

    def current_revision(self) -> str:
        r = self.session.get(self.target.url + REVISION_PATH, params={"limit": "1"}, timeout=10)
        return str(r.json()["metadata"]["resourceVersion"])

    def run(self) -> Report:
        start = time.monotonic()
        raw = fuzzable(load_spec(self.session, self.target))
        self.report.seeded = seed_objects(self.session, self.target, raw)
        schema = schemathesis.openapi.from_dict(raw)
        operations = [r.ok() for r in schema.get_all_operations()]
        # rounds over every operation, valid and invalid requests in turn, a few per
        # operation each round, until `total` are sent
        chunk = max(1, min(8, self.total // (2 * len(operations))))
        stalled = 0
        while self.report.sent < self.total and stalled < 3:
            before = self.report.sent
            self.rng.shuffle(operations)
            both = self.total >= 2 * len(operations)    # a short run: one mode per operation, to reach them all
            for op in operations:
                modes = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if both else \
                    (self.rng.choice((GenerationMode.POSITIVE, GenerationMode.NEGATIVE)),)
                for mode in modes:
                    left = self.total - self.report.sent
                    if left > 0:
                        self.fuzz_operation(op, mode, min(chunk, left))
            stalled = stalled + 1 if self.report.sent == before else 0
        self.report.seconds = time.monotonic() - start
        return self.report

    def fuzz_operation(self, op: Any, mode: GenerationMode, n: int) -> None:
        label = f"{op.method.upper()} {op.path}"
        sent_before = self.report.sent
        key = (label, mode)
        if key not in self.strategies:
            self.strategies[key] = op.as_strategy(generation_mode=mode)

        @settings(max_examples=n, phases=[Phase.generate], database=None, deadline=None,
                  suppress_health_check=list(HealthCheck), report_multiple_bugs=False)
        @given(case=self.strategies[key], pick=st.integers(0, 99))
        def send(case: Any, pick: int) -> None:
            if self.report.sent - sent_before >= n:
                return
            self.send(label, case, pick)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                hypothesis_seed(self.rng.randrange(2**32))(send)()
            except Exception as e:  # noqa: BLE001 - schemathesis cannot generate for this operation: say so, go on
                if self.report.sent == sent_before and label not in self.report.ungenerated:
                    self.report.ungenerated[label] = f"{type(e).__name__}: {str(e)[:200]}"

    def send(self, label: str, case: Any, pick: int) -> None:
        params = case.path_parameters or {}
        if pick < 50:                # at something that exists, so the request gets past NotFound
            if "namespace" in params:
                params["namespace"] = NS
            if "name" in params:
                params["name"] = SEED_NAME
        if pick < 70 and isinstance(case.body, dict):
            _aim_body(case.body, case.operation, params)
        method = case.method.upper()
        writes = method in WRITES
        if writes and not self.revision:
            self.revision = self.current_revision()
        before = self.revision
        try:
            r = case.call(base_url=self.target.url, session=self.session, timeout=30, verify=self.target.ca)
        except requests.RequestException as e:
            self.report.count(label, 0)
            self.report.fail(f"{label}: no answer ({e!r}) to {_request_text(case)}")
            return
        code = r.status_code
        self.report.count(label, code)
        what = f"{label} -> {code}: {_request_text(case)}\n    answer: {r.text[:400]}"
        if code >= 500:
            self.report.fail(what)
        elif code >= 400 and not _is_status(r.content, code):
            self.report.fail(f"not a Status: {what}")
        elif code >= 400:
            status = r.json()
            self.report.rejections[f"{code} {status.get('reason')}: {_shape(str(status.get('message')))}"] += 1
        if not writes:
            return
        dry_run = "dryRun" in (case.query or {})
        if code >= 400 or (code < 300 and dry_run):
            after = self.current_revision()
            if after != before:
                self.report.fail(f"stored something (revision {before} -> {after}): {what}")
            self.revision = after
        else:
            self.revision = ""


def _aim_body(body: dict[str, Any], op: Any, params: dict[str, Any]) -> None:
    """The body's apiVersion, kind and names made to match the path, so the request gets
    past the first checks and its generated fields reach validation."""
    gvk = op.definition.raw.get("x-kubernetes-group-version-kind") or {}
    if gvk.get("kind") and not op.path.endswith(("/status", "/scale", "/binding", "/eviction")):
        body["apiVersion"] = f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else gvk["version"]
        body["kind"] = gvk["kind"]
    meta = body.get("metadata")
    if isinstance(meta, dict):
        if "name" in params:
            meta["name"] = params["name"]
        elif op.method == "post" and not meta.get("name"):
            meta["name"] = f"fuzz-{random.randrange(10**6)}"
        if "namespace" in params:
            meta["namespace"] = params["namespace"]


def _shape(message: str) -> str:
    """A message with its quoted and numeric parts blanked, so that alike ones count as one."""
    import re
    return re.sub(r'"[^"]*"|\d+', "_", message)[:90]


def _is_status(content: bytes, code: int) -> bool:
    try:
        body = json.loads(content)
    except ValueError:
        return False
    return (isinstance(body, dict) and body.get("kind") == "Status" and body.get("apiVersion") == "v1"
            and body.get("code") == code and body.get("status") == "Failure")


def _request_text(case: Any) -> str:
    body = "" if case.body is None or type(case.body).__name__ == "NotSet" else json.dumps(case.body, default=str)
    return (f"{case.method.upper()} {case.formatted_path} query={case.query} "
            f"media_type={case.media_type} body={body[:300]}")


def fuzz(target: Target, total: int, seed: int) -> Report:
    return Fuzzer(target, total, seed).run()
