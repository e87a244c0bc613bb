"""The kubelet's streaming endpoints: query flags as clients send them, ports, exit Statuses."""
from __future__ import annotations

import pytest

from kubelet.runtime.interface import StreamOptions
from kubelet.streaming import exit_status, parse_ports, stream_options


def test_flags_in_every_spelling() -> None:
    assert stream_options({"stdin": "true", "stdout": "True", "tty": "1"}) == StreamOptions(True, True, False, True)
    assert stream_options({"input": "1", "output": "1", "error": "1"}) == StreamOptions(True, True, True, False)
    assert stream_options({"stdout": "false"}) == StreamOptions(False, False, False, False)


def test_ports() -> None:
    assert parse_ports(["80", "8080,9090"]) == [80, 8080, 9090]
    with pytest.raises(ValueError):
        parse_ports(["0"])
    with pytest.raises(ValueError):
        parse_ports(["http"])


def test_exit_status_carries_the_code() -> None:
    assert exit_status(0, ["true"]) == {"metadata": {}, "status": "Success"}
    failed = exit_status(3, ["sh"])
    assert failed["reason"] == "NonZeroExitCode" and failed["details"]["causes"] == [{"reason": "ExitCode",
                                                                                     "message": "3"}]
