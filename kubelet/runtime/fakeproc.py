"""What a hollow (fake) container "does": pure functions of its command line.

Owns the tiny, documented subset of shell that lets FakeRuntime honour the same
contract as a real runtime without running anything:

- ``true`` / ``false`` / ``exit N`` end the process with 0 / 1 / N;
- ``sleep N`` ends it N seconds later with 0 (``sleep`` with an unknown argument, or any
  other command, runs until stopped);
- ``echo WORDS`` writes a line to stdout (``>&2`` sends it to stderr);
- ``sh -c SCRIPT`` runs statements separated by ``;`` or ``&&`` in order.

Anything else (``nginx``, ``httpd -f``, an image's default command) runs until stopped.
Exec commands get answers for ``cat /etc/hostname``, ``hostname``, ``true``, ``false``,
``echo`` and ``sh -c "exit N"``; every other command gets the runtime's canned result.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from kubelet.runtime.interface import ExecResult

_SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash"}


@dataclass(frozen=True)
class FakeProcess:
    """A container's planned life: output at start, then exit after ``runs_for`` seconds
    with ``exit_code``, or run until stopped when ``exit_code`` is None."""

    exit_code: int | None = None
    runs_for: float = 0.0
    output: list[tuple[str, str]] = field(default_factory=list)  # (stream, line)


def _statements(script: str) -> list[list[str]]:
    lex = shlex.shlex(script, posix=True, punctuation_chars=";&|>")
    lex.whitespace_split = True
    out: list[list[str]] = [[]]
    for tok in lex:
        if tok in (";", "&&"):
            out.append([])
        else:
            out[-1].append(tok)
    return [s for s in out if s]


def _program(argv: list[str]) -> list[list[str]]:
    if len(argv) >= 3 and argv[0] in _SHELLS and argv[1] == "-c":
        try:
            return _statements(argv[2])
        except ValueError:  # unbalanced quotes: treat as an unknown long-running program
            return [["?"]]
    return [argv] if argv else [["?"]]


def plan(argv: list[str]) -> FakeProcess:
    """The FakeProcess for a container whose command line (command + args) is ``argv``."""
    output: list[tuple[str, str]] = []
    elapsed = 0.0
    for stmt in _program(argv):
        name, args = stmt[0].rsplit("/", 1)[-1], stmt[1:]
        if name == "echo":
            stream = "stdout"
            if args[-2:] == [">&", "2"]:
                stream, args = "stderr", args[:-2]
            output.append((stream, " ".join(args)))
        elif name == "true":
            continue
        elif name == "false":
            return FakeProcess(1, elapsed, output)
        elif name == "exit":
            code = int(args[0]) if args and args[0].lstrip("-").isdigit() else 0
            return FakeProcess(code & 0xFF, elapsed, output)
        elif name == "sleep" and len(args) == 1 and _is_number(args[0]):
            elapsed += float(args[0])
        else:
            return FakeProcess(None, 0.0, output)
    return FakeProcess(0, elapsed, output)


def _is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def answer_exec(cmd: list[str], hostname: str, canned: ExecResult) -> ExecResult:
    """The result of ``exec_sync(cmd)`` in a running hollow container."""
    if cmd in (["cat", "/etc/hostname"], ["hostname"]):
        return ExecResult(0, f"{hostname}\n".encode())
    p = plan(cmd)
    if p.exit_code is None:
        return canned
    out = b"".join(f"{line}\n".encode() for stream, line in p.output if stream == "stdout")
    err = b"".join(f"{line}\n".encode() for stream, line in p.output if stream == "stderr")
    return ExecResult(p.exit_code, out, err)
