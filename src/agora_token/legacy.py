"""DynamicKey 1–5 and the Signaling token, built, parsed and verified (docs/format.md, "Before 006").

Agora retired these long ago; they are here so old deployments can still be served and so
``agora-token inspect`` can explain any key it is shown. Times are absolute Unix seconds, as the
formats store them; every digest is HMAC-SHA1 (MD5 for Signaling), never SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Optional

from . import _messages as _msg
from ._bind import bind_first
from ._limits import MAX_TOKEN_LENGTH, SALT_MAX
from .errors import TokenError
from .validation import check_account, check_app_id, check_certificate, check_channel, check_u16, check_u32, check_uid

#: Legacy random ints are formatted as 8 hex digits, so any u32 is allowed; we draw like 006/007.


class DynamicKey4Service:
    """The service prefixes DynamicKey4 signs (they are not stored in the key itself)."""

    PUBLIC_SHARING = "APSS"
    RECORDING = "ARS"
    MEDIA_CHANNEL = "ACS"


#: DynamicKey4 service names as the CLI and ``describe`` spell them.
DK4_SERVICES: Mapping[str, str] = {
    "public_sharing": DynamicKey4Service.PUBLIC_SHARING,
    "recording": DynamicKey4Service.RECORDING,
    "media_channel": DynamicKey4Service.MEDIA_CHANNEL,
}


class DynamicKey5Service(IntEnum):
    """Service ids of DynamicKey5 (stored in the key)."""

    MEDIA_CHANNEL = 1
    RECORDING = 2
    PUBLIC_SHARING = 3
    IN_CHANNEL_PERMISSION = 4


#: DynamicKey5 "extra" key carrying the in-channel upload permission.
ALLOW_UPLOAD_IN_CHANNEL = 1
#: Values of ``ALLOW_UPLOAD_IN_CHANNEL``.
NO_UPLOAD = "0"
AUDIO_VIDEO_UPLOAD = "3"


def _salt(salt: Optional[int]) -> int:
    return secrets.randbelow(SALT_MAX) + 1 if salt is None else check_u32("salt", salt)


def _issue_ts(issue_ts: Optional[int]) -> int:
    return int(time.time()) if issue_ts is None else check_u32("issue_ts", issue_ts)


def _dec10(value: int) -> str:
    """The zero-padded 10-digit decimal every text DynamicKey uses for times and uids."""
    return f"{value:010d}"


def _hex8(value: int) -> str:
    return f"{value:08x}"


def _sha1_hex(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha1).hexdigest()


def _text_signature(
    certificate: str, prefix: str, app_id: str, issue_ts: int, salt: int, channel: str, tail: str
) -> str:
    # DK1–4 sign one concatenated text; app ids shorter than 32 chars were NUL-padded by Agora,
    # but ours are always exactly 32 (validated), so no padding is ever needed.
    return _sha1_hex(certificate.encode(), prefix + app_id + _dec10(issue_ts) + _hex8(salt) + channel + tail)


def _common(app_id: str, app_certificate: str, channel: str) -> tuple[str, str, str]:
    return check_app_id(app_id), check_certificate(app_certificate), check_channel(channel)


def build_dynamic_key1(
    app_id: str,
    app_certificate: str,
    channel: str,
    *,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A DynamicKey v1 for ``channel`` (no uid, no expiry); ``issue_ts``/``salt`` default to now/random."""
    app_id, app_certificate, channel = _common(app_id, app_certificate, channel)
    ts, rnd = _issue_ts(issue_ts), _salt(salt)
    signature = _text_signature(app_certificate, "", app_id, ts, rnd, channel, "")
    return signature + app_id + _dec10(ts) + _hex8(rnd)


