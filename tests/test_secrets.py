"""Secrets: the App Certificate is never in a repr/str, an exception, a log record or CLI output,
and signatures are compared in constant time (see docs/reliability.md)."""

from __future__ import annotations

import ast
import hmac
import json
import logging
import traceback
import zlib
from pathlib import Path
from typing import Any, Callable

import pytest

import agora_token as at
from agora_token import (
    AccessToken,
    AccessToken2,
    Rtm2Permissions,
    ServiceConvoAI,
    ServiceStt,
    legacy,
)  # fmt: skip
from agora_token.describe import describe
from agora_token.render import render

from .common import APP_ID, CERT, REAL, REAL_006, REAL_007, b64, every_service, thread_unsafe

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)


def _no_secret(*texts: object) -> None:
    for text in texts:
        low = str(text).lower()
        assert CERT.lower() not in low, f"the App Certificate leaked: {str(text)[:200]!r}"


def _public_objects() -> list[object]:
    token = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
    for service in every_service():
        token.add_service(service)
    built = token.build()
    parsed = AccessToken2.parse(built)
    parsed.verify(CERT)
    t006 = AccessToken(APP_ID, CERT, "channel", 1234, salt=3, ts=2_000_000_000)
    t006.add_privilege(1, 5)
    p006 = AccessToken.parse(t006.build())
    p006.verify(CERT, "channel", 1234)
    from agora_token.compat import AccessToken as compat006
    from agora_token.compat import AccessToken2 as compat007

    c007 = compat007.AccessToken(APP_ID, CERT, issue_ts=1, expire=60)
    c007.add_service(compat007.ServiceRtc("c", 1))
    c007.build()
    c007_parsed = compat007.AccessToken()
    c007_parsed.from_string(built)
    c007_parsed.verify_signature(CERT)
    c006 = compat006.AccessToken(APP_ID, CERT, "c", 1)
    c006.build()
    dk5 = legacy.build_dynamic_key5(APP_ID, CERT, "c", 1, 2_000_000_000, issue_ts=1, salt=1)
    dk_parsed = legacy.parse(dk5)
    report = describe(built, app_certificate=CERT, channel="channel", uid=42, now=2)
    return [token, parsed, t006, p006, c007, c007_parsed, c006, dk_parsed, report, *token.services,
            *parsed.services, *every_service(), Rtm2Permissions().add(0, 0, ["a"])]  # fmt: skip


def test_services_without_named_privileges_repr_and_describe():
    """ConvoAI/STT declare no privilege names (an empty IntEnum): a privilege on them, from the model
    or from a parsed token, must still repr and describe (an empty enum raises TypeError)."""
    for cls in (ServiceConvoAI, ServiceStt):
        service = cls()
        service.add_privilege(1, 5)
        assert "1" in repr(service)
        token = AccessToken2(APP_ID, CERT, issue_ts=1, salt=1)
        token.add_service(service)
        built = token.build()
        repr(AccessToken2.parse(built))
        assert render(describe(built, app_certificate=CERT, now=1))


def test_certificate_in_no_repr_or_str_of_any_object():
    for obj in _public_objects():
        _no_secret(repr(obj), str(obj), format(obj, ""))
        if isinstance(obj, dict):
            _no_secret(json.dumps(obj, default=str), "\n".join(render(obj)))


BAD_CERTS = [
    CERT + "0",
    CERT[:-1],
    CERT[:-1] + "g",
    " " + CERT,
    CERT + "\n",
    CERT.encode(),
    CERT[:16] + "\u00e9" + CERT[17:],
]

BUILDERS: dict[str, tuple[Callable[..., str], tuple, dict[str, Any]]] = {
    "rtc": (at.build_rtc_token, ("c",), {"uid": 1}),
    "rtc-006": (at.build_rtc_token, ("c",), {"uid": 1, "version": "006"}),
    "rtc-privileges": (
        at.build_rtc_token_with_privileges,
        ("c",),
        dict(uid=1, join_channel_expire=1, publish_audio_expire=1, publish_video_expire=1, publish_data_expire=1),
    ),  # fmt: skip
    "rtc-rtm": (at.build_rtc_rtm_token, ("c",), {"uid": 1, "rtm_user_id": "u"}),
    "rtc-tokens": (at.build_rtc_tokens, ("c", [1, 2]), {}),
    "rtm": (at.build_rtm_token, ("u",), {}),
    "rtm-006": (at.build_rtm_token, ("u",), {"version": "006"}),
    "chat-user": (at.build_chat_user_token, ("u",), {}),
    "chat-app": (at.build_chat_app_token, (), {}),
    "apaas-room-user": (at.build_apaas_room_user_token, ("r", "u", 1), {}),
    "apaas-user": (at.build_apaas_user_token, ("u",), {}),
    "apaas-app": (at.build_apaas_app_token, (), {}),
    "fpa": (at.build_fpa_token, (), {}),
    "streaming": (at.build_streaming_token, ("c",), {"uid": 1}),
    "fcdn": (at.build_fcdn_token, ("c",), {"uid": 1}),
    "convoai": (at.build_convoai_token, ("c",), {"uid": 1}),
    "stt": (at.build_stt_token, ("c",), {"uid": 1}),
    "dk5": (legacy.build_dynamic_key5, ("c", 1, 2_000_000_000), {}),
    "signaling": (legacy.build_signaling_token, ("acct", 2_000_000_000), {}),
}
BAD_ARGS = [{"expire": -1}, {"expire": 2_000_000_000}, {"salt": 2**40}, {"issue_ts": -5}, {"bogus": CERT}]


