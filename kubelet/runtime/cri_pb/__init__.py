"""Generated CRI stubs, built on first import from ``kubelet/runtime/proto/api.proto``.

Owns one thing: making ``api_pb2`` and ``api_pb2_grpc`` importable from a fresh clone.
The generated files are never committed. On import we (re)generate them when they are
missing or older than the .proto, with grpcio-tools' in-process protoc, into a private
temporary directory that is then renamed file by file into place (``os.replace`` is
atomic), so concurrent first imports in several processes never see half a file.
When the package directory is not writable (a read-only install) the stubs go to a
per-user cache directory instead. Only ``kubelet/runtime/cri.py`` should import this.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

_HERE = Path(__file__).resolve().parent
PROTO = _HERE.parent / "proto" / "api.proto"
# The descriptor is registered under this name in protobuf's default pool; a full path
# keeps it from clashing with any other library's "api.proto".
_PROTO_NAME = "kubelet/runtime/proto/api.proto"
_OUTPUTS = ("api_pb2.py", "api_pb2_grpc.py")


def _out_dir() -> Path:
    if os.access(_HERE, os.W_OK):
        return _HERE
    digest = hashlib.sha256(PROTO.read_bytes()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "pykube" / "cri_pb" / digest


def _fresh(out: Path) -> bool:
    proto_mtime = PROTO.stat().st_mtime
    for name in _OUTPUTS:
        try:
            if (out / name).stat().st_mtime < proto_mtime:
                return False
        except FileNotFoundError:
            return False
    return True


def generate(out: Path) -> None:
    """Compile the .proto into ``out`` (temp dir, then atomic renames)."""
    import grpc_tools
    from grpc_tools import protoc  # imported lazily: only needed when regenerating

    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".gen-", dir=out) as tmp:
        stage = Path(tmp) / "src"
        (stage / Path(_PROTO_NAME).parent).mkdir(parents=True)
        shutil.copyfile(PROTO, stage / _PROTO_NAME)
        well_known = Path(grpc_tools.__file__).parent / "_proto"
        code = protoc.main(
            [
                "grpc_tools.protoc",
                f"-I{stage}",
                f"-I{well_known}",
                f"--python_out={tmp}",
                f"--grpc_python_out={tmp}",
                _PROTO_NAME,
            ]
        )
        if code != 0:
            raise RuntimeError(f"protoc failed ({code}) compiling {PROTO}")
        gen = Path(tmp) / Path(_PROTO_NAME).parent
        # protoc names modules after the .proto's path; point them at this package.
        _rewrite(gen / "api_pb2.py", "'kubelet.runtime.proto.api_pb2'", "__name__")
        _rewrite(
            gen / "api_pb2_grpc.py",
            "from kubelet.runtime.proto import api_pb2 as",
            "from . import api_pb2 as",
        )
        for name in _OUTPUTS:  # api_pb2 first: the grpc module imports it
            os.replace(gen / name, out / name)


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    if old not in text:
        raise RuntimeError(f"unexpected protoc output in {path.name}: no {old!r}")
    path.write_text(text.replace(old, new))


def _load(out: Path, name: str) -> ModuleType:
    full = f"{__name__}.{name}"
    if out == _HERE:
        return importlib.import_module(full)
    spec = importlib.util.spec_from_file_location(full, out / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    spec.loader.exec_module(module)
    return module


_out = _out_dir()
if not _fresh(_out):
    generate(_out)
api_pb2 = _load(_out, "api_pb2")
api_pb2_grpc = _load(_out, "api_pb2_grpc")

__all__ = ["PROTO", "api_pb2", "api_pb2_grpc", "generate"]
