"""Field tables of the Kubernetes protobuf messages pykube decodes (from k8s.io/api's
generated.proto): what kubectl's imperative generators (`create namespace|configmap|secret|
service|serviceaccount|deployment`), `drain` (DeleteOptions, Eviction) and `auth can-i|whoami`
(the self-subject reviews) send.

`MESSAGES[name][field number] = (JSON name, type, flags)`. Types: `string`, `bytes`
(base64 in JSON), `int`, `bool`, `time` (meta.v1.Time → RFC 3339), `quantity`, `intstr`,
`map:<value type>` (map<string, …>), or another message's name. Flags: `REPEATED`; `PTR`
for Go pointer fields, whose zero value is still a value (`replicas: 0`), where every other
zero value is what Go's `omitempty` leaves out; `INLINE` for embedded structs whose fields
sit in the parent's JSON object. `KINDS` maps (apiVersion, kind) to the top message.
Messages or fields not listed are dropped with a warning naming them.
"""
from __future__ import annotations

REPEATED, PTR, INLINE = 1, 2, 4
R, P, INL = REPEATED, PTR, INLINE

Field = tuple[str, str, int]

_META: dict[str, dict[int, Field]] = {
    "ObjectMeta": {1: ("name", "string", 0), 2: ("generateName", "string", 0), 3: ("namespace", "string", 0),
                   4: ("selfLink", "string", 0), 5: ("uid", "string", 0), 6: ("resourceVersion", "string", 0),
                   7: ("generation", "int", 0), 8: ("creationTimestamp", "time", 0),
                   9: ("deletionTimestamp", "time", 0), 10: ("deletionGracePeriodSeconds", "int", P),
                   11: ("labels", "map:string", 0), 12: ("annotations", "map:string", 0),
                   13: ("ownerReferences", "OwnerReference", R), 14: ("finalizers", "string", R),
                   17: ("managedFields", "ManagedFieldsEntry", R)},
    "OwnerReference": {1: ("kind", "string", 0), 3: ("name", "string", 0), 4: ("uid", "string", 0),
                       5: ("apiVersion", "string", 0), 6: ("controller", "bool", P),
                       7: ("blockOwnerDeletion", "bool", P)},
    "ManagedFieldsEntry": {1: ("manager", "string", 0), 2: ("operation", "string", 0),
                           3: ("apiVersion", "string", 0), 4: ("time", "time", 0),
                           6: ("fieldsType", "string", 0), 8: ("subresource", "string", 0)},
    "LabelSelector": {1: ("matchLabels", "map:string", 0),
                      2: ("matchExpressions", "LabelSelectorRequirement", R)},
    "LabelSelectorRequirement": {1: ("key", "string", 0), 2: ("operator", "string", 0),
                                 3: ("values", "string", R)},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int", P), 2: ("preconditions", "Preconditions", P),
                      3: ("orphanDependents", "bool", P), 4: ("propagationPolicy", "string", P),
                      5: ("dryRun", "string", R), 6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool", P)},
    "Preconditions": {1: ("uid", "string", P), 2: ("resourceVersion", "string", P)},
    "Eviction": {1: ("metadata", "ObjectMeta", 0), 2: ("deleteOptions", "DeleteOptions", P)},
    "Ignored": {},
}

