"""The token kernel in pure Python: the reference that ``_fastpack`` mirrors byte for byte.

A kernel turns whole tokens into strings and back; it knows the wire format (docs/format.md) but
nothing of services' meaning or of builders' rules, and reads no clock: every time is an argument.
Everything above it (``token006``, ``token007``, ``wire``) calls these functions and never packs
bytes itself. Both kernels expose exactly these names and signatures (``_kernel_api.Kernel``, the
Protocol both satisfy).

Data shapes shared with the C kernel:

* ``privileges``: a sequence of ``(id, value)`` pairs, already in wire order (ids ascending).
* a service: ``(service_type, privileges, fields)``; ``fields`` is a flat sequence in which a ``str``
  is packed as a length-prefixed UTF-8 string and an ``int`` as a 16-bit little-endian word (the
  APaaS role, or the counts and types of RTM2 permissions). Services come already in wire order.
* ``layouts``: ``{service_type: codes}`` telling the parser how to read each known service's fields:
  ``s`` a string, ``h`` a signed 16-bit integer, ``p`` an RTM2 permission block (read into the same
  flat ``int``/``str`` sequence the builder takes). A type missing from ``layouts`` ends the parse.

Values that do not fit their wire field raise ``ValueError``, values of the wrong type ``TypeError``,
malformed tokens ``TokenError``: all in the words of ``_messages``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import operator
import os
import re
import struct
import threading
import zlib
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Optional, TypeVar

from . import _messages as _msg
from ._kernel_api import Field, Parsed006, Parsed007, ParsedService, Privileges, Service, User
from ._limits import MAX_PAYLOAD as MAX_PAYLOAD  # the kernel's constants (Kernel): exported
from ._limits import MAX_TOKEN_LENGTH as MAX_TOKEN_LENGTH
from ._limits import SALT_MAX as SALT_MAX
from ._limits import U16_MAX, U32_MAX
from .errors import TokenError

_U16 = struct.Struct("<H")
_I16 = struct.Struct("<h")
_U32 = struct.Struct("<I")
_HEAD_007 = struct.Struct("<IIIH")  # issue_ts, expire, salt, service count
_HEAD_006 = struct.Struct("<II")  # salt, ts
_PRIVILEGE = struct.Struct("<HI")
_SIGNATURE_PREFIX = b"\x20\x00"  # u16 length 32 of an HMAC-SHA256 signature
_BASE64 = re.compile(r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?\Z")


def _string(data: bytes) -> bytes:
    return _U16.pack(len(data)) + data


def _sequence(value: Any, what: str) -> tuple[Any, ...]:
    """``value`` (a sequence: it has a length, as the C kernel asks) as a tuple, else TypeError in our words."""
    try:
        len(value)
        return tuple(value)
    except TypeError:
        raise TypeError(_msg.not_a_sequence(what, value)) from None


def _privileges(privileges: Privileges) -> bytes:
    if type(privileges) is not tuple:  # the builders' tuples skip a call
        privileges = _sequence(privileges, "privileges")
    try:
        return _U16.pack(len(privileges)) + b"".join([_PRIVILEGE.pack(k, v) for k, v in privileges])
    except (TypeError, ValueError):  # the unpacking of an item that is not a pair, in the interpreter's words
        for pair in privileges:
            try:
                _key, _value = pair
            except (TypeError, ValueError):
                raise TypeError(_msg.NOT_A_PAIR) from None
        raise  # pragma: no cover - every item was a pair: the error was not the unpacking's


def _word(value: int) -> bytes:
    value = _integer(value, "service field")
    if not -0x8000 <= value <= 0xFFFF:
        raise ValueError(_msg.WORD_RANGE)
    return _U16.pack(value & 0xFFFF)


def _fields(fields: Sequence[Field]) -> bytes:
    try:
        items = fields if type(fields) is tuple else tuple(fields)
    except TypeError:
        raise TypeError(_msg.not_a_sequence("service fields", fields)) from None
    return b"".join([_string(f.encode()) if isinstance(f, str) else _word(f) for f in items])


# Values that do not fit their wire field: the packers above let ``struct`` find them (free when
# nothing is wrong), then the values are walked again in the C kernel's order to say, in the
# project's own words, which field and what limit. ``struct``'s wording differs between Pythons.


def _integer(value: object, what: str) -> int:
    """``value`` as an int, as ``struct`` takes it (an int or an ``__index__``); else TypeError."""
    try:
        return operator.index(value)  # type: ignore[arg-type]  # any object: TypeError is the answer
    except TypeError:
        raise TypeError(_msg.not_a("an int", what, value)) from None


def _check_int(value: object, what: str, top: int) -> None:
    if not 0 <= _integer(value, what) <= top:
        raise ValueError(_msg.out_of_range(what, top))


def _check_count(count: int, what: str) -> None:
    if count > U16_MAX:
        raise ValueError(_msg.too_many(what))


def _check_length(data: bytes, what: str) -> None:
    if len(data) > U16_MAX:
        raise ValueError(_msg.too_long(what))


def _check_str(value: object, what: str) -> None:
    """A str, as the C kernel reads text; else TypeError naming ``what``."""
    if not isinstance(value, str):
        raise TypeError(_msg.not_a("a str", what, value))


def _user(uid: User) -> str:
    """A user's wire string (docs/format.md, "User ids"): a str as given; a numeric uid (an int
    0..2^32-1) as its decimal digits, uid 0 as the empty string (any user)."""
    if isinstance(uid, str):
        return uid
    try:
        value = operator.index(uid)
    except TypeError:
        raise TypeError(_msg.not_a("a str or an int", "uid", uid)) from None
    if not 0 <= value <= U32_MAX:
        raise ValueError(_msg.out_of_range("uid", U32_MAX))
    return str(int(value)) if value else ""  # int(): an int subclass's str() may be its name


def _check_privileges(privileges: Privileges) -> None:
    _check_count(len(privileges), "privilege count")
    for key, value in privileges:
        _check_int(key, "privilege id", U16_MAX)
        _check_int(value, "privilege value", U32_MAX)


def _explain_007(app_id: str, issue_ts: int, expire: int, salt: int, services: Sequence[Service]) -> ValueError:
    """The error for the first value of a 007 token that does not fit its field."""
    try:
        _check_length(app_id.encode(), "app_id")
        _check_int(issue_ts, "issue_ts", U32_MAX)
        _check_int(expire, "expire", U32_MAX)
        _check_int(salt, "salt", U32_MAX)
        _check_count(len(services), "service count")
        for service_type, privileges, fields in services:
            _check_int(service_type, "service type", U16_MAX)
            _check_privileges(privileges)
            for field in fields:
                if isinstance(field, str):
                    _check_length(field.encode(), "service field")
    except ValueError as exc:
        return exc
    raise AssertionError("struct refused a 007 value that fits its field")  # pragma: no cover


def _explain_006(salt: int, ts: int, privileges: Privileges) -> ValueError:
    """The error for the first value of a 006 token that does not fit its field."""
    try:
        _check_int(salt, "salt", U32_MAX)
        _check_int(ts, "ts", U32_MAX)
        _check_privileges(privileges)
    except ValueError as exc:
        return exc
    raise AssertionError("struct refused a 006 value that fits its field")  # pragma: no cover


# Keys derived from a certificate, cached because a server signs with one certificate over and over
# (the C kernel keeps the same per thread). Bounded; dict reads and writes are atomic.
_CACHE_MAX = 64
_K = TypeVar("_K")
_V = TypeVar("_V")
#: (certificate, issue_ts) -> HMAC(u32le(issue_ts), certificate): a second's tokens share it.
_first_keys: dict[tuple[str, int], bytes] = {}
#: certificate -> SHA-256 states keyed with its HMAC inner and outer pads (006).
_pads: dict[str, tuple[hashlib._Hash, hashlib._Hash]] = {}


def _remember(cache: dict[_K, _V], key: _K, value: _V) -> None:
    if len(cache) >= _CACHE_MAX:
        cache.clear()
    cache[key] = value


def sign_007(app_certificate: str, issue_ts: int, salt: int, signing_info: bytes) -> bytes:
    """HMAC-SHA256 signature of a 007 token's signing info (docs/format.md, "The signing chain")."""
    if type(app_certificate) is not str:  # refused in the C kernel's order: the issue time is read first
        _check_int(issue_ts, "issue_ts", U32_MAX)
        _check_str(app_certificate, "app_certificate")
    try:
        first = _first_keys.get((app_certificate, issue_ts))
        if first is None:
            first = hmac.digest(_U32.pack(issue_ts), app_certificate.encode(), "sha256")
            _remember(_first_keys, (app_certificate, issue_ts), first)
        key = hmac.digest(_U32.pack(salt), first, "sha256")
    except struct.error:
        _check_int(issue_ts, "issue_ts", U32_MAX)
        _check_int(salt, "salt", U32_MAX)
        raise  # pragma: no cover - struct refused nothing that the checks accept
    return hmac.digest(key, signing_info, "sha256")


