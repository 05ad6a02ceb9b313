"""``agora-token``: build any Agora token from the shell, and ``inspect`` one to see why the SDK refuses it.

The token alone goes to stdout. Exit status: 0 success, 2 bad usage or input (one line on stderr,
never a traceback), 1 when ``inspect`` or ``verify`` finds a problem (a wrong signature, error 109
or 110). Credentials come from ``APP_ID``/``APP_CERTIFICATE`` (or the ``AGORA_`` names, as the
server reads them: see ``credentials``) or ``--app-certificate-file``; the certificate is never printed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, Callable, NoReturn, Optional

from . import _backend, builders, legacy
from ._version import __version__
from .credentials import APP_ID_VARS, CERTIFICATE_VARS, SECONDARY_CERTIFICATE_VARS, first_set, spelled
from .describe import ERROR_TEXT, Report, describe
from .errors import TokenError
from .render import render
from .services import PermissionType, ResourceType, Rtm2Permissions
from .validation import (
    DEFAULT_EXPIRE,
    MAX_LIFETIME,
    check_app_id,
    check_certificate,
    check_hex32,
    check_token_lifetime,
)

PROG = "agora-token"
#: How help and errors name the credential variables (the rule: ``credentials``).
ENV_APP_ID = spelled(APP_ID_VARS)
ENV_CERTIFICATE = spelled(CERTIFICATE_VARS)
ENV_SECONDARY = spelled(SECONDARY_CERTIFICATE_VARS)
#: Errors our own code raises for bad input; anything else is a bug and may show a traceback.
USER_ERRORS = (ValueError, TypeError, TokenError, OSError, OverflowError)
_HEX32 = re.compile(r"\b[0-9a-fA-F]{32}\b")


class _Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors are one line (and never echo a 32-hex secret)."""

    def error(self, message: str) -> NoReturn:
        # A mistyped option can make argparse echo the value after it, which may be a certificate.
        message = _HEX32.sub("<32 hex characters>", message)
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


