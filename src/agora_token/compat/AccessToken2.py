"""Drop-in for the official ``AccessToken2`` module: the 007 token and its services, official names.

The classes subclass (services) or wrap (the token) this package's core classes, so every byte
is packed by the kernel. Differences from Agora's code are deliberate and small: ``build()`` may be
called more than once, an int uid or privilege value must fit its 32-bit field, and nothing is
ever printed.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any, ClassVar, Optional, Union

from .. import services as _services
from ..token007 import OFFICIAL_DEFAULT_EXPIRE
from ..token007 import AccessToken2 as _CoreAccessToken2
from ..validation import check_u16
from ._common import is_uuid, now, random_salt, uid_str

VERSION_LENGTH = 3

Uid = Union[int, str]


def get_version() -> str:
    """The version prefix of AccessToken2 strings: ``"007"``."""
    return "007"


class ServiceTypeId(int):
    """A service type that is an int and can also be called: official code calls ``service_type()``."""

    __slots__ = ()

    def __call__(self) -> int:
        """The type as a plain int, as the official ``Service.service_type()`` returns it."""
        return int(self)


def official_name(privilege: IntEnum) -> str:
    """The official constant of a privilege: ``kPrivilege`` and its name in CamelCase
    (``JOIN_CHANNEL`` -> ``kPrivilegeJoinChannel``), as Agora's code names every one."""
    return "kPrivilege" + "".join(word.capitalize() for word in privilege.name.split("_"))


class Service(_services.Service):
    """Base of the official-style services: ``Service(service_type)`` plus ``add_privilege``.

    ``service_type`` is an int (what the core packs) that may also be called like the official
    method. Each class also has the official constants: ``kServiceType`` and one ``kPrivilege…`` per
    privilege of its type, derived from the core class (so a new service type has them too).
    """

    service_type = ServiceTypeId(0)
    kServiceType: ClassVar[int] = 0

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # The wire type: an official-style ``kServiceType`` in the class body, else the core class's.
        owners = [base for base in cls.__mro__ if base is not Service and "service_type" in vars(base)]
        value = vars(owners[0])["service_type"] if owners else 0
        value = vars(cls).get("kServiceType", value)
        cls.service_type = ServiceTypeId(value)
        super().__init_subclass__(**kwargs)
        cls.kServiceType = int(value)
        for privilege in cls.Privilege:
            setattr(cls, official_name(privilege), privilege)

    def __init__(self, service_type: Optional[int] = None) -> None:
        """A bare service of ``service_type`` (default: the class's own): privileges only, no fields."""
        super().__init__()
        if service_type is None and type(self) is Service:
            raise TypeError("Service() needs a service_type (an int)")
        if service_type is not None:  # official code names its own types this way
            # The class attribute is a ClassVar; this instance names another type, as the official code lets it.
            self.service_type = ServiceTypeId(check_u16("service_type", service_type))  # type: ignore[misc]

    def to_wire(self) -> tuple[int, tuple[tuple[int, int], ...], tuple[Union[str, int], ...]]:
        """The service as the kernel packs it (its type as a plain int)."""
        service_type, privileges, fields = super().to_wire()
        return int(service_type), privileges, fields


# The core class comes first in each service's bases, so its ``__init__`` and fields apply; the
# compat ``Service`` after it adds the callable ``service_type`` and the official ``to_wire``.


class ServiceRtc(_services.ServiceRtc, Service):
    """RTC: join a channel and publish in it; uid 0 lets any user join."""

    def __init__(self, channel_name: str = "", uid: Uid = 0) -> None:
        """An RTC service for ``channel_name`` and ``uid`` (0 → any user; a str account kept)."""
        _services.ServiceRtc.__init__(self, channel_name, uid_str(uid))


class ServiceRtm(_services.ServiceRtm, Service):
    """RTM: log in as ``user_id``."""


class _ChannelAccountService(_services._ChannelAccountService):
    """Streaming and fusion CDN take the account by the official uid rule (a uid 0 → any user)."""

    def __init__(self, channel_name: str = "", account: Uid = "") -> None:
        """A service for ``channel_name`` and ``account``."""
        _services._ChannelAccountService.__init__(self, channel_name, uid_str(account, "account"))


class ServiceStreaming(_ChannelAccountService, _services.ServiceStreaming, Service):
    """Media streaming: publish mixed or raw streams in a channel."""


class ServiceFpa(_services.ServiceFpa, Service):
    """FPA (Full Path Acceleration) login."""


class ServiceChat(_services.ServiceChat, Service):
    """Agora Chat, as a user or (``user_id`` "") as the app."""


class ServiceFCdn(_ChannelAccountService, _services.ServiceFCdn, Service):
    """Fusion CDN: publish to or play from a channel."""


class ServiceApaas(_services.ServiceApaas, Service):
    """APaaS (Flexible Classroom): a user in a room, a user, or the app."""


#: The name older releases of the official module used for the APaaS service.
ServiceEducation = ServiceApaas


