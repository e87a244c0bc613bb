"""A routing `Plan` -> nginx.conf (pure).

`render(plan, listen)` returns the configuration text, the files it names relative to the
configuration's directory (`certs/<name>.pem`, certificate chain and key in one file; nginx
resolves relative paths against the directory of the file given with `-c`), and which
Ingress owns which lines, so that when `nginx -t` refuses a configuration the culprit can
be named (`culprit`). Kubernetes' precedence maps onto nginx's own: `location = /p` (an
Exact path, and a Prefix path's own path) is checked before any prefix location, and among
`location /p/` prefixes nginx takes the longest; exact server names win over the
`~^[^.]+\\.example\\.com$` regex a wildcard host becomes; unknown hosts reach the
`default_server`. Every server listens on 443 too, with its Secret's certificate or the
controller's own (`default.pem`).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from ingress.routes import Location, Plan, Server, Upstream

DEFAULT_CERT = "default.pem"
NOT_FOUND_BODY = "default backend - 404"


@dataclass(frozen=True)
class Listen:
    http: str = "80"          # nginx `listen` values: a port, or address:port
    https: str = "443"
    pid: str = "/run/nginx.pid"
    user: str = "www-data"


@dataclass
class Rendered:
    text: str
    files: dict[str, bytes]
    owners: dict[int, str] = field(default_factory=dict)   # 1-based line -> "ns/name"
    cert_owners: dict[str, str] = field(default_factory=dict)  # "certs/<name>" -> "ns/name"

    def culprit(self, message: str, conf_path: str) -> str | None:
        """The Ingress an `nginx -t` refusal blames: by the line of `conf_path` it names,
        else by the certificate file it names."""
        m = re.search(re.escape(conf_path) + r":(\d+)", message)
        if m and int(m.group(1)) in self.owners:
            return self.owners[int(m.group(1))]
        return next((owner for name, owner in self.cert_owners.items() if name in message), None)


def quote(value: str) -> str:
    if re.fullmatch(r"[A-Za-z0-9/._~%!&()*+,=:@^$\[\]|?-]+", value) and "'" not in value:
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_name(host: str) -> str:
    if not host:
        return "_"
    if host.startswith("*."):
        return quote("~^[^.]+" + re.escape(host[1:]) + "$")
    return host


class _Writer:
    def __init__(self) -> None:
        self.lines: list[str] = []
        self.owners: dict[int, str] = {}

    def add(self, text: str, owner: str = "") -> None:
        self.lines.append(text)
        if owner:
            self.owners[len(self.lines)] = owner


HEAD = """\
# written by pykube ingress: every change is tested with `nginx -t` before a reload
worker_processes auto;
pid {pid};
daemon off;
error_log stderr notice;
{user}
events {{
    worker_connections 1024;
}}

http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log /dev/stdout;
    sendfile on;
    server_tokens off;
    server_names_hash_bucket_size 128;
    client_max_body_size 1m;
    proxy_http_version 1.1;
    proxy_set_header Host $host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Host $host;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    map $http_upgrade $connection_upgrade {{
        default upgrade;
        '' close;
    }}
"""


def _location_body(w: _Writer, loc: Location, server: Server) -> None:
    owner = loc.ingress
    if loc.options.ssl_redirect and server.certificate:
        w.add("            if ($scheme = http) {", owner)
        w.add("                return 308 https://$host$request_uri;", owner)
        w.add("            }", owner)
    for d in loc.options.directives:
        w.add(f"            {d}", owner)
    for i, branch in enumerate(loc.branches):
        conditions = [f'$http_{name.lower().replace("-", "_")} = {quote_value(value)}'
                      for name, value in branch.headers]
        if len(conditions) > 1:        # nginx's `if` takes one condition: count the ones that hold
            var = f"pykube_match{i}"
            w.add(f'            set ${var} "";', owner)
            for cond in conditions:
                w.add(f'            if ({cond}) {{ set ${var} "${{{var}}}1"; }}', owner)
            conditions = [f'${var} = "{"1" * len(branch.headers)}"']
        w.add(f"            if ({conditions[0]}) {{", owner)
        _answer(w, branch.upstream, owner, "                ")
        w.add("            }", owner)
    if loc.not_found:
        w.add("            default_type text/plain;")
        w.add(f'            return 404 "{NOT_FOUND_BODY}\\n";')
    else:
        _answer(w, loc.upstream, owner, "            ")


def _answer(w: _Writer, upstream: Upstream | None, owner: str, indent: str) -> None:
    if upstream is None or not upstream.addresses:
        w.add(f"{indent}return 503;", owner)
    else:
        w.add(f"{indent}proxy_pass http://{upstream.name};", owner)


def quote_value(value: str) -> str:
    """A string for nginx's `if` (checked beforehand: no `$`, quote or backslash)."""
    return '"' + value + '"'



def _locations(w: _Writer, server: Server) -> None:
    exact_paths = {loc.path for loc in server.locations if loc.exact}
    for loc in server.locations:
        blocks: list[str] = []
        if loc.exact:
            blocks.append(f"= {quote(loc.path)}")
        elif loc.path == "/":
            blocks.append("/")
        else:
            if loc.path not in exact_paths:
                blocks.append(f"= {quote(loc.path)}")
            blocks.append(quote(loc.path + "/"))
        for b in blocks:
            w.add(f"        location {b} {{" + (f"  # {loc.ingress}" if loc.ingress else ""), loc.ingress)
            _location_body(w, loc, server)
            w.add("        }", loc.ingress)


def render(plan: Plan, listen: Listen = Listen()) -> Rendered:
    w = _Writer()
    user = f"user {listen.user};" if listen.user else ""
    for line in HEAD.format(pid=listen.pid, user=user).splitlines():
        w.add(line)
    upstreams = {u.name: u for s in plan.servers for loc in s.locations
                 for u in [loc.upstream, *(b.upstream for b in loc.branches)] if u is not None and u.addresses}
    for name in sorted(upstreams):
        u = upstreams[name]
        w.add(f"    upstream {name} {{")
        for i, addr in enumerate(u.addresses):
            weight = f" weight={u.weights[i]}" if u.weights else ""
            w.add(f"        server {addr}{weight} max_fails=0;")
        w.add("    }")
    for server in plan.servers:
        default = " default_server" if not server.host else ""
        w.add("")
        w.add("    server {")
        w.add(f"        listen {listen.http}{default};")
        w.add(f"        listen {listen.https} ssl{default};")
        w.add(f"        server_name {server_name(server.host)};")
        cert = f"certs/{server.certificate}" if server.certificate else DEFAULT_CERT
        w.add(f"        ssl_certificate {cert};", server.certificate_owner)
        w.add(f"        ssl_certificate_key {cert};", server.certificate_owner)
        _locations(w, server)
        w.add("    }")
    w.add("}")
    files = {f"certs/{name}": pem for name, pem in plan.certificates.items()}
    cert_owners = {f"certs/{s.certificate}": s.certificate_owner for s in plan.servers if s.certificate}
    return Rendered("\n".join(w.lines) + "\n", files, w.owners, cert_owners)
