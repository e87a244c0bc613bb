"""The `pykubectl` entry point: find the command, parse its flags, run it once, exit.

Owns the command table (each command's module is imported only when that command runs,
so `pykubectl version --client` or `completion` never load the HTTP stack), dispatch of
two-word commands (`rollout status`, `config view`, `create namespace`), the one
`asyncio.run` per invocation, and the mapping of failures to kubectl's one-line errors
and exit codes (0 success, 1 any failure; `exec` passes the remote command's code on).
An unexpected exception is one `error:` line too, unless `PYKUBECTL_DEBUG` is set.
"""
from __future__ import annotations

import asyncio
import importlib
import os
import sys
from typing import IO, Any

from kubectl.cli import Parser, add_global_flags, normalize, split_command
from kubectl.errors import CmdError, Silent, format_error, is_bug

# command word -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "create": ("cmd_create", "Create a resource from a file or from stdin"),
    "get": ("cmd_get", "Display one or many resources"),
    "edit": ("cmd_edit", "Edit a resource on the server"),
    "delete": ("cmd_delete", "Delete resources by file names, stdin, resources and names, or by resources and label selector"),
    "rollout": ("cmd_rollout", "Manage the rollout of a resource"),
    "scale": ("cmd_scale", "Set a new size for a deployment, replica set, or replication controller"),
    "autoscale": ("cmd_autoscale", "Auto-scale a deployment, replica set, stateful set, or replication controller"),
    "cluster-info": ("cmd_info", "Display cluster information"),
    "describe": ("cmd_describe", "Show details of a specific resource or group of resources"),
    "logs": ("cmd_logs", "Print the logs for a container in a pod"),
    "exec": ("cmd_exec", "Execute a command in a container"),
    "attach": ("cmd_attach", "Attach to a running container"),
    "run": ("cmd_run", "Run a particular image on the cluster"),
    "cp": ("cmd_cp", "Copy files and directories to and from containers"),
    "port-forward": ("cmd_portforward", "Forward one or more local ports to a pod"),
    "proxy": ("cmd_proxy", "Run a proxy to the Kubernetes API server"),
    "debug": ("cmd_debug", "Create debugging sessions for troubleshooting workloads and nodes"),
    "apply": ("cmd_apply", "Apply a configuration to a resource by file name or stdin"),
    "label": ("cmd_label", "Update the labels on a resource"),
    "annotate": ("cmd_label", "Update the annotations on a resource"),
    "completion": ("completion", "Output shell completion code for the specified shell (bash or zsh)"),
    "api-resources": ("cmd_info", "Print the supported API resources on the server"),
    "config": ("cmd_config", "Modify kubeconfig files"),
    "version": ("cmd_info", "Print the client and server version information"),
    "wait": ("cmd_wait", "Wait for a specific condition on one or many resources"),
    "explain": ("cmd_explain", "Get documentation for a resource"),
    "cordon": ("cmd_drain", "Mark node as unschedulable"),
    "uncordon": ("cmd_drain", "Mark node as schedulable"),
    "drain": ("cmd_drain", "Drain node in preparation for maintenance"),
    "auth": ("cmd_auth", "Inspect authorization"),
    "certificate": ("cmd_auth", "Modify certificate resources"),
    "top": ("cmd_top", "Display resource (CPU/memory) usage"),
}
ALIASES = {"create ns": "create namespace", "create deploy": "create deployment",
           "create cm": "create configmap", "create cj": "create cronjob",
           "top nodes": "top node", "top no": "top node", "top pods": "top pod", "top po": "top pod"}


def usage() -> str:
    width = max(len(c) for c in COMMANDS) + 2
    lines = ["pykubectl controls the pykube cluster manager (a kubectl clone).", "",
             "Commands:"]
    lines += [f"  {name.ljust(width)}{text}" for name, text in COMMANDS.items()]
    lines += ["", "Usage:", "  pykubectl [flags] [options]", "",
              "Use \"pykubectl <command> --help\" for more information about a given command."]
    return "\n".join(lines) + "\n"


