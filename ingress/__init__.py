"""pykube's ingress controller: Ingresses served by a real nginx (`pykube ingress`).

The model is k3s' bundled controller: a data plane of Debian's nginx run as a pod in
kube-system behind a LoadBalancer Service on 80 and 443 (ServiceLB gives it the nodes'
addresses), and a controller that programs it:

- `routes.py` (pure): Ingresses of our class + Services + EndpointSlices + Secrets -> a
  `Plan` (servers by host, locations by path, upstreams of ready pod addresses, TLS
  certificates, the default backend) and the `Problem`s of each broken Ingress;
- `annotations.py` (pure): the few `nginx.ingress.kubernetes.io/*` annotations understood,
  checked; a bad value is a Problem;
- `nginxconf.py` (pure): a Plan -> nginx.conf text plus the files it references, with
  which Ingress owns which lines (to name the culprit when `nginx -t` refuses a config);
- `dataplane.py`: the kube-system objects (IngressClass, Deployment, Service) and the
  nginx operations: `nginx -t` on a staged config, then swap and `nginx -s reload` in the pod;
- `controller.py`: the level-triggered loop: render, test, swap, reload only on change;
  Events for broken Ingresses; `status.loadBalancer` of each Ingress from the Service's;
- the Gateway API: `gateway_crds.py` (the CRDs it installs), `gateway.py` (pure: which
  Gateways and HTTPRoutes are ours, HTTPRoutes as locations with header branches and
  weighted upstreams, their status), `gateway_sync.py` (installing, writing status);
- `cli.py`: `pykube ingress`.
"""
