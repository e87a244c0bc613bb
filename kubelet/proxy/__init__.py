"""kube-proxy (iptables mode), host-gw pod routes and ServiceLB: `rules` (pure), `state` (pure),
`iptables` (I/O), `proxier`, `routes`, `servicelb`, `health`, `cli`."""
