"""The 007 service types (docs/format.md, "Services"): what each carries and how it reaches the kernel.

A service is a set of privileges (id → seconds from the token's issue time) plus its own fields.
Each class declares its wire type, display name and privilege enum (class keywords) and its fields
(``layout``, ``field_names``, the checks in ``__init__``) once; the class registers itself in
``SERVICE_CLASSES``, and ``LAYOUTS`` (what the kernels parse by), ``describe``, compat's classes
(with the official ``k*`` names, which compat derives) and the tests' example services all follow
from that registry.

Adding a service type: its ``ServiceType`` member and its class here, its name in the package's
``__init__`` (import and ``__all__``), and the wire types the tests expect (``test_layouts_...``).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from enum import IntEnum
from typing import Any, ClassVar, Optional, Union

from .validation import check_int, check_text, check_u16, check_u32, uid_string

Field = Union[str, int]


class RtcPrivilege(IntEnum):
    """Privileges of an RTC service."""

    JOIN_CHANNEL = 1
    PUBLISH_AUDIO_STREAM = 2
    PUBLISH_VIDEO_STREAM = 3
    PUBLISH_DATA_STREAM = 4


class RtmPrivilege(IntEnum):
    """Privileges of an RTM (and RTM2) service."""

    LOGIN = 1


@functools.lru_cache(maxsize=256)  # a server repeats a few lifetimes: skip rebuilding the tuples
def rtc_privileges(publisher: bool, expire: int) -> tuple[tuple[int, int], ...]:
    """What an RTC role may do, in wire order: join, and for a publisher the three publish privileges.

    The ids are the same in 006 and 007 tokens, so both formats take their role rule from here.
    """
    if publisher:
        return tuple((privilege, expire) for privilege in RTC_PRIVILEGE_IDS)
    return ((RTC_PRIVILEGE_IDS[0], expire),)


#: The RTC privilege ids as exact ints (the C kernel's fast path packs those), in wire order.
RTC_PRIVILEGE_IDS = tuple(int(privilege) for privilege in RtcPrivilege)


class StreamingPrivilege(IntEnum):
    """Privileges of a media-streaming service."""

    PUBLISH_MIX_STREAM = 1
    PUBLISH_RAW_STREAM = 2


class FpaPrivilege(IntEnum):
    """Privileges of an FPA service."""

    LOGIN = 1


class ChatPrivilege(IntEnum):
    """Privileges of a Chat service."""

    USER = 1
    APP = 2


class FCdnPrivilege(IntEnum):
    """Privileges of a fusion-CDN service."""

    PUBLISH = 1
    PLAY = 2


class ApaasPrivilege(IntEnum):
    """Privileges of an APaaS (Flexible Classroom) service."""

    ROOM_USER = 1
    USER = 2
    APP = 3


class NoPrivilege(IntEnum):
    """Services whose builders add no privilege (ConvoAI, STT)."""


class ServiceType(IntEnum):
    """Wire ids of the 007 service types; each has one ``Service`` subclass (``SERVICE_CLASSES``)."""

    RTC = 1
    RTM = 2
    STREAMING = 3
    FPA = 4
    CHAT = 5
    FCDN = 6
    APAAS = 7
    RTM2 = 8
    CONVOAI = 9
    STT = 10


#: Every service class by wire type, filled by ``Service.__init_subclass__`` as the classes below are
#: defined (so there is no second list to keep in step); ``LAYOUTS`` is built from it at the end.
SERVICE_CLASSES: dict[int, type[Service]] = {}


class Service:
    """A 007 service: a type, privileges and the type's own fields.

    A subclass declares its wire type, display name and privilege enum once, as class keywords
    (``class ServiceX(Service, service_type=ServiceType.X, name="X", privileges=XPrivilege)``), and
    its fields as ``layout`` (wire codes) and ``field_names``; its ``__init__`` checks the values.
    """

    service_type: ClassVar[int]
    #: How people call the service (``agora-token inspect`` shows it).
    display_name: ClassVar[str] = ""
    #: Wire layout of the fields after the privileges: s string, h int16, p RTM2 permissions.
    layout: ClassVar[str] = ""
    #: Names of the fields, in wire order, as attributes of the instance.
    field_names: ClassVar[tuple[str, ...]] = ()
    Privilege: ClassVar[type[IntEnum]] = NoPrivilege

    __slots__ = ("privileges",)

    def __init__(self) -> None:
        self.privileges: dict[int, int] = {}

    def __init_subclass__(
        cls,
        service_type: Optional[ServiceType] = None,
        name: Optional[str] = None,
        privileges: Optional[type[IntEnum]] = None,
        **kwargs: Any,
    ) -> None:
        super().__init_subclass__(**kwargs)
        if service_type is not None:
            if not isinstance(service_type, ServiceType) or service_type in SERVICE_CLASSES:
                raise TypeError(f"{cls.__name__}: service_type must be a ServiceType without a class yet")
            if len(cls.layout) != len(cls.field_names):
                raise TypeError(f"{cls.__name__}: layout and field_names must name the same fields")
            cls.service_type = service_type
            cls.display_name = name or service_type.name
            if privileges is not None:
                cls.Privilege = privileges
            SERVICE_CLASSES[int(service_type)] = cls  # plain int keys: the parser looks up wire ints

    def add_privilege(self, privilege: int, expire: int) -> None:
        """Grant ``privilege`` for ``expire`` seconds after the token's issue time (0: with the token)."""
        self.privileges[check_u16("privilege", privilege)] = check_u32("expire", expire)

    def _wire_fields(self) -> tuple[Field, ...]:
        return tuple(getattr(self, name) for name in self.field_names)

    def to_wire(self) -> tuple[int, tuple[tuple[int, int], ...], tuple[Field, ...]]:
        """The service as the kernel packs it."""
        return self.service_type, tuple(sorted(self.privileges.items())), self._wire_fields()

    @classmethod
    def _from_wire(cls, privileges: Iterable[tuple[int, int]], fields: Sequence[Field]) -> Service:
        """A service as a parser read it: ``fields`` are the wire values, in ``layout`` order."""
        return cls._from_values(privileges, fields)

    @classmethod
    def _from_values(cls, privileges: Iterable[tuple[int, int]], values: Sequence[object]) -> Service:
        """A service with these privileges and field values (by ``field_names``), unchecked."""
        service = cls.__new__(cls)
        service.privileges = dict(privileges)
        for name, value in zip(cls.field_names, values):
            object.__setattr__(service, name, value)
        return service

    def fields(self) -> dict[str, Any]:
        """The type's own fields by name."""
        return {name: getattr(self, name) for name in self.field_names}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.privileges == other.privileges and self._wire_fields() == other._wire_fields()

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable, as object's hash would be wrong

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.fields().items())
        privileges = {self._privilege_name(k): v for k, v in sorted(self.privileges.items())}
        return f"{type(self).__name__}({args}{', ' if args else ''}privileges={privileges})"

    @classmethod
    def _privilege_name(cls, privilege: int) -> str:
        try:
            return cls.Privilege(privilege).name.lower()
        except (ValueError, TypeError):  # an empty enum (ConvoAI, STT) raises TypeError
            return str(privilege)