class _Version(argparse.Action):
    """``--version``: the version and the backend, on one unwrapped line (argparse's own wraps it)."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> NoReturn:
        sys.stdout.write(f"{PROG} {__version__}; backend: {_backend.describe()}\n")
        parser.exit(0)


class UsageError(ValueError):
    """Bad input noticed by the CLI itself."""


# --------------------------------------------------------------------------------------------------
# Credentials


def _app_id(args: argparse.Namespace) -> str:
    if args.app_id is not None:
        source, app_id = "--app-id", args.app_id.strip()
    else:
        source, app_id = first_set(os.environ, APP_ID_VARS)
    if not app_id:
        raise UsageError(f"no App ID: pass --app-id or set {ENV_APP_ID}")
    try:
        return check_app_id(app_id)
    except ValueError as exc:
        raise UsageError(f"{exc} (from {source})") from None


def _certificate(args: argparse.Namespace) -> str:
    """The App Certificate from the flag, the file or the environment, checked; never echoed."""
    certificate = _optional_certificate(args, required=True)
    assert certificate is not None  # required: a missing one raised UsageError
    return certificate


def _optional_certificate(args: argparse.Namespace, required: bool = False) -> Optional[str]:
    """``_certificate``, or None when none is given at all and ``required`` is false (``inspect``)."""
    if args.app_certificate is not None:
        value, source = args.app_certificate, "--app-certificate"
    elif args.app_certificate_file is not None:
        value, source = _read_certificate_file(args.app_certificate_file), f"file {args.app_certificate_file!r}"
    else:
        source, value = first_set(os.environ, CERTIFICATE_VARS)
        source = source or ENV_CERTIFICATE
    value = value.strip()
    if not value:
        if not required and source == ENV_CERTIFICATE:
            return None
        if source == ENV_CERTIFICATE:
            raise UsageError(f"no App Certificate: set {ENV_CERTIFICATE} or pass --app-certificate-file FILE")
        raise UsageError(f"the App Certificate from {source} is empty")
    try:
        return check_certificate(value)
    except ValueError as exc:
        raise UsageError(f"{exc} (from {source})") from None


def _secondary_certificate(args: argparse.Namespace, primary: Optional[str]) -> Optional[str]:
    """The secondary App Certificate (``verify``, ``inspect``) from its file option or the environment, or None."""
    path = getattr(args, "app_certificate_secondary_file", None)
    if path is not None:
        value, source = _read_certificate_file(path, "secondary App Certificate"), f"file {path!r}"
    else:
        source, value = first_set(os.environ, SECONDARY_CERTIFICATE_VARS)
    value = value.strip()
    if not value:
        if path is not None:
            raise UsageError(f"the secondary App Certificate from {source} is empty")
        return None
    if primary is None:
        raise UsageError(
            f"a secondary App Certificate (from {source}) needs the primary one too: set {ENV_CERTIFICATE}"
        )
    try:
        return check_hex32("secondary_certificate", value)
    except ValueError as exc:
        raise UsageError(f"{exc} (from {source})") from None


def _read_certificate_file(path: str, what: str = "App Certificate") -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read(4096)  # a certificate is 32 chars; never slurp a huge file
    except OSError as exc:
        raise UsageError(f"cannot read the {what} file {path!r}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the {what} file {path!r} is not UTF-8 text") from None


# --------------------------------------------------------------------------------------------------
# Argument types


def _permission(text: str) -> tuple[int, int, list[str]]:
    """``RESOURCE:ACCESS[:NAME,NAME…]``, e.g. ``message_channels:read:chat1,chat2``."""
    parts = text.split(":", 2)
    if len(parts) < 2:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not RESOURCE:ACCESS[:NAME,...] (e.g. message_channels:read:chat1,chat2)"
        )
    resource = _enum_value(ResourceType, parts[0], "resource type")
    access = _enum_value(PermissionType, parts[1], "access")
    names = [n for n in parts[2].split(",") if n] if len(parts) == 3 else []
    return resource, access, names


def _enum_value(enum: Any, text: str, what: str) -> int:
    key = text.strip().upper().replace("-", "_")
    if key.isascii() and key.isdigit():
        return int(key)
    try:
        return int(enum[key])
    except KeyError:
        choices = ", ".join(m.name.lower() for m in enum)
        raise argparse.ArgumentTypeError(f"unknown {what} {text!r} (one of {choices}, or a number)") from None


# --------------------------------------------------------------------------------------------------
# Handlers: each calls one builder, which validates everything


def _out(text: str) -> int:
    sys.stdout.write(text + "\n")
    return 0


def _common(args: argparse.Namespace) -> dict[str, Any]:
    return {"issue_ts": args.issue_ts, "salt": args.salt}


def _user(args: argparse.Namespace) -> dict[str, Any]:
    return {"uid": args.uid, "account": args.account}


def _cmd_rtc(args: argparse.Namespace) -> int:
    return _out(builders.build_rtc_token(
        _app_id(args), _certificate(args), args.channel, **_user(args), role=args.role, expire=args.expire,
        privilege_expire=args.privilege_expire, version=args.format, **_common(args),
    ))  # fmt: skip


def _cmd_rtc_privileges(args: argparse.Namespace) -> int:
    def lifetime(value: Optional[int]) -> int:
        return args.expire if value is None else value

    return _out(builders.build_rtc_token_with_privileges(
        _app_id(args), _certificate(args), args.channel, **_user(args), expire=args.expire,
        join_channel_expire=lifetime(args.join_expire), publish_audio_expire=lifetime(args.publish_audio_expire),
        publish_video_expire=lifetime(args.publish_video_expire),
        publish_data_expire=lifetime(args.publish_data_expire), **_common(args),
    ))  # fmt: skip


def _rtc_rtm(builder: Callable[..., str]) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        return _out(builder(
            _app_id(args), _certificate(args), args.channel, **_user(args), rtm_user_id=args.rtm_user_id,
            role=args.role, expire=args.expire, privilege_expire=args.privilege_expire, rtm_expire=args.rtm_expire,
            **_common(args),
        ))  # fmt: skip

    return handler


def _permissions(args: argparse.Namespace) -> Optional[Rtm2Permissions]:
    if not args.permission and args.command != "rtm2":
        return None
    permissions = Rtm2Permissions()
    for resource, access, names in args.permission or ():
        permissions.add(resource, access, names)
    return permissions


def _cmd_rtm(args: argparse.Namespace) -> int:
    return _out(builders.build_rtm_token(
        _app_id(args), _certificate(args), args.user_id, expire=args.expire, permissions=_permissions(args),
        version=getattr(args, "format", "007"), **_common(args),
    ))  # fmt: skip


def _cmd_chat(args: argparse.Namespace) -> int:
    app_id, certificate = _app_id(args), _certificate(args)
    if args.app:
        return _out(builders.build_chat_app_token(app_id, certificate, expire=args.expire, **_common(args)))
    return _out(builders.build_chat_user_token(app_id, certificate, args.user_id, expire=args.expire, **_common(args)))


def _cmd_apaas(args: argparse.Namespace) -> int:
    app_id, certificate, common = _app_id(args), _certificate(args), {"expire": args.expire, **_common(args)}
    if args.app:
        if args.room_uuid is not None or args.user_uuid is not None or args.role is not None:
            raise UsageError("--app takes no --room-uuid, --user-uuid or --role")
        return _out(builders.build_apaas_app_token(app_id, certificate, **common))
    if args.user_uuid is None:
        raise UsageError("give --user-uuid (with --room-uuid and --role for a room user) or --app")
    if args.room_uuid is None:
        if args.role is not None:
            raise UsageError("--role needs --room-uuid: a role is held in a room")
        return _out(builders.build_apaas_user_token(app_id, certificate, args.user_uuid, **common))
    if args.role is None:
        raise UsageError("--room-uuid needs --role (the user's role in the room, an integer)")
    return _out(builders.build_apaas_room_user_token(
        app_id, certificate, args.room_uuid, args.user_uuid, args.role, **common
    ))  # fmt: skip


def _cmd_fpa(args: argparse.Namespace) -> int:
    return _out(builders.build_fpa_token(_app_id(args), _certificate(args), expire=args.expire, **_common(args)))


def _cmd_streaming(args: argparse.Namespace) -> int:
    return _out(builders.build_streaming_token(
        _app_id(args), _certificate(args), args.channel, **_user(args), publish_mix_stream=args.publish_mix_stream,
        publish_raw_stream=args.publish_raw_stream, expire=args.expire, **_common(args),
    ))  # fmt: skip


def _cmd_fcdn(args: argparse.Namespace) -> int:
    return _out(builders.build_fcdn_token(
        _app_id(args), _certificate(args), args.channel, **_user(args), publish=args.publish, play=args.play,
        expire=args.expire, **_common(args),
    ))  # fmt: skip


def _legacy_expired_ts(args: argparse.Namespace) -> int:
    # Legacy formats store an absolute expiry; the CLI speaks in seconds from now like everywhere else.
    now = int(time.time()) if args.issue_ts is None else args.issue_ts
    return now + check_token_lifetime("expire", args.expire, DEFAULT_EXPIRE)


def _cmd_dynamic_key(args: argparse.Namespace) -> int:
    app_id, certificate = _app_id(args), _certificate(args)
    common = _common(args)
    version = args.command
    if version == "dk1":
        return _out(legacy.build_dynamic_key1(app_id, certificate, args.channel, **common))
    expired_ts = _legacy_expired_ts(args)
    if version in ("dk2", "dk3"):
        build = legacy.build_dynamic_key2 if version == "dk2" else legacy.build_dynamic_key3
        return _out(build(app_id, certificate, args.channel, args.uid, expired_ts, **common))
    if version == "dk4":
        return _out(legacy.build_dynamic_key4(
            app_id, certificate, args.channel, args.uid, expired_ts, args.service, **common
        ))  # fmt: skip
    service = legacy.DynamicKey5Service[args.service.upper()]
    if service is legacy.DynamicKey5Service.IN_CHANNEL_PERMISSION:
        permission = {"none": legacy.NO_UPLOAD, "audio-video": legacy.AUDIO_VIDEO_UPLOAD}[args.upload]
        return _out(legacy.build_dynamic_key5_in_channel_permission(
            app_id, certificate, args.channel, args.uid, expired_ts, permission, **common
        ))  # fmt: skip
    if args.upload is not None:
        raise UsageError("--upload applies to --service in_channel_permission only")
    return _out(legacy.build_dynamic_key5(app_id, certificate, args.channel, args.uid, expired_ts, service, **common))


def _cmd_signaling(args: argparse.Namespace) -> int:
    return _out(legacy.build_signaling_token(_app_id(args), _certificate(args), args.account, _legacy_expired_ts(args)))


def _report(args: argparse.Namespace, certificate_required: bool) -> tuple[Report, Optional[str], Optional[str]]:
    """The report of the token given (inspect, verify), and the certificates it was checked with."""
    token = "".join((sys.stdin.read() if args.token == "-" else args.token).split())  # pasted across lines
    if not token:
        raise UsageError("no token given" + (" on standard input" if args.token == "-" else ""))
    certificate = _optional_certificate(args, required=certificate_required)
    secondary = _secondary_certificate(args, certificate)
    report = describe(
        token, app_certificate=certificate, secondary_certificate=secondary, channel=args.channel, uid=args.uid,
        account=args.account,
        app_id=args.app_id or first_set(os.environ, APP_ID_VARS)[1] or None, now=args.now,
    )  # fmt: skip
    return report, certificate, secondary


def _cmd_inspect(args: argparse.Namespace) -> int:
    report, certificate, _ = _report(args, certificate_required=False)
    if args.json:
        sys.stdout.write(json.dumps(report, indent=2) + "\n")
    else:
        lines = render(report, now=args.now)
        if certificate is None and report["signature_valid"] is None:
            lines.append(f"Hint:       set {ENV_CERTIFICATE} or pass --app-certificate-file to check the signature")
        sys.stdout.write("\n".join(lines) + "\n")
    # A script must be able to catch every problem shown (109 and 110 included), not just a bad signature.
    return 1 if report["signature_valid"] is False or report["diagnosis"] else 0


def _cmd_verify(args: argparse.Namespace) -> int:
    report, _, secondary = _report(args, certificate_required=True)
    problems = [_problem_line(p) for p in report["diagnosis"]]
    if report["signature_valid"] is None and not problems:
        problems.append(f"the signature could not be checked: {report.get('signature_note') or 'unknown reason'}")
    if problems:
        sys.stdout.write("".join(f"invalid: {line}\n" for line in problems))
        return 1
    checked = "signature, expiry and join" if report["join"] is not None else "signature and expiry"
    signer = f", signed with the {report['signed_by']} certificate" if secondary is not None else ""
    sys.stdout.write(f"valid: {checked} checked ({report['version']} token, {_expiry_text(report)}{signer})\n")
    return 0


def _problem_line(problem: dict[str, Any]) -> str:
    code = problem["error"]
    meaning = ERROR_TEXT.get(code)
    return (f"error {code} ({meaning}): " if meaning else "") + str(problem["message"])


def _expiry_text(report: dict[str, Any]) -> str:
    expires_at = report.get("expires_at_utc")
    return f"expires {expires_at}" if expires_at else "no expiry recorded"


# --------------------------------------------------------------------------------------------------
# The parser


def _credentials_parent(certificate_help: str, secondary: bool = False) -> argparse.ArgumentParser:
    parent = _Parser(add_help=False, allow_abbrev=False)
    group = parent.add_argument_group("credentials")
    group.add_argument("--app-id", help=f"the App ID (default: from {ENV_APP_ID})")
    source = group.add_mutually_exclusive_group()
    source.add_argument(
        "--app-certificate-file",
        metavar="FILE",
        help=f"read the App Certificate from FILE (default: from {ENV_CERTIFICATE})",
    )
    source.add_argument(
        "--app-certificate",
        metavar="CERT",
        help="the App Certificate itself; WARNING: a command line is visible to other users of this machine "
        f"(ps, /proc): prefer {ENV_CERTIFICATE} or --app-certificate-file. " + certificate_help,
    )
    if secondary:
        group.add_argument(
            "--app-certificate-secondary-file", metavar="FILE",
            help=f"read the project's secondary App Certificate from FILE (default: from {ENV_SECONDARY}, if set): "
            "a token signed with either certificate is valid, and the answer says which one signed it",
        )  # fmt: skip
    return parent


def _reproducible_parent() -> argparse.ArgumentParser:
    parent = _Parser(add_help=False, allow_abbrev=False)
    # Hidden: fixed issue time and salt make output reproducible (tests, documentation).
    parent.add_argument("--issue-ts", type=int, help=argparse.SUPPRESS)
    parent.add_argument("--salt", type=int, help=argparse.SUPPRESS)
    return parent


def _uid(text: str) -> int:
    """``--uid``: a number; a name gets a pointer to ``--account`` instead of argparse's "invalid int value"."""
    try:
        return int(text)
    except ValueError:
        if text and all(c in "0123456789.+-eE_ " for c in text):
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number (a uid is 0..4294967295)") from None
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number; for a string user account use --account {text}"
        ) from None


