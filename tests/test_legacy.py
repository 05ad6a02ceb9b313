"""DynamicKey v1–v5 and Signaling tokens: every official vector reproduced, parsed back and verified."""

from __future__ import annotations

from typing import Any

import pytest

from agora_token import TokenError, legacy

from .common import VECTORS

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)

LEGACY = [v for v in VECTORS if v["format"] in {"dk1", "dk2", "dk3", "dk4", "dk5", "signaling"}]
DK4_FUNCTIONS = {
    "generatePublicSharingKey": "public_sharing",
    "generateRecordingKey": "recording",
    "generateMediaChannelKey": "media_channel",
}
DK5_FUNCTIONS = {
    "generatePublicSharingKey": legacy.DynamicKey5Service.PUBLIC_SHARING,
    "generateRecordingKey": legacy.DynamicKey5Service.RECORDING,
    "generateMediaChannelKey": legacy.DynamicKey5Service.MEDIA_CHANNEL,
}


def build(vector: dict[str, Any]) -> str:
    """The key the vector describes, built by this package."""
    i = vector["inputs"]
    fmt = vector["format"]
    if fmt == "signaling":
        return legacy.build_signaling_token(i["app_id"], i["app_certificate"], i["account"], i["expired_ts"])
    base = (i["app_id"], i["app_certificate"], i["channel_name"])
    fixed = {"issue_ts": i["unix_ts"], "salt": i["random_int"]}
    if fmt == "dk1":
        return legacy.build_dynamic_key1(*base, **fixed)
    args = (*base, int(i["uid"]), i["expired_ts"])  # the C# fixtures write the uid as a string
    if fmt == "dk2":
        return legacy.build_dynamic_key2(*args, **fixed)
    if fmt == "dk3":
        return legacy.build_dynamic_key3(*args, **fixed)
    if fmt == "dk4":
        return legacy.build_dynamic_key4(*args, DK4_FUNCTIONS[vector["function"]], **fixed)
    if vector.get("function") == "generateInChannelPermissionKey":
        return legacy.build_dynamic_key5_in_channel_permission(*args, i["permission"], **fixed)
    service = DK5_FUNCTIONS[vector["function"]] if "function" in vector else i["service_type"]
    return legacy.build_dynamic_key5(*args, service, **fixed)


def test_every_legacy_vector_is_covered():
    assert {v["format"] for v in LEGACY} == {"dk1", "dk2", "dk3", "dk4", "dk5", "signaling"}
    assert len(LEGACY) == 18


@pytest.mark.parametrize("vector", LEGACY, ids=[v["id"] for v in LEGACY])
def test_vector_reproduced_exactly(vector):
    key = build(vector)
    if vector["id"].endswith(("-signature", "-signature-recording")):
        # Signature-only vectors: the hex HMAC inside the key (Ruby prints DK5's in lowercase).
        assert legacy.parse(key).signature.lower() == vector["expected"].lower()
    else:
        assert key == vector["expected"]


@pytest.mark.parametrize("vector", [v for v in LEGACY if "signature" not in v["id"]], ids=lambda v: v["id"])
def test_vector_parses_and_verifies(vector):
    i = vector["inputs"]
    parsed = legacy.parse(vector["expected"])
    assert parsed.format == vector["format"]
    assert parsed.app_id.lower() == i["app_id"].lower()
    assert parsed.expired_ts == i.get("expired_ts")
    if vector["format"] != "signaling":
        assert (parsed.issue_ts, parsed.salt) == (i["unix_ts"], i["random_int"])
    if vector["format"] in ("dk2", "dk3"):
        assert parsed.uid == int(i["uid"])
    uid = int(i["uid"]) if "uid" in i else None
    inputs = {"channel": i.get("channel_name"), "uid": uid, "account": i.get("account")}
    assert parsed.verify(i["app_certificate"], **inputs)
    assert not parsed.verify("0" * 32, **inputs)
    if vector["format"] == "signaling":
        assert not parsed.verify(i["app_certificate"], account=i["account"] + "x")
    else:
        assert not parsed.verify(i["app_certificate"], **{**inputs, "channel": i["channel_name"] + "x"})


