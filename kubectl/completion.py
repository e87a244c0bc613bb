"""Shell completion: `pykubectl completion bash|zsh` prints a small script, and the hidden
`pykubectl __complete WORD...` prints the candidates for the last word, one per line.

The scripts only pass the command line to `__complete`, so all the knowledge lives here
(as cobra does for kubectl): command and subcommand names, flags of the command at hand,
resource types, `-o` formats, kubeconfig contexts, and object / namespace names fetched
from the server (quietly skipped when the server cannot be reached).
"""
from __future__ import annotations

import argparse
from typing import Any

from kubectl.cli import Parser
from kubectl.context import Context
from kubectl.errors import CmdError

BASH = r"""# bash completion for pykubectl                           -*- shell-script -*-
# Load it with:  source <(pykubectl completion bash)
_pykubectl() {
    local IFS=$'\n'
    local cur="${COMP_WORDS[COMP_CWORD]}"
    COMPREPLY=( $(compgen -W "$(pykubectl __complete "${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)" -- "$cur") )
}
complete -o default -F _pykubectl pykubectl
"""

ZSH = r"""#compdef pykubectl
# zsh completion for pykubectl
# Load it with:  source <(pykubectl completion zsh)
_pykubectl() {
    local -a candidates
    candidates=("${(@f)$(pykubectl __complete "${(@)words[2,CURRENT]}" 2>/dev/null)}")
    compadd -- "${candidates[@]}"
}
if [ "$funcstack[1]" = "_pykubectl" ]; then
    _pykubectl "$@"
else
    compdef _pykubectl pykubectl
fi
"""

OUTPUTS = ("json", "yaml", "wide", "name", "jsonpath=", "custom-columns=")
TYPED = {"get", "describe", "delete", "edit", "label", "annotate", "scale", "wait",
         "rollout status", "rollout history", "rollout undo", "rollout restart",
         "rollout pause", "rollout resume"}
POD_COMMANDS = {"logs", "exec"}


def configure_completion(p: Parser) -> None:
    """Output shell completion code for the specified shell (bash or zsh)."""
    p.add_argument("shell", nargs="*")


async def run_completion(ctx: Context, args: argparse.Namespace) -> int:
    if len(args.shell) != 1:
        raise CmdError("Shell not specified." if not args.shell else "Too many arguments. Expected only the shell type.",
                       "See 'pykubectl completion -h' for help and examples")
    shell = args.shell[0]
    if shell not in ("bash", "zsh"):
        raise CmdError(f'Unsupported shell type "{shell}".')
    ctx.out(BASH if shell == "bash" else ZSH)
    return 0


def _commands() -> list[str]:
    from kubectl.main import COMMANDS
    return [c for c in COMMANDS if not c.startswith("_")]


def _subcommands(word: str) -> list[str]:
    import importlib

    from kubectl.main import COMMANDS
    module = importlib.import_module(f"kubectl.{COMMANDS[word][0]}")
    return [k.split(" ", 1)[1] for k in module.COMMANDS if k.startswith(word + " ")]


def _flags(command: str) -> list[str]:
    import importlib

    from kubectl.main import COMMANDS, build_parser
    module = importlib.import_module(f"kubectl.{COMMANDS[command.split(' ')[0]][0]}")
    parser = build_parser(command, module)
    out: list[str] = []
    for action in parser._actions:  # argparse keeps its options here
        out.extend(s for s in action.option_strings if s.startswith("--") and not s.startswith("--no-"))
    return sorted(set(out))


def _resource_words() -> list[str]:
    from api.resources import RESOURCES
    out = ["all"]
    for r in RESOURCES:
        out.append(r.plural)
        out.extend(r.short_names)
    return out


async def _names(ctx: Context, plural: str, namespace: str | None) -> list[str]:
    from api.resources import resolve
    try:
        info = resolve(plural)
        client = await ctx.client()
        lst = await asyncio_wait(client.list(info, namespace if info.namespaced else None), 3)
        return [(o.get("metadata") or {}).get("name", "") for o in lst.items]
    except Exception:  # noqa: BLE001 - completion never fails loudly
        return []


