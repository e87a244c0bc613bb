"""The in-tree plugins and the default profile.

`REGISTRY` maps each plugin NAME to its module's `new` factory. `DEFAULT_PLUGINS` is the
filter order kube-scheduler's default profile uses (cheap, unresolvable checks first;
the first failing filter decides a node's reason), and `DEFAULT_SCORE_WEIGHTS` its score
weights (TaintToleration 3, NodeAffinity 2, spreading 2 like PodTopologySpread's system
defaults, the two resource scores 1).
"""
from __future__ import annotations

from scheduler.framework import Framework, Registry
from scheduler.plugins import (balanced_allocation, node_affinity, node_name, node_ports,
                               node_resources_fit, node_unschedulable, selector_spread,
                               taint_toleration, volume_binding)

_MODULES = (node_unschedulable, node_name, taint_toleration, node_affinity, node_ports,
            node_resources_fit, volume_binding, balanced_allocation, selector_spread)

REGISTRY: Registry = {m.NAME: m.new for m in _MODULES}

DEFAULT_PLUGINS: tuple[str, ...] = tuple(m.NAME for m in _MODULES)

DEFAULT_SCORE_WEIGHTS: dict[str, int] = {
    taint_toleration.NAME: 3,
    node_affinity.NAME: 2,
    selector_spread.NAME: 2,
    node_resources_fit.NAME: 1,
    balanced_allocation.NAME: 1,
}


def default_framework() -> Framework:
    return Framework.from_registry(REGISTRY, DEFAULT_PLUGINS, DEFAULT_SCORE_WEIGHTS)
