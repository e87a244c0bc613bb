"""Shared by the test operators: log in with the kubeconfig through the `kubernetes` client.

kopf's default logins also try the pykube-ng library (`import pykube`), which in this
project's environment is the pykube launcher package instead; an explicit login handler
makes kopf use only the one we mean.
"""
import kopf


@kopf.on.login()
def login(**kwargs):
    return kopf.login_via_client(**kwargs)