_CORE: dict[str, dict[int, Field]] = {
    "Namespace": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "NamespaceSpec", 0), 3: ("status", "Ignored", 0)},
    "NamespaceSpec": {1: ("finalizers", "string", R)},
    "ConfigMap": {1: ("metadata", "ObjectMeta", 0), 2: ("data", "map:string", 0),
                  3: ("binaryData", "map:bytes", 0), 4: ("immutable", "bool", P)},
    "Secret": {1: ("metadata", "ObjectMeta", 0), 2: ("data", "map:bytes", 0), 3: ("type", "string", 0),
               4: ("stringData", "map:string", 0), 5: ("immutable", "bool", P)},
    "ServiceAccount": {1: ("metadata", "ObjectMeta", 0), 2: ("secrets", "ObjectReference", R),
                       3: ("imagePullSecrets", "LocalObjectReference", R),
                       4: ("automountServiceAccountToken", "bool", P)},
    "ObjectReference": {1: ("kind", "string", 0), 2: ("namespace", "string", 0), 3: ("name", "string", 0),
                        4: ("uid", "string", 0), 5: ("apiVersion", "string", 0),
                        6: ("resourceVersion", "string", 0), 7: ("fieldPath", "string", 0)},
    "LocalObjectReference": {1: ("name", "string", 0)},
    "Service": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "ServiceSpec", 0), 3: ("status", "Ignored", 0)},
    "ServiceSpec": {1: ("ports", "ServicePort", R), 2: ("selector", "map:string", 0),
                    3: ("clusterIP", "string", 0), 4: ("type", "string", 0), 5: ("externalIPs", "string", R),
                    7: ("sessionAffinity", "string", 0), 8: ("loadBalancerIP", "string", 0),
                    9: ("loadBalancerSourceRanges", "string", R), 10: ("externalName", "string", 0),
                    11: ("externalTrafficPolicy", "string", 0), 12: ("healthCheckNodePort", "int", 0),
                    13: ("publishNotReadyAddresses", "bool", 0), 17: ("ipFamilyPolicy", "string", P),
                    18: ("clusterIPs", "string", R), 19: ("ipFamilies", "string", R),
                    20: ("allocateLoadBalancerNodePorts", "bool", P), 21: ("loadBalancerClass", "string", P),
                    22: ("internalTrafficPolicy", "string", P)},
    "ServicePort": {1: ("name", "string", 0), 2: ("protocol", "string", 0), 3: ("port", "int", 0),
                    4: ("targetPort", "intstr", 0), 5: ("nodePort", "int", 0), 6: ("appProtocol", "string", P)},
    "Pod": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "PodSpec", 0), 3: ("status", "Ignored", 0)},
    "PodTemplateSpec": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "PodSpec", 0)},
    "PodSpec": {1: ("volumes", "Volume", R), 2: ("containers", "Container", R),
                3: ("restartPolicy", "string", 0), 4: ("terminationGracePeriodSeconds", "int", P),
                5: ("activeDeadlineSeconds", "int", P), 6: ("dnsPolicy", "string", 0),
                7: ("nodeSelector", "map:string", 0), 8: ("serviceAccountName", "string", 0),
                9: ("serviceAccount", "string", 0), 10: ("nodeName", "string", 0),
                11: ("hostNetwork", "bool", 0), 12: ("hostPID", "bool", 0), 13: ("hostIPC", "bool", 0),
                15: ("imagePullSecrets", "LocalObjectReference", R), 16: ("hostname", "string", 0),
                17: ("subdomain", "string", 0), 19: ("schedulerName", "string", 0),
                20: ("initContainers", "Container", R), 21: ("automountServiceAccountToken", "bool", P),
                22: ("tolerations", "Toleration", R), 24: ("priorityClassName", "string", 0),
                25: ("priority", "int", P), 30: ("enableServiceLinks", "bool", P)},
    "Container": {1: ("name", "string", 0), 2: ("image", "string", 0), 3: ("command", "string", R),
                  4: ("args", "string", R), 5: ("workingDir", "string", 0), 6: ("ports", "ContainerPort", R),
                  7: ("env", "EnvVar", R), 8: ("resources", "ResourceRequirements", 0),
                  9: ("volumeMounts", "VolumeMount", R), 10: ("livenessProbe", "Probe", P),
                  11: ("readinessProbe", "Probe", P), 13: ("terminationMessagePath", "string", 0),
                  14: ("imagePullPolicy", "string", 0), 16: ("stdin", "bool", 0), 17: ("stdinOnce", "bool", 0),
                  18: ("tty", "bool", 0), 19: ("envFrom", "EnvFromSource", R),
                  20: ("terminationMessagePolicy", "string", 0), 22: ("startupProbe", "Probe", P),
                  24: ("restartPolicy", "string", P)},
    "ContainerPort": {1: ("name", "string", 0), 2: ("hostPort", "int", 0), 3: ("containerPort", "int", 0),
                      4: ("protocol", "string", 0), 5: ("hostIP", "string", 0)},
    "EnvVar": {1: ("name", "string", 0), 2: ("value", "string", 0), 3: ("valueFrom", "EnvVarSource", P)},
    "EnvVarSource": {1: ("fieldRef", "ObjectFieldSelector", P), 2: ("resourceFieldRef", "ResourceFieldSelector", P),
                     3: ("configMapKeyRef", "KeySelector", P), 4: ("secretKeyRef", "KeySelector", P)},
    "ObjectFieldSelector": {1: ("apiVersion", "string", 0), 2: ("fieldPath", "string", 0)},
    "ResourceFieldSelector": {1: ("containerName", "string", 0), 2: ("resource", "string", 0),
                              3: ("divisor", "quantity", 0)},
    "KeySelector": {1: ("localObjectReference", "LocalObjectReference", INL), 2: ("key", "string", 0),
                    3: ("optional", "bool", P)},
    "EnvFromSource": {1: ("prefix", "string", 0), 2: ("configMapRef", "EnvSource", P),
                      3: ("secretRef", "EnvSource", P)},
    "EnvSource": {1: ("localObjectReference", "LocalObjectReference", INL), 2: ("optional", "bool", P)},
    "ResourceRequirements": {1: ("limits", "map:quantity", 0), 2: ("requests", "map:quantity", 0)},
    "VolumeMount": {1: ("name", "string", 0), 2: ("readOnly", "bool", 0), 3: ("mountPath", "string", 0),
                    4: ("subPath", "string", 0), 5: ("mountPropagation", "string", P),
                    6: ("subPathExpr", "string", 0)},
    "Volume": {1: ("name", "string", 0), 2: ("volumeSource", "VolumeSource", INL)},
    "VolumeSource": {1: ("hostPath", "HostPathVolumeSource", P), 2: ("emptyDir", "EmptyDirVolumeSource", P),
                     6: ("secret", "SecretVolumeSource", P),
                     10: ("persistentVolumeClaim", "PersistentVolumeClaimVolumeSource", P),
                     19: ("configMap", "ConfigMapVolumeSource", P)},
    "HostPathVolumeSource": {1: ("path", "string", 0), 2: ("type", "string", P)},
    "EmptyDirVolumeSource": {1: ("medium", "string", 0), 2: ("sizeLimit", "quantity", P)},
    "SecretVolumeSource": {1: ("secretName", "string", 0), 2: ("items", "KeyToPath", R),
                           3: ("defaultMode", "int", P), 4: ("optional", "bool", P)},
    "ConfigMapVolumeSource": {1: ("localObjectReference", "LocalObjectReference", INL),
                              2: ("items", "KeyToPath", R), 3: ("defaultMode", "int", P),
                              4: ("optional", "bool", P)},
    "KeyToPath": {1: ("key", "string", 0), 2: ("path", "string", 0), 3: ("mode", "int", P)},
    "PersistentVolumeClaimVolumeSource": {1: ("claimName", "string", 0), 2: ("readOnly", "bool", 0)},
    "Toleration": {1: ("key", "string", 0), 2: ("operator", "string", 0), 3: ("value", "string", 0),
                   4: ("effect", "string", 0), 5: ("tolerationSeconds", "int", P)},
    "Probe": {1: ("handler", "ProbeHandler", INL), 2: ("initialDelaySeconds", "int", 0),
              3: ("timeoutSeconds", "int", 0), 4: ("periodSeconds", "int", 0),
              5: ("successThreshold", "int", 0), 6: ("failureThreshold", "int", 0),
              7: ("terminationGracePeriodSeconds", "int", P)},
    "ProbeHandler": {1: ("exec", "ExecAction", P), 2: ("httpGet", "HTTPGetAction", P),
                     3: ("tcpSocket", "TCPSocketAction", P)},
    "ExecAction": {1: ("command", "string", R)},
    "HTTPGetAction": {1: ("path", "string", 0), 2: ("port", "intstr", 0), 3: ("host", "string", 0),
                      4: ("scheme", "string", 0), 5: ("httpHeaders", "HTTPHeader", R)},
    "HTTPHeader": {1: ("name", "string", 0), 2: ("value", "string", 0)},
    "TCPSocketAction": {1: ("port", "intstr", 0), 2: ("host", "string", 0)},
}

