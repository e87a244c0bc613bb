"""`autoscale` and `get hpa` with the real kubectl and with pykubectl against the same
apiserver: the autoscaling/v2 object kubectl sends (protobuf) and pykubectl sends (JSON)
are stored alike, with the server's defaults; output, errors and exit codes match; `describe
hpa`; the official Python client's AutoscalingV2Api."""
from __future__ import annotations

from typing import Any

from api.models import HorizontalPodAutoscaler
from client.rest import Client
from tests.integration.kubectl.conftest import KubectlFn
from tests.integration.kubectl.test_kubectl_batch import both, real


async def test_autoscale_creates_a_v2_autoscaler(kubectl: KubectlFn, kubeconfig_path: str, api: Client) -> None:
    assert (await real(kubeconfig_path, "create", "deployment", "web", "--image=busybox")).code == 0
    r = await real(kubeconfig_path, "autoscale", "deploy/web", "--cpu-percent=50", "--min=1", "--max=5")
    assert (r.code, r.out) == (0, "horizontalpodautoscaler.autoscaling/web autoscaled\n")
    assert "Flag --cpu-percent has been deprecated" in r.err
    r = await kubectl("autoscale", "deploy/web", "--cpu-percent=50", "--min=1", "--max=5", "--name", "web2")
    assert (r.code, r.out) == (0, "horizontalpodautoscaler.autoscaling/web2 autoscaled\n")
    theirs, ours = [await api.get(HorizontalPodAutoscaler, n, "default") for n in ("web", "web2")]
    assert theirs.to_dict()["spec"] == ours.to_dict()["spec"] == {
        "scaleTargetRef": {"kind": "Deployment", "name": "web", "apiVersion": "apps/v1"},
        "minReplicas": 1, "maxReplicas": 5,
        "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
            "type": "Utilization", "averageUtilization": 50}}}]}
    # no metric named: the server's default of 80% CPU; --cpu and --memory as values
    r = await real(kubeconfig_path, "autoscale", "deployment", "web", "--max=3", "--name=dflt", "-o", "name")
    assert (r.code, r.out) == (0, "horizontalpodautoscaler.autoscaling/dflt\n")
    r = await kubectl("autoscale", "deployment", "web", "--max=3", "--name=dflt2", "-o", "name")
    assert (r.code, r.out) == (0, "horizontalpodautoscaler.autoscaling/dflt2\n")
    assert (await api.get(HorizontalPodAutoscaler, "dflt2", "default")).to_dict()["spec"] == \
        (await api.get(HorizontalPodAutoscaler, "dflt", "default")).to_dict()["spec"]
    dflt = (await api.get(HorizontalPodAutoscaler, "dflt", "default")).to_dict()["spec"]
    assert dflt["metrics"][0]["resource"]["target"] == {"type": "Utilization", "averageUtilization": 80}
    assert dflt["minReplicas"] == 1
    await both(kubectl, kubeconfig_path, "autoscale", "deploy/web", "--max=3", "--cpu=200", "--memory=60%",
               "--name=vals", "--dry-run=client", "-o", "yaml")
    r = await both(kubectl, kubeconfig_path, "get", "hpa")
    assert r.lines[0].split() == ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"]
    assert r.lines[1].split()[:7] == ["dflt", "Deployment/web", "cpu:", "<unknown>/80%", "1", "3", "0"]
    assert r.lines[3].split()[:7] == ["web", "Deployment/web", "cpu:", "<unknown>/50%", "1", "5", "0"]


async def test_autoscale_errors(kubectl: KubectlFn, kubeconfig_path: str) -> None:
    assert (await real(kubeconfig_path, "create", "deployment", "web", "--image=busybox")).code == 0
    for args in (["deploy/web"], ["deploy/web", "--max=0"], ["deploy/web", "--max=2", "--min=3"],
                 ["deploy/web", "--max=2", "--cpu=abc%"], ["deploy/web", "--max=2", "--cpu=zz"],
                 ["deploy/web", "--max=2", "--memory=-5%"], ["deploy/nope", "--max=2"],
                 ["svc/kubernetes", "--max=2"]):
        r = await both(kubectl, kubeconfig_path, "autoscale", *args)
        assert r.code == 1 and r.err.startswith(("error:", "Error from server")), (args, r.err)
    assert (await real(kubeconfig_path, "autoscale", "deploy/web", "--max=2")).code == 0
    # the name is taken: v2 fails, and kubectl 1.37's fallback check refuses v1 with its wording
    r = await both(kubectl, kubeconfig_path, "autoscale", "deploy/web", "--max=2")
    assert r.err == ("error: failed to create autoscaling/v2 HPA and the configuration is incompatible "
                     "with autoscaling/v1: empty input\n")


