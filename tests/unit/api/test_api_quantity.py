"""api.quantity: parsing, cpu/memory conversions, canonical formatting."""
from __future__ import annotations

from decimal import Decimal

import pytest

from api.quantity import cpu_millis, format_quantity, memory_bytes, parse_quantity, quantity_format


@pytest.mark.parametrize(("text", "value"), [
    ("100m", Decimal("0.1")),
    ("0.5", Decimal("0.5")),
    ("2", Decimal(2)),
    ("128Mi", Decimal(128 * 1024**2)),
    ("1Ki", Decimal(1024)),
    ("1Gi", Decimal(1024**3)),
    ("1Ei", Decimal(1024**6)),
    ("1G", Decimal(10**9)),
    ("1k", Decimal(1000)),
    ("1e3", Decimal(1000)),
    ("1E3", Decimal(1000)),
    ("1.5e-3", Decimal("0.0015")),
    ("1E", Decimal(10**18)),
    ("250u", Decimal("0.00025")),
    ("5n", Decimal("0.000000005")),
    ("-1", Decimal(-1)),
    ("+.5", Decimal("0.5")),
    ("3.", Decimal(3)),
    (" 1Mi ", Decimal(1024**2)),
    (7, Decimal(7)),
    (0.25, Decimal("0.25")),
])
def test_parse(text: str | int | float, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize("bad", ["", "abc", "1.2.3", "1Zi", "1K", "1e", "--1", ".", "Mi", "1 Mi",
                                 "1mi", True, None, [1]])
def test_parse_garbage(bad: object) -> None:
    with pytest.raises(ValueError, match="quantities must match the regular expression"):
        parse_quantity(bad)  # type: ignore[arg-type]


def test_cpu_millis_and_memory_bytes_round_up() -> None:
    assert cpu_millis("100m") == 100
    assert cpu_millis("0.5") == 500
    assert cpu_millis(2) == 2000
    assert cpu_millis("1.0005") == 1001
    assert cpu_millis("250u") == 1
    assert memory_bytes("128Mi") == 134217728
    assert memory_bytes("1G") == 10**9
    assert memory_bytes("1.5") == 2
    assert memory_bytes("500m") == 1


@pytest.mark.parametrize(("value", "fmt", "text"), [
    (Decimal("1.5"), "DecimalSI", "1500m"),
    (Decimal("0.1"), "DecimalSI", "100m"),
    (Decimal(1000), "DecimalSI", "1k"),
    (Decimal(1500), "DecimalSI", "1500"),
    (Decimal(0), "DecimalSI", "0"),
    (Decimal("0.0000000001"), "DecimalSI", "1n"),
    (Decimal(-2000), "DecimalSI", "-2k"),
    (Decimal(10**21), "DecimalSI", "1000E"),
    (Decimal(1536 * 1024**2), "BinarySI", "1536Mi"),
    (Decimal(1024**3), "BinarySI", "1Gi"),
    (Decimal(1000), "BinarySI", "1k"),
    (Decimal(1500), "BinarySI", "1500"),
    (Decimal("2048.5"), "BinarySI", "2048500m"),
    (Decimal(1000), "DecimalExponent", "1e3"),
    (Decimal(12), "DecimalExponent", "12"),
])
def test_format(value: Decimal, fmt: str, text: str) -> None:
    assert format_quantity(value, fmt) == text  # type: ignore[arg-type]


def test_format_keeps_input_format() -> None:
    assert quantity_format("1Gi") == "BinarySI"
    assert quantity_format("1e3") == "DecimalExponent"
    assert quantity_format("100m") == "DecimalSI"
    assert format_quantity("1.5Gi") == "1536Mi"
    assert format_quantity("0.5") == "500m"
    assert format_quantity("1000m") == "1"
    assert format_quantity("2000") == "2k"
    assert format_quantity(3) == "3"
    assert parse_quantity(format_quantity("123456Ki")) == parse_quantity("123456Ki")
