"""Network policy enforcement on a node (`pykube netpol`), as kube-router's network policy
controller does it in k3s: `policy.py` decides, for every pod on this node, which peers and
ports may reach it and which it may reach (pure); `rules.py` turns that into ipsets and
iptables chains (pure text); `controller.py` watches pods, namespaces and NetworkPolicies
and applies the text with `ipset restore` and `iptables-restore` (thin I/O)."""