async def test_invalid_autoscaler_is_refused_with_its_fields(kubectl: KubectlFn, kubeconfig_path: str,
                                                            manifest) -> None:  # type: ignore[no-untyped-def]
    path = manifest("hpa.yaml", """\
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: bad
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 4
  maxReplicas: 2
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization}}
""")
    r = await both(kubectl, kubeconfig_path, "apply", "-f", path)
    assert r.code == 1
    assert 'The HorizontalPodAutoscaler "bad" is invalid' in r.err
    assert "spec.maxReplicas: Invalid value: 2: must be greater than or equal to `minReplicas`" in r.err
    assert "spec.metrics[0].resource.target.averageUtilization: Required value" in r.err


async def test_describe_hpa(kubectl: KubectlFn, kubeconfig_path: str, api: Client) -> None:
    await api.create({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
                      "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
                      "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                               "maxReplicas": 5, "metrics": [
                                   {"type": "Resource", "resource": {"name": "cpu", "target": {
                                       "type": "Utilization", "averageUtilization": 50}}},
                                   {"type": "Resource", "resource": {"name": "memory", "target": {
                                       "type": "AverageValue", "averageValue": "100Mi"}}}],
                               "behavior": {"scaleDown": {"stabilizationWindowSeconds": 10}}}})
    await both(kubectl, kubeconfig_path, "describe", "hpa", "web")
    hpa = await api.get(HorizontalPodAutoscaler, "web", "default")
    status = {"currentReplicas": 2, "desiredReplicas": 3, "currentMetrics": [
        {"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 75, "averageValue": "75m"}}},
        {"type": "Resource", "resource": {"name": "memory", "current": {"averageValue": "52428800"}}}],
        "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale",
                        "message": "the HPA controller was able to update the target scale to 3",
                        "lastTransitionTime": "2026-01-01T00:00:00Z"},
                       {"type": "ScalingActive", "status": "True", "reason": "ValidMetricFound",
                        "message": "the HPA was able to successfully calculate a replica count from cpu resource "
                                   "utilization (percentage of request)",
                        "lastTransitionTime": "2026-01-01T00:00:00Z"}]}
    body = hpa.to_dict()
    body["status"] = status
    await api.update_status(body)
    r = await both(kubectl, kubeconfig_path, "describe", "hpa", "web")
    assert "  resource cpu on pods  (as a percentage of request):  75% (75m) / 50%" in r.out
    assert "Deployment pods:" in r.out and "2 current / 3 desired" in r.out
    assert "Stabilization Window: 10 seconds" in r.out


def _python_client_round_trip(kubeconfig: str) -> tuple[Any, Any, Any]:
    from kubernetes import client, config
    api = client.AutoscalingV2Api(config.new_client_from_config(config_file=kubeconfig))
    body = client.V2HorizontalPodAutoscaler(
        metadata=client.V1ObjectMeta(name="py"),
        spec=client.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V2CrossVersionObjectReference(api_version="apps/v1", kind="Deployment",
                                                                  name="web"),
            min_replicas=2, max_replicas=6,
            metrics=[client.V2MetricSpec(type="Resource", resource=client.V2ResourceMetricSource(
                name="memory", target=client.V2MetricTarget(type="Utilization", average_utilization=70)))]))
    created = api.create_namespaced_horizontal_pod_autoscaler("default", body)
    read = api.read_namespaced_horizontal_pod_autoscaler("py", "default")
    listed = api.list_namespaced_horizontal_pod_autoscaler("default")
    api.delete_namespaced_horizontal_pod_autoscaler("py", "default")
    return created, read, listed


async def test_the_python_client_speaks_autoscaling_v2(kubeconfig_path: str) -> None:
    import asyncio
    created, read, listed = await asyncio.to_thread(_python_client_round_trip, kubeconfig_path)
    assert created.metadata.uid == read.metadata.uid
    assert read.spec.metrics[0].resource.target.average_utilization == 70
    assert (read.spec.min_replicas, read.spec.max_replicas) == (2, 6)
    assert read.status.desired_replicas == 0
    assert [h.metadata.name for h in listed.items] == ["py"]
