"""Kubernetes resource quantities (`100m`, `0.5`, `128Mi`, `1G`, `1e3`) as exact Decimals.

Owns parsing (`parse_quantity`), the two conversions the scheduler and kubelet need
(`cpu_millis`, `memory_bytes`, both rounding up as Kubernetes' MilliValue/Value do), and the
canonical text form (`format_quantity`), which picks the largest suffix that keeps the
mantissa an integer: 1.5 -> `1500m`, 1000 -> `1k`, 1.5Gi -> `1536Mi`.
"""
from __future__ import annotations

import re
from decimal import ROUND_CEILING, Decimal, InvalidOperation
from typing import Literal

QuantityLike = str | int | float | Decimal
Format = Literal["DecimalSI", "BinarySI", "DecimalExponent"]

_BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX = {exp: suffix for suffix, exp in _DECIMAL.items()}
_BINARY_SUFFIX = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_REGEX_TEXT = r"^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
_QUANTITY_RE = re.compile(_REGEX_TEXT)
_NUMBER_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)$")
_EXPONENT_RE = re.compile(r"^[eE][-+]?\d+$")


def _error(value: object) -> ValueError:
    return ValueError(f"quantities must match the regular expression '{_REGEX_TEXT}' "
                      f"(got {value!r})")


def _split(text: str) -> tuple[Decimal, str]:
    m = _QUANTITY_RE.match(text)
    if m is None:
        raise _error(text)
    number, suffix = m.groups()
    if not _NUMBER_RE.match(number):
        raise _error(text)
    if suffix not in _BINARY and suffix not in _DECIMAL and not _EXPONENT_RE.match(suffix):
        raise _error(text)
    return Decimal(number), suffix


def parse_quantity(value: QuantityLike) -> Decimal:
    """A quantity as an exact Decimal: `100m` -> 0.1, `128Mi` -> 134217728, `1e3` -> 1000."""
    if isinstance(value, bool):
        raise _error(value)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        try:
            return Decimal(repr(value))
        except InvalidOperation:
            raise _error(value) from None
    if not isinstance(value, str):
        raise _error(value)
    number, suffix = _split(value.strip())
    if suffix in _BINARY:
        return number * (Decimal(1024) ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number.scaleb(_DECIMAL[suffix])
    return number.scaleb(int(suffix[1:]))


def _ceil(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_CEILING))


def cpu_millis(value: QuantityLike) -> int:
    """CPU in millicores, rounded up (`100m` -> 100, `0.5` -> 500, `2` -> 2000)."""
    return _ceil(parse_quantity(value) * 1000)


def memory_bytes(value: QuantityLike) -> int:
    """Bytes, rounded up (`128Mi` -> 134217728, `1G` -> 1000000000)."""
    return _ceil(parse_quantity(value))


def quantity_format(text: str) -> Format:
    """The format a quantity string was written in (kept when it is printed back)."""
    _, suffix = _split(text.strip())
    if suffix in _BINARY:
        return "BinarySI"
    if _EXPONENT_RE.match(suffix):
        return "DecimalExponent"
    return "DecimalSI"


def _decimal_parts(value: Decimal) -> tuple[int, int]:
    """(mantissa, exponent) with exponent a multiple of 3, >= -9, mantissa an integer.

    Precision finer than 1n is rounded up, as Kubernetes does.
    """
    nanos = _ceil(value.scaleb(9)) if value >= 0 else -_ceil(-value.scaleb(9))
    if nanos == 0:
        return 0, 0
    exp = -9
    while nanos % 1000 == 0:
        nanos //= 1000
        exp += 3
    return nanos, exp


def format_quantity(value: QuantityLike, fmt: Format | None = None) -> str:
    """The canonical text of a quantity.

    `fmt` defaults to the format of a string input (a `Mi` value stays binary) and to
    DecimalSI otherwise. BinarySI falls back to DecimalSI below 1024 or for fractions.
    """
    if fmt is None:
        fmt = quantity_format(value) if isinstance(value, str) else "DecimalSI"
    number = parse_quantity(value)
    if fmt == "BinarySI" and abs(number) >= 1024 and number == number.to_integral_value():
        whole = int(number)
        power = 0
        while power < 6 and whole % 1024 == 0:
            whole //= 1024
            power += 1
        return f"{whole}{_BINARY_SUFFIX[power]}"
    mantissa, exp = _decimal_parts(number)
    if fmt == "DecimalExponent":
        return f"{mantissa}e{exp}" if exp else str(mantissa)
    if exp > 18:
        mantissa *= 10 ** (exp - 18)
        exp = 18
    return f"{mantissa}{_DECIMAL_SUFFIX[exp]}"


__all__ = ["cpu_millis", "format_quantity", "memory_bytes", "parse_quantity", "quantity_format"]