_APPS: dict[str, dict[int, Field]] = {
    "Deployment": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "DeploymentSpec", 0), 3: ("status", "Ignored", 0)},
    "DeploymentSpec": {1: ("replicas", "int", P), 2: ("selector", "LabelSelector", P),
                       3: ("template", "PodTemplateSpec", 0), 4: ("strategy", "DeploymentStrategy", 0),
                       5: ("minReadySeconds", "int", 0), 6: ("revisionHistoryLimit", "int", P),
                       7: ("paused", "bool", 0), 9: ("progressDeadlineSeconds", "int", P)},
    "DeploymentStrategy": {1: ("type", "string", 0), 2: ("rollingUpdate", "RollingUpdateDeployment", P)},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "intstr", P), 2: ("maxSurge", "intstr", P)},
}

_REVIEWS: dict[str, dict[int, Field]] = {
    "SelfSubjectAccessReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "AccessReviewSpec", 0),
                                3: ("status", "Ignored", 0)},
    "AccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", P),
                         2: ("nonResourceAttributes", "NonResourceAttributes", P)},
    "ResourceAttributes": {1: ("namespace", "string", 0), 2: ("verb", "string", 0), 3: ("group", "string", 0),
                           4: ("version", "string", 0), 5: ("resource", "string", 0),
                           6: ("subresource", "string", 0), 7: ("name", "string", 0)},
    "NonResourceAttributes": {1: ("path", "string", 0), 2: ("verb", "string", 0)},
    "SelfSubjectRulesReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "RulesReviewSpec", 0),
                               3: ("status", "Ignored", 0)},
    "RulesReviewSpec": {1: ("namespace", "string", 0)},
    "SelfSubjectReview": {1: ("metadata", "ObjectMeta", 0), 2: ("status", "Ignored", 0)},
}

