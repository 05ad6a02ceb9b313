"""Who may have which token: a verified JWT's claims against what a request asks for (standard library only).

``check(claims, ask, names)`` returns when the token may be issued and raises ``Refused`` naming the
rule otherwise. The rules, in the order they are checked (``RULES``):

* ``user``: each user the token is for (the uid as digits, the user account, the RTM or Chat user id)
  equals the ``sub`` claim; uid 0 is not a user but anyone, and has its own rule;
* ``uid_any``: uid 0 (a token any user can join with) only when ``agora_uid_any`` is ``true``;
* ``channel``: the channel matches one of the shell-style patterns in ``agora_channels`` (``room-*``;
  case-sensitive); without the claim, no token that names a channel;
* ``role``: publishing only when ``agora_role`` is ``"publisher"`` (absent: a subscriber);
* ``chat_app``: the Chat app token only when ``agora_chat_app`` is ``true``.

A claim of the wrong type refuses, never coerces: ``"true"`` is not ``true``, a string is not a list.
Knows nothing of HTTP: the routes describe each request as an ``Ask``, the server answers a
``Refused`` with 403 and counts it by ``rule``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any, Optional

from .auth import ClaimNames

#: Every rule's name, as ``Refused.rule`` and the refusal metric's label give it.
RULES = ("user", "uid_any", "channel", "role", "chat_app")
#: A text taken from the request and shown in a refusal is cut to this many characters.
_SHOWN = 64


@dataclass(frozen=True)
class Ask:
    """What one request would issue: its users, its channel, whether it publishes, whether it is Chat's app token.

    ``users`` holds each user id as the token stores it: a uid's decimal digits ("0" for any user), an
    account or RTM/Chat user id as given.
    """

    users: tuple[str, ...] = ()
    channel: Optional[str] = None
    publisher: bool = False
    chat_app: bool = False


class Refused(Exception):
    """The policy refuses the request: ``rule`` (one of ``RULES``) and a message for the client."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "..."


#: The claim names when none are renamed.
DEFAULT_NAMES = ClaimNames()


def check(claims: Mapping[str, Any], ask: Ask, names: ClaimNames = DEFAULT_NAMES) -> None:
    """Return if ``claims`` allow ``ask``; raise ``Refused`` naming the first rule that does not."""
    for user in ask.users:
        if user == "0":
            if claims.get(names.agora_uid_any) is not True:
                raise Refused("uid_any", f"uid 0 (any user) is not allowed for this user: it needs the claim "
                                         f"{names.agora_uid_any!r} set to true")  # fmt: skip
            continue
        subject = claims.get(names.sub)
        if not isinstance(subject, str) or not subject:
            raise Refused("user", f"the JWT's {names.sub!r} claim must name the user (a non-empty string)")
        if user != subject:
            raise Refused("user", f"user {_shown(user)!r} is not the signed-in user: a token is only for the user "
                                  f"the JWT's {names.sub!r} claim names")  # fmt: skip
    if ask.channel is not None:
        patterns = claims.get(names.agora_channels)
        if not _patterns(patterns):
            raise Refused("channel", f"channel {_shown(ask.channel)!r} is not allowed for this user: the JWT has no "
                                     f"{names.agora_channels!r} claim (a list of channel patterns)")  # fmt: skip
        assert isinstance(patterns, list)
        if not any(fnmatchcase(ask.channel, pattern) for pattern in patterns):
            raise Refused("channel", f"channel {_shown(ask.channel)!r} is not allowed for this user")
    if ask.publisher and claims.get(names.agora_role) != "publisher":
        raise Refused("role", f"role 'publisher' is not allowed for this user: it needs the claim "
                              f"{names.agora_role!r} set to 'publisher'")  # fmt: skip
    if ask.chat_app and claims.get(names.agora_chat_app) is not True:
        raise Refused("chat_app", f"the Chat app token is not allowed for this user: it needs the claim "
                                  f"{names.agora_chat_app!r} set to true")  # fmt: skip


def _patterns(value: object) -> bool:
    """Whether ``value`` is a non-empty list of strings (the only form ``agora_channels`` may take)."""
    return isinstance(value, list) and bool(value) and all(isinstance(p, str) for p in value)


def users_of(values: Sequence[Optional[object]]) -> tuple[str, ...]:
    """The ``Ask.users`` of a request's user arguments: a uid (int) as its digits, a text as it is; None skipped."""
    return tuple(str(v) for v in values if v is not None)


__all__ = ["RULES", "Ask", "Refused", "check", "users_of"]
