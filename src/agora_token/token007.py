"""AccessToken2, the "007" token: services signed with a key derived from the certificate (docs/format.md, "007")."""

from __future__ import annotations

import time
from typing import Optional

from . import _backend
from ._deprecation import renamed
from .certificates import CertificateName, signed_by
from .errors import TokenError
from .services import LAYOUTS, SERVICE_CLASSES, Service
from .validation import check_app_id, check_certificate, check_hex32, check_u32

#: The lifetime an ``AccessToken2`` gives a token when none is given: Agora's reference class's 15
#: minutes (the builders' default is ``validation.DEFAULT_EXPIRE``, an hour).
OFFICIAL_DEFAULT_EXPIRE = 900


class AccessToken2:
    """A 007 token: build one from services, or parse and verify one.

    ``issue_ts`` defaults to now and ``salt`` to a fresh random value; pass them for deterministic
    output. ``expire`` is the lifetime in seconds from ``issue_ts``.
    """

    __slots__ = (
        "app_id", "_app_certificate", "issue_ts", "expire", "salt", "services", "_signature", "_signing_info",
        "_service_count",
    )  # fmt: skip

    def __init__(
        self,
        app_id: str,
        app_certificate: str = "",
        *,
        issue_ts: Optional[int] = None,
        expire: int = OFFICIAL_DEFAULT_EXPIRE,
        salt: Optional[int] = None,
    ) -> None:
        self.app_id = check_app_id(app_id)
        self._app_certificate = check_certificate(app_certificate) if app_certificate else ""
        self.issue_ts = int(time.time()) if issue_ts is None else check_u32("issue_ts", issue_ts)
        self.expire = check_u32("expire", expire)
        self.salt = _backend.kernel.random_salt() if salt is None else check_u32("salt", salt)
        self.services: list[Service] = []
        self._signature: Optional[bytes] = None
        self._signing_info: Optional[bytes] = None
        self._service_count: Optional[int] = None

    def add_service(self, service: Service) -> None:
        """Add a service; several of one type are kept, in the order added."""
        if not isinstance(service, Service):
            raise TypeError(f"service must be a Service, not {type(service).__name__}")
        if len(self.services) >= 0xFFFF:
            raise ValueError("a token holds at most 65535 services")
        self.services.append(service)

    def get_services(self, service_type: int) -> list[Service]:
        """Every service of ``service_type``, in token order."""
        return [s for s in self.services if s.service_type == service_type]

    def build(self) -> str:
        """The signed token string; raises ``ValueError`` if it lacks a certificate or a service."""
        if not self._app_certificate:
            raise ValueError("app_certificate is required to build a token")
        if not self.services:
            raise ValueError("a token needs at least one service")
        # Stable sort: the wire orders types ascending, same-type services as added (docs/format.md, "Order").
        services = [s.to_wire() for s in sorted(self.services, key=_service_type)]
        return _backend.kernel.build_007(
            self.app_id, self._app_certificate, self.issue_ts, self.expire, self.salt, services
        )

    @classmethod
    def parse(cls, token: str) -> AccessToken2:
        """Decode a 007 token; raises ``TokenError`` if it is malformed.

        Parsing stops at a service type this package does not know, as every official parser does;
        ``verify`` still covers the whole signed payload.
        """
        signature, signing_info, app_id, issue_ts, expire, salt, count, services = _backend.kernel.parse_007(
            token, LAYOUTS
        )
        parsed = cls.__new__(cls)
        parsed.app_id, parsed._app_certificate, parsed.issue_ts, parsed.expire = app_id, "", issue_ts, expire
        parsed.salt, parsed._signature, parsed._signing_info = salt, signature, signing_info
        parsed.services = [SERVICE_CLASSES[t]._from_wire(p, f) for t, p, f in services]
        parsed._service_count = count
        return parsed

    def verify(self, app_certificate: str, *, secondary_certificate: Optional[str] = None) -> bool:
        """Whether a parsed token was signed with ``app_certificate`` (or ``secondary_certificate``; constant-time).

        ``signed_by`` tells which of the two signed it.
        """
        return self.signed_by(app_certificate, secondary_certificate=secondary_certificate) is not None

    def signed_by(
        self, app_certificate: str, *, secondary_certificate: Optional[str] = None
    ) -> Optional[CertificateName]:
        """Which certificate signed a parsed token: "primary" (``app_certificate``), "secondary", or None.

        A project's two certificates both sign valid tokens; give both while one is being rotated.
        """
        check_certificate(app_certificate)
        if self._signature is None or self._signing_info is None:
            raise ValueError("verify() checks a parsed token: use AccessToken2.parse(token) first")
        if secondary_certificate is not None:
            check_hex32("secondary_certificate", secondary_certificate)
        try:
            check_hex32("app_id", self.app_id)
        except ValueError:
            return None
        issue_ts, salt, signing_info = self.issue_ts, self.salt, self._signing_info

        def sign(certificate: str) -> bytes:
            return _backend.kernel.sign_007(certificate, issue_ts, salt, signing_info)

        return signed_by(self._signature, sign, app_certificate, secondary_certificate)

    @property
    def unread_services(self) -> int:
        """How many services a parsed token declares past those read: the parse stops at the first
        type this package does not know (0 for a token built here, or read whole)."""
        if self._service_count is None:
            return 0
        return self._service_count - len(self.services)

    @property
    def expires_at(self) -> int:
        """Absolute Unix time at which the token expires."""
        return self.issue_ts + self.expire

    def __repr__(self) -> str:
        return (
            f"AccessToken2(app_id={self.app_id!r}, issue_ts={self.issue_ts}, expire={self.expire}, "
            f"salt={self.salt}, services={self.services!r})"
        )


def _service_type(service: Service) -> int:
    return service.service_type


__all__ = ["OFFICIAL_DEFAULT_EXPIRE", "AccessToken2", "TokenError"]

# Renamed: "DEFAULT_EXPIRE" also named the builders' hour (``agora_token.DEFAULT_EXPIRE``).
__getattr__ = renamed(
    __name__, {"DEFAULT_EXPIRE": ("agora_token.token007.OFFICIAL_DEFAULT_EXPIRE", OFFICIAL_DEFAULT_EXPIRE)}
)
