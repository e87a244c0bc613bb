"""The local-path provisioner: dynamic PersistentVolumes as directories on a node (k3s'
local-path-provisioner model), run by each node's agent."""