@pytest.mark.parametrize("vector", [v for v in LEGACY if v["format"] == "dk4"], ids=lambda v: v["id"])
def test_dk4_service_is_found_from_the_signature(vector):
    i = vector["inputs"]
    parsed = legacy.parse(vector["expected"])
    assert (
        parsed.dk4_service(i["app_certificate"], i["channel_name"], int(i["uid"])) == DK4_FUNCTIONS[vector["function"]]
    )
    assert parsed.dk4_service(i["app_certificate"], i["channel_name"], int(i["uid"]) + 1) is None


def test_dk5_fields_and_extra():
    (vector,) = [v for v in LEGACY if v["id"] == "dk5-in-channel-audio-video-upload"]
    parsed = legacy.parse(vector["expected"])
    assert parsed.service == legacy.DynamicKey5Service.IN_CHANNEL_PERMISSION
    assert parsed.extra == {legacy.ALLOW_UPLOAD_IN_CHANNEL: legacy.AUDIO_VIDEO_UPLOAD}
    assert parsed.signature == parsed.signature.upper()


def test_verify_names_what_is_missing():
    (vector,) = [v for v in LEGACY if v["id"] == "dk5-media-channel"]
    parsed = legacy.parse(vector["expected"])
    with pytest.raises(ValueError, match="channel and uid"):
        parsed.verify(vector["inputs"]["app_certificate"])


def test_defaults_are_now_and_random():
    app_id, cert = "970ca35de60c44645bbae8a215061b33", "5cfd2fd1755d40ecb72977518be15d3b"
    a = legacy.parse(legacy.build_dynamic_key5(app_id, cert, "ch", 7, 0))
    b = legacy.parse(legacy.build_dynamic_key5(app_id, cert, "ch", 7, 0))
    assert a.salt != b.salt or a.issue_ts != b.issue_ts
    assert a.verify(cert, channel="ch", uid=7)


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: legacy.build_dynamic_key1("xyz", "5cfd2fd1755d40ecb72977518be15d3b", "c"), ValueError),
        (lambda: legacy.build_dynamic_key1("970ca35de60c44645bbae8a215061b33", "nothex", "c"), ValueError),
        (lambda: legacy.build_dynamic_key2("970ca35de60c44645bbae8a215061b33", "5cfd2fd1755d40ecb72977518be15d3b",
                                           "c", -1, 0), ValueError),
        (lambda: legacy.build_dynamic_key3("970ca35de60c44645bbae8a215061b33", "5cfd2fd1755d40ecb72977518be15d3b",
                                           "c", "12", 0), TypeError),
        (lambda: legacy.build_dynamic_key4("970ca35de60c44645bbae8a215061b33", "5cfd2fd1755d40ecb72977518be15d3b",
                                           "c", 1, 0, "video"), ValueError),
        (lambda: legacy.build_dynamic_key5("970ca35de60c44645bbae8a215061b33", "5cfd2fd1755d40ecb72977518be15d3b",
                                           "c", 1, 0, 9), ValueError),
        (lambda: legacy.build_dynamic_key5("970ca35de60c44645bbae8a215061b33", "5cfd2fd1755d40ecb72977518be15d3b",
                                           "c", 1, 2**32), ValueError),
        (lambda: legacy.build_dynamic_key5_in_channel_permission(
            "970ca35de60c44645bbae8a215061b33", "5cfd2fd1755d40ecb72977518be15d3b", "c", 1, 0, "1"), ValueError),
        (lambda: legacy.build_signaling_token("970ca35de60c44645bbae8a215061b33", "5cfd2fd1755d40ecb72977518be15d3b",
                                              "", 0), ValueError),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_without_echoing_the_certificate(call, error):
    with pytest.raises(error) as info:
        call()
    assert "5cfd2fd1755d40ecb72977518be15d3b" not in str(info.value)


@pytest.mark.parametrize(
    "text",
    ["", "005", "005!!!!", "005AAAA", "003" + "0" * 100, "1:abc", "1:970ca35de60c44645bbae8a215061b33:12:zz", "x" * 90],
)
def test_parse_refuses_what_is_not_a_legacy_key(text):
    with pytest.raises(TokenError):
        legacy.parse(text)
