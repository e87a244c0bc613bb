"""What a hollow (fake) container "does": pure functions of its command line.

Owns the tiny, documented subset of shell that lets FakeRuntime honour the same
contract as a real runtime without running anything:

- ``true`` / ``false`` / ``exit N`` end the process with 0 / 1 / N;
- ``sleep N`` ends it N seconds later with 0 (``sleep inf``, ``sleep`` with an unknown
  argument, or any other command, runs until stopped);
- ``echo WORDS`` writes a line to stdout (``>&2`` sends it to stderr, ``> FILE`` nowhere);
- one-shot programs that read or print and end (``date``, ``cat FILE``, ``rev FILE``, ``ls``, ``env``,
  ``printenv``, ``uname``, ``hostname``, ``perl -e``-style one-liners) end at once with 0 and
  print nothing (not in exec, where the runtime's canned answer stands);
- ``sh -c SCRIPT`` runs statements separated by ``;``, ``&&`` or new lines in order;
  variable assignments (``X=1``, ``items=(a b)``) do nothing.

Anything else (``nginx``, ``httpd -f``, an image's default command) runs until stopped.
Exec commands get answers for ``cat /etc/hostname``, ``hostname``, ``true``, ``false``,
``echo`` and ``sh -c "exit N"``; every other command gets the runtime's canned result.
"""

from __future__ import annotations

import math
import re
import shlex
from dataclasses import dataclass, field

from kubelet.runtime.interface import ExecResult

_SHELLS = {"sh", "/bin/sh", "bash", "/bin/bash", "ash", "/bin/ash"}
_ONE_SHOTS = {"date", "ls", "env", "printenv", "uname", "hostname"}
_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


@dataclass(frozen=True)
class FakeProcess:
    """A container's planned life: output at start, then exit after ``runs_for`` seconds
    with ``exit_code``, or run until stopped when ``exit_code`` is None."""

    exit_code: int | None = None
    runs_for: float = 0.0
    output: list[tuple[str, str]] = field(default_factory=list)  # (stream, line)


def _without_assignments(stmt: list[str]) -> list[str]:
    """The command left after leading ``NAME=value`` words (``NAME=(a b c)`` arrays too)."""
    i = 0
    while i < len(stmt) and _ASSIGNMENT.match(stmt[i]):
        if stmt[i].split("=", 1)[1].startswith("(") and not stmt[i].endswith(")"):
            while i + 1 < len(stmt) and not stmt[i].endswith(")"):
                i += 1
        i += 1
    return stmt[i:]


def _one_shot(name: str, args: list[str]) -> bool:
    if name in ("cat", "rev"):
        return bool(args) and "-" not in args     # with no file they read stdin until it closes
    if name in _ONE_SHOTS:
        return True
    return name == "perl" and any(a.startswith("-") and "e" in a.lower() for a in args)


def _statements(script: str) -> list[list[str]]:
    script = script.replace("\\\n", " ").replace("\n", ";")
    lex = shlex.shlex(script, posix=True, punctuation_chars=";&|>")
    lex.whitespace_split = True
    out: list[list[str]] = [[]]
    for tok in lex:
        if tok in (";", "&&"):
            out.append([])
        else:
            out[-1].append(tok)
    return [s for s in (_without_assignments(s) for s in out) if s]


def _program(argv: list[str]) -> list[list[str]]:
    if len(argv) >= 3 and argv[0] in _SHELLS and argv[1] == "-c":
        try:
            return _statements(argv[2])
        except ValueError:  # unbalanced quotes: treat as an unknown long-running program
            return [["?"]]
    return [argv] if argv else [["?"]]


def plan(argv: list[str], one_shots: bool = True) -> FakeProcess:
    """The FakeProcess for a container whose command line (command + args) is ``argv``
    (``one_shots=False``: programs such as ``cat`` are unknown, for exec)."""
    output: list[tuple[str, str]] = []
    elapsed = 0.0
    for stmt in _program(argv):
        name, args = stmt[0].rsplit("/", 1)[-1], stmt[1:]
        if name == "echo":
            stream = "stdout"
            if args[-2:] == [">&", "2"]:
                stream, args = "stderr", args[:-2]
            if ">" in args or ">>" in args:
                continue          # written to a file
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
        elif one_shots and _one_shot(name, args):
            continue
        else:
            return FakeProcess(None, 0.0, output)
    return FakeProcess(0, elapsed, output)


def _is_number(s: str) -> bool:
    """A finite number of seconds (``inf`` and ``infinity`` sleep for ever)."""
    try:
        return math.isfinite(float(s))
    except ValueError:
        return False


def answer_exec(cmd: list[str], hostname: str, canned: ExecResult) -> ExecResult:
    """The result of ``exec_sync(cmd)`` in a running hollow container."""
    if cmd in (["cat", "/etc/hostname"], ["hostname"]):
        return ExecResult(0, f"{hostname}\n".encode())
    p = plan(cmd, one_shots=False)
    if p.exit_code is None:
        return canned
    out = b"".join(f"{line}\n".encode() for stream, line in p.output if stream == "stdout")
    err = b"".join(f"{line}\n".encode() for stream, line in p.output if stream == "stderr")
    return ExecResult(p.exit_code, out, err)
