"""A timer and two daemons (one sync, one async) that live as long as the object does."""
import asyncio

import kopf

from common import login  # noqa: F401


@kopf.timer('kopf.dev', 'v1', 'kopfexamples', interval=1.0)
def tick(spec, logger, **kwargs):
    logger.info(f"=> Tick from a timer: field={spec['field']!r}")


@kopf.daemon('kopf.dev', 'v1', 'kopfexamples', cancellation_timeout=2.0)
def background_sync(spec, stopped, logger, **kwargs):
    while not stopped:
        logger.info(f"=> Ping from a sync daemon: field={spec['field']!r}")
        stopped.wait(1.0)


@kopf.daemon('kopf.dev', 'v1', 'kopfexamples', cancellation_backoff=0.5, cancellation_timeout=2.0)
async def background_async(spec, logger, **kwargs):
    while True:
        logger.info(f"=> Ping from an async daemon: field={spec['field']!r}")
        await asyncio.sleep(1.0)
