"""certificates.k8s.io/v1 CertificateSigningRequest: a user asks a signer for a certificate.

The requester sends a PEM certificate request and the signer's name; the apiserver records
who asked (username, groups, uid); an approver adds an `Approved` (or `Denied`) condition
through the `approval` subresource; the signer then puts the PEM certificate in
`status.certificate`.
"""
from __future__ import annotations

from typing import Any, Literal

from api.models.base import K8sModel, K8sObject


class CertificateSigningRequestSpec(K8sModel):
    request: str | None = None
    signer_name: str | None = None
    expiration_seconds: int | None = None
    usages: list[str] | None = None
    username: str | None = None
    uid: str | None = None
    groups: list[str] | None = None
    extra: dict[str, list[str]] | None = None


class CertificateSigningRequestCondition(K8sModel):
    type: str
    status: str | None = None
    reason: str | None = None
    message: str | None = None
    last_update_time: str | None = None
    last_transition_time: str | None = None


class CertificateSigningRequestStatus(K8sModel):
    conditions: list[CertificateSigningRequestCondition] | None = None
    certificate: str | None = None


class CertificateSigningRequest(K8sObject):
    api_version: Literal["certificates.k8s.io/v1"] = "certificates.k8s.io/v1"
    kind: Literal["CertificateSigningRequest"] = "CertificateSigningRequest"
    spec: CertificateSigningRequestSpec | None = None
    status: CertificateSigningRequestStatus | None = None


__all__: list[Any] = ["CertificateSigningRequest"]