_RBAC: dict[str, dict[int, Field]] = {
    "Role": {1: ("metadata", "ObjectMeta", 0), 2: ("rules", "PolicyRule", R)},
    "ClusterRole": {1: ("metadata", "ObjectMeta", 0), 2: ("rules", "PolicyRule", R),
                    3: ("aggregationRule", "AggregationRule", P)},
    "AggregationRule": {1: ("clusterRoleSelectors", "LabelSelector", R)},
    "PolicyRule": {1: ("verbs", "string", R), 2: ("apiGroups", "string", R), 3: ("resources", "string", R),
                   4: ("resourceNames", "string", R), 5: ("nonResourceURLs", "string", R)},
    "RoleBinding": {1: ("metadata", "ObjectMeta", 0), 2: ("subjects", "Subject", R), 3: ("roleRef", "RoleRef", 0)},
    "ClusterRoleBinding": {1: ("metadata", "ObjectMeta", 0), 2: ("subjects", "Subject", R),
                           3: ("roleRef", "RoleRef", 0)},
    "RoleRef": {1: ("apiGroup", "string", 0), 2: ("kind", "string", 0), 3: ("name", "string", 0)},
    "Subject": {1: ("kind", "string", 0), 2: ("apiGroup", "string", 0), 3: ("name", "string", 0),
                4: ("namespace", "string", 0)},
    "SubjectAccessReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "SubjectAccessReviewSpec", 0),
                            3: ("status", "Ignored", 0)},
    "SubjectAccessReviewSpec": {1: ("resourceAttributes", "ResourceAttributes", P),
                                2: ("nonResourceAttributes", "NonResourceAttributes", P),
                                3: ("user", "string", 0), 4: ("groups", "string", R), 6: ("uid", "string", 0)},
}

