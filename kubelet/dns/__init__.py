"""Cluster DNS: `records` (pure answers), `server` (UDP+TCP), `registration` (kube-dns), `cli`."""