def build_007(
    app_id: str,
    app_certificate: str,
    issue_ts: int,
    expire: int,
    salt: Optional[int],
    services: Sequence[Service],
) -> str:
    """Pack, sign, deflate and base64 one 007 token; ``salt`` None draws a fresh salt."""
    if type(app_id) is not str:  # the first value the C kernel reads
        _check_str(app_id, "app_id")
    if salt is None:
        salt = random_salt()
    try:
        parts = [_string(app_id.encode())]
        if type(services) is not tuple:  # after the App ID, as the C kernel reads them
            services = _sequence(services, "services")
        parts.append(_HEAD_007.pack(issue_ts, expire, salt, len(services)))
        for service in services:
            try:
                service_type, privileges, fields = service
            except (TypeError, ValueError):  # in the interpreter's words
                raise TypeError(_msg.NOT_A_SERVICE) from None
            parts.append(_U16.pack(service_type))
            parts.append(_privileges(privileges))
            if fields:
                parts.append(_fields(fields))
    except struct.error:
        raise _explain_007(app_id, issue_ts, expire, salt, services) from None
    signing_info = b"".join(parts)
    signature = sign_007(app_certificate, issue_ts, salt, signing_info)
    content = _SIGNATURE_PREFIX + signature + signing_info
    return "007" + base64.b64encode(zlib.compress(content)).decode("ascii")


