"""Type stub of the C token kernel; it mirrors ``_pure`` name for name and signature for signature."""

from collections.abc import Mapping, Sequence
from typing import Final

from .errors import TokenError as TokenError

_Field = str | int
#: A user: its wire string, or a numeric uid (0..2^32-1) written as its decimal, 0 as "".
_User = str | int
_Privileges = Sequence[tuple[int, int]]
_Service = tuple[int, _Privileges, Sequence[_Field]]

#: A parsed 007 token is refused when its payload inflates past this many bytes.
MAX_PAYLOAD: Final[int]
MAX_TOKEN_LENGTH: Final[int]
#: The salt range of Agora's python3 reference code (``randint(1, 99999999)``).
SALT_MAX: Final[int]
#: True where the linked zlib deflates unlike the interpreter's zlib module (zlib-ng), so the
#: kernel deflates through the module to stay byte-identical with the pure backend.
DEFLATES_WITH_PYTHON_ZLIB: Final[bool]

def _set_deflate_with_python_zlib(on: bool) -> None: ...

#: How 007 tokens are deflated: "exact" (fp_deflate.c, zlib's level 6 re-implemented, for payloads
#: of at most EXACT_DEFLATE_MAX bytes; zlib above), "zlib" (the linked zlib) or "python-zlib".
DEFLATE_PATH: str
EXACT_DEFLATE_MAX: Final[int]

#: Which HMAC-SHA256 fp_hmac.c was compiled with: "sha256" (OpenSSL's SHA256_* calls) or "evp"
#: (EVP digests: a libcrypto without the deprecated API, or a build with -DFP_FORCE_EVP).
HMAC_PATH: str

def _exact_deflate(data: bytes) -> bytes | None: ...
def _deflate_probes() -> list[bytes]: ...
def _select_deflate(force_mismatch: bool = ...) -> str: ...
def sign_007(app_certificate: str, issue_ts: int, salt: int, signing_info: bytes) -> bytes:
    """HMAC-SHA256 signature of a 007 token's signing info (docs/format.md, "The signing chain")."""

def build_007(
    app_id: str,
    app_certificate: str,
    issue_ts: int,
    expire: int,
    salt: int | None,
    services: Sequence[_Service],
) -> str:
    """Pack, sign, deflate and base64 one 007 token; ``salt`` None draws a fresh salt."""

def build_007_user(
    app_id: str,
    app_certificate: str,
    issue_ts: int,
    expire: int,
    salt: int | None,
    service_type: int,
    privileges: _Privileges,
    channel_name: str,
    uid: _User,
) -> str:
    """One 007 token of one service ``(service_type, privileges, (channel_name, uid))``: ``build_007``
    of that service, packed without the tuples (the shape of RTC, Streaming and fusion CDN). ``uid``
    is the user's wire string, or a numeric uid written as its decimal (0: the empty string)."""

def build_007_each(
    app_id: str,
    app_certificate: str,
    issue_ts: int,
    expire: int,
    service_type: int,
    privileges: _Privileges,
    channel_name: str,
    uids: Sequence[str],
) -> list[str]:
    """One 007 token per wire uid of ``uids``: service ``(service_type, privileges, (channel_name,
    uid))``, a fresh salt each; blocks of tokens are packed, signed, deflated and base64-encoded
    without the GIL, so threads building many tokens rarely wait for it."""

def sign_006(app_certificate: str, app_id: str, channel_name: str, uid: str, message: bytes) -> bytes:
    """HMAC-SHA256 signature of a 006 token (docs/format.md, "006")."""

def crc32(text: str) -> int:
    """CRC-32/IEEE of the UTF-8 bytes of ``text``, as 006 tokens carry it."""

def build_006(
    app_id: str,
    app_certificate: str,
    channel_name: str,
    uid: _User,
    salt: int | None,
    ts: int,
    privileges: _Privileges,
) -> str:
    """Pack, sign and base64 one 006 token; ``uid`` is the user's wire string, or a numeric uid
    written as its decimal (0: the empty string, any user).

    ``ts`` is when the token itself expires (an absolute time); ``salt`` None draws a fresh salt.
    """

def random_salt() -> int:
    """A fresh salt in 1..99999999 from the OS CSPRNG."""

def parse_007(
    token: str, layouts: Mapping[int, str]
) -> tuple[bytes, bytes, str, int, int, int, int, list[tuple[int, tuple[tuple[int, int], ...], tuple[_Field, ...]]]]:
    """Decode a 007 token: ``(signature, signing_info, app_id, issue_ts, expire, salt, service_count, services)``."""

def parse_006(token: str) -> tuple[str, bytes, int, int, bytes, int, int, tuple[tuple[int, int], ...]]:
    """Decode a 006 token: ``(app_id, signature, crc_channel, crc_uid, message, salt, ts, privileges)``."""
