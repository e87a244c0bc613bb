"""Argument parsing the way kubectl (pflag) accepts it, on top of argparse.

Owns: the global flags every command takes anywhere on the line (`-n/--namespace`,
`--kubeconfig`, `--context`, `--request-timeout`, `-v`), flags interleaved with positional
arguments, `-o=wide` and `--wait=false` spellings, `--` ending the flags, usage errors as
one `error:` line (exit 1, not argparse's 2), and Go-style durations (`30s`, `1m30s`).
Pure: argv in, an argparse Namespace out.
"""
from __future__ import annotations

import argparse
import re
from typing import Any, NoReturn

from component_base.flags import go_duration
from kubectl.errors import CmdError

GLOBAL_VALUE_FLAGS = ("-n", "--namespace", "--kubeconfig", "--context", "--request-timeout",
                      "-v", "--v", "--cluster", "--user")


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are kubectl's `error: ...` lines."""

    def __init__(self, *a: Any, command: str = "", **kw: Any) -> None:
        kw.setdefault("add_help", True)
        super().__init__(*a, **kw)
        self.command = command
        self.bool_flags: dict[str, bool] = {}   # long name -> has a --no-NAME form
        self.stdout: Any = None                 # where --help goes (default sys.stdout)

    def _print_message(self, message: str, file: Any = None) -> None:
        import sys
        if message:
            target = self.stdout if self.stdout is not None and file in (None, sys.stdout) else file
            (target or sys.stdout).write(message)

    def error(self, message: str) -> NoReturn:
        m = re.match(r"unrecognized arguments: (.+)", message)
        if m:
            extra = m.group(1).split()
            flags = [x for x in extra if x.startswith("-")]
            message = f"unknown flag: {flags[0]}" if flags else f"Unexpected args: [{' '.join(extra)}]"
        m = re.match(r"argument (\S+?)(/\S+)?: expected one argument", message)
        if m:
            message = _needs_argument(m.group(1), m.group(2))
        cmd = f"pykubectl {self.command}" if self.command else "pykubectl"
        if message.startswith(("unknown flag", "flag needs")):
            raise CmdError(message, f"See '{cmd} --help' for usage.")
        raise CmdError(message, f"See '{cmd} -h' for help and examples")

    def add_bool(self, *names: str, default: bool = False, help: str = "") -> None:
        """A pflag-style boolean: `--x`, `--x=true`, `--x=false` (and `--no-x`)."""
        long = [n for n in names if n.startswith("--")]
        negatable = bool(long) and not any(n.startswith("--no-") for n in long)
        self.add_argument(*names, action=argparse.BooleanOptionalAction if negatable else "store_true",
                          default=default, help=help)
        self.bool_flags.update({n: negatable for n in long})


def _needs_argument(first: str, rest: str | None) -> str:
    """pflag's wording: `'o' in -o` for a short flag, `--selector` for a long one."""
    names = [first] + (rest or "").split("/")[1:]
    long = next((n for n in names if n.startswith("--")), first)
    short = next((n for n in names if not n.startswith("--")), None)
    used = _LAST_FLAG[0] if _LAST_FLAG and _LAST_FLAG[0] in names else long
    if used == short and short:
        return f"flag needs an argument: '{short[1:]}' in {short}"
    return f"flag needs an argument: {used}"


_LAST_FLAG: list[str] = []


def add_global_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("global flags")
    g.add_argument("-n", "--namespace", default=None, help="the namespace scope for this request")
    g.add_argument("--kubeconfig", default=None, help="path to the kubeconfig file")
    g.add_argument("--context", default=None, help="the kubeconfig context to use")
    g.add_argument("--as", dest="as_user", default=None, help="username to impersonate for the operation")
    g.add_argument("--as-group", dest="as_group", action="append", default=[],
                   help="group to impersonate for the operation (repeatable)")
    g.add_argument("--request-timeout", default="0",
                   help="how long to wait for a single request (0: no timeout)")
    g.add_argument("-v", "--v", dest="verbosity", default="0", help="log level (accepted, unused)")


def normalize(argv: list[str], bool_flags: dict[str, bool]) -> tuple[list[str], list[str]]:
    """Split at `--` and rewrite pflag spellings argparse does not know.
    Returns (flags and arguments, everything after `--`)."""
    rest: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, rest = argv[:i], argv[i + 1:]
    out: list[str] = []
    flags = [t for t in argv if t.startswith("-")]
    _LAST_FLAG[:] = flags[-1:]
    for tok in argv:
        if re.match(r"^-[A-Za-z]=", tok):
            out.extend([tok[:2], tok[3:]])
            continue
        if tok.startswith("--") and "=" in tok:
            name, value = tok.split("=", 1)
            if name in bool_flags:
                v = value.lower()
                if v in ("true", "t", "1"):
                    out.append(name)
                elif v in ("false", "f", "0"):
                    if bool_flags[name]:
                        out.append("--no-" + name[2:])
                else:
                    raise CmdError(f'invalid argument "{value}" for "{name}" flag: '
                                   f'strconv.ParseBool: parsing "{value}": invalid syntax')
                continue
        out.append(tok)
    return out, rest


def split_command(argv: list[str]) -> tuple[list[str], list[str]]:
    """(positional words before the first other flag..., the remaining argv with those
    words removed). Global flags with values may come before the command."""
    words: list[str] = []
    remaining: list[str] = []
    i = 0
    while i < len(argv):
        tok = argv[i]
        if tok in GLOBAL_VALUE_FLAGS and i + 1 < len(argv):
            remaining.extend([tok, argv[i + 1]])
            i += 2
            continue
        if tok.startswith("-"):
            remaining.extend(argv[i:])
            break
        words.append(tok)
        i += 1
    return words, remaining


def parse_duration(text: str, flag: str = "--timeout") -> float:
    """Go durations (`1m30s`, `500ms`); a bare number is seconds (kubectl allows it for
    some flags). Negative values are returned as-is (`-1s`: wait a week)."""
    try:
        return go_duration(text)
    except ValueError:
        raise CmdError(f'invalid argument "{text}" for "{flag}" flag: time: invalid duration "{text}"') from None


def split_csv(values: list[str] | None) -> list[str]:
    out: list[str] = []
    for v in values or []:
        out.extend(x for x in v.split(",") if x)
    return out
