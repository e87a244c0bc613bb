"""Command-line value types shared by every component's flags, in Kubernetes' formats.

Owns `go_duration` (Go's time.ParseDuration, plus plain seconds), and the argparse `type=`s
`parse_bool` (`true|false`, as Go's flag package reads them) and `parse_duration`.
"""
from __future__ import annotations

import argparse
import re

_DURATION = re.compile(r"(\d+(?:\.\d+)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def go_duration(text: str) -> float:
    """Seconds from a Go duration (`1m30s`, `500ms`, `-1s`, `2h`) or a plain number of
    seconds; ValueError for anything else. The one parser behind every component's
    duration flags and pykubectl's (`--timeout`, `--since`, `--request-timeout`)."""
    t = text.strip()
    try:
        return float(t)
    except ValueError:
        pass
    sign = -1.0 if t.startswith("-") else 1.0
    body = t[1:] if t[:1] in "+-" else t
    pos, total = 0, 0.0
    for m in _DURATION.finditer(body):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNITS[m.group(2)]
        pos = m.end()
    if not body or pos != len(body):
        raise ValueError(f"time: invalid duration {text!r}")
    return sign * total


def parse_bool(text: str) -> bool:
    v = text.strip().lower()
    if v in ("true", "t", "1", "yes", "y", "on"):
        return True
    if v in ("false", "f", "0", "no", "n", "off"):
        return False
    raise argparse.ArgumentTypeError(f"not a boolean: {text!r} (true|false)")


def parse_duration(text: str) -> float:
    """argparse `type=` for a duration flag: seconds from `40`, `40s`, `1m30s`, `500ms`."""
    try:
        return go_duration(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a duration: {text!r} (e.g. 40s, 5m, 1m30s)") from None
