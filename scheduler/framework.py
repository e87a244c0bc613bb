"""The scheduling framework: plugin interfaces, `Status`, `CycleState`, the registry.

Owns the shape Kubernetes' scheduler framework has, cut down to the extension points
pykube uses:

- `PreFilterPlugin.pre_filter(state, pod) -> Status | None`: once per cycle; a `SKIP`
  status means this plugin's `filter` is not run for this pod.
- `FilterPlugin.filter(state, pod, node_info) -> Status | None`: may the pod go there?
- `PreScorePlugin.pre_score(state, pod, nodes) -> Status | None`: once per cycle; `SKIP`
  leaves this plugin out of scoring for this pod.
- `ScorePlugin.score(state, pod, node_info) -> int` (0-100 after normalizing) and an
  optional `normalize_score(state, pod, scores)` that rescales the list in place.

`None` is success, as Go's nil `*Status` is; plugins return shared constant statuses so the
hot loop allocates nothing. A plugin module has `NAME` and `new(args) -> plugin`; the
registry maps names to those factories. `fit_error_message` writes Kubernetes' FitError
text ("0/3 nodes are available: 1 Insufficient cpu, 2 node(s) had untolerated taint
{...}.").
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from scheduler.nodeinfo import NodeInfo
from scheduler.podinfo import PodInfo

MAX_NODE_SCORE = 100
MIN_NODE_SCORE = 0

# Status codes, as in framework/interface.go
SUCCESS, ERROR, UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE, SKIP = range(5)


@dataclass(frozen=True, slots=True)
class Status:
    """A non-success result: the code, the reasons (each one counted in the FitError
    message) and the plugin that returned it."""

    code: int
    reasons: tuple[str, ...] = ()
    plugin: str = ""

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    @property
    def is_unschedulable(self) -> bool:
        return self.code in (UNSCHEDULABLE, UNSCHEDULABLE_AND_UNRESOLVABLE)


def unschedulable(plugin: str, *reasons: str, resolvable: bool = True) -> Status:
    return Status(UNSCHEDULABLE if resolvable else UNSCHEDULABLE_AND_UNRESOLVABLE,
                  reasons, plugin)


def skip(plugin: str) -> Status:
    return Status(SKIP, (), plugin)


class CycleState:
    """Per-cycle scratch space shared by the plugins of one scheduling attempt."""

    __slots__ = ("_data", "skip_filter", "skip_score")

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}
        self.skip_filter: set[str] = set()
        self.skip_score: set[str] = set()

    def write(self, key: str, value: Any) -> None:
        self._data[key] = value

    def read(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)


@runtime_checkable
class Plugin(Protocol):
    NAME: str


@runtime_checkable
class PreFilterPlugin(Plugin, Protocol):
    def pre_filter(self, state: CycleState, pod: PodInfo) -> Status | None: ...


@runtime_checkable
class FilterPlugin(Plugin, Protocol):
    def filter(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> Status | None: ...


@runtime_checkable
class PreScorePlugin(Plugin, Protocol):
    def pre_score(self, state: CycleState, pod: PodInfo,
                  nodes: list[NodeInfo]) -> Status | None: ...


@runtime_checkable
class ScorePlugin(Plugin, Protocol):
    def score(self, state: CycleState, pod: PodInfo, node_info: NodeInfo) -> int: ...


PluginFactory = Callable[..., Any]
Registry = dict[str, PluginFactory]


def default_normalize(scores: list[int], reverse: bool = False) -> None:
    """Kubernetes' helper.DefaultNormalizeScore: scale to 0..100 by the maximum; `reverse`
    flips it (fewer is better). All zero stays zero (or becomes 100 when reversed)."""
    top = max(scores, default=0)
    if top == 0:
        if reverse:
            scores[:] = [MAX_NODE_SCORE] * len(scores)
        return
    for i, s in enumerate(scores):
        s = MAX_NODE_SCORE * s // top
        scores[i] = MAX_NODE_SCORE - s if reverse else s


class Framework:
    """One profile: plugins in filter order, score plugins with their weights."""

    def __init__(self, plugins: Iterable[Any], score_weights: Mapping[str, int]) -> None:
        self.plugins = list(plugins)
        self.pre_filters = [p for p in self.plugins if isinstance(p, PreFilterPlugin)]
        self.filters = [p for p in self.plugins if isinstance(p, FilterPlugin)]
        self.pre_scores = [p for p in self.plugins if isinstance(p, PreScorePlugin)]
        self.scorers = [(p, int(score_weights.get(p.NAME, 1))) for p in self.plugins
                        if isinstance(p, ScorePlugin) and score_weights.get(p.NAME, 1) > 0]

    @classmethod
    def from_registry(cls, registry: Registry, enabled: Iterable[str],
                      score_weights: Mapping[str, int], args: Mapping[str, Any] | None = None,
                      ) -> Framework:
        args = args or {}
        return cls([registry[name](args.get(name)) for name in enabled], score_weights)

    # ---------------------------------------------------------------- per cycle
    def run_pre_filters(self, state: CycleState, pod: PodInfo) -> tuple[list[Any], Status | None]:
        """Run PreFilter; answer the filter plugins still to run, or a failure."""
        for p in self.pre_filters:
            st = p.pre_filter(state, pod)
            if st is None:
                continue
            if st.code == SKIP:
                state.skip_filter.add(p.NAME)
            else:
                return [], Status(st.code, st.reasons, st.plugin or p.NAME)
        return [p for p in self.filters if p.NAME not in state.skip_filter], None

    def run_pre_scores(self, state: CycleState, pod: PodInfo,
                       nodes: list[NodeInfo]) -> list[tuple[Any, int]]:
        """Run PreScore; answer the (plugin, weight) pairs that score this pod."""
        for p in self.pre_scores:
            st = p.pre_score(state, pod, nodes)
            if st is not None and st.code == SKIP:
                state.skip_score.add(p.NAME)
        return [(p, w) for p, w in self.scorers if p.NAME not in state.skip_score]

    def score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> list[int]:
        """Weighted total per node (same order as `nodes`)."""
        totals = [0] * len(nodes)
        for plugin, weight in self.run_pre_scores(state, pod, nodes):
            fn = plugin.score
            scores = [fn(state, pod, ni) for ni in nodes]
            normalize = getattr(plugin, "normalize_score", None)
            if normalize is not None:
                normalize(state, pod, scores)
            if weight == 1:
                totals = [t + s for t, s in zip(totals, scores)]
            else:
                totals = [t + s * weight for t, s in zip(totals, scores)]
        return totals


def fit_error_message(num_all_nodes: int, statuses: Iterable[Status],
                      pre_filter_msg: str = "", post_filter_msg: str = "") -> str:
    """Kubernetes' FitError.Error(): `0/N nodes are available: <count> <reason>, ....`

    The histogram entries are "<count> <reason>" sorted as strings, as kube-scheduler does.
    """
    msg = f"0/{num_all_nodes} nodes are available:"
    if pre_filter_msg:
        msg += f" {pre_filter_msg}."
    else:
        counts: Counter[str] = Counter()
        for st in statuses:
            for reason in st.reasons:
                counts[reason] += 1
        entries = sorted(f"{n} {reason}" for reason, n in counts.items())
        if entries:
            msg += f" {', '.join(entries)}."
    if post_filter_msg:
        msg += f" {post_filter_msg}"
    return msg


NO_NODES_AVAILABLE = "no nodes available to schedule pods"