def build_007_user(
    app_id: str,
    app_certificate: str,
    issue_ts: int,
    expire: int,
    salt: Optional[int],
    service_type: int,
    privileges: Privileges,
    channel_name: str,
    uid: User,
) -> str:
    """One 007 token of one service ``(service_type, privileges, (channel_name, uid))``: ``build_007``
    of that service (the C kernel packs it without the tuples). ``uid`` is the user's wire string,
    or a numeric uid written as its decimal (0: the empty string)."""
    _check_str(channel_name, "channel_name")  # else an int would be packed as a 16-bit word
    user = _user(uid)
    return build_007(
        app_id, app_certificate, issue_ts, expire, salt, ((service_type, privileges, (channel_name, user)),)
    )


def build_007_each(
    app_id: str,
    app_certificate: str,
    issue_ts: int,
    expire: int,
    service_type: int,
    privileges: Privileges,
    channel_name: str,
    uids: Sequence[str],
) -> list[str]:
    """One 007 token per wire uid of ``uids``: service ``(service_type, privileges, (channel_name,
    uid))``, a fresh salt each (the C kernel builds them in blocks without the GIL)."""
    uids = tuple(uids)
    _check_str(app_id, "app_id")  # the first value the C kernel reads
    _check_str(channel_name, "channel_name")  # else an int would be packed as a 16-bit word
    for uid in uids:
        _check_str(uid, "uid")
    return [
        build_007(app_id, app_certificate, issue_ts, expire, None, ((service_type, privileges, (channel_name, uid)),))
        for uid in uids
    ]


