"""The ten 007 service types (SPEC §3.2 and §9): what each carries and how it reaches the kernel.

A service is a set of privileges (id → seconds from the token's issue time) plus its own fields.
Each class declares its wire ``layout`` once; the kernel packs and parses by it.
"""

from __future__ import annotations

import functools
from enum import IntEnum
from typing import Any, ClassVar, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Type, Union

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
def rtc_privileges(publisher: bool, expire: int) -> Tuple[Tuple[int, int], ...]:
    """What an RTC role may do, in wire order: join, and for a publisher the three publish privileges.

    The ids are the same in 006 and 007 tokens, so both formats take their role rule from here.
    """
    if publisher:
        return ((1, expire), (2, expire), (3, expire), (4, expire))
    return ((1, expire),)


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
    """Wire ids of the 007 service types."""

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


class Service:
    """A 007 service: a type, privileges and the type's own fields."""

    service_type: ClassVar[int]
    kServiceType: ClassVar[int]
    #: Wire layout of the fields after the privileges: s string, h int16, p RTM2 permissions.
    layout: ClassVar[str] = ""
    #: Names of the fields, in wire order, as attributes of the instance.
    field_names: ClassVar[Tuple[str, ...]] = ()
    Privilege: ClassVar[Type[IntEnum]] = NoPrivilege

    __slots__ = ("privileges",)

    def __init__(self) -> None:
        self.privileges: Dict[int, int] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.kServiceType = cls.service_type  # the official name

    def add_privilege(self, privilege: int, expire: int) -> None:
        """Grant ``privilege`` for ``expire`` seconds after the token's issue time (0: with the token)."""
        self.privileges[check_u16("privilege", privilege)] = check_u32("expire", expire)

    def _wire_fields(self) -> Tuple[Field, ...]:
        return tuple(getattr(self, name) for name in self.field_names)

    def to_wire(self) -> Tuple[int, Tuple[Tuple[int, int], ...], Tuple[Field, ...]]:
        """The service as the kernel packs it."""
        return self.service_type, tuple(sorted(self.privileges.items())), self._wire_fields()

    @classmethod
    def _from_wire(cls, privileges: Iterable[Tuple[int, int]], fields: Sequence[Field]) -> "Service":
        service = cls.__new__(cls)
        service.privileges = dict(privileges)
        for name, value in zip(cls.field_names, fields):
            object.__setattr__(service, name, value)
        return service

    def fields(self) -> Dict[str, Any]:
        """The type's own fields by name."""
        return {name: getattr(self, name) for name in self.field_names}

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.privileges == other.privileges and self._wire_fields() == other._wire_fields()

    __hash__ = None  # type: ignore[assignment]  # mutable

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


class ServiceRtc(Service):
    """Join an RTC channel and publish in it; ``uid`` 0 lets any user join."""

    service_type = 1
    layout = "ss"
    field_names = ("channel_name", "uid")
    Privilege = RtcPrivilege
    kPrivilegeJoinChannel = 1
    kPrivilegePublishAudioStream = 2
    kPrivilegePublishVideoStream = 3
    kPrivilegePublishDataStream = 4
    __slots__ = field_names

    def __init__(self, channel_name: str = "", uid: Union[int, str] = 0) -> None:
        self.privileges = {}
        self.channel_name = check_text("channel_name", channel_name)
        self.uid = uid_string(uid)


class ServiceRtm(Service):
    """Log in to RTM as ``user_id``."""

    service_type = 2
    layout = "s"
    field_names = ("user_id",)
    Privilege = RtmPrivilege
    kPrivilegeLogin = 1
    __slots__ = field_names

    def __init__(self, user_id: str = "") -> None:
        self.privileges = {}
        self.user_id = check_text("user_id", user_id)


class ServiceStreaming(Service):
    """Publish mixed or raw media streams in a channel."""

    service_type = 3
    layout = "ss"
    field_names = ("channel_name", "account")
    Privilege = StreamingPrivilege
    kPrivilegePublishMixStream = 1
    kPrivilegePublishRawStream = 2
    __slots__ = field_names

    def __init__(self, channel_name: str = "", account: Union[int, str] = "") -> None:
        self.privileges = {}
        self.channel_name = check_text("channel_name", channel_name)
        self.account = uid_string(account, "account")


class ServiceFpa(Service):
    """Log in to FPA (Full Path Acceleration)."""

    service_type = 4
    Privilege = FpaPrivilege
    kPrivilegeLogin = 1
    __slots__ = ()


