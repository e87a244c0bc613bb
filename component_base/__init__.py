"""Helpers every component shares and that are no component's own (as Kubernetes'
k8s.io/component-base): logging set-up, running until a signal, command-line value types,
and finding the processes one started. Below every component and the launcher; imports
nothing of theirs.
"""
