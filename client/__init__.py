"""The apiserver client every component uses: kubeconfig, REST, watch, informer, work
queue, leader election and event recording. Only this package speaks HTTP to the apiserver."""
