"""The ``agora-token`` command: builds every kind of token, inspects any token, and fails in one line.

Most cases call ``main([...])`` in-process (fast); a few run the installed console script in a
subprocess to prove what a user gets after ``pip install``. The command line sits above the kernel,
so the tests run once, on the kernel the package chose (conftest.py); the few whose assertions read
what the kernel itself parsed or said (official vectors inspected, tokens it refuses, the backend
named by --version) run on both.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, Optional

import pytest

from agora_token import AccessToken, AccessToken2, ServiceType, legacy
from agora_token.cli import main

from .common import APP_ID, CERT, OTHER_CERT, UNKNOWN_SERVICE_TYPE, VECTORS

SCRIPT = Path(sys.executable).with_name("agora-token" + (".exe" if os.name == "nt" else ""))
NOW = 1_700_000_000


@pytest.fixture(autouse=True)
def credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo credentials in the environment, as an operator would set them."""
    monkeypatch.setenv("AGORA_APP_ID", APP_ID)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", CERT)
    # The short names win over the AGORA_ ones (credentials.py): an operator's own must not leak in.
    monkeypatch.delenv("APP_ID", raising=False)
    monkeypatch.delenv("APP_CERTIFICATE", raising=False)


def _no_secret(*texts: str) -> None:
    for text in texts:
        assert CERT.lower() not in text.lower(), "the App Certificate leaked into the output"
        assert "Traceback" not in text


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main`` in-process; return (status, stdout, stderr)."""
    status = main(list(argv))
    out, err = capsys.readouterr()
    _no_secret(out, err)
    return status, out, err


def script(
    *argv: str, stdin: Optional[str] = None, env: Optional[dict[str, str]] = None
) -> subprocess.CompletedProcess:
    """Run the installed console script (its backend: the environment's, or the one the fixture set)."""
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(
        [str(SCRIPT), *argv], input=stdin, capture_output=True, text=True, env=full_env, timeout=60
    )  # fmt: skip
    _no_secret(done.stdout, done.stderr)
    return done


def build(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    status, out, err = cli(capsys, *argv)
    assert (status, err) == (0, ""), err
    assert out.endswith("\n") and out.count("\n") == 1, "the token alone goes to stdout"
    return out.strip()


def inspect_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, dict[str, Any]]:
    status, out, err = cli(capsys, "inspect", *argv, "--json")
    assert err == ""
    return status, json.loads(out)


def token007(capsys: pytest.CaptureFixture[str], *argv: str) -> AccessToken2:
    token = AccessToken2.parse(build(capsys, *argv))
    assert token.verify(CERT)
    assert token.app_id == APP_ID
    return token


# --------------------------------------------------------------------------------------------------
# The installed script


def test_installed_script_builds_and_inspects(tmp_path: Path):
    assert SCRIPT.exists(), f"console script not installed next to {sys.executable}"
    cert_file = tmp_path / "cert"
    cert_file.write_text(f"  {CERT}\n")
    env = {"AGORA_APP_CERTIFICATE": ""}
    done = script("rtc", "--channel", "demo", "--uid", "42", "--app-certificate-file", str(cert_file), env=env)
    assert (done.returncode, done.stderr) == (0, "")
    token = AccessToken2.parse(done.stdout.strip())
    assert token.verify(CERT)
    (rtc,) = token.services
    assert (rtc.channel_name, rtc.uid, sorted(rtc.privileges)) == ("demo", "42", [1, 2, 3, 4])

    # The same token through stdin, checked against the join that fails.
    done = script("inspect", "-", "--channel", "Demo", "--uid", "42", stdin=done.stdout)
    assert done.returncode == 1  # it reports error 110: a script can catch that
    assert "Signature:  valid" in done.stdout
    assert "error 110" in done.stdout and '"Demo"' in done.stdout

    done = script("inspect", "-", stdin="", env=env)
    assert done.returncode == 2 and done.stderr.startswith("agora-token: error: no token")


def test_installed_script_other_formats():
    done = script("rtc", "--channel", "demo", "--account", "alice", "--format", "006")
    assert done.returncode == 0
    assert AccessToken.parse(done.stdout.strip()).verify(CERT, "demo", "alice")

    done = script("dk5", "--channel", "demo", "--uid", "7", "--service", "recording")
    assert done.returncode == 0
    assert legacy.parse(done.stdout.strip()).verify(CERT, channel="demo", uid=7)

    done = subprocess.run(
        [sys.executable, "-m", "agora_token", "chat", "--app", "--expire", "600"], capture_output=True, text=True
    )  # fmt: skip
    assert done.returncode == 0
    assert AccessToken2.parse(done.stdout.strip()).services[0].privileges == {2: 600}


def test_installed_script_exit_codes():
    vector = next(v for v in VECTORS if v["id"] == "007-rtc-account.go-flate")
    done = script("inspect", vector["expected"], "--json")
    assert done.returncode == 1  # long expired: error 109 is a problem a script must see
    report = json.loads(done.stdout)
    assert report["signature_valid"] is True and [p["error"] for p in report["diagnosis"]] == [109]

    done = script("inspect", vector["expected"], env={"AGORA_APP_CERTIFICATE": OTHER_CERT})
    assert done.returncode == 1
    assert "INVALID" in done.stdout and "error 110" in done.stdout

    done = script("rtc", "--channel", "demo", "--uid", "nope")
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "--uid" in done.stderr

    done = script("--version")
    assert done.returncode == 0 and done.stdout.startswith("agora-token ")


@pytest.mark.parametrize(
    "argv",
    [
        ["inspect", "007eJxTYLC/xv0i87343FLb46KrG9gPxT+Vj8pojqvt"],
        ["inspect", "\udcff\udcfe"],
        ["rtc", "--channel", "a" * 65, "--uid", "1"],
        ["rtc", "--channel", "demo", "--uid", "1", "--app-certificate-file", "/nonexistent/cert"],
    ],
    ids=["truncated-007", "undecodable-arg", "long-channel", "missing-cert-file"],
)
def test_installed_script_bad_input_is_one_line(argv: list[str]):
    done = subprocess.run(
        [str(SCRIPT), *argv], capture_output=True, env=os.environ.copy(), timeout=60
    )  # bytes: argv may hold undecodable text  # fmt: skip
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2
    assert done.stdout == b""
    assert stderr.startswith("agora-token") and stderr.count("\n") == 1
    _no_secret(stderr)


# --------------------------------------------------------------------------------------------------
# Every builder, in-process


def test_rtc_publisher_and_subscriber(capsys):
    token = token007(capsys, "rtc", "--channel", "demo", "--uid", "42", "--expire", "600")
    assert token.expire == 600
    assert token.services[0].privileges == {1: 600, 2: 600, 3: 600, 4: 600}
    token = token007(
        capsys, "rtc", "--channel", "demo", "--account", "alice", "--role", "subscriber", "--privilege-expire", "60"
    )  # fmt: skip
    assert (token.services[0].uid, token.services[0].privileges) == ("alice", {1: 60})
    assert token007(capsys, "rtc", "--channel", "demo", "--uid", "0").services[0].uid == ""


def test_rtc_006(capsys):
    token = AccessToken.parse(build(capsys, "rtc", "--channel", "demo", "--uid", "9", "--format", "006"))
    assert token.verify(CERT, "demo", 9)
    assert sorted(token.privileges) == [1, 2, 3, 4]


def test_rtc_privileges_and_rtc_rtm(capsys):
    token = token007(
        capsys, "rtc-privileges", "--channel", "c", "--uid", "1", "--join-expire", "100", "--publish-video-expire", "50"
    )  # fmt: skip
    assert token.services[0].privileges == {1: 100, 2: 3600, 3: 50, 4: 3600}
    token = token007(capsys, "rtc-rtm", "--channel", "c", "--account", "bob", "--rtm-expire", "30")
    assert [s.service_type for s in token.services] == [ServiceType.RTC, ServiceType.RTM]
    assert (token.services[1].user_id, token.services[1].privileges) == ("bob", {1: 30})


def test_rtm_rtm2_and_006(capsys):
    token = token007(capsys, "rtm", "--user-id", "bob")
    assert (token.services[0].service_type, token.services[0].user_id) == (ServiceType.RTM, "bob")
    token = token007(
        capsys, "rtm", "--user-id", "bob", "--permission", "message_channels:read:a,b", "--permission", "users:write"
    )  # fmt: skip
    assert token.services[0].service_type == ServiceType.RTM2
    assert token.services[0].permissions.as_dict() == {0: {0: ["a", "b"]}, 4: {1: []}}
    token = token007(capsys, "rtm2", "--user-id", "bob")
    assert token.services[0].service_type == ServiceType.RTM2
    rtm006 = AccessToken.parse(build(capsys, "rtm", "--user-id", "bob", "--format", "006"))
    assert rtm006.verify(CERT, "bob", "") and list(rtm006.privileges) == [1000]


def test_chat_apaas_education_fpa(capsys):
    assert token007(capsys, "chat", "--user-id", "u").services[0].fields() == {"user_id": "u"}
    assert token007(capsys, "chat", "--app").services[0].privileges == {2: 3600}
    room = token007(capsys, "apaas", "--room-uuid", "r", "--user-uuid", "u", "--role", "2")
    assert [s.service_type for s in room.services] == [ServiceType.RTM, ServiceType.CHAT, ServiceType.APAAS]
    assert room.services[2].fields() == {"room_uuid": "r", "user_uuid": "u", "role": 2}
    assert token007(capsys, "education", "--user-uuid", "u").services[0].privileges == {2: 3600}
    assert token007(capsys, "apaas", "--app").services[0].privileges == {3: 3600}
    fpa = token007(capsys, "fpa")
    assert (fpa.expire, fpa.services[0].privileges) == (86400, {1: 0})


def test_streaming_fcdn_convoai_stt(capsys):
    streaming = token007(capsys, "streaming", "--channel", "c", "--uid", "3", "--no-publish-raw-stream")
    assert streaming.services[0].privileges == {1: 3600}
    fcdn = token007(capsys, "fcdn", "--channel", "c", "--account", "x", "--no-publish")
    assert (fcdn.services[0].account, fcdn.services[0].privileges) == ("x", {2: 3600})
    for name, kind in (("convoai", ServiceType.CONVOAI), ("stt", ServiceType.STT)):
        token = token007(capsys, name, "--channel", "c", "--uid", "9", "--rtm-user-id", "agent")
        assert [s.service_type for s in token.services] == [ServiceType.RTC, ServiceType.RTM, kind]


def test_legacy_builders(capsys):
    fixed = ("--issue-ts", str(NOW), "--salt", "5")
    keys = {
        name: legacy.parse(build(capsys, name, "--channel", "c", *(() if name == "dk1" else ("--uid", "4")), *fixed))
        for name in ("dk1", "dk2", "dk3", "dk4", "dk5")
    }
    for name, key in keys.items():
        assert key.format == name and key.issue_ts == NOW and key.salt == 5
        assert key.verify(CERT, channel="c", uid=4)
    assert keys["dk2"].expired_ts == NOW + 3600
    dk5 = legacy.parse(build(capsys, "dk5", "--channel", "c", "--uid", "4", "--service", "in_channel_permission",
                             "--upload", "audio-video"))  # fmt: skip
    assert dk5.extra == {1: "3"}
    signaling = legacy.parse(build(capsys, "signaling", "--account", "bob", "--expire", "60", *fixed))
    assert signaling.verify(CERT, account="bob") and signaling.expired_ts == NOW + 60


def test_certificate_sources(capsys, monkeypatch, tmp_path):
    monkeypatch.delenv("AGORA_APP_CERTIFICATE")
    status, _, err = cli(capsys, "rtm", "--user-id", "u")
    assert status == 2 and "AGORA_APP_CERTIFICATE" in err
    path = tmp_path / "cert.txt"
    path.write_text(CERT + "\n\n")
    token007(capsys, "rtm", "--user-id", "u", "--app-certificate-file", str(path))
    token007(capsys, "rtm", "--user-id", "u", "--app-certificate", CERT, "--app-id", APP_ID)
    path.write_text("not a certificate " + CERT)
    status, _, err = cli(capsys, "rtm", "--user-id", "u", "--app-certificate-file", str(path))
    assert status == 2 and str(path) in err
    status, _, err = cli(capsys, "rtm", "--user-id", "u", "--app-certificate-file", str(tmp_path / "absent"))
    assert status == 2 and "absent" in err and "cannot read" in err
    status, _, err = cli(capsys, "rtm", "--user-id", "u", "--app-certificate-file", str(tmp_path))
    assert status == 2 and str(tmp_path) in err


def test_help_warns_that_the_command_line_is_visible(capsys):
    assert main(["rtc", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "--app-certificate CERT" in out and "visible to other users" in out


# --------------------------------------------------------------------------------------------------
# inspect


def _vector_join(vector: dict[str, Any]) -> list[str]:
    i = vector["inputs"]
    args: list[str] = []
    if vector["format"] == "signaling":
        return ["--account", i["account"]]
    if vector["format"] == "006" and 1000 in {int(k) for k in i["privileges"]}:
        return ["--account", i["channel_name"]]  # RTM 006: the user id takes the channel's place
    if "channel_name" in i:
        args += ["--channel", i["channel_name"]]
    uid = i.get("uid")
    if isinstance(uid, int) or (vector["format"].startswith("dk") and uid is not None):
        args += ["--uid", str(uid)]
    elif isinstance(uid, str):
        args += ["--account", uid] if uid else ["--uid", "0"]
    return args


INSPECTABLE = [v for v in VECTORS if v["kind"] == "build" and "signature" not in v["id"]]


@pytest.mark.usefixtures("backend")  # the fields and signatures shown are what each kernel parsed
@pytest.mark.parametrize("vector", INSPECTABLE, ids=[v["id"] for v in INSPECTABLE])
def test_inspect_every_official_vector(capsys, monkeypatch, vector):
    i = vector["inputs"]
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", i["app_certificate"])
    args = [vector["expected"]]
    if vector["format"] != "007":
        args += _vector_join(vector)  # 006 and legacy signatures also cover the channel and user
    status, report = inspect_json(capsys, *args)
    assert report["signature_valid"] is True
    assert report["app_id"].lower() == i["app_id"].lower()
    # Every official vector is from the past; a DK1 key stores no expiry at all.
    assert report["expired"] is (None if vector["format"] == "dk1" else True)
    # inspect exits 1 whenever it reports a problem: here error 109 for every vector that expires.
    errors = [p["error"] for p in report["diagnosis"]]
    assert status == (1 if errors else 0)
    assert (109 in errors) is (vector["format"] != "dk1")
    if vector["format"] == "007":
        assert (report["issue_ts"], report["expire"], report["salt"]) == (i["issue_ts"], i["expire"], i["salt"])
        assert sorted(s["type"] for s in report["services"]) == sorted(s["type"] for s in i["services"])
    elif vector["format"] == "006":
        assert (report["salt"], report["expire"]) == (i["salt"], i["ts"])
        assert [p["id"] for p in report["services"][0]["privileges"]] == sorted(int(k) for k in i["privileges"])
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", OTHER_CERT)
    status, report = inspect_json(capsys, *args)
    assert (status, report["signature_valid"]) == (1, False)
    assert report["diagnosis"][0]["error"] == 110


def test_inspect_json_schema(capsys, monkeypatch):
    monkeypatch.delenv("AGORA_APP_CERTIFICATE")
    vector = next(v for v in VECTORS if v["id"] == "007-rtc4-rtm-chat")
    status, report = inspect_json(capsys, vector["expected"])
    assert status == 1 and [p["error"] for p in report["diagnosis"]] == [109]  # an old vector: expired
    for key in ("version", "app_id", "issue_ts", "expire", "salt", "services", "signature_valid"):
        assert key in report
    assert report["version"] == "007" and report["signature_valid"] is None
    rtc = report["services"][0]
    assert {"type", "name", "privileges", "channel_name", "uid"} <= set(rtc)
    assert (rtc["type"], rtc["name"]) == (1, "rtc")
    assert [p["name"] for p in rtc["privileges"]] == [
        "join_channel", "publish_audio_stream", "publish_video_stream", "publish_data_stream",
    ]  # fmt: skip
    assert rtc["privileges"][0]["expires_at"] == report["issue_ts"] + 600
    assert [s["name"] for s in report["services"]] == ["rtc", "rtm", "chat"]


def test_inspect_parse_only_vector_and_unknown_certificate(capsys, monkeypatch):
    monkeypatch.delenv("AGORA_APP_CERTIFICATE")
    monkeypatch.delenv("AGORA_APP_ID")  # another app's token: the demo App ID would be a 110 mismatch
    vector = next(v for v in VECTORS if v["kind"] == "parse")
    status, out, _ = cli(capsys, "inspect", vector["expected"], "--now", str(vector["parsed"]["issue_ts"] + 60))
    assert status == 0
    assert "Chat (type 5)" in out and '"4ac3bae0-6f9e-11ec-8c27-8dc232279082"' in out
    assert "expires in 23 h 59 min" in out and "not checked" in out


def test_inspect_human_output(capsys):
    token = build(capsys, "rtc", "--channel", "demo", "--uid", "42", "--expire", "600", "--issue-ts", str(NOW))
    status, out, _ = cli(capsys, "inspect", token, "--now", str(NOW + 60))
    assert status == 0
    assert "Issued:     2023-11-14 22:13:20 UTC (1 min ago)" in out
    assert "expires in 9 min" in out
    assert "join channel:" in out and "publish audio stream:" in out
    assert "Signature:  valid" in out
    assert "Problems" not in out


def test_inspect_explains_error_109(capsys):
    token = build(capsys, "rtc", "--channel", "demo", "--uid", "42", "--expire", "600", "--issue-ts", str(NOW))
    status, out, _ = cli(capsys, "inspect", token, "--channel", "demo", "--uid", "42", "--now", str(NOW + 3600))
    assert status == 1  # a script must catch an expired token
    assert "error 109 (token expired): the token expired 50 min ago" in out
    token = build(capsys, "rtc", "--channel", "demo", "--uid", "42", "--expire", "600", "--privilege-expire", "60",
                  "--issue-ts", str(NOW))  # fmt: skip
    status, report = inspect_json(capsys, token, "--now", str(NOW + 120))
    assert [d["error"] for d in report["diagnosis"]][:1] == [109]
    assert "join channel privilege" in report["diagnosis"][0]["message"]


def test_inspect_explains_error_110(capsys):
    token = build(capsys, "rtc", "--channel", "demo", "--uid", "42")
    cases = {
        ("--channel", "Demo", "--uid", "42"): 'made for channel "demo", but the join is to channel "Demo"',
        ("--channel", "demo", "--uid", "7"): "made for uid 42, but the join is as uid 7",
        ("--channel", "demo", "--uid", "0"): "uid 0 asks the SDK to pick a uid",
        ("--channel", "demo", "--account", "alice"): 'join is as account "alice"',
    }
    for args, text in cases.items():
        status, out, _ = cli(capsys, "inspect", token, *args)
        assert status == 1  # a script must catch a mismatched join
        assert "error 110 (invalid token)" in out and text in out, out
    status, out, _ = cli(capsys, "inspect", build(capsys, "rtm", "--user-id", "u"), "--channel", "demo")
    assert "no RTC service" in out
    wildcard = build(capsys, "rtc", "--channel", "demo", "--uid", "0", "--role", "subscriber")
    status, out, _ = cli(capsys, "inspect", wildcard, "--channel", "demo", "--uid", "7")
    assert "none found" in out and "join but not publish" in out
    assert status == 0  # a note is no problem
    status, report = inspect_json(capsys, token, "--app-id", "0" * 32)
    assert report["diagnosis"][0]["error"] == 110 and "App ID" in report["diagnosis"][0]["message"]


def test_inspect_006_checks_both_crcs_and_the_hmac(capsys, monkeypatch):
    token = build(capsys, "rtc", "--channel", "demo", "--uid", "42", "--format", "006")
    status, report = inspect_json(capsys, token, "--channel", "demo", "--uid", "42")
    assert (status, report["signature_valid"], report["join"]["checks"]) == (
        0, True, {"channel_crc": True, "uid_crc": True}
    )  # fmt: skip
    status, report = inspect_json(capsys, token, "--channel", "other", "--uid", "43")
    assert report["join"]["checks"] == {"channel_crc": False, "uid_crc": False}
    assert [d["error"] for d in report["diagnosis"]] == [110, 110]
    assert report["signature_valid"] is None  # the HMAC cannot match a join the CRCs already refuse
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", OTHER_CERT)
    status, report = inspect_json(capsys, token, "--channel", "demo", "--uid", "42")
    assert (status, report["signature_valid"]) == (1, False)


def test_inspect_legacy_human_output(capsys, monkeypatch):
    vector = next(v for v in VECTORS if v["id"] == "dk4-recording")
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", vector["inputs"]["app_certificate"])  # case matters before 006
    status, out, _ = cli(
        capsys, "inspect", vector["expected"], "--channel", vector["inputs"]["channel_name"], "--uid", "2882341273"
    )  # fmt: skip
    assert status == 1
    assert "dk4 (DynamicKey v4)" in out and "recording" in out and "error 109" in out


def test_inspect_escapes_control_characters(capsys):
    token = build(capsys, "rtm", "--user-id", "evil\x1b[31m\u202e")
    status, out, _ = cli(capsys, "inspect", token)
    assert status == 0 and "\x1b" not in out and "\u202e" not in out
    assert '"evil\\x1b[31m\\u202e"' in out


# --------------------------------------------------------------------------------------------------
# Bad input: exit 2, one line, no traceback, no certificate


# Complete command lines that a case below spoils with one more option, so each row shows only what is bad.
RTC = ["rtc", "--channel", "demo", "--uid", "1"]
RTM = ["rtm", "--user-id", "u"]
ON_C = ["--channel", "c", "--uid", "1"]

# Each bad command line and what its one-line error must mention: the reason itself, so a case that
# failed for another reason (say, a missing App ID) would not pass.
BAD: list[tuple[list[str], str]] = [
    ([], "choose a command"),
    (["rtc"], "--channel"),
    (["rtc", "--channel", "demo"], "--uid --account"),
    ([*RTC, "--account", "a"], "--account: not allowed with argument --uid"),
    (["rtc", "--channel", "demo", "--uid", "-1"], "uid must be between 0 and 4294967295"),
    (["rtc", "--channel", "demo", "--uid", str(2**32)], "uid must be between 0 and 4294967295"),
    (["rtc", "--channel", "demo", "--uid", "1.5"], "--uid: '1.5' is not a whole number"),
    (
        ["rtc", "--channel", "demo", "--uid", "alice"],
        "--uid: 'alice' is not a number; for a string user account use --account alice",
    ),
    (["rtc", "--channel", "", "--uid", "1"], "channel must not be empty"),
    (["rtc", "--channel", "a/b", "--uid", "1"], "channel contains '/'"),
    ([*RTC, "--role", "admin"], "--role: invalid choice: 'admin'"),
    ([*RTC, "--expire", "-5"], "expire must not be negative"),
    ([*RTC, "--expire", "90000"], "Agora caps tokens at 86400 s"),
    ([*RTC, "--expire", "1700000000"], "looks like an absolute Unix timestamp"),
    ([*RTC, "--format", "005"], "--format: invalid choice: '005'"),
    ([*RTC, "--app-id", "nothex"], "app_id must be 32 hexadecimal characters"),
    ([*RTC, "--app-certificate", CERT[:-1]], "app_certificate must be 32 hexadecimal characters"),
    (
        [*RTC, "--app-certificate", CERT, "--app-certificate-file", "x"],
        "--app-certificate-file: not allowed with argument --app-certificate",
    ),
    ([*RTC, "--app-cert", CERT], "unrecognized arguments: --app-cert"),
    ([*RTC, CERT], "unrecognized arguments: <32 hex characters>"),
    (["rtc", "--channel", "\udcff", "--uid", "1"], "channel is not encodable as UTF-8"),
    (["rtm", "--user-id", ""], "user_id must not be empty"),
    (["rtm", "--user-id", "x" * 256], "user_id is 256 bytes"),
    ([*RTM, "--permission", "nope:read"], "unknown resource type 'nope'"),
    ([*RTM, "--permission", "users:admin"], "unknown access 'admin'"),
    ([*RTM, "--permission", "users"], "'users' is not RESOURCE:ACCESS"),
    ([*RTM, "--permission", "99999:read"], "resource_type must be between 0 and 65535"),
    ([*RTM, "--format", "006", "--permission", "users:read"], "permissions need a 007 token"),
    (["chat"], "--user-id --app is required"),
    (["chat", "--user-id", "u", "--app"], "--app: not allowed with argument --user-id"),
    (["apaas"], "give --user-uuid"),
    (["apaas", "--room-uuid", "r", "--user-uuid", "u"], "--room-uuid needs --role"),
    (["apaas", "--user-uuid", "u", "--role", "1"], "--role needs --room-uuid"),
    (["apaas", "--app", "--user-uuid", "u"], "--app takes no"),
    (["apaas", "--room-uuid", "r", "--user-uuid", "u", "--role", "40000"], "role must be between -32768 and 32767"),
    (
        ["streaming", *ON_C, "--no-publish-mix-stream", "--no-publish-raw-stream"],
        "publish_mix_stream and publish_raw_stream are both off",
    ),
    (["fcdn", *ON_C, "--no-publish", "--no-play"], "publish and play are both off"),
    (["convoai", *ON_C, "--rtm-user-id", ""], "rtm_user_id must not be empty"),
    (["dk2", *ON_C, "--expire", "100000"], "expire is 100000 s"),
    (["dk5", *ON_C, "--upload", "none"], "--upload applies to"),
    (["dk5", *ON_C, "--service", "video"], "--service: invalid choice: 'video'"),
    (["signaling", "--account", ""], "account must not be empty"),
    ([*RTC, "--salt", str(2**32)], "salt must be between 0 and 4294967295"),
    (["inspect"], "required: TOKEN"),
    (["inspect", ""], "no token given"),
    (["inspect", "garbage"], "not a token this tool knows"),
    (["inspect", "005AAAA"], "DynamicKey v5 is truncated"),
    (["inspect", "1:x"], "not a token this tool knows"),
    (
        ["inspect", "007eJxTYLC/xv0i87343FLb46KrG9gPxT+Vj8pojqvt", "--uid", "x"],
        "--uid: 'x' is not a number; for a string",
    ),
    (["inspect", VECTORS[0]["expected"], "--uid", "1", "--account", "a"], "--account: not allowed with argument --uid"),
    (["inspect", VECTORS[0]["expected"], "--uid", "-3"], "uid must be between 0 and 4294967295"),
    (["inspect", VECTORS[0]["expected"], "--account", ""], "account must not be empty"),
    (
        ["inspect", VECTORS[0]["expected"], "--app-certificate", "short"],
        "app_certificate must be 32 hexadecimal characters",
    ),
    (["nosuchcommand"], "invalid choice: 'nosuchcommand'"),
    (["--bogus"], "unrecognized arguments: --bogus"),
]


# Tokens the kernel itself refuses: the reason is the kernel's own message, so these run on both.
BAD_TOKENS: list[tuple[list[str], str]] = [
    (["inspect", "007"], "truncated zlib stream"),
    (["inspect", "007!!!!"], "not standard padded base64"),
    (["inspect", "007AAAA"], "not a valid zlib stream"),
    (["inspect", "007eJwDAAAAAAE="], "signature runs past the end"),
    (["inspect", "006"], "too short to hold a 32-character app id"),
    (["inspect", "006" + APP_ID + "AAAA"], "channel CRC runs past the end"),
]


@pytest.mark.parametrize("argv, reason", BAD, ids=[" ".join(a)[:60] or "(none)" for a, _ in BAD])
def test_bad_input_exits_2_with_one_line(capsys, argv, reason):
    _exits_2_with_one_line(capsys, argv, reason)


@pytest.mark.usefixtures("backend")
@pytest.mark.parametrize("argv, reason", BAD_TOKENS, ids=[" ".join(a)[:60] for a, _ in BAD_TOKENS])
def test_bad_token_exits_2_with_the_kernels_reason(capsys, argv, reason):
    _exits_2_with_one_line(capsys, argv, reason)


def _exits_2_with_one_line(capsys, argv, reason):
    status, out, err = cli(capsys, *argv)
    assert status == 2
    assert out == ""
    assert err.startswith("agora-token") and "error: " in err
    assert err.count("\n") == 1, err
    assert reason in err, err


def test_usage_error_never_echoes_a_certificate(capsys):
    status, _, err = cli(capsys, "rtc", "--channel", "demo", "--uid", "1", "--app-certificat", CERT)
    assert status == 2 and "<32 hex characters>" in err


# --------------------------------------------------------------------------------------------------
# serve


def test_serve_without_the_server_extra(capsys, monkeypatch):
    import agora_token

    monkeypatch.setitem(sys.modules, "agora_token.server", None)  # makes the import fail
    # Once imported, the package attribute would satisfy "from . import server" on its own.
    monkeypatch.delattr(agora_token, "server", raising=False)
    for argv in (["serve"], ["serve", "--help"], ["serve", "--port", "1"]):
        status, out, err = cli(capsys, *argv)
        assert (status, out) == (2, "")
        assert "pip install '.[server]' in a checkout" in err and "pip install 'agora-token[server]'" in err
        assert err.count("\n") == 1


def test_serve_delegates_to_the_server_module(capsys, monkeypatch):
    fake = types.ModuleType("agora_token.server")
    seen: list[Any] = []
    fake.add_serve_arguments = lambda parser: parser.add_argument("--port", type=int)  # type: ignore[attr-defined]
    fake.serve = lambda args: seen.append(args.port) or 0  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "agora_token.server", fake)
    import agora_token

    monkeypatch.setattr(agora_token, "server", fake, raising=False)
    assert cli(capsys, "serve", "--port", "8123")[0] == 0
    assert seen == [8123]
    status, out, _ = cli(capsys, "serve", "--help")
    assert status == 0 and "--port" in out


def test_inspect_notes_a_service_type_it_does_not_know(capsys):
    from agora_token import Service, ServiceRtc

    class Future(Service):
        service_type = UNKNOWN_SERVICE_TYPE  # newer than this package: parsing stops here, as officially

    token = AccessToken2(APP_ID, CERT, expire=600)
    rtc = ServiceRtc("demo", 5)
    rtc.add_privilege(1, 0)
    token.add_service(rtc)
    token.add_service(Future())
    status, report = inspect_json(capsys, token.build())
    assert (status, report["signature_valid"]) == (0, True)  # the signature covers the unread service too
    assert [s["name"] for s in report["services"]] == ["rtc"]
    assert "declares 2 services but only 1 could be read" in report["notes"][0]


# --------------------------------------------------------------------------------------------------
# Issue 15: verify, exit statuses, credentials, expire=0, hints, --version


def test_verify_exit_status_says_valid_or_not(capsys):
    token = build(capsys, "rtc", "--channel", "demo", "--uid", "42", "--expire", "600", "--issue-ts", str(NOW))
    status, out, err = cli(capsys, "verify", token, "--now", str(NOW + 60))
    assert (status, err) == (0, "") and out.startswith("valid: signature and expiry checked (007 token, expires ")
    status, out, _ = cli(capsys, "verify", token, "--channel", "demo", "--uid", "42", "--now", str(NOW + 60))
    assert status == 0 and out.startswith("valid: signature, expiry and join checked")
    status, out, _ = cli(capsys, "verify", token, "--channel", "Demo", "--uid", "42", "--now", str(NOW + 60))
    assert status == 1 and out.startswith('invalid: error 110 (invalid token): the token was made for channel "demo"')
    status, out, _ = cli(capsys, "verify", token, "--now", str(NOW + 601))
    assert status == 1 and out.startswith("invalid: error 109 (token expired): the token expired")
    status, out, _ = cli(capsys, "verify", token, "--app-certificate", OTHER_CERT, "--now", str(NOW + 60))
    assert status == 1 and "the signature does not match this App Certificate" in out


def test_verify_bad_usage_exits_2(capsys, monkeypatch):
    token = build(capsys, "rtc", "--channel", "demo", "--uid", "42")
    status, _, err = cli(capsys, "verify", token, "--uid", "alice")
    assert status == 2 and "use --account alice" in err
    monkeypatch.delenv("AGORA_APP_CERTIFICATE")
    status, _, err = cli(capsys, "verify", token)
    assert status == 2
    assert err.startswith("agora-token: error: no App Certificate: set APP_CERTIFICATE (or AGORA_APP_CERTIFICATE)")
    status, _, err = cli(capsys, "verify", "007garbage", "--app-certificate", CERT)
    assert status == 2 and err.startswith("agora-token: error: ")


def test_help_names_verify_and_what_exit_1_means(capsys):
    status, out, _ = cli(capsys, "--help")
    assert status == 0 and "verify" in out and "1 inspect or verify found a problem" in out


def test_short_credential_names_work_and_win_as_in_the_server(capsys, monkeypatch):
    from agora_token.server.config import Settings

    monkeypatch.delenv("AGORA_APP_ID")
    monkeypatch.delenv("AGORA_APP_CERTIFICATE")
    monkeypatch.setenv("APP_ID", APP_ID)
    monkeypatch.setenv("APP_CERTIFICATE", CERT)
    token = token007(capsys, "rtc", "--channel", "demo", "--uid", "42")  # verifies with CERT, App ID APP_ID
    # Both spellings set: the short names win, in the CLI as in the server.
    monkeypatch.setenv("AGORA_APP_ID", "0" * 32)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", OTHER_CERT)
    token = AccessToken2.parse(build(capsys, "rtc", "--channel", "demo", "--uid", "42"))
    server = Settings.from_env(dict(os.environ))
    assert (token.app_id, token.verify(CERT)) == (server.app_id, True) == (APP_ID, True)
    # A blank short name falls through to the AGORA_ one, in both.
    monkeypatch.setenv("APP_CERTIFICATE", " ")
    token = AccessToken2.parse(build(capsys, "rtc", "--channel", "demo", "--uid", "42"))
    assert token.verify(OTHER_CERT) and Settings.from_env(dict(os.environ)).app_certificate == OTHER_CERT
    monkeypatch.setenv("APP_ID", "")
    monkeypatch.delenv("AGORA_APP_ID")
    status, _, err = cli(capsys, "rtc", "--channel", "demo", "--uid", "42")
    assert status == 2 and err == "agora-token: error: no App ID: pass --app-id or set APP_ID (or AGORA_APP_ID)\n"


@pytest.mark.parametrize(
    "argv, default",
    [(["rtc", "--channel", "demo", "--uid", "42"], 3600), (["rtm", "--user-id", "u"], 3600),
     (["chat", "--app"], 3600), (["fpa"], 86400), (["rtc-rtm", "--channel", "demo", "--uid", "7"], 3600)],
)  # fmt: skip
def test_expire_0_means_the_default_never_an_expired_token(capsys, argv, default):
    pin = ["--issue-ts", str(NOW), "--salt", "5"]
    zero = build(capsys, *argv, "--expire", "0", *pin)
    assert zero == build(capsys, *argv, "--expire", str(default), *pin)
    assert AccessToken2.parse(zero).expire == default
    status, report = inspect_json(capsys, zero, "--now", str(NOW))
    assert status == 0 and report["expired"] is False and report["diagnosis"] == []


def test_expire_0_for_legacy_and_006_formats_is_the_default_too(capsys):
    pin = ["--issue-ts", str(NOW), "--salt", "5"]
    for argv in (["rtc", "--channel", "demo", "--uid", "42", "--format", "006"],
                 ["dk4", "--channel", "c", "--uid", "1"]):  # fmt: skip
        assert build(capsys, *argv, "--expire", "0", *pin) == build(capsys, *argv, "--expire", "3600", *pin)


def test_error_messages_for_common_mistakes(capsys):
    status, _, err = cli(capsys, "rtc", "--channel", "demo", "--uid", "1", "--app-certificate", "z" * 32)
    assert status == 2
    assert "app_certificate must be 32 hexadecimal characters (0-9, a-f); it has 32, not all of them hex" in err
    assert "got 32 characters" not in err
    status, _, err = cli(capsys, "rtm", "--user-id", "")
    assert (status, err) == (2, "agora-token: error: user_id must not be empty\n")  # no uid=0 hint for RTM
    status, _, err = cli(capsys, "rtc", "--channel", "demo", "--account", "")
    assert status == 2 and "use uid=0 for a token any user may join with" in err


def test_version_names_the_backend_and_why_pure_python(backend):
    done = script("--version", env={"AGORA_TOKEN_PURE_PYTHON": "1"})
    assert (
        done.stdout
        == "agora-token "
        + __import__("agora_token").__version__
        + "; backend: python (AGORA_TOKEN_PURE_PYTHON is set)\n"
    )
    done = subprocess.run([sys.executable, "-m", "agora_token", "--version"], capture_output=True, text=True,
                          env={**os.environ, "AGORA_TOKEN_PURE_PYTHON": "0"})  # fmt: skip
    from agora_token import _backend

    expected = "c" if KERNEL_BUILT else "python (the C extension "
    assert done.returncode == 0 and done.stdout.split("; backend: ")[1].startswith(expected)
    why = _backend.reason or "chosen at run time"
    assert _backend.describe() == ("c" if _backend.name == "c" else f"python ({why})")


try:
    from agora_token import _fastpack as _kernel_probe  # noqa: F401

    KERNEL_BUILT = True
except ImportError:
    KERNEL_BUILT = False