def _exception_texts(exc: BaseException) -> list[str]:
    return [str(exc), repr(exc), "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)),
            *(repr(a) for a in exc.args)]  # fmt: skip


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_certificate_in_no_builder_exception(name):
    builder, args, kwargs = BUILDERS[name]
    assert builder(APP_ID, CERT, *args, **kwargs)
    for bad in BAD_CERTS:
        with pytest.raises((ValueError, TypeError)) as raised:
            builder(APP_ID, bad, *args, **kwargs)
        for text in _exception_texts(raised.value):
            _no_secret(text)
            assert CERT[:16].lower() not in text.lower() and CERT[-15:].lower() not in text.lower()
    for extra in BAD_ARGS:
        if extra.keys() - {"bogus"} and not set(extra) <= set(_parameters(builder)):
            continue
        try:
            builder(APP_ID, CERT, *args, **{**kwargs, **extra})
        except (ValueError, TypeError) as exc:
            for text in _exception_texts(exc):
                _no_secret(text.replace(f"'bogus': '{CERT}'", ""))  # the caller's own kwarg is theirs


def _parameters(func: Callable) -> list[str]:
    import inspect

    return list(inspect.signature(func).parameters)


def test_certificate_in_no_model_or_kernel_exception(kernel):
    attempts: list[Callable[[], Any]] = [
        lambda: AccessToken2(APP_ID, CERT + "0"),
        lambda: AccessToken2(APP_ID, CERT).build(),
        lambda: AccessToken2.parse(REAL_007[0]).verify(CERT + "x"),
        lambda: AccessToken2(APP_ID, CERT).verify(CERT),
        lambda: AccessToken(APP_ID, CERT[:-1] + "z"),
        lambda: AccessToken.parse(REAL_006[0]).build(),
        lambda: kernel.build_007(APP_ID, CERT.encode(), 1, 1, 1, []),
        lambda: kernel.build_007(APP_ID, CERT, 1, 1, 2**40, []),
        lambda: kernel.build_006(APP_ID, CERT, "c", "u", 1, 1, ((1, -1),)),
        lambda: kernel.sign_007(CERT, -1, 1, b""),
        lambda: kernel.sign_006(CERT, APP_ID, "c", "u", "not bytes"),
        lambda: describe(REAL_007[0], app_certificate=CERT + "0"),
        lambda: describe(REAL_006[0], app_certificate=CERT[:-1] + "-", channel="channel", uid=1234),
    ]
    for attempt in attempts:
        with pytest.raises(Exception) as raised:
            attempt()
        for text in _exception_texts(raised.value):
            _no_secret(text)
            assert CERT[:31].lower() not in text.lower()


def test_kernel_encoding_error_message_hides_the_certificate(kernel):
    """The kernels are private and take checked arguments; an unencodable certificate still gives a
    message (what tracebacks and logs print) without it. (The exception object keeps the string,
    as every UnicodeEncodeError does: see docs/reliability.md.)"""
    with pytest.raises(UnicodeEncodeError) as raised:
        kernel.build_007(APP_ID, CERT[:31] + "\udc80", 1, 1, 1, [])
    _no_secret(str(raised.value), "".join(traceback.format_exception_only(type(raised.value), raised.value)))


@thread_unsafe
def test_certificate_in_no_log_record(caplog):
    """Everything the library does, with every logger at DEBUG: no record carries the certificate."""
    caplog.set_level(logging.DEBUG)
    saved = {name: logging.getLogger(name).level for name in list(logging.root.manager.loggerDict)}
    try:
        for name in saved:
            logging.getLogger(name).setLevel(logging.DEBUG)
        _log_everything(caplog)
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    objects = _public_objects()
    for builder, args, kwargs in BUILDERS.values():
        builder(APP_ID, CERT, *args, **kwargs)
    for token in REAL:
        render(describe(token, app_certificate=CERT, channel="channel", uid=1234, now=1))
    for bad in BAD_CERTS:
        try:
            at.build_rtc_token(APP_ID, bad, "c", uid=1)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            logging.getLogger("app").exception("token failed")  # what an application would log
    logging.getLogger("app").info("objects: %r", objects)
    for record in caplog.records:
        _no_secret(record.getMessage(), caplog.text)
        if record.exc_info:
            _no_secret("".join(traceback.format_exception(*record.exc_info)))