def _add_user(parser: argparse.ArgumentParser, required: bool = True) -> None:
    user = parser.add_mutually_exclusive_group(required=required)
    if required:
        user.add_argument("--uid", type=_uid, help="numeric user id; 0 lets any user join")
        user.add_argument("--account", help="string user account")
    else:  # inspect: the user the app joined as
        user.add_argument("--uid", type=_uid, help="the numeric uid the app joins with (names a uid mismatch)")
        user.add_argument("--account", help="the user account the app joins with")


def _add_expire(parser: argparse.ArgumentParser, default: int = DEFAULT_EXPIRE, what: str = "token") -> None:
    parser.add_argument(
        "--expire", type=int, default=default, metavar="SECONDS",
        help=f"{what} lifetime in seconds from now, at most {MAX_LIFETIME}; 0 means the default (default: {default})",
    )  # fmt: skip


def _add_role(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--role", choices=("publisher", "subscriber"), default="publisher",
        help="a publisher may also publish audio, video and data (default: publisher)",
    )  # fmt: skip


def _add_rtc_rtm(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--channel", required=True, help="the RTC channel name")
    _add_user(parser)
    parser.add_argument("--rtm-user-id", help="the RTM user id (default: the RTC uid or account)")
    _add_role(parser)
    _add_expire(parser)
    parser.add_argument("--privilege-expire", type=int, metavar="SECONDS", help="RTC privileges (default: --expire)")
    parser.add_argument("--rtm-expire", type=int, metavar="SECONDS", help="RTM login (default: --expire)")


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The ``agora-token`` argument parser; ``argv`` tells whether ``serve``'s options are needed."""
    global _SERVER_IMPORT_ERROR
    _SERVER_IMPORT_ERROR = None  # set again below if ``serve`` is asked for and cannot be offered
    parser = _Parser(
        prog=PROG,
        allow_abbrev=False,
        description="Build, inspect and verify Agora access tokens. The token alone goes to stdout.",
        epilog=f"Credentials: {ENV_APP_ID} and {ENV_CERTIFICATE} (or --app-id / --app-certificate-file). "
        "Exit status: 0 ok, 1 inspect or verify found a problem, 2 bad usage or input.",
    )
    parser.add_argument(
        "--version", action=_Version, help="show the version and the backend (for pure Python: why) and exit"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    creds = _credentials_parent("")
    repro = _reproducible_parent()
    parents = [creds, repro]

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help: str, **kw: Any
    ) -> argparse.ArgumentParser:
        kw.setdefault("parents", parents)
        p = sub.add_parser(name, help=help, description=help, allow_abbrev=False, **kw)
        p.set_defaults(handler=handler)
        return p

    p = command("rtc", _cmd_rtc, "an RTC token to join a channel (007 or legacy 006)")
    p.add_argument("--channel", required=True, help="the channel name")
    _add_user(p)
    _add_role(p)
    _add_expire(p)
    p.add_argument("--privilege-expire", type=int, metavar="SECONDS", help="privileges' lifetime (default: --expire)")
    p.add_argument("--format", choices=("007", "006"), default="007", help="token format (default: 007)")

    p = command("rtc-privileges", _cmd_rtc_privileges, "an RTC token giving each privilege its own lifetime")
    p.add_argument("--channel", required=True, help="the channel name")
    _add_user(p)
    _add_expire(p)
    for name in ("join", "publish-audio", "publish-video", "publish-data"):
        p.add_argument(f"--{name}-expire", type=int, metavar="SECONDS", help=f"{name} privilege (default: --expire)")

    _add_rtc_rtm(command("rtc-rtm", _rtc_rtm(builders.build_rtc_rtm_token), "one token for RTC and RTM login"))

    for name, text in (("rtm", "an RTM login token (007 or legacy 006)"), ("rtm2", "an RTM token with permissions")):
        p = command(name, _cmd_rtm, text)
        p.add_argument("--user-id", required=True, help="the RTM user id")
        _add_expire(p)
        p.add_argument(
            "--permission", action="append", type=_permission, metavar="RESOURCE:ACCESS[:NAME,...]",
            help="grant ACCESS (read, write) on RESOURCE (message_channels, stream_channels, group_channels, "
            "server_groups, users) for the listed names; repeatable"
            + ("; makes an RTM2 token" if name == "rtm" else ""),
        )  # fmt: skip
        if name == "rtm":
            p.add_argument("--format", choices=("007", "006"), default="007", help="token format (default: 007)")

    p = command("chat", _cmd_chat, "an Agora Chat token for a user or for the app")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--user-id", help="the Chat user id")
    who.add_argument("--app", action="store_true", help="an app token (for Chat's REST API)")
    _add_expire(p)

    for name, text in (("apaas", "a Flexible Classroom (APaaS) token"), ("education", "an Education token (= apaas)")):
        p = command(name, _cmd_apaas, text + ": room user, user or app")
        p.add_argument("--room-uuid", help="the room (with --user-uuid and --role: a room-user token)")
        p.add_argument("--user-uuid", help="the user (alone: a user token)")
        p.add_argument("--role", type=int, help="the user's role in the room (an integer)")
        p.add_argument("--app", action="store_true", help="an app token")
        _add_expire(p)

    p = command("fpa", _cmd_fpa, "an FPA (Full Path Acceleration) login token")
    _add_expire(p, MAX_LIFETIME)

    # Streaming and fusion CDN: a channel, a user and two privileges, each on unless turned off.
    grants = (
        ("streaming", _cmd_streaming, "a media-streaming token to publish mixed and/or raw streams",
         [(f"--publish-{name}-stream", f"grant publishing the {name} stream") for name in ("mix", "raw")]),
        ("fcdn", _cmd_fcdn, "a fusion-CDN token to publish and/or play a channel",
         [(f"--{name}", f"grant the {name} privilege") for name in ("publish", "play")]),
    )  # fmt: skip
    for name, handler, text, flags in grants:
        p = command(name, handler, text)
        p.add_argument("--channel", required=True, help="the channel name")
        _add_user(p)
        for flag, help_text in flags:
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=True,
                           help=help_text + " (default: %(default)s)")  # fmt: skip
        _add_expire(p)

    _add_rtc_rtm(command("convoai", _rtc_rtm(builders.build_convoai_token), "a Conversational AI agent token"))
    _add_rtc_rtm(command("stt", _rtc_rtm(builders.build_stt_token), "a speech-to-text agent token"))

    _add_legacy_commands(command)

    p = command(
        "inspect", _cmd_inspect, "show what a token holds, check its signature, explain errors 109/110",
        parents=[_credentials_parent("Optional here: without a certificate the signature is not checked.", True)],
    )  # fmt: skip
    p.add_argument("token", metavar="TOKEN", help="the token (any format), or - to read it from stdin")
    p.add_argument("--channel", help="the channel the app joins (names a channel mismatch: error 110)")
    _add_user(p, required=False)
    p.add_argument("--json", action="store_true", help="print a JSON object instead of text")
    p.add_argument("--now", type=int, help=argparse.SUPPRESS)  # a fixed clock, for tests and docs

    p = command(
        "verify", _cmd_verify,
        "check a token: signature, expiry and (given --channel/--uid/--account) the join; exit 0 valid, 1 not",
        parents=[_credentials_parent("", True)],
    )  # fmt: skip
    p.add_argument("token", metavar="TOKEN", help="the token (any format), or - to read it from stdin")
    p.add_argument("--channel", help="the channel the app joins")
    _add_user(p, required=False)
    p.add_argument("--now", type=int, help=argparse.SUPPRESS)

    _add_serve(sub, argv)
    return parser