def resolve_command(words: list[str]) -> tuple[str, Any, int]:
    """(full command name, the module, how many words it used)."""
    if not words:
        raise CmdError("no command given", "See 'pykubectl -h' for help and examples")
    first = words[0]
    if first not in COMMANDS:
        raise CmdError(f'unknown command "{first}" for "pykubectl"',
                       "Run 'pykubectl --help' for usage.")
    module = importlib.import_module(f"kubectl.{COMMANDS[first][0]}")
    table: dict[str, Any] = module.COMMANDS
    if len(words) > 2 and f"{first} {words[1]} {words[2]}" in table:   # create secret docker-registry
        return f"{first} {words[1]} {words[2]}", module, 3
    if len(words) > 1:
        two = ALIASES.get(f"{first} {words[1]}", f"{first} {words[1]}")
        if two in table:
            return two, module, 2
    if first in table:
        return first, module, 1
    if len(words) > 1:
        raise CmdError(f'unknown command "{words[1]}"',
                       f"See 'pykubectl {first} -h' for help and examples")
    raise GroupHelp(first, group_usage(first, module))


class GroupHelp(Exception):
    """A command group named without a subcommand: print its help, exit 1 (as kubectl)."""

    def __init__(self, group: str, text: str) -> None:
        super().__init__(group)
        self.text = text


def group_usage(group: str, module: Any) -> str:
    lines = [f"{COMMANDS[group][1]}.", "", "Available Commands:"]
    for key, (configure, _) in module.COMMANDS.items():
        if key.startswith(group + " "):
            doc = (configure.__doc__ or "").strip().rstrip(".")
            lines.append(f"  {key.split(' ', 1)[1]:<16}  {doc}")
    lines += ["", f"Usage:\n  pykubectl {group} SUBCOMMAND [options]", ""]
    return "\n".join(lines) + "\n"


def build_parser(name: str, module: Any) -> Parser:
    configure, _ = module.COMMANDS[name]
    p = Parser(prog=f"pykubectl {name}", command=name,
               description=(configure.__doc__ or "").strip() or None)
    configure(p)
    add_global_flags(p)
    return p


async def _run(name: str, module: Any, args: Any, stdin: IO[str], stdout: IO[str],
               stderr: IO[str]) -> int:
    from kubectl.context import Context
    ctx = Context(args, stdin, stdout, stderr)
    _, runner = module.COMMANDS[name]
    try:
        from kubectl.discovery import prepare
        await prepare(ctx, args)
        code = await runner(ctx, args)
    except Silent:
        code = 1
    except CmdError:
        raise
    except Exception as e:  # every failure becomes kubectl's one line
        if is_bug(e):
            raise
        ctx.error(e)
        code = 1
    finally:
        await ctx.close()
    return 1 if ctx.failed and not code else (code or 0)


def run(argv: list[str], stdin: IO[str] | None = None, stdout: IO[str] | None = None,
        stderr: IO[str] | None = None) -> int:
    """Run one command line; returns the exit code. Streams default to sys's."""
    stdin = stdin if stdin is not None else sys.stdin
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    try:
        if argv and argv[0] == "__complete":
            from kubectl.completion import complete_main
            return complete_main(argv[1:], stdout, stderr)
        if not argv or argv[0] in ("-h", "--help", "help"):
            stdout.write(usage())
            return 0
        words, rest = split_command(argv)
        name, module, used = resolve_command(words)
        parser = build_parser(name, module)
        parser.stdout = stdout
        flags, passthrough = normalize(words[used:] + rest, parser.bool_flags)
        try:
            args = parser.parse_intermixed_args(flags)
        except SystemExit as e:  # --help
            return int(e.code or 0)
        args.passthrough = passthrough
        return asyncio.run(_run(name, module, args, stdin, stdout, stderr))
    except GroupHelp as e:
        stdout.write(e.text)
        return 0 if ("-h" in argv or "--help" in argv) else 1
    except CmdError as e:
        stderr.write(format_error(e) + "\n")
        if e.usage_hint:
            stderr.write(e.usage_hint + "\n")
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as e:  # the last resort: one line, exit 1
        from client.errors import ClientError
        if not isinstance(e, ClientError) and os.environ.get("PYKUBECTL_DEBUG"):
            raise
        stderr.write(format_error(e) + "\n")
        return 1


def main(argv: list[str] | None = None) -> int:
    return run(list(sys.argv[1:] if argv is None else argv))


if __name__ == "__main__":
    sys.exit(main())
