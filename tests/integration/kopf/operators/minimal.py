"""One creation handler whose result becomes the object's status (kopf's minimal example)."""
import kopf

from common import login  # noqa: F401


@kopf.on.create('kopf.dev', 'v1', 'kopfexamples')
def create_fn(spec, **kwargs):
    print(f"Creating from spec: {dict(spec)}")
    return {'message': 'hello world'}
