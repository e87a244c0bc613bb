"""The `nginx.ingress.kubernetes.io/*` annotations this controller understands (pure).

Each is checked the way ingress-nginx parses it; a value that does not parse makes the
whole Ingress a `Problem` (reported in an Event, its routes left out) rather than reach
nginx. Understood: `ssl-redirect` (true|false; default false, as k3s' Traefik: plain HTTP
keeps working when a host also has TLS), `proxy-body-size` (e.g. `8m`, `0` for no limit),
`proxy-connect-timeout`, `proxy-read-timeout`, `proxy-send-timeout` (seconds). Other
annotations of that prefix are ignored, as ingress-nginx ignores those it does not know.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "nginx.ingress.kubernetes.io/"
_SIZE = re.compile(r"^[0-9]+[kKmMgG]?$")
_SECONDS = re.compile(r"^[0-9]{1,6}$")
_TIMEOUTS = {"proxy-connect-timeout": "proxy_connect_timeout", "proxy-read-timeout": "proxy_read_timeout",
             "proxy-send-timeout": "proxy_send_timeout"}


class AnnotationError(ValueError):
    pass


@dataclass(frozen=True)
class LocationOptions:
    """What an Ingress's annotations add to each of its locations."""

    ssl_redirect: bool = False
    directives: tuple[str, ...] = ()


def parse(annotations: dict[str, str] | None) -> LocationOptions:
    """The options of an Ingress's annotations; raises AnnotationError naming the bad one."""
    notes = annotations or {}
    directives: list[str] = []
    redirect = False
    value = notes.get(PREFIX + "ssl-redirect")
    if value is not None:
        if value not in ("true", "false"):
            raise AnnotationError(f'annotation {PREFIX}ssl-redirect: "{value}" is not a boolean (true or false)')
        redirect = value == "true"
    value = notes.get(PREFIX + "proxy-body-size")
    if value is not None:
        if not _SIZE.match(value):
            raise AnnotationError(f'annotation {PREFIX}proxy-body-size: "{value}" is not a size (such as 8m)')
        directives.append(f"client_max_body_size {value};")
    for name, directive in _TIMEOUTS.items():
        value = notes.get(PREFIX + name)
        if value is not None:
            if not _SECONDS.match(value):
                raise AnnotationError(f'annotation {PREFIX}{name}: "{value}" is not a number of seconds')
            directives.append(f"{directive} {value}s;")
    return LocationOptions(redirect, tuple(directives))