class ServiceRtc(Service, service_type=ServiceType.RTC, name="RTC", privileges=RtcPrivilege):
    """Join an RTC channel and publish in it; ``uid`` 0 lets any user join."""

    layout = "ss"
    __slots__ = field_names = ("channel_name", "uid")

    def __init__(self, channel_name: str = "", uid: Union[int, str] = 0) -> None:
        self.privileges = {}
        self.channel_name = check_text("channel_name", channel_name)
        self.uid = uid_string(uid)


class _UserService(Service):
    """The shape of the services whose one field is a user id (RTM, Chat)."""

    layout = "s"
    __slots__ = field_names = ("user_id",)

    def __init__(self, user_id: str = "") -> None:
        self.privileges = {}
        self.user_id = check_text("user_id", user_id)


class _ChannelAccountService(Service):
    """The shape of the services of a channel and a user (Streaming, fusion CDN); a uid 0 is any user."""

    layout = "ss"
    __slots__ = field_names = ("channel_name", "account")

    def __init__(self, channel_name: str = "", account: Union[int, str] = "") -> None:
        self.privileges = {}
        self.channel_name = check_text("channel_name", channel_name)
        self.account = uid_string(account, "account")


class ServiceRtm(_UserService, service_type=ServiceType.RTM, name="RTM", privileges=RtmPrivilege):
    """Log in to RTM as ``user_id``."""

    __slots__ = ()


class ServiceStreaming(_ChannelAccountService, service_type=ServiceType.STREAMING, name="Streaming",
                       privileges=StreamingPrivilege):  # fmt: skip
    """Publish mixed or raw media streams in a channel."""

    __slots__ = ()


class ServiceFpa(Service, service_type=ServiceType.FPA, name="FPA", privileges=FpaPrivilege):
    """Log in to FPA (Full Path Acceleration)."""

    __slots__ = ()


class ServiceChat(_UserService, service_type=ServiceType.CHAT, name="Chat", privileges=ChatPrivilege):
    """Agora Chat as a user, or as the app when ``user_id`` is empty."""

    __slots__ = ()


class ServiceFCdn(_ChannelAccountService, service_type=ServiceType.FCDN, name="Fusion CDN", privileges=FCdnPrivilege):
    """Publish to or play from fusion CDN."""

    __slots__ = ()


class ServiceApaas(Service, service_type=ServiceType.APAAS, name="APaaS (Flexible Classroom)",
                   privileges=ApaasPrivilege):  # fmt: skip
    """Flexible Classroom (APaaS): a user in a room, a user, or the app."""

    layout = "ssh"
    __slots__ = field_names = ("room_uuid", "user_uuid", "role")

    def __init__(self, room_uuid: str = "", user_uuid: str = "", role: int = -1) -> None:
        self.privileges = {}
        self.room_uuid = check_text("room_uuid", room_uuid)
        self.user_uuid = check_text("user_uuid", user_uuid)
        self.role = check_int("role", role, -0x8000, 0x7FFF)


