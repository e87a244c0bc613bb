"""`pykubectl create poddisruptionbudget|pdb NAME --selector=SELECTOR --min-available=N`
(or `--max-unavailable=N`): the generator of kubectl's create_pdb.go, with its flag checks
and wording. Registered into cmd_create.
"""
from __future__ import annotations

import argparse
import re
from typing import Any

from kubectl.cli import Parser
from kubectl.cmd_create import _check_output, _common, _send
from kubectl.context import Context
from kubectl.errors import CmdError

Obj = dict[str, Any]
_AMOUNT = re.compile(r"^[0-9]+%?$")


def configure_pdb(p: Parser) -> None:
    """Create a pod disruption budget with the specified name."""
    p.add_argument("name", nargs="*")
    p.add_argument("--min-available", default="", help="the minimum number or percentage of available pods")
    p.add_argument("--max-unavailable", default="", help="the maximum number or percentage of unavailable pods")
    p.add_argument("--selector", default="", help="a label selector to use for this budget")
    _common(p)


def selector_object(text: str) -> Obj:
    """metav1.ParseToLabelSelector: equality terms as matchLabels, the rest as expressions."""
    from api.selectors import parse_label_selector
    parse_label_selector(text)     # raises on a malformed selector
    labels: dict[str, str] = {}
    exprs: list[Obj] = []
    for term in re.split(r",(?![^()]*\))", text):
        term = term.strip()
        m = re.fullmatch(r"(!?)([^!=\s]+)\s*(?:(==?|!=)\s*(\S*))?", term)
        sets = re.fullmatch(r"(\S+)\s+(in|notin)\s+\(([^)]*)\)", term)
        if sets:
            exprs.append({"key": sets.group(1), "operator": "In" if sets.group(2) == "in" else "NotIn",
                          "values": [v.strip() for v in sets.group(3).split(",") if v.strip()]})
        elif m and m.group(3) in ("=", "=="):
            labels[m.group(2)] = m.group(4) or ""
        elif m and m.group(3) == "!=":
            exprs.append({"key": m.group(2), "operator": "NotIn", "values": [m.group(4) or ""]})
        elif m and not m.group(3):
            exprs.append({"key": m.group(2), "operator": "DoesNotExist" if m.group(1) else "Exists"})
    out: Obj = {}
    if labels:
        out["matchLabels"] = labels
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _amount(text: str) -> int | str:
    return int(text) if text.isdigit() else text


def pdb_object(name: str, selector: str, min_available: str, max_unavailable: str) -> Obj:
    spec: Obj = {"selector": selector_object(selector)}
    if min_available:
        spec = {"minAvailable": _amount(min_available), **spec}
    elif max_unavailable:
        spec["maxUnavailable"] = _amount(max_unavailable)
    return {"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": name},
            "spec": spec, "status": {"disruptionsAllowed": 0, "currentHealthy": 0, "desiredHealthy": 0,
                                     "expectedPods": 0}}


async def run_pdb(ctx: Context, args: argparse.Namespace) -> int:
    _check_output(args)
    if len(args.name) != 1:
        raise CmdError("exactly one NAME is required, got " + str(len(args.name)),
                       "See 'pykubectl create poddisruptionbudget -h' for help and examples")
    if not args.selector:
        raise CmdError("a selector must be specified")
    if not args.min_available and not args.max_unavailable:
        raise CmdError("one of min-available or max-unavailable must be specified")
    if args.min_available and args.max_unavailable:
        raise CmdError("min-available and max-unavailable cannot be both specified")
    if args.min_available and not _AMOUNT.match(args.min_available):
        raise CmdError("invalid format specified for min-available")
    if args.max_unavailable and not _AMOUNT.match(args.max_unavailable):
        raise CmdError("invalid format specified for max-unavailable")
    obj = pdb_object(args.name[0], args.selector, args.min_available, args.max_unavailable)
    if args.dry_run == "none":
        obj.pop("status")
    await _send(ctx, args, obj)
    return 0


COMMANDS = {"create poddisruptionbudget": (configure_pdb, run_pdb), "create pdb": (configure_pdb, run_pdb)}
