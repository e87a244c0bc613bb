"""Authentication and authorization: who is asking (authenticator.py), what a request asks to
do (attributes.py), and whether it may (rbac.py for the rules, authorizer.py over the stored
Roles and bindings, bootstrap_policy.py for the roles Kubernetes creates at start)."""