_CERTIFICATES: dict[str, dict[int, Field]] = {
    "CertificateSigningRequest": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "CertificateSigningRequestSpec", 0),
                                  3: ("status", "CertificateSigningRequestStatus", 0)},
    "CertificateSigningRequestSpec": {1: ("request", "bytes", 0), 2: ("username", "string", 0),
                                      3: ("uid", "string", 0), 4: ("groups", "string", R),
                                      5: ("usages", "string", R), 7: ("signerName", "string", 0),
                                      8: ("expirationSeconds", "int", P)},
    "CertificateSigningRequestStatus": {1: ("conditions", "CertificateSigningRequestCondition", R),
                                        2: ("certificate", "bytes", 0)},
    "CertificateSigningRequestCondition": {1: ("type", "string", 0), 2: ("reason", "string", 0),
                                           3: ("message", "string", 0), 4: ("lastUpdateTime", "time", 0),
                                           5: ("lastTransitionTime", "time", 0), 6: ("status", "string", 0)},
}

_TOKENS: dict[str, dict[int, Field]] = {
    "TokenRequest": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "TokenRequestSpec", 0), 3: ("status", "Ignored", 0)},
    "TokenRequestSpec": {1: ("audiences", "string", R), 3: ("boundObjectRef", "BoundObjectReference", P),
                         4: ("expirationSeconds", "int", P)},
    "BoundObjectReference": {1: ("kind", "string", 0), 2: ("apiVersion", "string", 0), 3: ("name", "string", 0),
                             4: ("uid", "string", 0)},
    "TokenReview": {1: ("metadata", "ObjectMeta", 0), 2: ("spec", "TokenReviewSpec", 0), 3: ("status", "Ignored", 0)},
    "TokenReviewSpec": {1: ("token", "string", 0), 2: ("audiences", "string", R)},
}

MESSAGES: dict[str, dict[int, Field]] = {**_META, **_CORE, **_APPS, **_REVIEWS, **_RBAC, **_CERTIFICATES,
                                         **_TOKENS}

KINDS: dict[tuple[str, str], str] = {
    ("v1", "Namespace"): "Namespace", ("v1", "ConfigMap"): "ConfigMap", ("v1", "Secret"): "Secret",
    ("v1", "ServiceAccount"): "ServiceAccount", ("v1", "Service"): "Service", ("v1", "Pod"): "Pod",
    ("apps/v1", "Deployment"): "Deployment", ("policy/v1", "Eviction"): "Eviction",
    ("authorization.k8s.io/v1", "SelfSubjectAccessReview"): "SelfSubjectAccessReview",
    ("authorization.k8s.io/v1", "SelfSubjectRulesReview"): "SelfSubjectRulesReview",
    ("authentication.k8s.io/v1", "SelfSubjectReview"): "SelfSubjectReview",
    ("authentication.k8s.io/v1beta1", "SelfSubjectReview"): "SelfSubjectReview",
    ("authorization.k8s.io/v1", "SubjectAccessReview"): "SubjectAccessReview",
    ("authorization.k8s.io/v1", "LocalSubjectAccessReview"): "SubjectAccessReview",
    ("certificates.k8s.io/v1", "CertificateSigningRequest"): "CertificateSigningRequest",
    ("authentication.k8s.io/v1", "TokenRequest"): "TokenRequest",
    ("authentication.k8s.io/v1", "TokenReview"): "TokenReview",
    ("rbac.authorization.k8s.io/v1", "Role"): "Role",
    ("rbac.authorization.k8s.io/v1", "ClusterRole"): "ClusterRole",
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): "RoleBinding",
    ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding"): "ClusterRoleBinding",
}
# DeleteOptions is registered in every group version (and meta.k8s.io/v1)
OPTIONS_KINDS = {"DeleteOptions": "DeleteOptions"}