def _hmac_006(app_certificate: str, data: bytes) -> bytes:
    """HMAC-SHA256 keyed by the certificate, from SHA-256 states with its pads already absorbed."""
    if type(app_certificate) is not str:
        _check_str(app_certificate, "app_certificate")
    pads = _pads.get(app_certificate)
    if pads is None:
        key = app_certificate.encode()
        if len(key) > 64:
            key = hashlib.sha256(key).digest()
        key = key.ljust(64, b"\0")
        pads = (hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))
        _remember(_pads, app_certificate, pads)
    inner, outer = pads[0].copy(), pads[1].copy()
    inner.update(data)
    outer.update(inner.digest())
    return outer.digest()


def sign_006(app_certificate: str, app_id: str, channel_name: str, uid: str, message: bytes) -> bytes:
    """HMAC-SHA256 signature of a 006 token (docs/format.md, "006")."""
    for value, what in ((app_id, "app_id"), (channel_name, "channel_name"), (uid, "uid")):
        _check_str(value, what)
    try:
        signed = app_id.encode() + channel_name.encode() + uid.encode() + message
    except TypeError:  # not a buffer of bytes
        raise TypeError(_msg.not_a("bytes", "message", message)) from None
    return _hmac_006(app_certificate, signed)


def crc32(text: str) -> int:
    """CRC-32/IEEE of the UTF-8 bytes of ``text``, as 006 tokens carry it."""
    return zlib.crc32(text.encode())


def build_006(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: User,
    salt: Optional[int],
    ts: int,
    privileges: Privileges,
) -> str:
    """Pack, sign and base64 one 006 token; ``uid`` is the user's wire string, or a numeric uid
    written as its decimal (0: the empty string, any user).

    ``ts`` is when the token itself expires (an absolute time); ``salt`` None draws a fresh salt.
    """
    _check_str(channel_name, "channel_name")  # both checked first, as the C kernel reads them
    account = _user(uid).encode()
    if salt is None:
        salt = random_salt()
    channel = channel_name.encode()
    try:
        message = _HEAD_006.pack(salt, ts) + _privileges(privileges)
    except struct.error:
        raise _explain_006(salt, ts, privileges) from None
    if len(message) > U16_MAX:
        raise ValueError(_msg.MESSAGE_006_TOO_LONG)
    crcs = _HEAD_006.pack(zlib.crc32(channel), zlib.crc32(account))
    packed_message = _string(message)
    if type(app_id) is not str:  # read after the message, before the certificate, as the C kernel does
        _check_str(app_id, "app_id")
    signature = _hmac_006(app_certificate, app_id.encode() + channel + account + message)
    content = _SIGNATURE_PREFIX + signature + crcs + packed_message
    return "006" + app_id + base64.b64encode(content).decode("ascii")


# Salts come from os.urandom read 4 KiB at a time, one buffer per thread; uniform by rejecting
# draws at or above the largest multiple of SALT_MAX below 2**32 (as the C kernel does).
_SALT_LIMIT = (1 << 32) // SALT_MAX * SALT_MAX


class _SaltDraws(threading.local):
    draws: Iterator[tuple[int]] = iter(())


_salt_draws = _SaltDraws()
# A forked child must never reuse the randomness its parent buffered.
os.register_at_fork(after_in_child=lambda: setattr(_salt_draws, "draws", iter(())))


def random_salt() -> int:
    """A fresh salt in 1..99999999 from the OS CSPRNG."""
    while True:
        for (value,) in _salt_draws.draws:
            if value < _SALT_LIMIT:
                return value % SALT_MAX + 1
        _salt_draws.draws = _U32.iter_unpack(os.urandom(4096))


