"""Pod Security Standards, pure: which checks of `baseline` and `restricted` a pod spec
fails, each as Kubernetes' pod-security admission words it (k8s.io/pod-security-admission
policy checks), e.g. `privileged (container "c" must not set securityContext.privileged=true)`.
"""
from __future__ import annotations

from typing import Any

Obj = dict[str, Any]
LEVELS = ("privileged", "baseline", "restricted")
BASELINE_CAPS = {"AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
                 "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT"}
SAFE_SYSCTLS = {"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
                "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
                "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
                "net.ipv4.tcp_keepalive_probes"}
RESTRICTED_VOLUMES = {"configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
                      "projected", "secret"}


def _containers(spec: Obj) -> list[Obj]:
    return list(spec.get("initContainers") or []) + list(spec.get("containers") or []) + \
        list(spec.get("ephemeralContainers") or [])


def _names(cs: list[Obj]) -> str:
    quoted = ", ".join(f'"{c.get("name", "")}"' for c in cs)
    return f'container {quoted}' if len(cs) == 1 else f"containers {quoted}"


def baseline(spec: Obj) -> list[str]:
    out = []
    hosts = [f"{k}=true" for k in ("hostNetwork", "hostPID", "hostIPC") if spec.get(k)]
    if hosts:
        out.append(f"host namespaces ({', '.join(hosts)})")
    priv = [c for c in _containers(spec) if (c.get("securityContext") or {}).get("privileged")]
    if priv:
        out.append(f"privileged ({_names(priv)} must not set securityContext.privileged=true)")
    caps = []
    for c in _containers(spec):
        added = [a for a in ((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or []
                 if a not in BASELINE_CAPS]
        if added:
            caps.append((c, added))
    if caps:
        names = _names([c for c, _ in caps])
        added = sorted({a for _, a_list in caps for a in a_list})
        out.append(f"non-default capabilities ({names} must not include {', '.join(repr(a).replace(chr(39), chr(34)) for a in added)} "
                   "in securityContext.capabilities.add)")
    host_paths = [v.get("name", "") for v in spec.get("volumes") or [] if "hostPath" in v]
    if host_paths:
        out.append(f"hostPath volumes (volume{'s' if len(host_paths) > 1 else ''} "
                   f"{', '.join(repr(n).replace(chr(39), chr(34)) for n in host_paths)})")
    ports = sorted({p["hostPort"] for c in _containers(spec) for p in c.get("ports") or [] if p.get("hostPort")})
    if ports:
        out.append(f"hostPort ({_names([c for c in _containers(spec) if any(p.get('hostPort') for p in c.get('ports') or [])])} "
                   f"uses hostPort{'s' if len(ports) > 1 else ''} {', '.join(map(str, ports))})")
    sysctls = [s.get("name") for s in (spec.get("securityContext") or {}).get("sysctls") or []
               if s.get("name") not in SAFE_SYSCTLS]
    if sysctls:
        out.append(f"forbidden sysctls ({', '.join(sysctls)})")
    seccomp = [c for c in _containers(spec)
               if ((c.get("securityContext") or {}).get("seccompProfile") or {}).get("type") == "Unconfined"]
    if ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type") == "Unconfined":
        out.append('seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")')
    if seccomp:
        out.append(f'seccompProfile ({_names(seccomp)} must not set securityContext.seccompProfile.type to "Unconfined")')
    return out


def restricted(spec: Obj) -> list[str]:
    out = baseline(spec)
    bad_vols = [(v.get("name", ""), next((k for k in v if k != "name"), "")) for v in spec.get("volumes") or []
                if not any(k in RESTRICTED_VOLUMES for k in v if k != "name") and "hostPath" not in v]
    if bad_vols:
        out.append("restricted volume types (" + ", ".join(f'volume "{n}" uses restricted volume type "{t}"'
                                                            for n, t in bad_vols) + ")")
    cs = _containers(spec)
    esc = [c for c in cs if (c.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False]
    if esc:
        out.append(f"allowPrivilegeEscalation != false ({_names(esc)} must set "
                   "securityContext.allowPrivilegeEscalation=false)")
    drop = [c for c in cs if "ALL" not in (((c.get("securityContext") or {}).get("capabilities") or {}).get("drop") or [])]
    add = [c for c in cs if any(a != "NET_BIND_SERVICE" for a in
                                (((c.get("securityContext") or {}).get("capabilities") or {}).get("add") or []))]
    if drop or add:
        parts = []
        if drop:
            parts.append(f'{_names(drop)} must set securityContext.capabilities.drop=["ALL"]')
        if add:
            parts.append(f'{_names(add)} must not include capabilities other than "NET_BIND_SERVICE" in '
                         "securityContext.capabilities.add")
        out.append(f"unrestricted capabilities ({'; '.join(parts)})")
    pod_non_root = (spec.get("securityContext") or {}).get("runAsNonRoot")
    non_root = [c for c in cs if (c.get("securityContext") or {}).get("runAsNonRoot") is not True and pod_non_root is not True]
    if non_root:
        out.append(f"runAsNonRoot != true (pod or {_names(non_root)} must set securityContext.runAsNonRoot=true)")
    pod_seccomp = ((spec.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
    no_seccomp = [c for c in cs if ((c.get("securityContext") or {}).get("seccompProfile") or {}).get("type")
                  not in ("RuntimeDefault", "Localhost") and pod_seccomp not in ("RuntimeDefault", "Localhost")]
    if no_seccomp:
        out.append(f'seccompProfile (pod or {_names(no_seccomp)} must set securityContext.seccompProfile.type to '
                   '"RuntimeDefault" or "Localhost")')
    return out


def violations(level: str, spec: Obj) -> list[str]:
    if level == "baseline":
        return baseline(spec)
    if level == "restricted":
        return restricted(spec)
    return []
