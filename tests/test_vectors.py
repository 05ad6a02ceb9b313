"""Every official 006/007 vector, reproduced and parsed through the core classes on both backends."""

from __future__ import annotations

import base64
import zlib

import pytest

from agora_token import AccessToken, AccessToken2, TokenError

from .common import VECTORS, payload, token006_from_vector, token007_from_vector, vectors

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)

V006 = vectors(VECTORS, "006")
V007 = vectors(VECTORS, "007")
# Full 007 strings depend on zlib's exact output (docs/format.md, "Compression"), so compare them only where this
# Python's zlib deflates an official payload to the official bytes (stock zlib, not zlib-ng).
_SENTINEL = next(v["expected"] for v in V007 if v["verified_by_python3"])
STOCK_ZLIB = zlib.compress(payload(_SENTINEL)) == base64.b64decode(_SENTINEL[3:])


def _ids(items):
    return [v["id"] for v in items]


@pytest.mark.parametrize("vector", V006, ids=_ids(V006))
def test_006_vector_reproduces(vector):
    token = token006_from_vector(vector["inputs"])
    assert token.build() == vector["expected"]


@pytest.mark.parametrize("vector", V006, ids=_ids(V006))
def test_006_vector_parses_and_verifies(vector):
    inputs = vector["inputs"]
    parsed = AccessToken.parse(vector["expected"])
    assert parsed.app_id == inputs["app_id"]
    assert (parsed.salt, parsed.ts) == (inputs["salt"], inputs["ts"])
    assert parsed.privileges == {int(k): v for k, v in inputs["privileges"].items()}
    assert parsed.verify(inputs["app_certificate"], inputs["channel_name"], inputs["uid"])
    assert not parsed.verify(inputs["app_certificate"], inputs["channel_name"] + "x", inputs["uid"])
    assert not parsed.verify("0" * 32, inputs["channel_name"], inputs["uid"])


@pytest.mark.parametrize("vector", V007, ids=_ids(V007))
def test_007_vector_reproduces(vector):
    token = token007_from_vector(vector["inputs"]).build()
    assert payload(token) == payload(vector["expected"])
    if "uncompressed_hex" in vector:
        assert payload(token).hex() == vector["uncompressed_hex"]
    if vector["verified_by_python3"] and STOCK_ZLIB:
        assert token == vector["expected"]


@pytest.mark.skipif(hasattr(zlib, "ZLIBNG_VERSION"), reason="this interpreter's zlib module is zlib-ng")
def test_stock_zlib_sentinel_holds_here():
    """Where Python links stock zlib (this project's machines), the full-string checks above run."""
    assert STOCK_ZLIB


@pytest.mark.parametrize("vector", V007, ids=_ids(V007))
def test_007_vector_parses_and_verifies(vector):
    inputs = vector["inputs"]
    parsed = AccessToken2.parse(vector["expected"])
    expected = token007_from_vector(inputs)
    assert (parsed.app_id, parsed.issue_ts, parsed.expire, parsed.salt) == (
        inputs["app_id"], inputs["issue_ts"], inputs["expire"], inputs["salt"],
    )  # fmt: skip
    # The wire orders services by type, keeping insertion order within a type.
    assert parsed.services == sorted(expected.services, key=lambda s: s.service_type)
    assert parsed.verify(inputs["app_certificate"])
    assert not parsed.verify(inputs["app_certificate"][::-1])


def test_007_parse_vector():
    (vector,) = vectors(VECTORS, "007", "parse")
    parsed = AccessToken2.parse(vector["expected"])
    facts = vector["parsed"]
    assert parsed.app_id == facts["app_id"]
    assert parsed.issue_ts == facts["issue_ts"] and parsed.expire == facts["expire"] and parsed.salt == facts["salt"]
    assert [(s.service_type, s.privileges, s.fields()) for s in parsed.services] == [
        (spec["type"], {int(k): v for k, v in spec["privileges"].items()}, spec["fields"]) for spec in facts["services"]
    ]


def test_007_malformed_vector_raises_token_error():
    (vector,) = vectors(VECTORS, "007", "parse-negative")
    with pytest.raises(TokenError):
        AccessToken2.parse(vector["expected"])
