"""Which apiservers the `kubernetes` endpoints list: those whose Lease was renewed within its
duration; other Leases (leader election's) are not apiservers."""
from __future__ import annotations

import datetime as dt
from typing import Any

from apiserver.endpoint_reconciler import LABEL, lease_name, live_addresses

NOW = dt.datetime(2026, 12, 4, 12, 0, 0, tzinfo=dt.timezone.utc)


def lease(addr: str, seconds_ago: float, label: str = "kube-apiserver", duration: int = 15) -> dict[str, Any]:
    t = (NOW - dt.timedelta(seconds=seconds_ago)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return {"metadata": {"name": lease_name(addr), "labels": {LABEL: label}},
            "spec": {"holderIdentity": addr, "renewTime": t, "leaseDurationSeconds": duration}}


def test_only_fresh_apiserver_leases_count() -> None:
    leases = [lease("10.0.0.12", 3), lease("10.0.0.11", 14), lease("10.0.0.13", 16),
              lease("10.0.0.14", 1, label="other"), {"metadata": {"name": "kube-scheduler"},
                                                     "spec": {"holderIdentity": "x", "renewTime": None}}]
    assert live_addresses(leases, NOW) == ["10.0.0.11", "10.0.0.12"]
    assert lease_name("10.0.0.11") == "apiserver-10-0-0-11"
