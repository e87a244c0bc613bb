"""Command-line value types shared by every component's flags, in Kubernetes' formats.

Owns `parse_bool` (`true|false`, as Go's flag package reads them) and `parse_duration`
(Go durations such as `40s`, `1m30s`, `500ms`, or plain seconds), both argparse `type=`s.
"""
from __future__ import annotations

import argparse
import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_bool(text: str) -> bool:
    v = text.strip().lower()
    if v in ("true", "t", "1", "yes", "y", "on"):
        return True
    if v in ("false", "f", "0", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r} (true|false)")


def parse_duration(text: str) -> float:
    """Seconds from `40`, `40s`, `1m30s`, `500ms`, `1h`."""
    v = text.strip()
    try:
        return float(v)
    except ValueError:
        pass
    pos, total = 0, 0.0
    for m in _DURATION.finditer(v):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if pos != len(v) or not v:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 40s, 5m, 1m30s)")
    return total
