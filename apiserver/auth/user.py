"""UserInfo: the authenticated identity of a request (user.Info in Kubernetes)."""
from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass, field

AUTHENTICATED = "system:authenticated"
UNAUTHENTICATED = "system:unauthenticated"
MASTERS = "system:masters"
ANONYMOUS = "system:anonymous"


@dataclass(frozen=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, list[str]] = field(default_factory=dict, hash=False, compare=False)

    def with_authenticated(self) -> "UserInfo":
        """The groups every authenticated user has (system:authenticated)."""
        if AUTHENTICATED in self.groups or self.name == ANONYMOUS:
            return self
        return UserInfo(self.name, self.groups + (AUTHENTICATED,), self.uid, self.extra)

    def to_wire(self) -> dict[str, object]:
        out: dict[str, object] = {"username": self.name, "groups": list(self.groups)}
        if self.uid:
            out["uid"] = self.uid
        if self.extra:
            out["extra"] = self.extra
        return out


#: the user of the request being served (set by the gateway; None for the apiserver's own
#: writes, e.g. bootstrap), read by admission plugins that decide by who is asking
current_user: ContextVar[UserInfo | None] = ContextVar("current_user", default=None)

#: the data dir's admin token (`admin.kubeconfig`), as k3s' `system:admin`
ADMIN = UserInfo("system:admin", (MASTERS,))
#: the node join token every agent's kubelet and kube-proxy use (see bootstrap_policy.py)
NODE_JOIN = UserInfo("node", ("system:nodes", "system:bootstrappers"))
