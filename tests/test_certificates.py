"""Primary and secondary App Certificates: the 006 and 007 models' ``verify``/``signed_by``, and the CLI's
``verify`` and ``inspect`` with ``APP_CERTIFICATE_SECONDARY`` or ``--app-certificate-secondary-file``.

The models compute signatures with the kernel, so those tests run on both kernels; the CLI tests too,
as what they check is which certificate the kernel's signature matched.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agora_token import AccessToken, AccessToken2, build_rtc_token, build_rtm_token, legacy
from agora_token.cli import main

from .common import APP_ID, CERT, OTHER_CERT

pytestmark = pytest.mark.usefixtures("backend")

THIRD_CERT = "fedcba9876543210fedcba9876543210"
NOW = 1_700_000_000


def _token007(certificate: str = CERT) -> AccessToken2:
    return AccessToken2.parse(build_rtc_token(APP_ID, certificate, "demo", uid=42, issue_ts=NOW, salt=1))


def _token006(certificate: str = CERT) -> AccessToken:
    return AccessToken.parse(build_rtc_token(APP_ID, certificate, "demo", uid=42, version="006", salt=1, issue_ts=NOW))


def test_007_names_the_certificate_that_signed() -> None:
    token = _token007(CERT)
    assert token.signed_by(CERT) == "primary"
    assert token.signed_by(CERT, secondary_certificate=OTHER_CERT) == "primary"
    assert token.signed_by(OTHER_CERT, secondary_certificate=CERT) == "secondary"
    assert token.signed_by(OTHER_CERT, secondary_certificate=THIRD_CERT) is None
    assert token.signed_by(OTHER_CERT) is None
    # verify keeps its one-certificate form and takes the secondary as a keyword.
    assert token.verify(CERT) and not token.verify(OTHER_CERT)
    assert token.verify(OTHER_CERT, secondary_certificate=CERT)
    assert not token.verify(OTHER_CERT, secondary_certificate=THIRD_CERT)
    # The signature keys on the certificate's text as given: another spelling is another key (as in Agora's code).
    assert token.signed_by(OTHER_CERT, secondary_certificate=CERT.upper()) is None


def test_006_names_the_certificate_that_signed_for_its_channel_and_uid() -> None:
    token = _token006(OTHER_CERT)
    assert token.signed_by(CERT, "demo", 42, secondary_certificate=OTHER_CERT) == "secondary"
    assert token.signed_by(OTHER_CERT, "demo", "42") == "primary"
    assert token.verify(CERT, "demo", 42, secondary_certificate=OTHER_CERT)
    assert not token.verify(CERT, "demo", 42)
    # Another channel or uid: neither certificate can have signed it.
    assert token.signed_by(CERT, "other", 42, secondary_certificate=OTHER_CERT) is None
    assert token.signed_by(CERT, "demo", 43, secondary_certificate=OTHER_CERT) is None


@pytest.mark.parametrize("parsed", [_token007, _token006], ids=["007", "006"])
def test_a_malformed_secondary_is_refused_by_name_even_when_the_primary_signed(parsed: object) -> None:
    token = parsed()  # type: ignore[operator]
    args = (CERT,) if isinstance(token, AccessToken2) else (CERT, "demo", 42)
    with pytest.raises(ValueError, match=r"^secondary_certificate must be 32 hexadecimal characters \(got 5") as info:
        token.signed_by(*args, secondary_certificate="abcde")
    assert "abcde" not in str(info.value)
    with pytest.raises(TypeError, match="^secondary_certificate must be"):
        token.verify(*args, secondary_certificate=b"0" * 32)
    with pytest.raises(ValueError, match="^app_certificate must be"):
        token.signed_by("nope", *args[1:], secondary_certificate=CERT)


def test_verify_and_signed_by_need_a_parsed_token() -> None:
    built = AccessToken2(APP_ID, CERT)
    with pytest.raises(ValueError, match="checks a parsed token"):
        built.signed_by(CERT, secondary_certificate=OTHER_CERT)
    with pytest.raises(ValueError, match="checks a parsed token"):
        AccessToken(APP_ID, CERT, "demo", 1).signed_by(CERT, "demo", 1)


# --------------------------------------------------------------------------------------------------
# the command line


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("APP_ID", "APP_CERTIFICATE", "AGORA_APP_CERTIFICATE", "APP_CERTIFICATE_SECONDARY",
                 "AGORA_APP_CERTIFICATE_SECONDARY"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AGORA_APP_ID", APP_ID)
    return monkeypatch


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    for text in (out, err):
        assert CERT.lower() not in text.lower() and OTHER_CERT not in text and "Traceback" not in text
    return status, out, err


def test_cli_verify_says_which_certificate_signed(capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch,
                                                 tmp_path: Path) -> None:  # fmt: skip
    old = build_rtc_token(APP_ID, CERT, "demo", uid=42, issue_ts=NOW, expire=600)
    new = build_rtc_token(APP_ID, OTHER_CERT, "demo", uid=42, issue_ts=NOW, expire=600)
    env.setenv("APP_CERTIFICATE", OTHER_CERT)
    env.setenv("APP_CERTIFICATE_SECONDARY", CERT)
    status, out, _ = _cli(capsys, "verify", old, "--now", str(NOW + 60))
    assert status == 0 and out.startswith("valid: signature and expiry checked (007 token, expires ")
    assert out.rstrip().endswith(", signed with the secondary certificate)")
    status, out, _ = _cli(capsys, "verify", new, "--now", str(NOW + 60))
    assert status == 0 and out.rstrip().endswith(", signed with the primary certificate)")
    # A token of neither: refused, and the message says both were tried.
    other = build_rtc_token(APP_ID, THIRD_CERT, "demo", uid=42, issue_ts=NOW, expire=600)
    status, out, _ = _cli(capsys, "verify", other, "--now", str(NOW + 60))
    assert status == 1 and "the signature does not match either App Certificate" in out
    # The same from a file instead of the variable.
    env.delenv("APP_CERTIFICATE_SECONDARY")
    path = tmp_path / "secondary"
    path.write_text(CERT + "\n")
    status, out, _ = _cli(capsys, "verify", old, "--app-certificate-secondary-file", str(path), "--now", str(NOW + 60))
    assert status == 0 and "signed with the secondary certificate" in out
    # Without a secondary, the answer is as before: one certificate, nothing to tell apart.
    status, out, _ = _cli(capsys, "verify", new, "--now", str(NOW + 60))
    assert status == 0 and "signed with" not in out
    status, out, _ = _cli(capsys, "verify", old, "--now", str(NOW + 60))
    assert status == 1 and "the signature does not match this App Certificate" in out


def test_cli_inspect_reports_the_signer(capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch) -> None:
    token006 = build_rtm_token(APP_ID, CERT, "bob", version="006", issue_ts=NOW, expire=600)
    token007 = build_rtc_token(APP_ID, CERT, "demo", uid=42, issue_ts=NOW, expire=600)
    env.setenv("APP_CERTIFICATE", OTHER_CERT)
    env.setenv("AGORA_APP_CERTIFICATE_SECONDARY", CERT)
    status, out, _ = _cli(capsys, "inspect", token007, "--json", "--now", str(NOW + 60))
    report = json.loads(out)
    assert status == 0 and (report["signature_valid"], report["signed_by"]) == (True, "secondary")
    assert report["signature_note"] == (
        "checked with the primary and secondary App Certificates; signed with the secondary certificate"
    )
    status, out, _ = _cli(capsys, "inspect", token007, "--now", str(NOW + 60))
    assert (
        "Signature:  valid; checked with the primary and secondary App Certificates; signed with the secondary" in out
    )
    # A 006 RTM token signs the user id in the channel's place: checked with both certificates as well.
    status, out, _ = _cli(capsys, "inspect", token006, "--account", "bob", "--json", "--now", str(NOW + 60))
    report = json.loads(out)
    assert status == 0 and (report["signature_valid"], report["signed_by"]) == (True, "secondary")
    # A legacy key too.
    key = legacy.build_dynamic_key5(APP_ID, CERT, "demo", 7, NOW + 600, issue_ts=NOW, salt=1)
    status, out, _ = _cli(capsys, "inspect", key, "--channel", "demo", "--uid", "7", "--json", "--now", str(NOW + 60))
    assert json.loads(out)["signed_by"] == "secondary"
    # One certificate: signed_by is still given, and the note does not talk of two.
    env.delenv("AGORA_APP_CERTIFICATE_SECONDARY")
    env.setenv("APP_CERTIFICATE", CERT)
    status, out, _ = _cli(capsys, "inspect", token007, "--json", "--now", str(NOW + 60))
    report = json.loads(out)
    assert (report["signed_by"], report["signature_note"]) == ("primary", "checked with the App Certificate")


def test_cli_secondary_certificate_refusals(capsys: pytest.CaptureFixture[str], env: pytest.MonkeyPatch,
                                           tmp_path: Path) -> None:  # fmt: skip
    token = build_rtc_token(APP_ID, CERT, "demo", uid=42)
    env.setenv("APP_CERTIFICATE_SECONDARY", CERT)
    # inspect without a primary: a secondary alone is a usage error, not silently the primary.
    status, _, err = _cli(capsys, "inspect", token)
    assert status == 2 and err.startswith("agora-token: error: a secondary App Certificate (from "
                                          "APP_CERTIFICATE_SECONDARY) needs the primary one too")  # fmt: skip
    env.setenv("APP_CERTIFICATE", CERT)
    env.setenv("APP_CERTIFICATE_SECONDARY", CERT[:-1] + "z")
    status, _, err = _cli(capsys, "verify", token)
    assert status == 2 and err == (
        "agora-token: error: secondary_certificate must be 32 hexadecimal characters (0-9, a-f); it has 32, not all "
        "of them hex (from APP_CERTIFICATE_SECONDARY)\n"
    )
    env.delenv("APP_CERTIFICATE_SECONDARY")
    empty = tmp_path / "empty"
    empty.write_text("\n")
    status, _, err = _cli(capsys, "verify", token, "--app-certificate-secondary-file", str(empty))
    assert status == 2 and err.startswith("agora-token: error: the secondary App Certificate from file ")
    status, _, err = _cli(capsys, "verify", token, "--app-certificate-secondary-file", str(tmp_path / "missing"))
    assert status == 2 and "cannot read the secondary App Certificate file" in err
