"""The scheduler: a scheduling queue, a cache with assumed pods, filter and score plugins
(framework.py, plugins/), the cycle and binder (scheduler.py), and `pykube scheduler`
(cli.py)."""
