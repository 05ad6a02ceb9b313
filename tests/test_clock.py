"""Frozen clocks are honoured: every builder reads the issue time through ``time.time()`` at each call.

A user's test suite stops the clock with ``unittest.mock.patch.object(time, "time", ...)``, freezegun
or time-machine and snapshots the tokens it builds; each must carry the frozen time, on both
kernels, for every builder family: the Pythonic builders (the RTC table's path included), the
drop-in (``compat``) builders and token classes, and the DynamicKeys (the Signaling token stores no
issue time, only the expiry it is given). The kernels read no clock at all (tests/test_limits.py).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager as ContextManager
from datetime import datetime, timezone
from typing import Callable
from unittest import mock

import freezegun
import pytest
import time_machine

import agora_token as at
from agora_token import AccessToken, AccessToken2, legacy
from agora_token.compat import AccessToken as c006
from agora_token.compat import AccessToken2 as c007
from agora_token.compat.apaas_token_builder import ApaasTokenBuilder as _apaas
from agora_token.compat.ChatTokenBuilder2 import ChatTokenBuilder as _chat
from agora_token.compat.convoai_token_builder import ConvoAITokenBuilder
from agora_token.compat.education_token_builder import EducationTokenBuilder as _edu
from agora_token.compat.fpa_token_builder import FpaTokenBuilder
from agora_token.compat.RtcTokenBuilder import RtcTokenBuilder as _rtc006
from agora_token.compat.RtcTokenBuilder2 import RtcTokenBuilder as _rtc2
from agora_token.compat.RtmTokenBuilder import RtmTokenBuilder as _rtm006
from agora_token.compat.RtmTokenBuilder2 import RtmTokenBuilder as _rtm2
from agora_token.compat.stt_token_builder import SttTokenBuilder

from .common import APP_ID, CERT

# Every test patches the process-wide clock: on a free-threaded build pytest-run-parallel must not
# run copies of them at once.
pytestmark = [pytest.mark.usefixtures("backend"), pytest.mark.thread_unsafe]

#: The frozen time: long before any machine running this suite, so the real clock cannot match it.
FROZEN = 1_700_000_000
DAY = 24 * 3600


def _mock() -> ContextManager[object]:
    return mock.patch.object(time, "time", return_value=float(FROZEN))


def _freezegun() -> ContextManager[object]:
    return freezegun.freeze_time(datetime.fromtimestamp(FROZEN, timezone.utc))


def _time_machine() -> ContextManager[object]:
    return time_machine.travel(FROZEN, tick=False)


CLOCKS: dict[str, Callable[[], ContextManager[object]]] = {
    "unittest.mock": _mock,
    "freezegun": _freezegun,
    "time-machine": _time_machine,
}


def _issued_007(token: str) -> int:
    return AccessToken2.parse(token).issue_ts


def _issued_006(lifetime: int) -> Callable[[str], int]:
    """A 006 token stores when it expires: its issue time is that less its lifetime."""
    return lambda token: AccessToken.parse(token).ts - lifetime


def _issued_legacy(token: str) -> int:
    issued = legacy.parse(token).issue_ts
    assert issued is not None
    return issued


def _compat_007_class() -> str:
    token = c007.AccessToken(APP_ID, CERT)  # issue_ts 0: now
    token.add_service(c007.ServiceRtc("room", 5))
    return token.build()


def _compat_006_class() -> str:
    token = c006.AccessToken(APP_ID, CERT, "room", 5)  # ts: a day from now
    token.addPrivilege(c006.kJoinChannel, 0)
    return token.build()


def _rtc_twice() -> str:
    """The second call is built from the RTC table (wire.rtc_token), the first through every check."""
    at.build_rtc_token(APP_ID, CERT, "clock-room", uid=1, expire=600)
    return at.build_rtc_token(APP_ID, CERT, "clock-room", uid=2, expire=600)


def _rtc_006_twice() -> str:
    at.build_rtc_token(APP_ID, CERT, "clock-room", uid=1, expire=600, version="006")
    return at.build_rtc_token(APP_ID, CERT, "clock-room", uid=2, expire=600, version="006")


def _compat_rtc_twice() -> str:
    _rtc2.build_token_with_uid(APP_ID, CERT, "clock-room", 1, 1, 600, 600)
    return _rtc2.build_token_with_uid(APP_ID, CERT, "clock-room", 2, 1, 600, 600)


_permissions = at.Rtm2Permissions().add(0, 0, ["room"])

#: Every builder, by family: (build one token now, its issue time as the token says).
BUILDERS: dict[str, tuple[Callable[[], str], Callable[[str], int]]] = {
    # The Pythonic API
    "build_rtc_token": (lambda: at.build_rtc_token(APP_ID, CERT, "room", account="alice"), _issued_007),
    "build_rtc_token (RTC table)": (_rtc_twice, _issued_007),
    "build_rtc_token 006 (RTC table)": (_rtc_006_twice, _issued_006(600)),
    "build_rtc_tokens": (lambda: at.build_rtc_tokens(APP_ID, CERT, "room", [1, "bob"])[1], _issued_007),
    "build_rtc_token_with_privileges": (
        lambda: at.build_rtc_token_with_privileges(
            APP_ID,
            CERT,
            "room",
            uid=1,
            join_channel_expire=60,
            publish_audio_expire=60,
            publish_video_expire=60,
            publish_data_expire=60,
        ),
        _issued_007,
    ),  # fmt: skip
    "build_rtc_rtm_token": (lambda: at.build_rtc_rtm_token(APP_ID, CERT, "room", uid=1), _issued_007),
    "build_rtc_rtm_token_with_privileges": (
        lambda: at.build_rtc_rtm_token_with_privileges(APP_ID, CERT, "room", uid=1),
        _issued_007,
    ),
    "build_rtm_token": (lambda: at.build_rtm_token(APP_ID, CERT, "alice"), _issued_007),
    "build_rtm_token (permissions)": (
        lambda: at.build_rtm_token(APP_ID, CERT, "alice", permissions=_permissions),
        _issued_007,
    ),
    "build_rtm_token 006": (
        lambda: at.build_rtm_token(APP_ID, CERT, "alice", version="006", expire=600),
        _issued_006(600),
    ),  # fmt: skip
    "build_chat_user_token": (lambda: at.build_chat_user_token(APP_ID, CERT, "alice"), _issued_007),
    "build_chat_app_token": (lambda: at.build_chat_app_token(APP_ID, CERT), _issued_007),
    "build_apaas_room_user_token": (lambda: at.build_apaas_room_user_token(APP_ID, CERT, "r", "u", 1), _issued_007),
    "build_apaas_user_token": (lambda: at.build_apaas_user_token(APP_ID, CERT, "u"), _issued_007),
    "build_apaas_app_token": (lambda: at.build_apaas_app_token(APP_ID, CERT), _issued_007),
    "build_fpa_token": (lambda: at.build_fpa_token(APP_ID, CERT), _issued_007),
    "build_streaming_token": (lambda: at.build_streaming_token(APP_ID, CERT, "room", uid=1), _issued_007),
    "build_fcdn_token": (lambda: at.build_fcdn_token(APP_ID, CERT, "room", uid=1), _issued_007),
    "build_convoai_token": (lambda: at.build_convoai_token(APP_ID, CERT, "room", uid=1), _issued_007),
    "build_stt_token": (lambda: at.build_stt_token(APP_ID, CERT, "room", uid=1), _issued_007),
    "AccessToken2": (lambda: _model_007(), _issued_007),
    "AccessToken (006)": (lambda: _model_006(), _issued_006(DAY)),
    # The drop-in modules (agoraiotools' top level binds these same classes)
    "compat build_token_with_uid (RTC table)": (_compat_rtc_twice, _issued_007),
    "compat build_token_with_user_account": (
        lambda: _rtc2.build_token_with_user_account(APP_ID, CERT, "room", "alice", 1, 600, 600),
        _issued_007,
    ),
    "compat build_token_with_uid_and_privilege": (
        lambda: _rtc2.build_token_with_uid_and_privilege(APP_ID, CERT, "room", 1, 600, 60, 60, 60, 60),
        _issued_007,
    ),
    "compat build_token_with_rtm": (
        lambda: _rtc2.build_token_with_rtm(APP_ID, CERT, "room", "alice", 1, 600),
        _issued_007,
    ),  # fmt: skip
    "compat build_token_with_rtm2": (
        lambda: _rtc2.build_token_with_rtm2(APP_ID, CERT, "room", 1, 1, 600, 60, 60, 60, 60, "alice", 600),
        _issued_007,
    ),
    "compat RtmTokenBuilder2.build_token": (lambda: _rtm2.build_token(APP_ID, CERT, "alice", 600), _issued_007),
    "compat build_token_with_permissions": (
        lambda: _rtm2.build_token_with_permissions(APP_ID, CERT, "alice", _permissions, 600),
        _issued_007,
    ),
    "compat ChatTokenBuilder2": (lambda: _chat.build_user_token(APP_ID, CERT, "alice", 600), _issued_007),
    "compat apaas build_room_user_token": (
        lambda: _apaas.build_room_user_token(APP_ID, CERT, "r", "u", 1, 600),
        _issued_007,
    ),
    "compat education build_app_token": (lambda: _edu.build_app_token(APP_ID, CERT, 600), _issued_007),
    "compat FpaTokenBuilder": (lambda: FpaTokenBuilder.build_token(APP_ID, CERT), _issued_007),
    "compat ConvoAITokenBuilder": (
        lambda: ConvoAITokenBuilder.build_token(APP_ID, CERT, "room", 1, 1, 600, 60, 60, 60, 60, "alice", 600),
        _issued_007,
    ),
    "compat SttTokenBuilder": (
        lambda: SttTokenBuilder.build_token(APP_ID, CERT, "room", 1, 1, 600, 60, 60, 60, 60, "a", 600),
        _issued_007,
    ),
    "compat AccessToken2 class": (_compat_007_class, _issued_007),
    "compat RtcTokenBuilder (006)": (
        lambda: _rtc006.buildTokenWithUid(APP_ID, CERT, "room", 1, 1, 0),
        _issued_006(DAY),
    ),
    "compat RtmTokenBuilder (006)": (
        lambda: _rtm006.buildToken(APP_ID, CERT, "alice", 1, 0),
        _issued_006(DAY),
    ),
    "compat AccessToken class (006)": (_compat_006_class, _issued_006(DAY)),
    # The formats before 006
    "build_dynamic_key1": (lambda: legacy.build_dynamic_key1(APP_ID, CERT, "room"), _issued_legacy),
    "build_dynamic_key2": (lambda: legacy.build_dynamic_key2(APP_ID, CERT, "room", 1, 0), _issued_legacy),
    "build_dynamic_key3": (lambda: legacy.build_dynamic_key3(APP_ID, CERT, "room", 1, 0), _issued_legacy),
    "build_dynamic_key4": (lambda: legacy.build_dynamic_key4(APP_ID, CERT, "room", 1, 0), _issued_legacy),
    "build_dynamic_key5": (lambda: legacy.build_dynamic_key5(APP_ID, CERT, "room", 1, 0), _issued_legacy),
}


def _model_007() -> str:
    token = AccessToken2(APP_ID, CERT)
    token.add_service(at.ServiceRtc("room", 1))
    return token.build()


def _model_006() -> str:
    token = AccessToken(APP_ID, CERT, "room", 1)
    token.add_privilege(1, 0)
    return token.build()


@pytest.mark.parametrize("clock", sorted(CLOCKS))
@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_every_builder_issues_at_the_frozen_time(clock, builder):
    build, issued = BUILDERS[builder]
    with CLOCKS[clock]():
        token = build()
    assert issued(token) == FROZEN


@contextlib.contextmanager
def _ticking(start: int) -> Iterator[list[int]]:
    """A clock that moves one second per read, through ``time.time``, from ``start``."""
    reads: list[int] = []

    def fake() -> float:
        reads.append(start + len(reads))
        return float(reads[-1])

    with mock.patch.object(time, "time", fake):
        yield reads


def test_the_rtc_table_reads_the_clock_at_each_call():
    """A token built from the RTC table carries the time of its own call, not of the call that
    filled the table."""
    at.build_rtc_token(APP_ID, CERT, "clock-ticks", uid=1)
    with _ticking(FROZEN) as reads:
        tokens = [at.build_rtc_token(APP_ID, CERT, "clock-ticks", uid=uid) for uid in (2, 3, 4)]
    assert [AccessToken2.parse(t).issue_ts for t in tokens] == reads == [FROZEN, FROZEN + 1, FROZEN + 2]
