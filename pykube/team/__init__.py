"""`pykube team`: a class's team projects as ordinary Kubernetes objects.

`team create NAME --member M ...` makes, through the API only (`--kubeconfig`, like every
component; no data dir needed):
- the Namespace, labelled `pykube.io/team=NAME` and with Pod Security `baseline` enforced;
- a ResourceQuota `team-quota` (`--cpu`, `--memory`, `--pods`) and a LimitRange
  `team-limits` with default requests/limits, when the server serves those kinds;
- a NetworkPolicy `team-isolation` admitting traffic from the team's own namespace (and from
  the ingress controller's), when the server serves NetworkPolicies;
- a RoleBinding `team-admins` of the `admin` ClusterRole to the members;
- for each member, a client certificate obtained the Kubernetes way (a key made here, a
  CertificateSigningRequest for `kubernetes.io/kube-apiserver-client`, approved by this
  command, signed by the controller-manager) and a kubeconfig `<team>-<member>.kubeconfig`
  in `--output-dir` whose context's namespace is the team's.
`team list`, `team add-member`, `team delete` do what they say. `objects.py` builds the
objects (pure); `cli.py` talks to the API.
"""