class _Reader:
    """Bounds-checked little-endian reads; running short raises TokenError."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, size: int, what: str) -> bytes:
        end = self.pos + size
        if end > len(self.data):
            raise TokenError(_msg.truncated(what))
        chunk = self.data[self.pos : end]
        self.pos = end
        return chunk

    def u16(self, what: str) -> int:
        return int(_U16.unpack(self.take(2, what))[0])

    def i16(self, what: str) -> int:
        return int(_I16.unpack(self.take(2, what))[0])

    def u32(self, what: str) -> int:
        return int(_U32.unpack(self.take(4, what))[0])

    def raw(self, what: str) -> bytes:
        return self.take(self.u16(what), what)

    def text(self, what: str) -> str:
        data = self.raw(what)
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise TokenError(_msg.not_utf8(what)) from None

    def privileges(self) -> tuple[tuple[int, int], ...]:
        return tuple(
            (self.u16("privilege id"), self.u32("privilege value")) for _ in range(self.u16("privilege count"))
        )


def _decode_base64(text: str) -> bytes:
    if not _BASE64.match(text):
        raise TokenError(_msg.NOT_BASE64)
    return binascii.a2b_base64(text)


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        content = inflater.decompress(data, MAX_PAYLOAD)
    except zlib.error:
        raise TokenError(_msg.NOT_ZLIB) from None
    if inflater.unconsumed_tail:
        raise TokenError(_msg.INFLATES_TOO_FAR)
    if not inflater.eof:
        raise TokenError(_msg.TRUNCATED_ZLIB)
    if inflater.unused_data:
        raise TokenError(_msg.DATA_AFTER_ZLIB)
    return content


def _read_fields(reader: _Reader, codes: str) -> tuple[Field, ...]:
    fields: list[Field] = []
    for code in codes:
        if code == "s":
            fields.append(reader.text("service field"))
        elif code == "h":
            fields.append(reader.i16("service field"))
        else:  # "p": RTM2 permissions
            resource_types = reader.u16("permission count")
            fields.append(resource_types)
            for _ in range(resource_types):
                fields.append(reader.u16("resource type"))
                permission_types = reader.u16("permission count")
                fields.append(permission_types)
                for _ in range(permission_types):
                    fields.append(reader.u16("permission type"))
                    resources = reader.u16("resource count")
                    fields.append(resources)
                    fields.extend(reader.text("resource") for _ in range(resources))
    return tuple(fields)


def _check_token_text(token: object, version: str) -> None:
    """The checks every token string passes before it is decoded, in the C kernel's order."""
    if not isinstance(token, str):
        raise TokenError(_msg.not_a_str(token))
    if len(token) > MAX_TOKEN_LENGTH:
        raise TokenError(_msg.TOO_LONG)
    if not token.startswith(version):
        raise TokenError(_msg.wrong_version(version))


def parse_007(token: str, layouts: Mapping[int, str]) -> Parsed007:
    """Decode a 007 token.

    Returns ``(signature, signing_info, app_id, issue_ts, expire, salt, service_count, services)``:
    ``service_count`` is the count the token declares, ``services`` a list of ``(type, privileges,
    fields)`` read until the end or the first type not in ``layouts``.
    """
    _check_token_text(token, "007")
    content = _inflate(_decode_base64(token[3:]))
    reader = _Reader(content)
    signature = reader.raw("signature")
    signing_info = content[reader.pos :]
    app_id = reader.text("app id")
    issue_ts = reader.u32("issue_ts")
    expire = reader.u32("expire")
    salt = reader.u32("salt")
    services: list[ParsedService] = []
    count = reader.u16("service count")
    for _ in range(count):
        service_type = reader.u16("service type")
        codes = layouts.get(service_type)
        if codes is None:
            break  # its length is unknown: nothing after it can be read (docs/format.md, "Parsing")
        privileges = reader.privileges()
        services.append((service_type, privileges, _read_fields(reader, codes)))
    return signature, signing_info, app_id, issue_ts, expire, salt, count, services


def parse_006(token: str) -> Parsed006:
    """Decode a 006 token.

    Returns ``(app_id, signature, crc_channel, crc_uid, message, salt, ts, privileges)``; ``message``
    is the raw signed bytes.
    """
    _check_token_text(token, "006")
    if len(token) < 35 or not token[3:35].isascii():
        raise TokenError(_msg.SHORT_006)
    content = _decode_base64(token[35:])
    reader = _Reader(content)
    signature = reader.raw("signature")
    crc_channel = reader.u32("channel CRC")
    crc_uid = reader.u32("uid CRC")
    message = reader.raw("message")
    inner = _Reader(message)
    salt = inner.u32("salt")
    ts = inner.u32("ts")
    privileges = inner.privileges()
    return token[3:35], signature, crc_channel, crc_uid, message, salt, ts, privileges
