"""OpenAPI v2 and v3 for every served kind, generated from the models and the resource table.

Modules: `schemas` (models and CRD schemas to `components.schemas`, Kubernetes' definition
names and annotations), `common` (the meta/v1 bodies without a model), `paths` (operations
per resource and verb), `documents` (per group-version v3 documents, the v3 root, Swagger
2.0; cached, invalidated with the resource table), `v2` (v3 to Swagger 2.0), `proto_v2`
(Swagger 2.0 as gnostic protobuf), `routes` (the HTTP handlers: ETag, `hash`, 304, 301, 406).

`invalidate()` is the hook for code that changes what is served (the CRD registry): the
next request rebuilds every document from the table as it is then.
"""
from __future__ import annotations

from apiserver.openapi.documents import invalidate, v2, v3, v3_root

__all__ = ["invalidate", "v2", "v3", "v3_root"]
