"""The vendored front-end files are exactly the locked npm packages' files."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3] / "dashboard"


def test_vendored_files_match_the_lockfile() -> None:
    lock = json.loads((ROOT / "frontend" / "package-lock.json").read_text())
    wanted = json.loads((ROOT / "frontend" / "package.json").read_text())["dependencies"]
    manifest = json.loads((ROOT / "static" / "vendor" / "VENDOR.json").read_text())
    assert {m["package"] for m in manifest.values()} == set(wanted)
    for name, m in manifest.items():
        entry = lock["packages"][f"node_modules/{m['package']}"]
        assert (m["version"], m["integrity"]) == (entry["version"], entry["integrity"])
        assert wanted[m["package"]] == entry["version"], "package.json pins the exact version"
        data = (ROOT / "static" / "vendor" / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == m["sha256"], f"{name} differs from what vendor.py copied"