class ServiceRtm2(_services.ServiceRtm2, Service):
    """RTM login with per-resource permissions."""

    class Permissions(_services.Rtm2Permissions):
        """RTM2 resource permissions, with the official resource and permission constants."""

        kMessageChannels = 0
        kStreamChannels = 1
        kGroupChannels = 2
        kServerGroups = 3
        kUsers = 4

        kRead = 0
        kWrite = 1

        __slots__ = ()

        @property
        def details(self) -> dict[int, dict[int, list[str]]]:
            """A copy of ``{resource_type: {permission_type: [resources]}}``."""
            return self.as_dict()

    def __init__(self, user_id: str = "", permissions: Optional[_services.Rtm2Permissions] = None) -> None:
        """An RTM2 service for ``user_id`` with ``permissions`` (default: none)."""
        _services.ServiceRtm2.__init__(
            self, user_id, permissions if permissions is not None else ServiceRtm2.Permissions()
        )

    def get_user_id(self) -> str:
        """The RTM user id."""
        return str(self.user_id)

    def get_permissions(self) -> _services.Rtm2Permissions:
        """The resource permissions."""
        return self.permissions

    @classmethod
    def _from_wire(cls, privileges: Any, fields: Any) -> _services.Service:
        service = super()._from_wire(privileges, fields)
        assert isinstance(service, ServiceRtm2)  # cls's own _from_wire made it
        service.permissions = ServiceRtm2.Permissions.from_wire(fields[1:])
        return service


class ServiceConvoAI(_services.ServiceConvoAI, Service):
    """Conversational AI agent (no privileges, no fields)."""


class ServiceStt(_services.ServiceStt, Service):
    """Speech-to-text (no privileges, no fields)."""


def _official_classes() -> dict[int, type[Service]]:
    """The compat class of every core service type, by type (one made here for a type without one above)."""
    found = {cls.kServiceType: cls for cls in Service.__subclasses__() if cls.kServiceType in _services.SERVICE_CLASSES}
    for service_type, core in _services.SERVICE_CLASSES.items():
        if service_type not in found:
            namespace = {"__doc__": core.__doc__, "__module__": __name__}
            found[service_type] = type(core.__name__, (core, Service), namespace)
            globals()[core.__name__] = found[service_type]
    return dict(sorted(found.items()))


class AccessToken:
    """An official-style AccessToken2 (007): add services, ``build()``; or ``from_string`` and verify.

    ``issue_ts`` 0 means now; the salt is drawn when the object is made. The official private names
    (``_AccessToken__salt``, ``_AccessToken__issue_ts``, ...) hold the same values, so tests that
    pin the salt that way keep working.
    """

    kServices: ClassVar[dict[int, type[Service]]] = _official_classes()

    def __init__(
        self, app_id: str = "", app_certificate: str = "", issue_ts: int = 0, expire: int = OFFICIAL_DEFAULT_EXPIRE
    ) -> None:
        """A token for ``app_id``; ``expire`` is its lifetime in seconds from ``issue_ts`` (0: now)."""
        self.__app_id = app_id
        self.__app_cert = app_certificate
        self.__issue_ts = issue_ts if issue_ts != 0 else now()
        self.__expire = expire
        self.__salt = random_salt()
        self.services: list[_services.Service] = []
        self.__parsed: Optional[_CoreAccessToken2] = None

    def add_service(self, service: _services.Service) -> None:
        """Add a service; several of one type are all kept, in the order added."""
        if not isinstance(service, _services.Service):
            raise TypeError(f"service must be a Service, not {type(service).__name__}")
        self.services.append(service)

    def get_services(self, service_type: int) -> list[_services.Service]:
        """Every service of ``service_type``, in the order added (or found in the parsed token)."""
        return [service for service in self.services if service.service_type == service_type]

    def build(self) -> str:
        """The token string, or "" if the App ID or certificate is not 32 hex characters or no service was added."""
        if not is_uuid(self.__app_id) or not is_uuid(self.__app_cert) or not self.services:
            return ""
        token = _CoreAccessToken2(
            self.__app_id, self.__app_cert, issue_ts=self.__issue_ts, expire=self.__expire, salt=self.__salt
        )
        for service in self.services:
            token.add_service(service)
        return token.build()

    def from_string(self, origin_token: str) -> bool:
        """Parse a 007 token into this object.

        Returns False if it is not a 007 token, True once parsed (stopping quietly at an unknown
        service type); raises ``ValueError`` if the payload is corrupt. Earlier state is cleared first.
        """
        self.__app_id = ""
        self.__issue_ts = self.__expire = self.__salt = 0
        self.services = []
        self.__parsed = None
        try:
            version = origin_token[:VERSION_LENGTH]
        except Exception as exc:  # not a sequence at all
            raise ValueError("Error: parse origin token failed") from exc
        if version != get_version():
            return False
        try:
            parsed = _CoreAccessToken2.parse(origin_token)
        except Exception as exc:
            raise ValueError("Error: parse origin token failed") from exc
        self.__app_id = parsed.app_id
        self.__issue_ts, self.__expire, self.__salt = parsed.issue_ts, parsed.expire, parsed.salt
        for core_service in parsed.services:
            cls = self.kServices.get(core_service.service_type)
            if cls is None:
                break
            _, privileges, fields = core_service.to_wire()
            self.services.append(cls._from_wire(privileges, fields))
        self.__parsed = parsed
        return True

    def verify_signature(self, app_certificate: str) -> bool:
        """Whether the token parsed by ``from_string`` was signed with ``app_certificate``."""
        if self.__parsed is None or not is_uuid(app_certificate):
            return False
        return self.__parsed.verify(app_certificate)


#: The name the PyPI packaging (agoraiotools) also exports.
AccessToken2 = AccessToken

__all__ = [
    "VERSION_LENGTH",
    "AccessToken",
    "AccessToken2",
    "Service",
    "ServiceEducation",
    "ServiceTypeId",
    "get_version",
    *sorted(cls.__name__ for cls in AccessToken.kServices.values()),
]
