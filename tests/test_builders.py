"""The Pythonic builders: what each token grants, and every argument they refuse."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

import agora_token as at
from agora_token import AccessToken, AccessToken2, RtcRole, wire

from .common import APP_ID, CERT, VECTORS

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)

FIXED = {"issue_ts": 1111111, "salt": 1}


def parse(token: str) -> AccessToken2:
    parsed = AccessToken2.parse(token)
    assert parsed.verify(CERT)
    return parsed


def vector(vector_id: str) -> str:
    return next(v["expected"] for v in VECTORS if v["id"] == vector_id)


# Official vectors whose builder_equivalent is one of ours.
def test_rtc_uid_builder_matches_official_vector():
    token = at.build_rtc_token(
        APP_ID, CERT, "7d72365eb983485397e3e3f9d460bdda", uid=2882341273, role=RtcRole.SUBSCRIBER,
        expire=600, privilege_expire=600, **FIXED,
    )  # fmt: skip
    assert token == vector("007-rtc-uid-int")


def test_rtc_account_builder_matches_official_vector():
    token = at.build_rtc_token(
        APP_ID, CERT, "7d72365eb983485397e3e3f9d460bdda", account="2882341273", role="subscriber",
        expire=600, privilege_expire=600, **FIXED,
    )  # fmt: skip
    assert token == vector("007-rtc-account")


def test_rtc_rtm_builder_matches_official_vector():
    token = at.build_rtc_rtm_token(
        APP_ID, CERT, "7d72365eb983485397e3e3f9d460bdda", uid=2882341273, rtm_user_id="test_user",
        role="publisher", expire=600, **FIXED,
    )  # fmt: skip
    assert token == vector("007-rtc4-rtm")


def test_rtm_chat_apaas_builders_match_official_vectors():
    assert at.build_rtm_token(APP_ID, CERT, "test_user", expire=600, **FIXED) == vector("007-rtm-test_user")
    assert at.build_chat_user_token(APP_ID, CERT, "2882341273", expire=600, **FIXED) == vector("007-chat-user")
    assert at.build_chat_app_token(APP_ID, CERT, expire=600, **FIXED) == vector("007-chat-app")
    assert at.build_apaas_room_user_token(APP_ID, CERT, "123", "2882341273", 1, expire=600, **FIXED) == vector(
        "007-apaas-room-user"
    )
    assert at.build_education_user_token(APP_ID, CERT, "2882341273", expire=600, **FIXED) == vector("007-apaas-user")
    assert at.build_apaas_app_token(APP_ID, CERT, expire=600, **FIXED) == vector("007-apaas-app")


def test_publisher_gets_publish_privileges_and_subscriber_only_join():
    publisher = parse(at.build_rtc_token(APP_ID, CERT, "room", uid=5, expire=100)).services[0]
    subscriber = parse(at.build_rtc_token(APP_ID, CERT, "room", uid=5, role="subscriber", expire=100)).services[0]
    assert publisher.privileges == {1: 100, 2: 100, 3: 100, 4: 100}
    assert subscriber.privileges == {1: 100}
    assert publisher.channel_name == "room" and publisher.uid == "5"


def test_privilege_expire_defaults_to_the_token_lifetime_and_can_differ():
    token = parse(at.build_rtc_token(APP_ID, CERT, "room", uid=0, expire=3000, privilege_expire=60))
    assert token.expire == 3000 and token.services[0].privileges[1] == 60
    assert parse(at.build_rtc_token(APP_ID, CERT, "room", uid=0, expire=3000)).services[0].privileges[1] == 3000


def test_rtc_with_privileges_gives_each_its_own_lifetime():
    token = parse(
        at.build_rtc_token_with_privileges(
            APP_ID,
            CERT,
            "room",
            account="bob",
            join_channel_expire=10,
            publish_audio_expire=20,
            publish_video_expire=30,
            publish_data_expire=40,
        )  # fmt: skip
    )
    assert token.services[0].privileges == {1: 10, 2: 20, 3: 30, 4: 40}


def test_006_tokens_use_absolute_times_from_relative_lifetimes():
    before = int(time.time())
    token = AccessToken.parse(at.build_rtc_token(APP_ID, CERT, "room", uid=9, expire=600, version="006"))
    assert before + 600 <= token.ts <= int(time.time()) + 600
    assert set(token.privileges) == {1, 2, 3, 4} and token.privileges[1] == token.ts
    assert token.verify(CERT, "room", 9)
    rtm = AccessToken.parse(at.build_rtm_token(APP_ID, CERT, "alice", expire=60, version="006"))
    assert set(rtm.privileges) == {1000} and rtm.verify(CERT, "alice", "")


def test_rtm_with_permissions_builds_an_rtm2_service():
    permissions = at.Rtm2Permissions().add(at.ResourceType.MESSAGE_CHANNELS, at.PermissionType.READ, ["news"])
    token = parse(at.build_rtm_token(APP_ID, CERT, "alice", permissions=permissions, expire=60))
    (service,) = token.services
    assert isinstance(service, at.ServiceRtm2) and service.permissions == permissions
    assert service.privileges == {1: 60}


def test_agent_tokens_carry_rtc_rtm_and_their_own_service():
    for build, kind in ((at.build_convoai_token, 9), (at.build_stt_token, 10)):
        token = parse(build(APP_ID, CERT, "room", uid=1001, rtm_user_id="agent", expire=120))
        assert [s.service_type for s in token.services] == [1, 2, kind]
        assert token.services[1].user_id == "agent"


def test_streaming_fcdn_and_fpa_tokens():
    streaming = parse(at.build_streaming_token(APP_ID, CERT, "room", uid=3, publish_raw_stream=False))
    assert streaming.services[0].privileges == {1: at.DEFAULT_EXPIRE}
    fcdn = parse(at.build_fcdn_token(APP_ID, CERT, "room", account="viewer", publish=False))
    assert fcdn.services[0].privileges == {2: at.DEFAULT_EXPIRE} and fcdn.services[0].account == "viewer"
    fpa = parse(at.build_fpa_token(APP_ID, CERT))
    assert fpa.expire == 86400 and fpa.services[0].privileges == {1: 0}


def test_room_user_token_adds_rtm_and_md5_chat_user():
    token = parse(at.build_apaas_room_user_token(APP_ID, CERT, "room-1", "user-1", 2))
    rtm, chat, apaas = token.services  # the wire orders them by type: 2, 5, 7
    assert (apaas.room_uuid, apaas.user_uuid, apaas.role) == ("room-1", "user-1", 2)
    assert rtm.user_id == "user-1" and chat.user_id == at.chat_user_id("user-1") and len(chat.user_id) == 32


BAD_ARGUMENTS = [
    (dict(app_id="xyz"), ValueError, "app_id"),
    (dict(app_id=123), TypeError, "app_id"),
    (dict(app_certificate="g" * 32), ValueError, "app_certificate"),
    (dict(app_certificate=None), TypeError, "app_certificate"),
    (dict(channel=""), ValueError, "channel"),
    (dict(channel="c" * 65), ValueError, "channel"),
    (dict(channel="a/b"), ValueError, "channel"),
    (dict(channel="caf\u00e9"), ValueError, "channel"),
    (dict(channel=5), TypeError, "channel"),
    (dict(uid=-1), ValueError, "uid"),
    (dict(uid=2**32), ValueError, "uid"),
    (dict(uid=True), TypeError, "uid"),
    (dict(uid=1.5), TypeError, "uid"),
    (dict(uid="12"), TypeError, "uid"),
    (dict(uid=None, account="a" * 256), ValueError, "account"),
    (dict(uid=None, account=""), ValueError, "account"),
    (dict(uid=None), TypeError, "uid"),
    (dict(account="bob"), TypeError, "uid"),
    (dict(role="admin"), ValueError, "role"),
    (dict(role=3), ValueError, "role"),
    (dict(role=1.0), TypeError, "role"),
    (dict(role=[]), TypeError, "role"),
    (dict(expire=-1), ValueError, "expire"),
    (dict(expire=86401), ValueError, "expire"),
    (dict(expire=1_700_000_000), ValueError, "absolute"),
    (dict(expire="60"), TypeError, "expire"),
    (dict(expire=60.0), TypeError, "expire"),
    (dict(privilege_expire=-5), ValueError, "privilege_expire"),
    (dict(privilege_expire=90000), ValueError, "privilege_expire"),
    (dict(version="005"), ValueError, "version"),
    (dict(salt=2**32), ValueError, "salt"),
    (dict(issue_ts=-1), ValueError, "issue_ts"),
]


@pytest.mark.parametrize("change,error,name", BAD_ARGUMENTS, ids=[str(b[0]) for b in BAD_ARGUMENTS])
def test_rtc_builder_refuses_bad_arguments_naming_them(change, error, name):
    arguments = dict(app_id=APP_ID, app_certificate=CERT, channel="room", uid=1)
    arguments.update(change)
    with pytest.raises(error, match=name) as raised:
        at.build_rtc_token(**arguments)
    assert CERT not in str(raised.value)


@pytest.mark.parametrize(
    "call,name",
    [
        (lambda: at.build_rtm_token(APP_ID, CERT, ""), "user_id"),
        (lambda: at.build_rtm_token(APP_ID, CERT, "u", expire=10**6), "expire"),
        (lambda: at.build_rtm_token(APP_ID, CERT, "u", version="006", permissions=at.Rtm2Permissions()), "permissions"),
        (lambda: at.build_chat_user_token(APP_ID, CERT, 42), "user_id"),
        (lambda: at.build_apaas_room_user_token(APP_ID, CERT, "r", "u", 40000), "role"),
        (lambda: at.build_apaas_room_user_token(APP_ID, CERT, "", "u", 1), "room_uuid"),
        (
            lambda: at.build_streaming_token(
                APP_ID, CERT, "c", uid=1, publish_mix_stream=False, publish_raw_stream=False
            ),
            "publish",
        ),
        (lambda: at.build_rtc_rtm_token(APP_ID, CERT, "c", uid=0, rtm_user_id=""), "rtm_user_id"),
        (lambda: at.build_rtc_rtm_token(APP_ID, CERT, "c", uid=0), "rtm_user_id"),
        (lambda: at.Rtm2Permissions().add(0, 0, "abc"), "resources"),
        (lambda: at.Rtm2Permissions().add(70000, 0, []), "resource_type"),
        (lambda: at.ServiceRtc("c", 1).add_privilege(1, -1), "expire"),
        (lambda: at.ServiceRtc("c", 1).add_privilege(2**16, 1), "privilege"),
        (lambda: at.ServiceRtm("x" * 70000), "user_id"),
        (lambda: at.ServiceApaas("r", "u", 2**15), "role"),
        (lambda: at.AccessToken2(APP_ID, CERT, expire=2**32), "expire"),
        (lambda: at.AccessToken2(APP_ID, CERT).add_service("rtc"), "service"),
        (lambda: at.AccessToken(APP_ID, CERT, "c", 2**32), "uid"),
        (lambda: at.AccessToken(APP_ID, CERT, "c", 1).add_privilege(1, 2**32), "expire_ts"),
        (lambda: at.ServiceChat("\ud800"), "user_id"),
    ],
)
def test_other_builders_and_classes_refuse_bad_arguments_naming_them(call, name):
    with pytest.raises((ValueError, TypeError), match=name):
        call()


def test_batch_builds_one_verified_token_per_user_in_order():
    users = list(range(0, 150)) + ["alice", "bob"]
    for threads in (1, 3):
        tokens = at.build_rtc_tokens(APP_ID, CERT, "room", users, role="subscriber", expire=120, threads=threads)
        assert len(tokens) == len(users)
        parsed = [parse(t) for t in tokens]
        assert [p.services[0].uid for p in parsed] == [at.validation.uid_string(u) for u in users]
        assert all(p.services[0].privileges == {1: 120} and p.expire == 120 for p in parsed)
        assert len({p.salt for p in parsed}) > len(users) - 3  # fresh salts
        # Same bytes as the single-token builder given the same issue time and salt.
        first = parsed[5]
        assert tokens[5] == at.build_rtc_token(
            APP_ID, CERT, "room", uid=5, role="subscriber", expire=120, issue_ts=first.issue_ts, salt=first.salt
        )


@pytest.mark.parametrize(
    "kwargs,name",
    [
        (dict(users=[1, -1]), "users"),
        (dict(users=[1, ""]), "users"),
        (dict(users="alice"), "users"),
        (dict(users=[1], channel="a/b"), "channel"),
        (dict(users=[1], expire=10**6), "expire"),
        (dict(users=[1], threads=0), "threads"),
        (dict(users=[1], app_certificate="x"), "app_certificate"),
    ],
)
def test_batch_refuses_bad_arguments_naming_them(kwargs, name):
    arguments = dict(app_id=APP_ID, app_certificate=CERT, channel="room")
    arguments.update(kwargs)
    with pytest.raises((ValueError, TypeError), match=name):
        at.build_rtc_tokens(**arguments)


# The RTC table: once arguments have passed build_rtc_token's checks, the wire layer builds tokens
# for new uids from what it remembered of them (wire.rtc_table()) without running the checks again.


def test_the_rtc_table_is_per_thread_on_free_threaded_builds_only() -> None:
    """A free-threaded CPython (3.13t) searches a dict another thread made about 60 times slower with a
    fresh tuple key, so there each thread remembers its own arguments; with the GIL, one table serves all."""
    import sysconfig
    import threading

    seen: list[object] = []
    worker = threading.Thread(target=lambda: seen.append(wire.rtc_table()))
    worker.start()
    worker.join(10)
    assert len(seen) == 1 and wire.rtc_table() is wire.rtc_table()
    per_thread = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    assert (seen[0] is not wire.rtc_table()) == per_thread


HOT_CASES = [
    dict(role=RtcRole.PUBLISHER, expire=3600),
    dict(role=RtcRole.SUBSCRIBER, expire=600, privilege_expire=60),
    dict(role="publisher", expire=0),
    dict(role=2, expire=86400, privilege_expire=86400),
    dict(role=RtcRole.PUBLISHER, expire=3600, version="006"),
    dict(role="subscriber", expire=120, privilege_expire=30, version="006"),
]


# Clears the process-wide shape cache, so a copy of it on another thread may find no shape.
@pytest.mark.thread_unsafe
@pytest.mark.parametrize("case", HOT_CASES, ids=[str(c) for c in HOT_CASES])
def test_rtc_hot_path_gives_the_checked_paths_bytes(case):
    wire.rtc_table().clear()
    at.build_rtc_token(APP_ID, CERT, "room", uid=1, **case)  # checked: the arguments are remembered
    shape_args = (APP_ID, CERT, "room", case["role"], case["expire"], case.get("privilege_expire"))
    for uid in (0, 7, 2**32 - 1):
        hot = _table(*shape_args[:3], uid, *shape_args[3:], case.get("version", "007"))
        assert hot is not None
        # The same token through every check, at the issue time and salt the hot path chose.
        if case.get("version") == "006":
            parsed6 = AccessToken.parse(hot)
            fixed = dict(issue_ts=parsed6.ts - case["expire"], salt=parsed6.salt)
        else:
            parsed7 = parse(hot)
            fixed = dict(issue_ts=parsed7.issue_ts, salt=parsed7.salt)
        assert hot == at.build_rtc_token(APP_ID, CERT, "room", uid=uid, **case, **fixed)


def _table(*arguments: object) -> object:
    """The table's answer for ``build_rtc_token``'s arguments (app_id, certificate, channel, uid, role,
    expire, privilege_expire, version): a token, or None for arguments it does not vouch for."""
    return wire.rtc_token(wire.PYTHONIC_RULES, *arguments)  # type: ignore[arg-type]


# Values equal to checked ones (True == 1, 60.0 == 60) that the checks refuse: the table must not vouch.
LOOKALIKES = [
    (dict(role=True), TypeError, "role"),
    (dict(role=1.0), TypeError, "role"),
    (dict(expire=60.0), TypeError, "expire"),
    (dict(expire=True), TypeError, "expire"),
    (dict(privilege_expire=30.0), TypeError, "privilege_expire"),
    (dict(uid=True), TypeError, "uid"),
    (dict(uid=1.0), TypeError, "uid"),
    (dict(uid=2**32), ValueError, "uid"),
    (dict(uid=-1), ValueError, "uid"),
    (dict(account="bob"), TypeError, "uid"),
]


@pytest.mark.parametrize("change,error,name", LOOKALIKES, ids=[str(c[0]) for c in LOOKALIKES])
def test_rtc_hot_path_never_vouches_for_what_the_checks_refuse(change, error, name):
    checked = dict(uid=1, role=1, expire=60, privilege_expire=30)
    at.build_rtc_token(APP_ID, CERT, "room", **checked)
    assert _table(APP_ID, CERT, "room", 1, 1, 60, 30, "007") is not None
    arguments = {**checked, **change}
    if "account" not in change:
        assert _table(
            APP_ID, CERT, "room", arguments["uid"], arguments["role"], arguments["expire"],
            arguments["privilege_expire"], "007",
        ) is None  # fmt: skip
    with pytest.raises(error, match=name):
        at.build_rtc_token(APP_ID, CERT, "room", **arguments)


def test_rtc_table_stays_bounded():
    wire.rtc_table().clear()
    for expire in range(wire.RTC_TABLE_MAX + 10):
        at.build_rtc_token(APP_ID, CERT, "room", uid=1, expire=expire % 86401, privilege_expire=expire // 86401)
    assert 0 < len(wire.rtc_table()) <= wire.RTC_TABLE_MAX


class _Int(int):
    pass


class _Str(str):
    pass


def _lookalikes(value: object) -> list:
    """Values equal or close to ``value`` in other types, and some plainly wrong ones."""
    if type(value) is int:
        near = [float(value), bool(value), _Int(value), str(value), value + 1, -value - 1, 2**64]
    elif isinstance(value, str):
        near = [_Str(value), value.encode(), value.upper(), value + " ", value + "/"]
    else:
        near = [0, ""]
    return near + [None, []]


# Shapes the builder has checked (role, expire, privilege_expire, version) for APP_ID, CERT, "room".
CHECKED_SHAPES = [
    (1, 60, 30, "007"),
    (2, 86400, None, "006"),
    ("publisher", 60, 30, "006"),
    (RtcRole.SUBSCRIBER, 0, 0, "007"),
]


# Asks the one process-wide table, which a copy of this test on another thread may fill in between
# (say, with a lookalike channel that is valid in its own right).
@pytest.mark.thread_unsafe
@given(st.data())
def test_rtc_hot_path_vouches_only_for_what_the_checks_accept(data):
    for role, expire, privilege_expire, version in CHECKED_SHAPES:
        at.build_rtc_token(APP_ID, CERT, "room", uid=1, role=role, expire=expire, privilege_expire=privilege_expire,
                           version=version)  # fmt: skip
    # A checked shape with up to three arguments swapped for lookalikes (e.g. True for 1, 60.0 for 60).
    arguments = [APP_ID, CERT, "room", data.draw(st.sampled_from([0, 5, 2**32 - 1])),
                 *data.draw(st.sampled_from(CHECKED_SHAPES))]  # fmt: skip
    for index in data.draw(st.lists(st.integers(0, 7), max_size=3)):
        arguments[index] = data.draw(st.sampled_from(_lookalikes(arguments[index])))
    vouched = _table(*arguments) is not None
    app_id, app_certificate, channel, uid, role, expire, privilege_expire, version = arguments
    try:
        token = at.build_rtc_token(
            app_id, app_certificate, channel, uid=uid, role=role, expire=expire, privilege_expire=privilege_expire,
            version=version, salt=1,
        )  # fmt: skip
    except (TypeError, ValueError):
        assert not vouched, f"the table built a token for arguments the checks refuse: {arguments}"
    else:
        assert token.startswith(version)
