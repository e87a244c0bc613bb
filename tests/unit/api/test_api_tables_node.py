"""The STATUS column of `get nodes`, as kubectl's printNode writes it: a node whose Ready
condition is Unknown (no heartbeat) reads NotReady, as one that reports False does."""
from __future__ import annotations

import pytest

from api.tables import node_status_text


@pytest.mark.parametrize("ready,text", [("True", "Ready"), ("False", "NotReady"), ("Unknown", "NotReady"),
                                        (None, "Unknown")])
def test_node_status_text(ready: str | None, text: str) -> None:
    conds = [{"type": "Ready", "status": ready}] if ready else []
    assert node_status_text({"status": {"conditions": conds}}) == text
    assert node_status_text({"spec": {"unschedulable": True}, "status": {"conditions": conds}}) == \
        f"{text},SchedulingDisabled"
