"""What is inside a token, and why the SDK might refuse it: the report behind ``agora-token inspect``.

``describe`` turns any token this package knows (007, 006, DynamicKey v1–v5, Signaling) into a plain
dict (the ``--json`` output); ``render`` (its own module) turns that dict into lines for a terminal.
Nothing here prints, and nothing depends on which kernel runs. A certificate given for checking is
used only to compute a signature; it never enters the report.
"""

from __future__ import annotations

import time
import unicodedata
import zlib
from datetime import datetime, timezone
from enum import IntEnum
from typing import Any, Optional

from . import legacy
from .certificates import CertificateName
from .errors import TokenError
from .services import (
    PermissionType,
    ResourceType,
    RtcPrivilege,
    Rtm2Permissions,
    Service,
    ServiceRtc,
    ServiceRtm2,
    ServiceType,
)
from .token006 import AccessToken, Privilege006
from .token007 import AccessToken2
from .validation import check_account, check_certificate, check_hex32, check_uid, uid_string

Report = dict[str, Any]

#: How the SDK names the two errors a token causes (Agora's error codes).
ERR_TOKEN_EXPIRED = 109
ERR_INVALID_TOKEN = 110
#: What each of those errors is called.
ERROR_TEXT = {ERR_TOKEN_EXPIRED: "token expired", ERR_INVALID_TOKEN: "invalid token"}
#: A token issued further than this in the future hints at a wrong clock on the issuing server.
_CLOCK_SKEW = 300

#: How a report names the pair of certificates a signature was checked with.
BOTH_CERTIFICATES = "the primary and secondary App Certificates"
_PUBLISH = (RtcPrivilege.PUBLISH_AUDIO_STREAM, RtcPrivilege.PUBLISH_VIDEO_STREAM, RtcPrivilege.PUBLISH_DATA_STREAM)
_FORMAT_NAMES = {"007": "AccessToken2", "006": "AccessToken"}


# --------------------------------------------------------------------------------------------------
# Time and text in the report's words


