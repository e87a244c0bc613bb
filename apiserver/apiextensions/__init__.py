"""CustomResourceDefinitions: serving kinds defined at run time (apiextensions.k8s.io/v1).

What lives here, one idea per module:
- `crd_strategy.py`: the CRD objects' own strategy (defaults, status on create, storedVersions,
  the cleanup finalizer a delete adds); `crd_validation.py`: what a valid CRD is;
- `naming.py`: accepted names and the NamesAccepted / Established / Terminating conditions;
- `serving.py`: the resource-table rows and strategies an established CRD serves;
- `cr_strategy.py`: a custom resource's strategy (pruning, defaulting and validation by the
  structural schema in `structural.py` and `validation.py`, status and scale subresources,
  printer columns from `printer.py`, selectable fields);
- `controller.py`: the in-apiserver controller that serves what the stored CRDs define (at
  start and on every change, before the change's watch event reaches any client), writes
  their status, and deletes a deleted CRD's objects before letting it go.

Versions convert with strategy None only (the apiVersion changes, nothing else; see
`versions.py`). Conversion webhooks are out of scope: a CRD asking for one is refused with
a 422 naming `spec.conversion.strategy`. CEL rules (`x-kubernetes-validations`) are kept in
the schema but not evaluated.
"""