class ResourceType(IntEnum):
    """RTM2 permission resource types."""

    MESSAGE_CHANNELS = 0
    STREAM_CHANNELS = 1
    GROUP_CHANNELS = 2
    SERVER_GROUPS = 3
    USERS = 4


class PermissionType(IntEnum):
    """RTM2 permission types."""

    READ = 0
    WRITE = 1


class Rtm2Permissions:
    """RTM2 resource permissions: ``{resource_type: {permission_type: [resources]}}``."""

    __slots__ = ("_entries",)

    def __init__(self) -> None:
        self._entries: dict[int, dict[int, list[str]]] = {}

    def add(self, resource_type: int, permission_type: int, resources: Iterable[str]) -> Rtm2Permissions:
        """Set the resources of one (resource type, permission type) pair, replacing earlier ones."""
        resource_type = check_u16("resource_type", resource_type)
        permission_type = check_u16("permission_type", permission_type)
        if isinstance(resources, (str, bytes)):
            raise TypeError("resources must be an iterable of str, not a single str")
        items = [check_text("resources", r) for r in resources]
        if len(items) > 0xFFFF:
            raise ValueError(f"resources holds {len(items)} entries; the wire allows 65535")
        self._entries.setdefault(resource_type, {})[permission_type] = items
        return self

    def as_dict(self) -> dict[int, dict[int, list[str]]]:
        """A copy, resource and permission types ascending."""
        return {rt: {pt: list(res) for pt, res in sorted(perms.items())} for rt, perms in sorted(self._entries.items())}

    def to_wire(self) -> tuple[Field, ...]:
        """The flat word/string sequence the kernel packs (docs/format.md, "RTM2 permissions")."""
        out: list[Field] = [len(self._entries)]
        for rt, perms in sorted(self._entries.items()):
            out += (rt, len(perms))
            for pt, resources in sorted(perms.items()):
                out += (pt, len(resources))
                out += resources
        return tuple(out)

    @classmethod
    def from_wire(cls, words: Sequence[Field]) -> Rtm2Permissions:
        """Read back what ``to_wire`` wrote."""
        permissions = cls()
        it = iter(words)
        for _ in range(int(next(it))):
            rt, count = int(next(it)), int(next(it))
            perms = permissions._entries.setdefault(rt, {})
            for _ in range(count):
                pt, n = int(next(it)), int(next(it))
                perms[pt] = [str(next(it)) for _ in range(n)]
        return permissions

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Rtm2Permissions):
            return NotImplemented
        return self.as_dict() == other.as_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable: unhashable, as object's hash would be wrong

    def __repr__(self) -> str:
        return f"Rtm2Permissions({self.as_dict()})"


def rtm2_user_id(user_id: Union[str, int]) -> str:
    """An RTM2 user id; as in Agora's newest Node code, a number is its decimal string (0: ""), like an RTC uid."""
    return uid_string(user_id, "user_id") if type(user_id) is int else check_text("user_id", user_id)


def check_permissions(permissions: object) -> Rtm2Permissions:
    """``permissions`` if it is an ``Rtm2Permissions``, else the TypeError saying so."""
    if not isinstance(permissions, Rtm2Permissions):
        raise TypeError(f"permissions must be ServiceRtm2.Permissions, not {type(permissions).__name__}")
    return permissions


class ServiceRtm2(Service, service_type=ServiceType.RTM2, name="RTM with permissions", privileges=RtmPrivilege):
    """RTM login with per-resource permissions."""

    layout = "sp"
    __slots__ = field_names = ("user_id", "permissions")
    Permissions = Rtm2Permissions

    def __init__(self, user_id: Union[str, int] = "", permissions: Optional[Rtm2Permissions] = None) -> None:
        self.privileges = {}
        self.user_id = rtm2_user_id(user_id)
        self.permissions = check_permissions(permissions) if permissions is not None else Rtm2Permissions()

    def _wire_fields(self) -> tuple[Field, ...]:
        return (self.user_id, *self.permissions.to_wire())

    @classmethod
    def _from_wire(cls, privileges: Iterable[tuple[int, int]], fields: Sequence[Field]) -> Service:
        return cls._from_values(privileges, (fields[0], Rtm2Permissions.from_wire(fields[1:])))


class ServiceConvoAI(Service, service_type=ServiceType.CONVOAI, name="Conversational AI"):
    """Conversational AI agent (no privileges, no fields)."""

    __slots__ = ()


class ServiceStt(Service, service_type=ServiceType.STT, name="Speech-to-text"):
    """Speech-to-text (no privileges, no fields)."""

    __slots__ = ()


# Each ServiceType has its class: a type added to the enum but not defined (or the reverse) fails here.
if set(SERVICE_CLASSES) != set(ServiceType):
    raise ImportError(f"service types without a class: {sorted(set(ServiceType) - set(SERVICE_CLASSES))}")
#: What the kernel's parser needs to read each known type.
LAYOUTS: Mapping[int, str] = {t: cls.layout for t, cls in SERVICE_CLASSES.items()}
