"""The pykube dashboard: topology, a live timeline and the path of one change.

A web app that reads the Kubernetes API only through `client/` (list + watch), with the
browser user's own credentials, so it works against any cluster and RBAC applies. Pure
parts: `topology`, `timeline`, `changepath`, `objects`; I/O: `view` (watches), `session`
(logins), `app` (HTTP + SSE), `cli` (`pykube dashboard`).
"""
