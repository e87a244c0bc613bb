"""Strategies of networking.k8s.io/v1 Ingress: it starts with an empty load-balancer status
(`{"loadBalancer": {}}`), which only its controller writes, through /status.
IngressClass and NetworkPolicy use the default strategy."""
from __future__ import annotations

from apiserver.strategies import Obj, Strategy, builtin


@builtin("networking.k8s.io", "Ingress")
class IngressStrategy(Strategy):
    reset_status = True

    def initial_status(self, obj: Obj) -> Obj | None:
        return {"loadBalancer": {}}