def _dk23(
    prefix: str,
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int,
    expired_ts: int,
    *,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A DynamicKey v2 (``prefix`` "") or v3 ("003") for ``channel`` and ``uid``, valid until ``expired_ts``."""
    app_id, app_certificate, channel = _common(app_id, app_certificate, channel)
    uid, expired_ts = check_uid(uid), check_u32("expired_ts", expired_ts)
    ts, rnd = _issue_ts(issue_ts), _salt(salt)
    tail = _dec10(uid) + _dec10(expired_ts)
    signature = _text_signature(app_certificate, "", app_id, ts, rnd, channel, tail)
    return prefix + signature + app_id + _dec10(ts) + _hex8(rnd) + tail


build_dynamic_key2 = bind_first(
    _dk23, "", "build_dynamic_key2",
    "A DynamicKey v2 for ``channel`` and ``uid``, valid until the absolute time ``expired_ts``.",
)  # fmt: skip
build_dynamic_key3 = bind_first(
    _dk23, "003", "build_dynamic_key3", 'A DynamicKey v3: the v2 key with the "003" prefix.'
)


def _dk4_prefix(service: str) -> str:
    key = service.strip().lower().replace("-", "_")
    if key in DK4_SERVICES:
        return DK4_SERVICES[key]
    if service in DK4_SERVICES.values():
        return service
    raise ValueError(f"service must be one of {', '.join(DK4_SERVICES)}, got {service!r}")


def build_dynamic_key4(
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int,
    expired_ts: int,
    service: str = "media_channel",
    *,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A DynamicKey v4 for ``service`` (media_channel, recording or public_sharing); uid is signed, not stored."""
    if not isinstance(service, str):
        raise TypeError(f"service must be a str, not {type(service).__name__}")
    prefix = _dk4_prefix(service)
    app_id, app_certificate, channel = _common(app_id, app_certificate, channel)
    uid, expired_ts = check_uid(uid), check_u32("expired_ts", expired_ts)
    ts, rnd = _issue_ts(issue_ts), _salt(salt)
    signature = _text_signature(app_certificate, prefix, app_id, ts, rnd, channel, _dec10(uid) + _dec10(expired_ts))
    return "004" + signature + app_id + _dec10(ts) + _hex8(rnd) + _dec10(expired_ts)


_U16 = struct.Struct("<H")
_U32 = struct.Struct("<I")


def _string(data: bytes) -> bytes:
    if len(data) > 0xFFFF:
        raise ValueError("a DynamicKey5 string holds at most 65535 bytes")
    return _U16.pack(len(data)) + data


def _extra(extra: Mapping[int, str]) -> bytes:
    return _U16.pack(len(extra)) + b"".join(_U16.pack(k) + _string(extra[k].encode()) for k in sorted(extra))


def _dk5_signature(
    certificate: str,
    service: int,
    app_id: str,
    issue_ts: int,
    salt: int,
    channel: str,
    uid: int,
    expired_ts: int,
    extra: Mapping[int, str],
) -> str:
    # DK5 is the one format keyed by the *decoded* certificate and signing the decoded app id.
    message = (
        _U16.pack(service)
        + _string(bytes.fromhex(app_id))
        + _U32.pack(issue_ts)
        + _U32.pack(salt)
        + _string(channel.encode())
        + _U32.pack(uid)
        + _U32.pack(expired_ts)
        + _extra(extra)
    )
    return hmac.new(bytes.fromhex(certificate), message, hashlib.sha1).hexdigest().upper()


def _check_extra(extra: Optional[Mapping[int, str]]) -> dict[int, str]:
    if extra is None:
        return {}
    if not isinstance(extra, Mapping):
        raise TypeError(f"extra must be a mapping of int to str, not {type(extra).__name__}")
    checked: dict[int, str] = {}
    for key, value in extra.items():
        if not isinstance(value, str):
            raise TypeError(f"extra[{key!r}] must be a str, not {type(value).__name__}")
        checked[check_u16("extra key", key)] = value
    return checked


def build_dynamic_key5(
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int,
    expired_ts: int,
    service: int = DynamicKey5Service.MEDIA_CHANNEL,
    *,
    extra: Optional[Mapping[int, str]] = None,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A DynamicKey v5 for ``service`` (a ``DynamicKey5Service``); ``extra`` maps u16 keys to strings."""
    app_id, app_certificate, channel = _common(app_id, app_certificate, channel)
    try:
        service = DynamicKey5Service(check_u16("service", service))
    except ValueError:
        raise ValueError(f"service must be a DynamicKey5Service (1..4), got {service!r}") from None
    uid, expired_ts = check_uid(uid), check_u32("expired_ts", expired_ts)
    checked_extra = _check_extra(extra)
    ts, rnd = _issue_ts(issue_ts), _salt(salt)
    signature = _dk5_signature(app_certificate, service, app_id, ts, rnd, channel, uid, expired_ts, checked_extra)
    content = (
        _U16.pack(service)
        + _string(signature.encode())
        + _string(bytes.fromhex(app_id))
        + _U32.pack(ts)
        + _U32.pack(rnd)
        + _U32.pack(expired_ts)
        + _extra(checked_extra)
    )
    return "005" + base64.b64encode(content).decode("ascii")


def build_dynamic_key5_in_channel_permission(
    app_id: str,
    app_certificate: str,
    channel: str,
    uid: int,
    expired_ts: int,
    permission: str,
    *,
    issue_ts: Optional[int] = None,
    salt: Optional[int] = None,
) -> str:
    """A DynamicKey v5 in-channel permission key; ``permission`` is ``NO_UPLOAD`` or ``AUDIO_VIDEO_UPLOAD``."""
    if permission not in (NO_UPLOAD, AUDIO_VIDEO_UPLOAD):
        raise ValueError(f"permission must be {NO_UPLOAD!r} (no upload) or {AUDIO_VIDEO_UPLOAD!r} (audio and video)")
    return build_dynamic_key5(
        app_id, app_certificate, channel, uid, expired_ts, DynamicKey5Service.IN_CHANNEL_PERMISSION,
        extra={ALLOW_UPLOAD_IN_CHANNEL: permission}, issue_ts=issue_ts, salt=salt,
    )  # fmt: skip


def _signaling_digest(account: str, app_id: str, app_certificate: str, expired_ts: int) -> str:
    return hashlib.md5((account + app_id + app_certificate + str(expired_ts)).encode()).hexdigest()


def build_signaling_token(app_id: str, app_certificate: str, account: str, expired_ts: int) -> str:
    """A Signaling token for ``account``, valid until the absolute time ``expired_ts``."""
    app_id, app_certificate = check_app_id(app_id), check_certificate(app_certificate)
    account = check_account(account)
    expired_ts = check_u32("expired_ts", expired_ts)
    return f"1:{app_id}:{expired_ts}:{_signaling_digest(account, app_id, app_certificate, expired_ts)}"


# --------------------------------------------------------------------------------------------------
# Parsing

#: Human names of the formats, by the short name ``LegacyToken.format`` uses.
FORMAT_NAMES: Mapping[str, str] = {
    "dk1": "DynamicKey v1",
    "dk2": "DynamicKey v2",
    "dk3": "DynamicKey v3",
    "dk4": "DynamicKey v4",
    "dk5": "DynamicKey v5",
    "signaling": "Signaling token",
}

_HEX = "[0-9a-fA-F]"
_TEXT_HEAD = rf"(?P<sig>{_HEX}{{40}})(?P<app>{_HEX}{{32}})(?P<ts>\d{{10}})(?P<rnd>{_HEX}{{8}})"
# Lengths pin each text format: 90 (v1) and 110 (v2) chars cannot be valid 006/007 base64 bodies.
_PATTERNS = {
    "dk1": re.compile(_TEXT_HEAD + r"\Z"),
    "dk2": re.compile(_TEXT_HEAD + r"(?P<uid>\d{10})(?P<exp>\d{10})\Z"),
    "dk3": re.compile("003" + _TEXT_HEAD + r"(?P<uid>\d{10})(?P<exp>\d{10})\Z"),
    "dk4": re.compile("004" + _TEXT_HEAD + r"(?P<exp>\d{10})\Z"),
    "signaling": re.compile(r"1:(?P<app>[^:]{1,64}):(?P<exp>\d{1,10}):(?P<sig>[0-9a-fA-F]{32})\Z"),
}


@dataclass(frozen=True)
class LegacyToken:
    """A decoded legacy key: what it stores, and how to check its signature."""

    format: str
    app_id: str
    signature: str
    issue_ts: Optional[int] = None
    salt: Optional[int] = None
    uid: Optional[int] = None
    expired_ts: Optional[int] = None
    service: Optional[int] = None
    extra: dict[int, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The format's human name."""
        return FORMAT_NAMES[self.format]

    @property
    def needs(self) -> tuple[str, ...]:
        """What ``verify`` needs besides the certificate: the parts signed but not stored."""
        if self.format == "signaling":
            return ("account",)
        if self.format in ("dk4", "dk5"):
            return ("channel", "uid")
        return ("channel",)

    def verify(
        self,
        app_certificate: str,
        *,
        channel: Optional[str] = None,
        uid: Optional[int] = None,
        account: Optional[str] = None,
    ) -> bool:
        """Whether the key was signed with ``app_certificate`` for this channel/uid (or account)."""
        return self._signed_with(app_certificate, channel, uid, account) is not None

    def dk4_service(self, app_certificate: str, channel: str, uid: int) -> Optional[str]:
        """For a DynamicKey v4, the service name it was signed for, or None if none matches."""
        if self.format != "dk4":
            raise ValueError("dk4_service() applies to DynamicKey v4 keys only")
        return self._signed_with(app_certificate, channel, uid, None)

    def _signed_with(
        self, certificate: str, channel: Optional[str], uid: Optional[int], account: Optional[str]
    ) -> Optional[str]:
        """The service the signature matches ("" where the format has none), or None."""
        certificate = check_certificate(certificate)
        given = {"channel": channel, "uid": uid, "account": account}
        missing = [name for name in self.needs if given[name] is None]
        if missing:
            raise ValueError(f"checking a {self.name} needs {' and '.join(missing)}")
        if self.format == "signaling":
            expected = _signaling_digest(check_account(account), self.app_id, certificate, self._expired)
            return "" if hmac.compare_digest(expected, self.signature.lower()) else None
        channel = _check_text_channel(channel)
        if self.format == "dk5":
            try:
                app_id = check_app_id(self.app_id)
            except ValueError:
                return None
            expected = _dk5_signature(
                certificate, self._service, app_id, self._ts, self._rnd, channel, check_uid(uid),
                self._expired, self.extra,
            )  # fmt: skip
            return "" if hmac.compare_digest(expected, self.signature.upper()) else None
        tail = ""
        if self.format in ("dk2", "dk3"):
            tail = _dec10(self.uid or 0) + _dec10(self._expired)
        elif self.format == "dk4":
            tail = _dec10(check_uid(uid)) + _dec10(self._expired)
        # DK4 does not store its service prefix, so each candidate is tried.
        prefixes = DK4_SERVICES.items() if self.format == "dk4" else (("", ""),)
        for service, prefix in prefixes:
            expected = _text_signature(certificate, prefix, self.app_id, self._ts, self._rnd, channel, tail)
            if hmac.compare_digest(expected, self.signature.lower()):
                return service
        return None

    @property
    def _ts(self) -> int:
        return self.issue_ts or 0

    @property
    def _rnd(self) -> int:
        return self.salt or 0

    @property
    def _expired(self) -> int:
        return self.expired_ts or 0

    @property
    def _service(self) -> int:
        return self.service or 0


def _check_text_channel(channel: Optional[str]) -> str:
    # A channel given to *check* a key is only compared, so any text is allowed (not Agora's charset).
    if not isinstance(channel, str):
        raise TypeError(f"channel must be a str, not {type(channel).__name__}")
    channel.encode()  # a lone surrogate raises UnicodeEncodeError (a ValueError) here, not deeper
    return channel


def looks_legacy(token: str) -> bool:
    """Whether ``token`` has the shape of one of the legacy formats."""
    return token.startswith("005") or any(p.match(token) for p in _PATTERNS.values())


def parse(token: str) -> LegacyToken:
    """Decode a DynamicKey v1–v5 or Signaling token; raises ``TokenError`` if it is none of them."""
    if not isinstance(token, str):
        raise TokenError(_msg.not_a_str(token))
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenError(_msg.TOO_LONG)
    if not token.isascii():  # every legacy format is ASCII; a lone surrogate could not be verified
        raise TokenError(_msg.LEGACY_NOT_ASCII)
    if token.startswith("005"):
        return _parse_dk5(token)
    for fmt, pattern in _PATTERNS.items():
        match = pattern.match(token)
        if match:
            groups = match.groupdict()
            return LegacyToken(
                format=fmt,
                app_id=groups["app"],
                signature=groups["sig"],
                issue_ts=int(groups["ts"]) if "ts" in groups else None,
                salt=int(groups["rnd"], 16) if "rnd" in groups else None,
                uid=int(groups["uid"]) if "uid" in groups else None,
                expired_ts=int(groups["exp"]) if "exp" in groups else None,
            )
    raise TokenError(_msg.NOT_LEGACY)


def _parse_dk5(token: str) -> LegacyToken:
    body = token[3:]
    try:
        content = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise TokenError(_msg.DK5_NOT_BASE64) from None
    pos = 0

    def take(size: int, what: str) -> bytes:
        nonlocal pos
        if pos + size > len(content):
            raise TokenError(_msg.dk5_truncated(what))
        chunk = content[pos : pos + size]
        pos += size
        return chunk

    def u16(what: str) -> int:
        return int(_U16.unpack(take(2, what))[0])

    def u32(what: str) -> int:
        return int(_U32.unpack(take(4, what))[0])

    def raw(what: str) -> bytes:
        return take(u16(what), what)

    service = u16("service")
    signature = raw("signature")
    app_id = raw("app id")
    issue_ts, salt, expired_ts = u32("timestamp"), u32("random int"), u32("expiry")
    extra: dict[int, str] = {}
    for _ in range(u16("extra count")):
        key = u16("extra key")
        try:
            extra[key] = raw("extra value").decode()
        except UnicodeDecodeError:
            raise TokenError(_msg.DK5_EXTRA_NOT_UTF8) from None
    if pos != len(content):
        raise TokenError(_msg.DK5_TRAILING)
    if not re.fullmatch(rb"[0-9a-fA-F]{40}", signature):
        raise TokenError(_msg.DK5_SIGNATURE)
    return LegacyToken(
        format="dk5",
        app_id=app_id.hex(),
        signature=signature.decode("ascii"),
        issue_ts=issue_ts,
        salt=salt,
        expired_ts=expired_ts,
        service=service,
        extra=extra,
    )


__all__ = [
    "ALLOW_UPLOAD_IN_CHANNEL",
    "AUDIO_VIDEO_UPLOAD",
    "DK4_SERVICES",
    "DynamicKey4Service",
    "DynamicKey5Service",
    "FORMAT_NAMES",
    "LegacyToken",
    "NO_UPLOAD",
    "build_dynamic_key1",
    "build_dynamic_key2",
    "build_dynamic_key3",
    "build_dynamic_key4",
    "build_dynamic_key5",
    "build_dynamic_key5_in_channel_permission",
    "build_signaling_token",
    "looks_legacy",
    "parse",
]
