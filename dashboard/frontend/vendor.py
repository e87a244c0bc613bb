"""Vendor the dashboard's npm packages into the Python package (run at build time).

Owns the one step from `package-lock.json` to `dashboard/static/vendor/`: `npm ci` installs
exactly the locked versions into `dashboard/frontend/node_modules` (not committed), then the
files named in `FILES` are copied into `dashboard/static/vendor/` and recorded in
`dashboard/static/vendor/VENDOR.json` (package, version, the lockfile's integrity, the
file's sha256). The vendored files are committed, so installing pykube needs neither Node
nor a network; `tests/unit/dashboard/test_dashboard_vendor.py` checks they still match the lockfile.

    python dashboard/frontend/vendor.py          # or: make dashboard-assets
"""
from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE.parent / "static" / "vendor"

#: package -> (file inside the package, name under static/vendor)
FILES: dict[str, tuple[str, str]] = {
    "cytoscape": ("dist/cytoscape.esm.min.mjs", "cytoscape.esm.min.mjs"),
}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def locked(lock: dict, package: str) -> dict:
    """The lockfile's entry of a top-level package."""
    return lock["packages"][f"node_modules/{package}"]


def main() -> int:
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    lock = json.loads((HERE / "package-lock.json").read_text())
    VENDOR.mkdir(parents=True, exist_ok=True)
    manifest: dict[str, dict[str, str]] = {}
    for package, (src, dest) in FILES.items():
        shutil.copyfile(HERE / "node_modules" / package / src, VENDOR / dest)
        entry = locked(lock, package)
        manifest[dest] = {"package": package, "version": entry["version"],
                          "integrity": entry["integrity"], "source": src,
                          "sha256": sha256(VENDOR / dest)}
    (VENDOR / "VENDOR.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    print(f"vendored {', '.join(manifest)} into {VENDOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
