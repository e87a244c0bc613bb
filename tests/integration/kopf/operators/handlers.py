"""Several handlers per cause: resume, create (two), update, a field, delete (two)."""
import kopf

from common import login  # noqa: F401


@kopf.on.resume('kopfexamples')
def resume_fn(**kwargs):
    print('RESUMED')


@kopf.on.create('kopfexamples')
def create_fn_1(**kwargs):
    print('CREATED 1st')


@kopf.on.create('kopfexamples')
def create_fn_2(**kwargs):
    print('CREATED 2nd')


@kopf.on.update('kopfexamples')
def update_fn(old, new, diff, **kwargs):
    print(f'UPDATED: {[tuple(d) for d in diff]}')


@kopf.on.field('kopfexamples', field='spec.field')
def field_fn(old, new, **kwargs):
    print(f'FIELD CHANGED: {old} -> {new}')


@kopf.on.delete('kopfexamples')
def delete_fn_1(**kwargs):
    print('DELETED 1st')


@kopf.on.delete('kopfexamples')
def delete_fn_2(**kwargs):
    print('DELETED 2nd')