def _add_legacy_commands(command: Callable[..., argparse.ArgumentParser]) -> None:
    for version in (1, 2, 3, 4, 5):
        name = f"dk{version}"
        p = command(name, _cmd_dynamic_key, f"a legacy DynamicKey v{version} (retired by Agora)")
        p.add_argument("--channel", required=True, help="the channel name")
        if version == 1:
            continue
        p.add_argument("--uid", type=int, required=True, help="numeric user id (0: any)")
        _add_expire(p, what="key")
        if version == 4:
            p.add_argument("--service", choices=sorted(legacy.DK4_SERVICES), default="media_channel")
        if version == 5:
            p.add_argument(
                "--service", default="media_channel", choices=[s.name.lower() for s in legacy.DynamicKey5Service]
            )
            p.add_argument("--upload", choices=("none", "audio-video"), help="in_channel_permission: what may be sent")
    p = command("signaling", _cmd_signaling, "a legacy Signaling token (retired by Agora)")
    p.add_argument("--account", required=True, help="the Signaling account")
    _add_expire(p)


def _subcommand(argv: Sequence[str]) -> Optional[str]:
    return next((a for a in argv if not a.startswith("-")), None)


_SERVER_IMPORT_ERROR: Optional[str] = None
#: How to get the server's dependencies; no release is on the package index yet, so a checkout's
#: command comes first.
_SERVER_EXTRA = "pip install '.[server]' in a checkout (once released: pip install 'agora-token[server]')"


