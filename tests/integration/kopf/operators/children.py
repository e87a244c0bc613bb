"""A child pod per object, owned through an ownerReference (kopf.adopt), made with the
official `kubernetes` client; its uid goes into the parent's status."""
import kopf
import kubernetes.client

from common import login  # noqa: F401


@kopf.on.create('kopf.dev', 'v1', 'kopfexamples')
def create_fn(body, spec, **kwargs):
    pod = {
        'apiVersion': 'v1', 'kind': 'Pod',
        'spec': {'containers': [{
            'name': 'sleeper', 'image': 'busybox',
            'command': ['sh', '-c', f"echo FIELD=$FIELD; sleep {spec.get('duration', '0')}"],
            'env': [{'name': 'FIELD', 'value': spec.get('field', 'default-value')}]}]},
    }
    kopf.adopt(pod, owner=body)
    made = kubernetes.client.CoreV1Api().create_namespaced_pod(
        namespace=pod['metadata']['namespace'], body=pod)
    return {'children': [made.metadata.uid]}
