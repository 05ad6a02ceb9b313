"""The kernel interface: what ``_fastpack`` (C) and ``_pure`` (Python) both provide, as a Protocol.

The model, builders and fast paths reach a kernel only through ``_backend.kernel``, typed as
``Kernel``, so a type checker holds them to these members, and a module satisfies it structurally
(no registration). tests/test_kernel_interface.py checks that both modules provide every member
with these parameter names and that ``_fastpack.pyi`` declares the same. What only the C kernel
has (how it deflates) is not part of it. Imports nothing of the package: it sits below both kernels.
"""

from __future__ import annotations

from typing import List, Mapping, Optional, Protocol, Sequence, Tuple, Union, runtime_checkable

Field = Union[str, int]
Privileges = Sequence[Tuple[int, int]]
Service = Tuple[int, Privileges, Sequence[Field]]
#: What checked RTC arguments mean (``rtc_token``): (is 006, token lifetime, privilege lifetime,
#: service type, privilege ids in wire order), lifetimes in seconds from the build time.
RtcShape = Tuple[bool, int, int, int, Tuple[int, ...]]


def rtc_shape_key_is_exact(
    app_id: object, app_certificate: object, channel_name: object, role: object, expire: object,
    privilege_expire: object, version: object,
) -> bool:
    """Whether ``rtc_token`` looks these arguments up: exact ``str``/``int`` values only (a role may
    be an ``int`` subclass such as an ``IntEnum``, never a ``bool``; ``privilege_expire`` may be
    None), since ``True == 1`` and ``3600.0 == 3600`` would find a shape checked for other values.
    The C kernel tests the same in C; builders remember only keys that pass."""
    return (
        type(app_id) is str
        and type(app_certificate) is str
        and type(channel_name) is str
        and type(expire) is int
        and (privilege_expire is None or type(privilege_expire) is int)
        and type(version) is str
        and (type(role) is str or (isinstance(role, int) and type(role) is not bool))
    )  # fmt: skip
#: ``parse_007``: (signature, signing_info, app_id, issue_ts, expire, salt, services).
Parsed007 = Tuple[bytes, bytes, str, int, int, int, List[Tuple[int, Tuple[Tuple[int, int], ...], Tuple[Field, ...]]]]
#: ``parse_006``: (app_id, signature, crc_channel, crc_uid, message, salt, ts, privileges).
Parsed006 = Tuple[str, bytes, int, int, bytes, int, int, Tuple[Tuple[int, int], ...]]


@runtime_checkable  # isinstance() then checks that every member is present (not the signatures)
class Kernel(Protocol):
    """A token kernel: whole tokens to strings and back (SPEC §1-3); see ``_pure`` for the shapes."""

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

    @property
    def TOKEN_006_LIFETIME(self) -> int:  # noqa: N802
        """How long after it is built a 006 token without an explicit ``ts`` expires."""

    def sign_007(self, app_certificate: str, issue_ts: int, salt: int, signing_info: bytes) -> bytes:
        """HMAC-SHA256 signature of a 007 token's signing info (SPEC §3.1)."""

    def build_007(self, app_id: str, app_certificate: str, issue_ts: Optional[int], expire: int,
                  salt: Optional[int], services: Sequence[Service]) -> str:  # fmt: skip
        """One 007 token; ``issue_ts``/``salt`` None: now / a fresh salt."""

    def build_007_each(self, app_id: str, app_certificate: str, issue_ts: Optional[int], expire: int,
                       service_type: int, privileges: Privileges, channel_name: str,
                       uids: Sequence[str]) -> List[str]:  # fmt: skip
        """One 007 token per wire uid of ``uids``, each with a fresh salt."""

    def sign_006(self, app_certificate: str, app_id: str, channel_name: str, uid: str, message: bytes) -> bytes:
        """HMAC-SHA256 signature of a 006 token (SPEC §2.1)."""

    def crc32(self, text: str) -> int:
        """CRC-32/IEEE of the UTF-8 bytes of ``text``, as 006 tokens carry it."""

    def build_006(self, app_id: str, app_certificate: str, channel_name: str, uid: str,
                  salt: Optional[int], ts: Optional[int], privileges: Privileges) -> str:  # fmt: skip
        """One 006 token; ``salt`` None: a fresh salt, ``ts`` None: ``TOKEN_006_LIFETIME`` from now."""

    # The hot path takes its arguments unchecked (object): it vouches only for shapes it knows.
    def rtc_token(self, shapes: Mapping[tuple, RtcShape], app_id: object, app_certificate: object,
                  channel_name: object, uid: object, role: object, expire: object, privilege_expire: object,
                  version: object) -> Optional[str]:  # fmt: skip
        """An RTC token, now and with a fresh salt, if the arguments have a shape in ``shapes``; else None."""

    def random_salt(self) -> int:
        """A fresh salt in 1..``SALT_MAX`` from the OS CSPRNG."""

    def parse_007(self, token: str, layouts: Mapping[int, str]) -> Parsed007:
        """Decode a 007 token; raises TokenError when it is malformed."""

    def parse_006(self, token: str) -> Parsed006:
        """Decode a 006 token; raises TokenError when it is malformed."""
