"""The kernel interface: what ``_fastpack`` (C) and ``_pure`` (Python) both provide, as a Protocol.

A kernel knows the wire format alone (docs/format.md): it packs, signs, deflates, encodes and
parses whole tokens from values it is given. It knows no builder rule (roles, defaults, lifetimes)
and reads no clock; only a salt it may draw itself, from the OS CSPRNG. The layers above reach it
only through ``_backend.kernel``, typed as ``Kernel``, so a type checker holds them to these members,
and a module satisfies it structurally (no registration). tests/test_kernel_interface.py checks
that both modules provide every member with these parameter names and that ``_fastpack.pyi``
declares the same. What only the C kernel has (how it deflates) is not part of it. Imports nothing
of the package: it sits below both kernels.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Optional, Protocol, Union, runtime_checkable

#: A service field: a ``str`` is packed as a string, an ``int`` as a 16-bit word.
Field = Union[str, int]
#: A user as a kernel takes it: its wire string, or a numeric uid (0..2^32-1) that the kernel writes
#: as its decimal digits, 0 as the empty string (docs/format.md, "User ids").
User = Union[str, int]
#: ``(privilege id, value)`` pairs, ids ascending.
Privileges = Sequence[tuple[int, int]]
#: ``(service type, privileges, fields)``.
Service = tuple[int, Privileges, Sequence[Field]]
#: A parsed service: ``(service type, privileges, fields)``.
ParsedService = tuple[int, tuple[tuple[int, int], ...], tuple[Field, ...]]
#: ``parse_007``: (signature, signing_info, app_id, issue_ts, expire, salt, service_count, services).
Parsed007 = tuple[bytes, bytes, str, int, int, int, int, list[ParsedService]]
#: ``parse_006``: (app_id, signature, crc_channel, crc_uid, message, salt, ts, privileges).
Parsed006 = tuple[str, bytes, int, int, bytes, int, int, tuple[tuple[int, int], ...]]


@runtime_checkable  # isinstance() then checks that every member is present (not the signatures)
class Kernel(Protocol):
    """A token kernel: whole tokens to strings and back; see ``_pure`` for the shapes."""

    # Constants are read-only properties: a kernel module's are Final, never reassigned.
    @property
    def MAX_PAYLOAD(self) -> int:  # noqa: N802 - the modules' constant names
        """A parsed 007 token is refused when its payload inflates past this many bytes."""

    @property
    def MAX_TOKEN_LENGTH(self) -> int:  # noqa: N802
        """A token string longer than this is refused before any decoding."""

    @property
    def SALT_MAX(self) -> int:  # noqa: N802
        """The largest salt ``random_salt`` draws (the smallest is 1)."""

    def sign_007(self, app_certificate: str, issue_ts: int, salt: int, signing_info: bytes) -> bytes:
        """HMAC-SHA256 signature of a 007 token's signing info (docs/format.md, "The signing chain")."""

    def build_007(self, app_id: str, app_certificate: str, issue_ts: int, expire: int, salt: Optional[int],
                  services: Sequence[Service]) -> str:  # fmt: skip
        """One 007 token; ``salt`` None draws a fresh salt."""

    def build_007_user(self, app_id: str, app_certificate: str, issue_ts: int, expire: int, salt: Optional[int],
                       service_type: int, privileges: Privileges, channel_name: str, uid: User) -> str:  # fmt: skip
        """One 007 token of one service ``(service_type, privileges, (channel_name, uid))``."""

    def build_007_each(self, app_id: str, app_certificate: str, issue_ts: int, expire: int, service_type: int,
                       privileges: Privileges, channel_name: str, uids: Sequence[str]) -> list[str]:  # fmt: skip
        """One 007 token per wire uid of ``uids``, each with a fresh salt."""

    def sign_006(self, app_certificate: str, app_id: str, channel_name: str, uid: str, message: bytes) -> bytes:
        """HMAC-SHA256 signature of a 006 token (docs/format.md, "006")."""

    def crc32(self, text: str) -> int:
        """CRC-32/IEEE of the UTF-8 bytes of ``text``, as 006 tokens carry it."""

    def build_006(self, app_id: str, app_certificate: str, channel_name: str, uid: User, salt: Optional[int],
                  ts: int, privileges: Privileges) -> str:  # fmt: skip
        """One 006 token that expires at ``ts``; ``salt`` None draws a fresh salt."""

    def random_salt(self) -> int:
        """A fresh salt in 1..``SALT_MAX`` from the OS CSPRNG."""

    def parse_007(self, token: str, layouts: Mapping[int, str]) -> Parsed007:
        """Decode a 007 token; raises TokenError when it is malformed."""

    def parse_006(self, token: str) -> Parsed006:
        """Decode a 006 token; raises TokenError when it is malformed."""
