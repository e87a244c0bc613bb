"""Writing through `patch` (status and metadata) and posting events about the object."""
import kopf

from common import login  # noqa: F401


@kopf.on.create('kopf.dev', 'v1', 'kopfexamples')
def create_fn(body, patch, logger, **kwargs):
    patch.status['phase'] = 'Created'
    patch.metadata.labels['kopf-touched'] = 'yes'
    kopf.info(body, reason='Reconciled', message='the example was seen')
    logger.info("status and labels patched")
    return {'items': len(body.spec.get('items', []))}


@kopf.on.field('kopf.dev', 'v1', 'kopfexamples', field='spec.field')
def field_fn(new, patch, **kwargs):
    patch.status['field'] = new


@kopf.on.delete('kopf.dev', 'v1', 'kopfexamples')
def delete_fn(**kwargs):
    pass
