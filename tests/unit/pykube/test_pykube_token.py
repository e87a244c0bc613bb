"""Node tokens: format, parsing errors, the CA hash, the token file."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from pykube.token import (NodeToken, TokenError, ca_hash, ensure_node_token, parse,
                          secret_from_flag, token_path)

CA = b"-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def test_round_trip() -> None:
    t = NodeToken(ca_hash(CA), "s3cretvalue")
    assert str(t) == f"K10{hashlib.sha256(CA).hexdigest()}::node:s3cretvalue"
    assert parse(str(t)) == t
    assert parse(f"  {t}\n") == t
    assert t.bearer == "s3cretvalue"
    assert t.matches_ca(CA) and not t.matches_ca(CA + b"x")


@pytest.mark.parametrize("text,why", [
    ("s3cretvalue", "does not start with K10"),
    ("K10abc", "no '::'"),
    ("K10" + "a" * 63 + "::node:s3cretvalue", "64 lowercase hex"),
    ("K10" + "A" * 64 + "::node:s3cretvalue", "64 lowercase hex"),
    ("K10" + "a" * 64 + "::nodes3cretvalue", "<user>:<secret>"),
    ("K10" + "a" * 64 + "::node:short", "too short"),
    ("K10" + "a" * 64 + "::node:has space in it", "too short or has characters"),
])
def test_bad_tokens_say_why(text: str, why: str) -> None:
    with pytest.raises(TokenError, match=why.replace("(", r"\(").replace("'", "'")):
        parse(text)


def test_server_flag_takes_a_secret_or_a_full_token() -> None:
    assert secret_from_flag("mysecret123") == "mysecret123"
    assert secret_from_flag(str(NodeToken("b" * 64, "fromtoken1"))) == "fromtoken1"
    with pytest.raises(TokenError):
        secret_from_flag("short")


def test_token_file_is_kept_and_follows_the_ca(tmp_path: Path) -> None:
    first = ensure_node_token(tmp_path, CA)
    assert token_path(tmp_path).stat().st_mode & 0o777 == 0o600
    assert parse(token_path(tmp_path).read_text()) == first
    assert ensure_node_token(tmp_path, CA) == first                  # same secret next start
    other_ca = ensure_node_token(tmp_path, CA + b"\n")
    assert other_ca.secret == first.secret and other_ca.ca_hash != first.ca_hash
    given = ensure_node_token(tmp_path, CA, "chosen-secret")
    assert given.secret == "chosen-secret"
    assert parse(token_path(tmp_path).read_text()) == given
