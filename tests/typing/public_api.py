"""The public API as a type checker sees it: checked by ``mypy --strict tests/typing`` (.ci/run, CI and
pre-commit), never run. Each ``assert_type`` states a type users rely on; each line marked
``# type: ignore[code]`` is a call the API's types must refuse (mypy --strict reports an ignore
that is not needed, so a type that stopped refusing it fails the check).
"""

from __future__ import annotations

from typing import Literal, Optional

from typing_extensions import assert_type

import agora_token as at
from agora_token import legacy
from agora_token.compat import RtcTokenBuilder2, RtmTokenBuilder2
from agora_token.describe import Report, describe

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"

# Which kernel runs: one of two words.
assert_type(at.backend, Literal["c", "python"])
assert_type(at.DEFAULT_EXPIRE, int)
assert_type(at.__version__, str)

# Roles: the enum, its values, or its names.
assert_type(at.build_rtc_token(APP_ID, CERT, "room", uid=1), str)
assert_type(at.build_rtc_token(APP_ID, CERT, "room", uid=1, role=at.RtcRole.SUBSCRIBER), str)
assert_type(at.build_rtc_token(APP_ID, CERT, "room", account="alice", role="subscriber"), str)
assert_type(at.build_rtc_token(APP_ID, CERT, "room", uid=1, role=2, expire=600, privilege_expire=60), str)
at.build_rtc_token(APP_ID, CERT, "room", uid=1, role="host")  # type: ignore[arg-type]  # not a role name
at.build_rtc_token(APP_ID, CERT, "room", uid=1, role=1.0)  # type: ignore[arg-type]  # a float is no role

# Versions: "007" or "006".
assert_type(at.build_rtc_token(APP_ID, CERT, "room", uid=1, role="admin", version="006"), str)
assert_type(at.build_rtm_token(APP_ID, CERT, "alice", version="006"), str)
at.build_rtc_token(APP_ID, CERT, "room", uid=1, version="008")  # type: ignore[arg-type]  # no such format
at.build_rtm_token(APP_ID, CERT, "alice", version=7)  # type: ignore[arg-type]  # a version is a word

# Users: a uid is an int, an account a str.
at.build_rtc_token(APP_ID, CERT, "room", uid="1")  # type: ignore[arg-type]
at.build_rtc_token(APP_ID, CERT, "room", account=1)  # type: ignore[arg-type]
assert_type(at.build_rtc_tokens(APP_ID, CERT, "room", [1, "bob"], threads=2), list[str])
assert_type(at.build_rtm_token(APP_ID, CERT, 42, permissions=at.Rtm2Permissions().add(0, 0, ["c"])), str)

# The builders that share one implementation keep their own keyword-only parameters.
assert_type(at.build_rtc_rtm_token(APP_ID, CERT, "room", uid=1, rtm_user_id="alice"), str)
assert_type(at.build_convoai_token(APP_ID, CERT, "room", uid=1, rtm_expire=60), str)
assert_type(at.build_stt_token(APP_ID, CERT, "room", account="bot"), str)
at.build_rtc_rtm_token(APP_ID, CERT, "room", 1)  # type: ignore[call-arg]  # uid is keyword-only
assert_type(at.build_streaming_token(APP_ID, CERT, "room", uid=1, publish_raw_stream=False), str)
assert_type(at.build_fcdn_token(APP_ID, CERT, "room", uid=1, play=False), str)
assert_type(at.build_apaas_room_user_token(APP_ID, CERT, "room", "user", 1), str)
assert_type(at.build_fpa_token(APP_ID, CERT, expire=3600), str)
assert_type(at.chat_user_id("user"), str)

# The token model.
token = at.AccessToken2(APP_ID, CERT, issue_ts=1, expire=600, salt=1)
token.add_service(at.ServiceRtc("room", 1))
assert_type(token.build(), str)
parsed = at.AccessToken2.parse(token.build())
assert_type(parsed, at.AccessToken2)
assert_type(parsed.services, list[at.Service])
assert_type(parsed.verify(CERT), bool)
assert_type(parsed.unread_services, int)
assert_type(parsed.expires_at, int)
token.add_service("rtc")  # type: ignore[arg-type]  # a service object, not a name
legacy006 = at.AccessToken.parse(at.build_rtc_token(APP_ID, CERT, "room", uid=1, version="006"))
assert_type(legacy006.verify(CERT, "room", 1), bool)
assert_type(legacy006.channel_name, Optional[str])
assert_type(at.ServiceType.RTC, Literal[at.ServiceType.RTC])

# The drop-in modules, the inspection report and the formats before 006.
assert_type(RtcTokenBuilder2.RtcTokenBuilder.build_token_with_uid(APP_ID, CERT, "room", 1, 1, 600), str)
assert_type(RtmTokenBuilder2.RtmTokenBuilder.build_token(APP_ID, CERT, "alice", 600), str)
assert_type(describe(token.build(), app_certificate=CERT), Report)
assert_type(legacy.parse("1:" + APP_ID + ":1700000000:" + "0" * 32), legacy.LegacyToken)
assert_type(legacy.build_dynamic_key5(APP_ID, CERT, "room", 1, 0), str)
