"""apiserver.protobuf: Kubernetes protobuf bodies decoded to the JSON-shaped dicts Go would give."""
from __future__ import annotations

import base64

import pytest

from apiserver import protobuf


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num: int, value: int | bytes | str) -> bytes:
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    data = value.encode() if isinstance(value, str) else value
    return varint(num << 3 | 2) + varint(len(data)) + data


def envelope(api_version: str, kind: str, raw: bytes) -> bytes:
    type_meta = field(1, api_version) + field(2, kind)
    return protobuf.MAGIC + field(1, type_meta) + field(2, raw) + field(3, "") + field(4, "")


def meta(name: str, **extra: bytes) -> bytes:
    # Go always writes non-pointer fields, zero or not: generateName "", generation 0, an
    # empty creationTimestamp
    return field(1, name) + field(2, "") + field(7, 0) + field(8, b"") + b"".join(extra.values())


def map_entry(num: int, key: str, value: str | bytes) -> bytes:
    return field(num, field(1, key) + field(2, value))


def test_namespace_drops_go_zero_values() -> None:
    raw = field(1, meta("demo")) + field(2, b"") + field(3, b"")
    assert protobuf.decode(envelope("v1", "Namespace", raw)) == {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}}


def test_configmap_and_secret_maps_bytes_as_base64() -> None:
    cm = field(1, meta("cm", labels=map_entry(11, "app", "web"))) + map_entry(2, "a", "b") + \
        map_entry(3, "bin", b"\x00\x01")
    assert protobuf.decode(envelope("v1", "ConfigMap", cm)) == {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "labels": {"app": "web"}},
        "data": {"a": "b"}, "binaryData": {"bin": base64.b64encode(b"\x00\x01").decode()}}
    secret = field(1, meta("s")) + map_entry(2, "user", b"admin") + field(3, "Opaque")
    assert protobuf.decode(envelope("v1", "Secret", secret))["data"] == {"user": "YWRtaW4="}


def test_pointer_fields_keep_their_zero_value() -> None:
    spec = field(1, 0) + field(2, map_entry(1, "app", "web")) + field(5, 0) + field(7, 0)
    dep = field(1, meta("web")) + field(2, spec)
    obj = protobuf.decode(envelope("apps/v1", "Deployment", dep))
    assert obj["spec"] == {"replicas": 0, "selector": {"matchLabels": {"app": "web"}}}


def test_int_or_string_time_and_negative_ints() -> None:
    port = field(1, "http") + field(3, 80) + field(4, field(1, 1) + field(2, 0) + field(3, "web"))
    svc = field(1, meta("s", ts=field(9, field(1, 1700000000) + field(2, 0)))) + field(2, field(1, port))
    obj = protobuf.decode(envelope("v1", "Service", svc))
    assert obj["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": "web"}]
    assert obj["metadata"]["deletionTimestamp"] == "2023-11-14T22:13:20Z"
    opts = field(1, -1) + field(4, "Foreground") + field(5, "All") + field(5, "Other")
    assert protobuf.decode(protobuf.MAGIC + field(2, opts), default_kind="DeleteOptions") == {
        "gracePeriodSeconds": -1, "propagationPolicy": "Foreground", "dryRun": ["All", "Other"]}


def test_grace_period_zero_survives_in_delete_options() -> None:
    opts = field(1, 0) + field(2, field(1, "uid-1"))
    assert protobuf.decode(envelope("meta.k8s.io/v1", "DeleteOptions", opts)) == {
        "gracePeriodSeconds": 0, "preconditions": {"uid": "uid-1"}}


def test_inline_and_packed_fields() -> None:
    key_ref = field(3, field(1, field(1, "cm")) + field(2, "key"))     # configMapKeyRef, name inlined
    container = field(1, "c") + field(2, "img") + field(7, field(1, "K") + field(3, key_ref))
    spec = field(2, container) + field(1, field(1, "v") + field(2, field(19, field(1, field(1, "cfg")))))
    pod = field(1, meta("p")) + field(2, spec)
    obj = protobuf.decode(envelope("v1", "Pod", pod))
    assert obj["spec"]["containers"][0]["env"] == [{"name": "K", "valueFrom": {"configMapKeyRef": {"name": "cm", "key": "key"}}}]
    assert obj["spec"]["volumes"] == [{"name": "v", "configMap": {"name": "cfg"}}]
    packed = field(5, varint(1) + varint(2))  # a packed repeated int (unsupported field: warned)
    warnings: list[str] = []
    protobuf.decode(envelope("v1", "Namespace", field(1, meta("n")) + packed), warnings=warnings)
    assert warnings == ["protobuf field 5 of Namespace is not supported by this server and was dropped"]


def test_bad_bodies_are_errors() -> None:
    with pytest.raises(protobuf.ProtobufError, match="prefix"):
        protobuf.decode(b"{}")
    with pytest.raises(protobuf.ProtobufError, match="truncated"):
        protobuf.decode(protobuf.MAGIC + b"\x12\x05ab")
    with pytest.raises(protobuf.ProtobufError, match="not a kind"):
        protobuf.decode(envelope("example.com/v1", "Widget", b""))
