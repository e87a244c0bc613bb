"""Logging for every pykube process: one line per event, prefixed with its component.

Owns the format `2026-01-02 03:04:05.678 INFO  scheduler: message` (with `-v`, the
logger name too: `scheduler[scheduler.queue]`), the component prefix (the supervised
component the line was logged from, `COMPONENT`, a contextvar the launcher's supervisor sets
for each component it runs in-process, so shared code such
as `client.*` is attributed right; outside one, the logger's package: apiserver,
controller-manager, scheduler, kubelet, kube-proxy, dns), and exceptions folded into the
same line unless `-vv`.
"""
from __future__ import annotations

import contextvars
import logging
import sys

# the in-process component a line is logged from (set by pykube's supervisor per component)
COMPONENT: contextvars.ContextVar[str] = contextvars.ContextVar("pykube_component", default="")

_PREFIXES = (  # logger name prefix -> component, most specific first
    ("controllers.servicelb", "servicelb"), ("kubelet.proxy", "kube-proxy"), ("kube-proxy", "kube-proxy"), ("kubelet.dns", "dns"), ("kubelet", "kubelet"),
    ("apiserver", "apiserver"), ("uvicorn", "apiserver"), ("controllers", "controller-manager"),
    ("scheduler", "scheduler"), ("supervisor", "supervisor"), ("pykube.server", "server"),
    ("pykube.agent", "agent"), ("pykube.join", "agent"), ("pykube.node", "agent"), ("pykube.killall", "killall"),
    ("pykube", "pykube"),
)


def component_of(logger_name: str, context_component: str = "") -> str:
    """The supervised component the line was logged from, else the logger's package."""
    if context_component and logger_name != "supervisor":
        return context_component
    for prefix, comp in _PREFIXES:
        if logger_name == prefix or logger_name.startswith(prefix + "."):
            return comp
    return context_component or logger_name.split(".", 1)[0] or "pykube"


class ComponentFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.component = component_of(record.name, COMPONENT.get())
        return True


class OneLineFormatter(logging.Formatter):
    """Each record on one line; a traceback only when `tracebacks` is set."""

    def __init__(self, verbose: bool, tracebacks: bool) -> None:
        who = "%(component)s[%(name)s]" if verbose else "%(component)s"
        super().__init__(f"%(asctime)s.%(msecs)03d %(levelname)-5s {who}: %(message)s",
                         datefmt="%Y-%m-%d %H:%M:%S")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "component"):
            record.component = component_of(record.name, COMPONENT.get())
        if record.exc_info and not self.tracebacks:
            exc = record.exc_info[1]
            saved = record.exc_info, record.exc_text
            record.exc_info, record.exc_text = None, None
            try:
                line = super().format(record)
            finally:
                record.exc_info, record.exc_text = saved
            detail = str(exc).strip().splitlines()
            return f"{line} ({type(exc).__name__}{': ' + detail[0] if detail else ''})"
        text = super().format(record)
        return text if self.tracebacks else text.replace("\n", " | ")


def setup_logging(verbosity: int, stream: object = None) -> None:
    """-v: INFO with logger names; -vv: DEBUG and tracebacks; -vvv: library debug too."""
    level = logging.DEBUG if verbosity >= 2 else logging.INFO if verbosity >= 0 else logging.WARNING
    handler = logging.StreamHandler(stream or sys.stderr)  # type: ignore[arg-type]
    handler.addFilter(ComponentFilter())
    handler.setFormatter(OneLineFormatter(verbose=verbosity >= 1, tracebacks=verbosity >= 2))
    root = logging.getLogger()
    for h in list(root.handlers):
        root.removeHandler(h)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "uvicorn.error", "uvicorn.access", "grpc", "aetcd", "asyncio"):
        logging.getLogger(noisy).setLevel(logging.WARNING if verbosity < 3 else logging.DEBUG)
