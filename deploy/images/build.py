#!/usr/bin/env python3
"""`make up`'s offline image step: builds pause, busybox and nginx ahead of time.

A shim over kubelet/images/builder.py (the kubelet builds the same images on demand
when they are missing); usage: ``build.py [--out DIR] [--force] [pause busybox nginx]``.
"""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from kubelet.images.builder import main

if __name__ == "__main__":
    sys.exit(main())