def _add_serve(sub: Any, argv: Sequence[str]) -> None:
    """``serve``; the server module (and its dependencies) is imported only when ``serve`` is asked for."""
    global _SERVER_IMPORT_ERROR
    help_text = f"run the HTTP token server (needs the server extra: {_SERVER_EXTRA})"
    p = sub.add_parser("serve", help=help_text, description=help_text, allow_abbrev=False)
    if _subcommand(argv) != "serve":
        p.set_defaults(handler=_serve_unavailable)
        return
    try:
        from . import server
    except ImportError as exc:
        _SERVER_IMPORT_ERROR = f"'serve' needs the server extra ({exc}): {_SERVER_EXTRA}"
        return
    add_arguments, serve = getattr(server, "add_serve_arguments", None), getattr(server, "serve", None)
    if not callable(add_arguments) or not callable(serve):
        _SERVER_IMPORT_ERROR = "'serve' is unavailable: agora_token.server lacks add_serve_arguments() or serve()"
        return
    add_arguments(p)
    p.set_defaults(handler=serve)


def _serve_unavailable(args: argparse.Namespace) -> int:
    raise UsageError(_SERVER_IMPORT_ERROR or f"'serve' needs the server extra: {_SERVER_EXTRA}")


# --------------------------------------------------------------------------------------------------
# Entry point


def _error(message: str) -> int:
    sys.stderr.write(f"{PROG}: error: {' '.join(str(message).split())}\n")
    return 2


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run ``agora-token`` with ``argv`` (default: the process's arguments); return the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
        if _SERVER_IMPORT_ERROR is not None:
            # Without the server module argparse would reject serve's options before we could say why.
            return _error(_SERVER_IMPORT_ERROR)
        args = parser.parse_args(argv)
        if args.command is None:
            return _error("choose a command (see 'agora-token --help')")
        return int(args.handler(args))
    except SystemExit as exc:  # argparse: --help, --version, usage errors
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except USER_ERRORS as exc:
        return _error(str(exc))
    except KeyboardInterrupt:
        return 130


__all__ = ["build_parser", "main"]