# Each failing command line and what its error must mention, so the error path meant is the one run.
CLI_FAILURES: list[tuple[list[str], str]] = [
    (["rtc", "--channel", "c", "--uid", "1", "--app-certificate", CERT + "0"], "app_certificate must be 32"),
    (["rtc", "--channel", "c", "--uid", "1", "--app-certificate", CERT.lower() + "x"], "app_certificate must be 32"),
    (["rtc", "--channel", "c", "--uid", "-1"], "uid must be between"),
    (["rtc", "--channel", "c" * 65, "--uid", "1"], "channel is 65 bytes"),
    (["rtm", "--user-id", "u", "--expire", "999999"], "Agora caps tokens at 86400 s"),
    (["inspect", REAL_007[0][:-6], "--app-certificate", CERT], "not standard padded base64"),
    (["inspect", REAL_007[0], "--app-certificate", CERT[:-1]], "app_certificate must be 32"),
    (["inspect", "007" + b64(zlib.compress(b"\0" * (2 << 20), 9)), "--app-certificate", CERT], "inflates past"),
    (["dk5", "--channel", "c", "--uid", "1", "--expire", "-1"], "expire must not be negative"),
    (["signaling", "--account", "a", "--expire", "x"], "--expire: invalid int value"),
    (["nonsense", CERT], "invalid choice: 'nonsense'"),
]


@thread_unsafe
@pytest.mark.parametrize("argv, reason", CLI_FAILURES, ids=range(len(CLI_FAILURES)))
def test_certificate_in_no_cli_error(argv, reason, capsys, monkeypatch, tmp_path):
    from agora_token.cli import main

    monkeypatch.setenv("AGORA_APP_ID", APP_ID)
    monkeypatch.setenv("AGORA_APP_CERTIFICATE", CERT)
    status = main(argv)
    out, err = capsys.readouterr()
    assert status != 0
    assert reason in err, err
    _no_secret(out, err.replace(CERT, "") if argv[0] == "nonsense" else err)
    assert "Traceback" not in err
    # The same through a certificate file holding a bad (and the good) certificate.
    bad = tmp_path / "cert"
    bad.write_text(CERT + "0\n")
    monkeypatch.delenv("AGORA_APP_CERTIFICATE")
    status = main(["rtc", "--channel", "c", "--uid", "1", "--app-certificate-file", str(bad)])
    out, err = capsys.readouterr()
    assert status != 0
    _no_secret(out, err)


def test_signatures_are_checked_with_compare_digest(monkeypatch):
    """verify() goes through hmac.compare_digest, for 007, 006, compat and legacy tokens."""
    calls: list[tuple[int, int]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((len(a), len(b)))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    from agora_token.compat import AccessToken2 as compat007

    checks = [
        lambda: AccessToken2.parse(REAL_007[0]).verify(CERT),
        lambda: AccessToken2.parse(REAL_007[0]).verify("0" * 32),
        lambda: AccessToken.parse(REAL_006[0]).verify(CERT, "channel", 1234),
        lambda: legacy.parse(legacy.build_dynamic_key5(APP_ID, CERT, "c", 1, 2_000_000_000, issue_ts=1, salt=1)).verify(
            CERT, channel="c", uid=1
        ),
    ]

    def compat_check() -> bool:
        token = compat007.AccessToken()
        token.from_string(REAL_007[0])
        return token.verify_signature(CERT)

    checks.append(compat_check)
    for check in checks:
        before = len(calls)
        check()
        assert len(calls) > before, "a signature was compared without hmac.compare_digest"


def _identifier_words(node: ast.AST) -> set:
    words = set()
    for sub in ast.walk(node):
        name = sub.id if isinstance(sub, ast.Name) else sub.attr if isinstance(sub, ast.Attribute) else ""
        words.update(w for w in name.lower().split("_") if w)
    return words


def test_no_signature_is_compared_with_eq_in_the_source():
    """Static guard: no ``==``/``!=`` between values whose names say signature, digest or MAC."""
    root = Path(at.__file__).parent
    suspicious = {"signature", "sig", "digest", "mac", "hmac", "expected"}
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Compare) and any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                for side in (node.left, *node.comparators):
                    if isinstance(side, ast.Call) and getattr(side.func, "id", "") == "len":
                        continue  # comparing lengths leaks nothing
                    if _identifier_words(side) & suspicious:
                        found.append(f"{path.name}:{node.lineno}: {ast.unparse(node)}")
    assert found == []