async def asyncio_wait(coro: Any, timeout: float) -> Any:
    import asyncio
    return await asyncio.wait_for(coro, timeout)


def _contexts(ctx: Context) -> list[str]:
    try:
        from client import kubeconfig
        doc = kubeconfig.read(kubeconfig.find(ctx.kubeconfig_path))
        return [c.get("name", "") for c in doc.get("contexts") or []]
    except Exception:  # noqa: BLE001 - completion never fails loudly
        return []


async def candidates(ctx: Context, words: list[str]) -> list[str]:
    """What may come next, given every word so far (the last one being completed)."""
    if not words:
        words = [""]
    cur, before = words[-1], words[:-1]
    positional: list[str] = []
    namespace: str | None = None
    prev = ""
    for w in before:
        if prev in ("-n", "--namespace"):
            namespace = w
        elif not w.startswith("-") and prev not in ("-o", "--output", "-l", "--selector", "-c", "--container", "--context", "--kubeconfig"):
            positional.append(w)
        prev = w
    if prev in ("-n", "--namespace"):
        return await _names(ctx, "namespaces", None)
    if prev in ("-o", "--output"):
        return list(OUTPUTS)
    if prev == "--context":
        return _contexts(ctx)
    if not positional:
        return _commands() if not cur.startswith("-") else ["--namespace", "--kubeconfig", "--context"]
    from kubectl.main import COMMANDS
    command = positional[0]
    if command not in COMMANDS:
        return []
    subs = _subcommands(command)
    rest = positional[1:]
    if subs and command not in ("create",):
        if not rest:
            return subs
        command, rest = f"{command} {rest[0]}", rest[1:]
    elif command == "create" and not rest and not cur.startswith("-"):
        return subs
    if cur.startswith("-"):
        return _flags(command)
    if command in ("completion",):
        return ["bash", "zsh"]
    if command in ("config use-context", "config delete-context", "config get-contexts"):
        return _contexts(ctx)
    ns = namespace or _safe_namespace(ctx)
    if command in POD_COMMANDS:
        return await _names(ctx, "pods", ns) if not rest else []
    if command in TYPED:
        if not rest:
            if "/" in cur:
                kind = cur.split("/", 1)[0]
                return [f"{kind}/{n}" for n in await _names(ctx, kind, ns)]
            return _resource_words()
        return await _names(ctx, rest[0].split(",")[0], ns)
    return []


def _safe_namespace(ctx: Context) -> str | None:
    try:
        return ctx.namespace
    except Exception:  # noqa: BLE001 - completion never fails loudly
        return None


def complete_main(words: list[str], stdout: Any, stderr: Any) -> int:
    """`pykubectl __complete WORD...`: the words are taken raw (no flag parsing), so a
    half-typed command line never errors; `--kubeconfig`, `--context` and `-n` in it are
    honoured for server lookups."""
    import asyncio
    import sys
    opts = argparse.Namespace(kubeconfig=None, context=None, namespace=None, request_timeout="3s")
    for flag, value in zip(words, words[1:]):
        if flag == "--kubeconfig":
            opts.kubeconfig = value
        elif flag == "--context":
            opts.context = value
        elif flag in ("-n", "--namespace"):
            opts.namespace = value
    ctx = Context(opts, sys.stdin, stdout, stderr)

    async def go() -> list[str]:
        try:
            return await candidates(ctx, words)
        finally:
            await ctx.close()
    cur = words[-1] if words else ""
    try:
        found = asyncio.run(go())
    except Exception:  # noqa: BLE001 - completion never fails loudly
        found = []
    stdout.write("".join(f"{c}\n" for c in found if c.startswith(cur)))
    return 0


COMMANDS = {"completion": (configure_completion, run_completion)}
