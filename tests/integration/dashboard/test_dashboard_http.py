"""The dashboard over HTTPS against an in-process apiserver with hollow nodes: a login with
the user's own credentials, the topology and timeline kept live over SSE from watches, the
change path of a `kubectl apply`, and RBAC deciding what a namespace's user sees."""
from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.team.test_team import pykube, signer  # noqa: F401 - the CSR signer fixture
from tests.support.dashboard_cluster import SSE, DashboardCluster

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
async def dc(apiserver: Any, tmp_path: Path) -> AsyncIterator[DashboardCluster]:
    async with DashboardCluster(apiserver, tmp_path) as c:
        yield c


async def login(http: httpx.AsyncClient, **form: str) -> httpx.Response:
    return await http.post("/login", data=form)


def pods_on_lanes(topo: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [p for lane in topo["lanes"] if lane["name"] for p in lane["pods"] if p["name"].startswith(prefix)]


def running(n: int, prefix: str = "nginx-deployment-") -> Any:
    def check(events: list[tuple[str, Any]]) -> Any:
        topo = events and SSE.latest_topology_of(events)
        pods = [p for p in pods_on_lanes(topo, prefix) if p["phase"] == "Running" and p["ready"]] if topo else []
        return pods if len(pods) == n and len(pods_on_lanes(topo, prefix)) == n else None
    return check


async def test_the_api_needs_a_login(dc: DashboardCluster) -> None:
    async with dc.browser_http() as http:
        assert (await http.get("/")).status_code == 200           # the page itself (it shows the login form)
        for path in ("/api/topology", "/api/timeline", "/api/stream", "/api/changepath/1"):
            assert (await http.get(path)).status_code == 401, path
        r = await login(http, token="not-a-token")
        assert r.status_code == 401 and "Unauthorized" in r.json()["error"]
        r = await login(http, kubeconfig="users: [{name: u, user: {tokenFile: /etc/shadow}}]\n"
                                         "contexts: [{name: c, context: {user: u}}]\ncurrent-context: c\n")
        assert r.status_code == 401 and "tokenFile" in r.json()["error"]
        assert (await http.get("/api/topology")).status_code == 401


async def test_live_topology_timeline_and_change_path(dc: DashboardCluster) -> None:
    async with dc.browser_http() as http:
        r = await login(http, kubeconfig=Path(dc.kubeconfig).read_text())
        assert r.status_code == 200 and r.json()["user"] == "system:admin", r.text
        async with SSE(http, "/api/stream") as sse:
            snap = await sse.wait_for(lambda ev: ev and ev[0][0] == "snapshot" and ev[0][1], what="the snapshot")
            lanes = [lane["name"] for lane in snap["topology"]["lanes"]]
            assert lanes == ["hollow-0", "hollow-1"]
            await dc.kubectl("apply", "-f", str(ROOT / "manifests" / "nginx-app.yaml"))
            pods = await sse.wait_for(running(2), what="two Running pods on the node lanes")
            topo = sse.latest_topology()
            assert topo is not None
            (deploy,) = [w for w in topo["workloads"] if w["name"] == "nginx-deployment"]
            (rs,) = deploy["replicasets"]
            assert sorted(rs["pods"]) == sorted(p["uid"] for p in pods)
            (svc,) = [s for s in topo["services"] if s["name"] == "my-nginx-svc"]
            assert sorted(svc["pods"]) == sorted(p["uid"] for p in pods)

            def reasons_done(events: list[tuple[str, Any]]) -> Any:
                reasons = [e["reason"] for e in sse.timeline() if e["source"] == "event"]
                return reasons if reasons.count("Started") >= 2 and "ScalingReplicaSet" in reasons else None
            reasons = await sse.wait_for(reasons_done, what="the Started events")
            order = [reasons.index(r) for r in ("ScalingReplicaSet", "SuccessfulCreate", "Scheduled", "Started")]
            assert order == sorted(order), reasons

            await dc.kubectl("scale", "deployment/nginx-deployment", "--replicas=4")
            await sse.wait_for(running(4), what="four Running pods")
            victim = pods[0]
            await dc.kubectl("delete", "pod", victim["name"], "--wait=false")

            def replaced(events: list[tuple[str, Any]]) -> Any:
                now = running(4)(events)
                return now if now and victim["uid"] not in {p["uid"] for p in now} else None
            await sse.wait_for(replaced, what="the deleted pod replaced")

        # the path of the apply: the Deployment's creation, then what followed
        created = (await http.get("/api/timeline", params={"kind": "Deployment", "name": "nginx-deployment"})).json()
        apply = next(e for e in created if e["type"] == "ADDED")
        assert apply["component"] == "kubectl-client-side-apply"
        steps = (await http.get(f"/api/changepath/{apply['seq']}")).json()["steps"]
        actors = []
        for s in steps:
            if s["actor"] not in actors:
                actors.append(s["actor"])
        assert actors[:5] == ["kubectl", "deployment controller", "replicaset controller", "scheduler", "kubelet"], steps
        assert "endpointslice controller" in actors
        what = [(s["actor"], s["kind"], s["what"]) for s in steps]
        assert ("deployment controller", "ReplicaSet", "created") in what
        assert ("replicaset controller", "Pod", "created") in what
        assert ("scheduler", "Pod", "Scheduled") in what
        assert [s["rv"] for s in steps[1:]] == sorted((s["rv"] for s in steps[1:]), key=int)

        # the detail of a pod: its owner chain and events
        d = (await http.get(f"/api/object/Pod/default/{pods[1]['name']}")).json()
        assert [o["kind"] for o in d["owners"]] == ["ReplicaSet", "Deployment"]
        assert {"Scheduled", "Started"} <= {e["reason"] for e in d["events"]}
        assert "kind: Pod" in d["yaml"] and d["conditions"]


async def test_a_namespace_user_sees_only_their_namespace(dc: DashboardCluster) -> None:
    await dc.kubectl("create", "namespace", "team-a")
    await dc.kubectl("create", "serviceaccount", "alice", "-n", "team-a")
    await dc.kubectl("create", "rolebinding", "alice-admin", "--clusterrole=admin",
                     "--serviceaccount=team-a:alice", "-n", "team-a")
    await dc.kubectl("create", "deployment", "mine", "--image=nginx", "-n", "team-a")
    await dc.kubectl("create", "deployment", "theirs", "--image=nginx", "-n", "default")
    token = await dc.service_account_token("team-a", "alice")
    async with dc.browser_http() as http:
        r = await login(http, token=token, namespace="team-a")
        assert r.status_code == 200 and r.json()["user"] == "system:serviceaccount:team-a:alice", r.text
        async with SSE(http, "/api/stream") as sse:
            await sse.wait_for(lambda ev: (t := SSE.latest_topology_of(ev)) and
                               any(p["name"].startswith("mine-") for p in pods_on_lanes(t, "mine-")),
                               what="team-a's pod")
            topo = sse.latest_topology()
            assert topo is not None
            names = {p["namespace"] for lane in topo["lanes"] for p in lane["pods"]}
            assert names == {"team-a"}
            assert {w["name"] for w in topo["workloads"]} == {"mine"}
            assert "Node" in topo["forbidden"] and topo["scope"]["Pod"] == "team-a"
        assert (await http.get("/api/object/Deployment/default/theirs")).status_code == 404
        timeline = (await http.get("/api/timeline")).json()
        assert timeline and {e["namespace"] for e in timeline} == {"team-a"}


async def test_a_team_member_sees_only_the_teams_namespace(dc: DashboardCluster, signer: None,  # noqa: F811
                                                           tmp_path: Path) -> None:
    """A member of a `pykube team` logs in with the kubeconfig the command wrote for them
    (a client certificate): the dashboard shows their team's namespace and nothing else."""
    code, _, err = await pykube("team", "--kubeconfig", dc.kubeconfig, "create", "alpha", "--member", "alice",
                                "--output-dir", str(tmp_path))
    assert code == 0, err
    await dc.kubectl("create", "deployment", "web", "--image=nginx", "-n", "alpha")
    await dc.kubectl("create", "deployment", "other", "--image=nginx", "-n", "default")
    async with dc.browser_http() as http:
        r = await login(http, kubeconfig=(tmp_path / "alpha-alice.kubeconfig").read_text())
        assert r.status_code == 200 and r.json()["user"] == "alice" and r.json()["namespace"] == "alpha", r.text
        async with SSE(http, "/api/stream") as sse:
            await sse.wait_for(lambda ev: (t := SSE.latest_topology_of(ev)) and pods_on_lanes(t, "web-"),
                               what="the team's pod on a lane")
            topo = sse.latest_topology()
            assert topo is not None
            assert {p["namespace"] for lane in topo["lanes"] for p in lane["pods"]} == {"alpha"}
            assert {w["name"] for w in topo["workloads"]} == {"web"}
            assert topo["scope"]["Deployment"] == "alpha" and "Node" in topo["forbidden"]
        assert (await http.get("/api/object/Deployment/default/other")).status_code == 404
