"""bench/density.py at a tiny size: it runs its three phases to the end and its `--json`
line carries every figure with a sane value (correctness only: no figure is held to a time)."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
KEYS = {"nodes", "pods", "pod_startup_p50_s", "pod_startup_p99_s", "api_mutating_p99_s", "api_read_p99_s",
        "api_list_p99_s", "scheduler_pods_per_s", "control_plane_rss_mib", "hollow_node_rss_mib", "duration_s"}


def test_density_bench_small_run() -> None:
    out = subprocess.run([sys.executable, "bench/density.py", "--nodes", "5", "--pods", "50",
                          "--nodes-per-process", "3", "--timeout", "300", "--json"],
                         cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:] + out.stdout[-3000:]
    lines = out.stdout.strip().splitlines()
    assert "deletion: 80 pods deleted, 0 left" in out.stdout   # 50 + the 30 of the rolling update
    r = json.loads(lines[-1])
    assert set(r) == KEYS
    assert r["nodes"] == 5 and r["pods"] == 50
    assert 0 < r["pod_startup_p50_s"] <= r["pod_startup_p99_s"]
    for key in ("api_mutating_p99_s", "api_read_p99_s", "api_list_p99_s"):
        assert r[key] > 0, key          # each group was called, so each has a p99
    assert r["scheduler_pods_per_s"] > 0
    assert r["control_plane_rss_mib"] > 100     # three Python processes
    assert 0 < r["hollow_node_rss_mib"] < r["control_plane_rss_mib"]
    assert r["duration_s"] > 0