def utc(ts: int) -> str:
    """A Unix time as ``YYYY-MM-DD HH:MM:SS UTC``."""
    try:
        return datetime.fromtimestamp(ts, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    except (OverflowError, OSError, ValueError):  # beyond the platform's datetime range
        return f"unix time {ts}"


def duration(seconds: int) -> str:
    """A length of time in its two largest units: ``2 h 5 min``, ``3 d 4 h``, ``45 s``."""
    seconds = abs(int(seconds))
    units = (("year", 365 * 86400), ("d", 86400), ("h", 3600), ("min", 60), ("s", 1))
    parts: list[str] = []
    for name, size in units:
        if seconds >= size or (name == "s" and not parts):
            count, seconds = divmod(seconds, size)
            if name == "year":
                name = "year" if count == 1 else "years"
            parts.append(f"{count} {name}")
        elif parts:
            break  # keep adjacent units only: "1 d 3 h", never "1 d 20 s"
        if len(parts) == 2:
            break
    return " ".join(parts)


def quote(text: str) -> str:
    """Text from a token made safe for a terminal: quoted, control and format characters escaped."""
    out = []
    for ch in text:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch.isprintable() and unicodedata.category(ch) != "Cf":
            out.append(ch)
        else:
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def app_id_text(app_id: str) -> str:
    """An App ID as shown: bare when it is plain letters and digits, else quoted."""
    return app_id if app_id.isascii() and app_id.isalnum() else quote(app_id)


def _enum_name(enum: type[IntEnum], value: int) -> str:
    try:
        return enum(value).name.lower()
    except (ValueError, TypeError):  # an empty enum (ConvoAI, STT) raises TypeError
        return f"unknown_{value}"


def words(name: str) -> str:
    """A field or privilege name as words: ``join_channel`` -> ``join channel``."""
    return name.replace("_", " ")


def _problem(message: str, error: Optional[int] = None) -> dict[str, Any]:
    return {"error": error, "message": message}


# --------------------------------------------------------------------------------------------------
# The report


def describe(
    token: str,
    *,
    app_certificate: Optional[str] = None,
    secondary_certificate: Optional[str] = None,
    channel: Optional[str] = None,
    uid: Optional[int] = None,
    account: Optional[str] = None,
    app_id: Optional[str] = None,
    now: Optional[int] = None,
) -> Report:
    """Everything a token holds, its signature checked when a certificate is given, and 109/110 causes.

    ``channel``/``uid``/``account`` describe the join the SDK refused; ``app_id`` the app joining.
    With ``secondary_certificate`` too, a token signed with either is valid, and ``signed_by`` says
    which ("primary" or "secondary"; None when unchecked or invalid).
    Raises ``TokenError`` for something that is no token, ``ValueError``/``TypeError`` for bad checks.
    """
    if not isinstance(token, str):
        raise TypeError(f"token must be a str, not {type(token).__name__}")
    if uid is not None and account is not None:
        raise ValueError("give at most one of uid (a number) and account (a string)")
    if uid is not None:
        uid = check_uid(uid)
    if account is not None:
        account = check_account(account)
    if channel is not None and not isinstance(channel, str):
        raise TypeError(f"channel must be a str, not {type(channel).__name__}")
    if secondary_certificate is not None and app_certificate is None:
        raise ValueError("secondary_certificate needs app_certificate (the primary) too")
    certificates = None if app_certificate is None else _Certificates(app_certificate, secondary_certificate)
    join = _Join(channel, uid, account)
    now = int(time.time()) if now is None else int(now)
    token = token.strip()
    if legacy.looks_legacy(token):
        report = _describe_legacy(legacy.parse(token), certificates, join, now)
    elif token.startswith("007"):
        report = _describe_007(AccessToken2.parse(token), certificates, join, now)
    elif token.startswith("006"):
        report = _describe_006(AccessToken.parse(token), certificates, join, now)
    else:
        raise TokenError(
            f"not a token this tool knows: it starts with {quote(token[:6])}, not 007, 006, "
            "003-005 (DynamicKey) or 1: (Signaling)"
        )
    if app_id is not None and report["app_id"].lower() != app_id.lower():
        report["diagnosis"].insert(0, _problem(
            f"the token is for App ID {app_id_text(report['app_id'])}, but the app uses {quote(app_id)}",
            ERR_INVALID_TOKEN,
        ))  # fmt: skip
    return report


class _Certificates:
    """The certificate(s) a signature is checked with: the primary, and the secondary if given."""

    __slots__ = ("primary", "secondary")

    def __init__(self, primary: str, secondary: Optional[str]) -> None:
        self.primary, self.secondary = check_certificate(primary), None
        if secondary is not None:
            self.secondary = check_hex32("secondary_certificate", secondary)

    @property
    def named(self) -> list[tuple[CertificateName, str]]:
        """Each certificate with its name, the primary first."""
        named: list[tuple[CertificateName, str]] = [("primary", self.primary)]
        if self.secondary is not None:
            named.append(("secondary", self.secondary))
        return named

    def note(self) -> str:
        """How the report says what the signature was checked with."""
        return BOTH_CERTIFICATES if self.secondary else "the App Certificate"


def _record_signer(report: Report, signer: Optional[CertificateName], certificates: _Certificates) -> None:
    report["signature_valid"] = signer is not None
    report["signed_by"] = signer
    if signer is not None and certificates.secondary is not None:
        report["signature_note"] += f"; signed with the {signer} certificate"


class _Join:
    """The channel and user the SDK was asked to join with (any part may be unknown)."""

    __slots__ = ("channel", "uid", "account")

    def __init__(self, channel: Optional[str], uid: Optional[int], account: Optional[str]) -> None:
        self.channel, self.uid, self.account = channel, uid, account

    @property
    def given(self) -> bool:
        return self.channel is not None or self.has_user

    @property
    def has_user(self) -> bool:
        return self.uid is not None or self.account is not None

    @property
    def user(self) -> Optional[str]:
        """The user as a token stores it: a uid's decimal ("" for 0) or the account."""
        if self.uid is not None:
            return uid_string(self.uid)
        return self.account

    @property
    def user_text(self) -> str:
        return f"uid {self.uid}" if self.uid is not None else f"account {quote(self.account or '')}"

    def as_dict(self) -> Optional[dict[str, Any]]:
        if not self.given:
            return None
        return {"channel": self.channel, "uid": self.uid, "account": self.account}


def _base(version: str, fmt: str, app_id: str, salt: Optional[int], signature: str) -> Report:
    return {
        "version": version,
        "format": fmt,
        "app_id": app_id,
        "issue_ts": None,
        "issued_at": None,
        "expire": None,
        "expires_at": None,
        "expires_at_utc": None,
        "expires_in": None,
        "expired": None,
        "salt": salt,
        "services": [],
        "signature": signature,
        "signature_valid": None,
        "signed_by": None,
        "signature_note": "",
        "join": None,
        "diagnosis": [],
        "notes": [],
    }


def _set_times(
    report: Report, issue_ts: Optional[int], expire: Optional[int], expires_at: Optional[int], now: int
) -> None:
    report["issue_ts"] = issue_ts
    report["issued_at"] = None if issue_ts is None else utc(issue_ts)
    report["expire"] = expire
    if expires_at is not None:
        report.update(
            expires_at=expires_at,
            expires_at_utc=utc(expires_at),
            expires_in=expires_at - now,
            expired=expires_at <= now,
        )
    if issue_ts is not None and issue_ts > now + _CLOCK_SKEW:
        report["notes"].append(f"issued {duration(issue_ts - now)} in the future: is the issuing server's clock right?")


def _privilege(pid: int, name: str, value: int, expires_at: int, now: int) -> dict[str, Any]:
    return {
        "id": pid,
        "name": name,
        "value": value,
        "expires_at": expires_at,
        "expires_at_utc": utc(expires_at),
        "expired": expires_at <= now,
    }


def _token_expiry_problem(report: Report, now: int) -> None:
    if report["expired"]:
        report["diagnosis"].append(_problem(
            f"the token expired {duration(now - report['expires_at'])} ago (at {report['expires_at_utc']})",
            ERR_TOKEN_EXPIRED,
        ))  # fmt: skip


# ---- 007


def _describe_007(token: AccessToken2, certificates: Optional[_Certificates], join: _Join, now: int) -> Report:
    report = _base("007", _FORMAT_NAMES["007"], token.app_id, token.salt, (token._signature or b"").hex())
    _set_times(report, token.issue_ts, token.expire, token.issue_ts + token.expire, now)
    for service in token.services:
        report["services"].append(_service_007(service, token, now))
    if token.unread_services:
        declared = len(token.services) + token.unread_services
        report["notes"].append(
            f"the token declares {declared} services but only {len(token.services)} could be read: "
            "the next has a type this package does not know (its signature still covers it)"
        )
    if certificates is None:
        report["signature_note"] = "not checked: no App Certificate given"
    else:
        report["signature_note"] = f"checked with {certificates.note()}"
        signer = token.signed_by(certificates.primary, secondary_certificate=certificates.secondary)
        _record_signer(report, signer, certificates)
    _token_expiry_problem(report, now)
    for service in report["services"]:
        for privilege in service["privileges"]:
            if privilege["expired"] and privilege["value"] and not report["expired"]:
                is_join = service["type"] == ServiceType.RTC and privilege["id"] == RtcPrivilege.JOIN_CHANNEL
                code = ERR_TOKEN_EXPIRED if is_join else None
                report["diagnosis"].append(_problem(
                    f"the {words(privilege['name'])} privilege of the {service['display_name']} service expired "
                    f"{duration(now - privilege['expires_at'])} ago", code,
                ))  # fmt: skip
    if join.given:
        report["join"] = join.as_dict()
        _join_007(report, token, join)
    _signature_problem(report)
    return report


def _service_007(service: Service, token: AccessToken2, now: int) -> dict[str, Any]:
    stype = service.service_type
    privileges = []
    for pid, value in sorted(service.privileges.items()):
        # 0 means "no limit of its own": the privilege lasts as long as the token.
        expires_at = token.issue_ts + value if value else token.issue_ts + token.expire
        privileges.append(_privilege(pid, _enum_name(service.Privilege, pid), value, expires_at, now))
    entry: dict[str, Any] = {
        "type": int(stype),
        "name": _enum_name(ServiceType, stype),
        "display_name": service.display_name or f"type {stype}",
        "privileges": privileges,
    }
    for name, value in service.fields().items():
        entry[name] = _permissions(value) if isinstance(service, ServiceRtm2) and name == "permissions" else value
    return entry


def _permissions(permissions: Rtm2Permissions) -> dict[str, dict[str, list[str]]]:
    """RTM2 permissions by resource and permission type names."""
    return {
        _enum_name(ResourceType, rt): {_enum_name(PermissionType, pt): res for pt, res in perms.items()}
        for rt, perms in permissions.as_dict().items()
    }


def _join_007(report: Report, token: AccessToken2, join: _Join) -> None:
    problems = report["diagnosis"]
    rtc = [s for s in token.services if isinstance(s, ServiceRtc)]
    if not rtc:
        problems.append(_problem("the token has no RTC service, so it cannot join any channel", ERR_INVALID_TOKEN))
        return
    candidates = rtc
    if join.channel is not None:
        candidates = [s for s in rtc if s.channel_name == join.channel]
        if not candidates:
            made_for = " or ".join(quote(s.channel_name) for s in rtc)
            problems.append(_problem(
                f"the token was made for channel {made_for}, but the join is to channel {quote(join.channel)} "
                "(channel names are compared exactly, case included)", ERR_INVALID_TOKEN,
            ))  # fmt: skip
            return
    if join.has_user:
        user = join.user
        matching = [s for s in candidates if s.uid in ("", user)]
        if not matching:
            made_for = " or ".join(_token_user(s.uid) for s in candidates)
            hint = ""
            if join.uid == 0:
                hint = "; uid 0 asks the SDK to pick a uid, which cannot match"
            elif join.uid is not None and any(not s.uid.isdigit() for s in candidates):
                hint = "; a token for an account needs joinChannelWithUserAccount"
            elif join.account is not None and all(s.uid.isdigit() for s in candidates):
                hint = "; a token for a numeric uid needs joinChannel with that uid"
            problems.append(_problem(
                f"the token was made for {made_for}, but the join is as {join.user_text}{hint}", ERR_INVALID_TOKEN
            ))  # fmt: skip
            return
        candidates = matching
    service = candidates[0]
    if RtcPrivilege.JOIN_CHANNEL not in service.privileges:
        problems.append(_problem("the RTC service grants no join-channel privilege", ERR_INVALID_TOKEN))
    elif not any(p in service.privileges for p in _PUBLISH):
        report["notes"].append("the RTC service lets the user join but not publish (a subscriber token)")


def _token_user(uid: str) -> str:
    return "any uid" if uid == "" else f"uid {uid}" if uid.isdigit() else f"account {quote(uid)}"


def _signature_problem(report: Report, covers: str = "") -> None:
    if report["signature_valid"] is False:
        inputs = f" and this {covers}" if covers else ""
        which = "either App Certificate" if BOTH_CERTIFICATES in report["signature_note"] else "this App Certificate"
        report["diagnosis"].insert(0, _problem(
            f"the signature does not match {which}{inputs}: the token was made with another "
            f"certificate (another project?){', another ' + covers if covers else ''} or altered", ERR_INVALID_TOKEN,
        ))  # fmt: skip


# ---- 006


def _describe_006(token: AccessToken, certificates: Optional[_Certificates], join: _Join, now: int) -> Report:
    report = _base("006", _FORMAT_NAMES["006"], token.app_id, token.salt, (token._signature or b"").hex())
    _set_times(report, None, token.ts, token.ts, now)
    privileges = []
    for pid, value in sorted(token.privileges.items()):
        # Absolute times; 0 means no limit of its own (the token's ts still applies).
        privileges.append(_privilege(pid, _enum_name(Privilege006, pid), value, value or token.ts, now))
    rtm_only = set(token.privileges) == {Privilege006.RTM_LOGIN}
    report["services"].append({
        "type": None,
        "name": "rtm" if rtm_only else "rtc",
        "display_name": "RTM" if rtm_only else "RTC",
        "privileges": privileges,
        "crc_channel_name": token.crc_channel_name,
        "crc_uid": token.crc_uid,
    })  # fmt: skip
    _token_expiry_problem(report, now)
    for privilege in privileges:
        if privilege["expired"] and privilege["value"] and not report["expired"]:
            code = ERR_TOKEN_EXPIRED if privilege["id"] == Privilege006.JOIN_CHANNEL else None
            report["diagnosis"].append(_problem(
                f"the {words(privilege['name'])} privilege expired {duration(now - privilege['expires_at'])} ago",
                code,
            ))  # fmt: skip
    crcs_match: Optional[bool] = None
    if join.given:
        report["join"] = join.as_dict()
        if rtm_only and join.channel is None and join.account is not None:
            # An RTM 006 token signs the user id in the channel's place and an empty uid.
            join = _Join(join.account, 0, None)
            report["notes"].append("an RTM 006 token stores the user id where RTC stores the channel; checked so")
        crcs_match = _join_006(report, token, join, rtm_only)
    if certificates is None:
        report["signature_note"] = "not checked: no App Certificate given"
    elif join.channel is None or not join.has_user:
        report["signature_note"] = "not checked: a 006 signature covers the channel and uid, so both are needed"
    elif crcs_match is False:
        report["signature_note"] = "not checked: the channel or uid does not match the token's CRCs"
    else:
        report["signature_note"] = f"checked (HMAC over app id, channel, uid and privileges) with {certificates.note()}"
        signer = token.signed_by(certificates.primary, join.channel, join.user or "",
                                 secondary_certificate=certificates.secondary)  # fmt: skip
        _record_signer(report, signer, certificates)
    _signature_problem(report, "channel and uid")
    return report


def _join_006(report: Report, token: AccessToken, join: _Join, rtm_only: bool) -> bool:
    def crc(text: str) -> int:
        return zlib.crc32(text.encode())  # CRC-32/IEEE of the UTF-8 bytes, as 006 stores it

    checks: dict[str, bool] = {}
    if join.channel is not None:
        checks["channel_crc"] = crc(join.channel) == token.crc_channel_name
        if not checks["channel_crc"]:
            what = "user id" if rtm_only else "channel"
            report["diagnosis"].append(_problem(
                f"the token's {what} CRC ({token.crc_channel_name:#010x}) is not that of {quote(join.channel)} "
                f"({crc(join.channel):#010x}): it was made for another {what}", ERR_INVALID_TOKEN,
            ))  # fmt: skip
    if join.has_user:
        user = join.user or ""
        checks["uid_crc"] = crc(user) == token.crc_uid
        if not checks["uid_crc"]:
            report["diagnosis"].append(_problem(
                f"the token's uid CRC ({token.crc_uid:#010x}) is not that of {join.user_text} ({crc(user):#010x}): "
                "it was made for another user" + (" (uid 0 is stored as an empty string)" if join.uid == 0 else ""),
                ERR_INVALID_TOKEN,
            ))  # fmt: skip
    report["join"]["checks"] = checks
    return all(checks.values())


# ---- legacy


def _describe_legacy(token: legacy.LegacyToken, certificates: Optional[_Certificates], join: _Join, now: int) -> Report:
    report = _base(token.format, token.name, token.app_id, token.salt, token.signature)
    expires_at = token.expired_ts or None  # 0: the key has no expiry of its own
    _set_times(report, token.issue_ts, token.expired_ts, expires_at, now)
    service: dict[str, Any] = {"type": token.service, "privileges": []}
    if token.format == "dk5":
        service["name"] = _enum_name(legacy.DynamicKey5Service, token.service or 0)
        if token.extra:
            service["extra"] = {str(k): v for k, v in token.extra.items()}
            upload = token.extra.get(legacy.ALLOW_UPLOAD_IN_CHANNEL)
            if upload is not None:
                service["upload_permission"] = {"0": "no upload", "3": "audio and video"}.get(upload, upload)
    elif token.format == "signaling":
        service["name"] = "signaling"
    elif token.format == "dk4":
        service["name"] = "unknown"  # not stored: found below if the signature can be checked
    else:
        service["name"] = "media_channel"
    if token.uid is not None:
        service["uid"] = token.uid
    service["display_name"] = words(service["name"])
    report["services"].append(service)
    report["expire"] = token.expired_ts
    _token_expiry_problem(report, now)
    if join.given:
        report["join"] = join.as_dict()
        if token.uid is not None and join.uid is not None and token.uid not in (0, join.uid):
            report["diagnosis"].append(_problem(
                f"the key was made for uid {token.uid}, but the join is as uid {join.uid}", ERR_INVALID_TOKEN
            ))  # fmt: skip
    _verify_legacy(report, token, certificates, join)
    _signature_problem(report, " and ".join(token.needs))
    return report


def _verify_legacy(
    report: Report, token: legacy.LegacyToken, certificates: Optional[_Certificates], join: _Join
) -> None:
    if certificates is None:
        report["signature_note"] = "not checked: no App Certificate given"
        return
    inputs: dict[str, Any] = {"channel": join.channel, "uid": join.uid, "account": join.account}
    if token.format == "signaling" and join.account is None and join.uid is not None:
        inputs["account"] = str(join.uid)
    if token.format != "signaling" and join.account is not None:
        report["signature_note"] = "not checked: DynamicKeys sign a numeric uid, not an account"
        return
    missing = [name for name in token.needs if inputs[name] is None]
    if missing:
        report["signature_note"] = f"not checked: a {token.name} signature also covers the {' and '.join(missing)}"
        return
    signer: Optional[CertificateName] = None
    for name, certificate in certificates.named:
        if token.format == "dk4":
            service = token.dk4_service(certificate, inputs["channel"], inputs["uid"])
            if service is not None:
                report["services"][0]["name"] = service
                report["services"][0]["display_name"] = words(service)
                signer = name
        elif token.verify(certificate, channel=inputs["channel"], uid=inputs["uid"], account=inputs["account"]):
            signer = name
        if signer is not None:
            break
    report["signature_note"] = f"checked with {certificates.note()} and the " + " and ".join(token.needs)
    _record_signer(report, signer, certificates)


__all__ = [
    "ERROR_TEXT", "ERR_INVALID_TOKEN", "ERR_TOKEN_EXPIRED", "Report", "app_id_text", "describe", "duration", "quote",
    "utc", "words",
]  # fmt: skip