class ServiceChat(Service):
    """Agora Chat as a user, or as the app when ``user_id`` is empty."""

    service_type = 5
    layout = "s"
    field_names = ("user_id",)
    Privilege = ChatPrivilege
    kPrivilegeUser = 1
    kPrivilegeApp = 2
    __slots__ = field_names

    def __init__(self, user_id: str = "") -> None:
        self.privileges = {}
        self.user_id = check_text("user_id", user_id)


class ServiceFCdn(Service):
    """Publish to or play from fusion CDN."""

    service_type = 6
    layout = "ss"
    field_names = ("channel_name", "account")
    Privilege = FCdnPrivilege
    kPrivilegePublish = 1
    kPrivilegePlay = 2
    __slots__ = field_names

    def __init__(self, channel_name: str = "", account: Union[int, str] = "") -> None:
        self.privileges = {}
        self.channel_name = check_text("channel_name", channel_name)
        self.account = uid_string(account, "account")


class ServiceApaas(Service):
    """Flexible Classroom (APaaS): a user in a room, a user, or the app."""

    service_type = 7
    layout = "ssh"
    field_names = ("room_uuid", "user_uuid", "role")
    Privilege = ApaasPrivilege
    kPrivilegeRoomUser = 1
    kPrivilegeUser = 2
    kPrivilegeApp = 3
    __slots__ = field_names

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
        self._entries: Dict[int, Dict[int, List[str]]] = {}

    def add(self, resource_type: int, permission_type: int, resources: Iterable[str]) -> "Rtm2Permissions":
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

    def as_dict(self) -> Dict[int, Dict[int, List[str]]]:
        """A copy, resource and permission types ascending."""
        return {
            rt: {pt: list(res) for pt, res in sorted(perms.items())} for rt, perms in sorted(self._entries.items())
        }

    def to_wire(self) -> Tuple[Field, ...]:
        """The flat word/string sequence the kernel packs (SPEC §3.2)."""
        out: List[Field] = [len(self._entries)]
        for rt, perms in sorted(self._entries.items()):
            out += (rt, len(perms))
            for pt, resources in sorted(perms.items()):
                out += (pt, len(resources))
                out += resources
        return tuple(out)

    @classmethod
    def from_wire(cls, words: Sequence[Field]) -> "Rtm2Permissions":
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

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Rtm2Permissions({self.as_dict()})"


class ServiceRtm2(Service):
    """RTM login with per-resource permissions."""

    service_type = 8
    layout = "sp"
    field_names = ("user_id", "permissions")
    Privilege = RtmPrivilege
    kPrivilegeLogin = 1
    Permissions = Rtm2Permissions
    __slots__ = field_names

    def __init__(self, user_id: Union[str, int] = "", permissions: Optional[Rtm2Permissions] = None) -> None:
        self.privileges = {}
        # Agora's newest Node code takes a numeric RTM2 user id as its decimal string (0: ""), as an RTC uid.
        self.user_id = uid_string(user_id, "user_id") if type(user_id) is int else check_text("user_id", user_id)
        if permissions is not None and not isinstance(permissions, Rtm2Permissions):
            raise TypeError(f"permissions must be ServiceRtm2.Permissions, not {type(permissions).__name__}")
        self.permissions = permissions if permissions is not None else Rtm2Permissions()

    def _wire_fields(self) -> Tuple[Field, ...]:
        return (self.user_id, *self.permissions.to_wire())

    @classmethod
    def _from_wire(cls, privileges: Iterable[Tuple[int, int]], fields: Sequence[Field]) -> "Service":
        return super()._from_wire(privileges, (fields[0], Rtm2Permissions.from_wire(fields[1:])))


class ServiceConvoAI(Service):
    """Conversational AI agent (no privileges, no fields)."""

    service_type = 9
    __slots__ = ()


class ServiceStt(Service):
    """Speech-to-text (no privileges, no fields)."""

    service_type = 10
    __slots__ = ()


#: Every known service class by wire type.
SERVICE_CLASSES: Mapping[int, Type[Service]] = {
    cls.service_type: cls
    for cls in (
        ServiceRtc,
        ServiceRtm,
        ServiceStreaming,
        ServiceFpa,
        ServiceChat,
        ServiceFCdn,
        ServiceApaas,
        ServiceRtm2,
        ServiceConvoAI,
        ServiceStt,
    )
}
#: What the kernel's parser needs to read each known type.
LAYOUTS: Mapping[int, str] = {t: cls.layout for t, cls in SERVICE_CLASSES.items()}
