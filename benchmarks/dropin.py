"""Every drop-in builder against the Pythonic call for the same token, C backend, interleaved.

    python benchmarks/dropin.py [--rounds R] [--calls N]

For each builder of Agora's official code that has a Pythonic equivalent, both calls build the
same token (checked first: the parsed services must be equal, only the issue time and salt may
differ) for a fresh user per call. Rounds alternate the two calls (and their order), so both
see the same machine; each side's time is its median round. The goal (issue 14): every drop-in
within 5 % of the Pythonic call, drop-in time / Pythonic time <= 1.05.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from typing import Any, Callable

import agora_token as at
from agora_token import AccessToken2, _backend
from agora_token.compat import (
    ChatTokenBuilder2,
    RtcTokenBuilder2,
    RtmTokenBuilder2,
    apaas_token_builder,
    convoai_token_builder,
    education_token_builder,
    fpa_token_builder,
    stt_token_builder,
)

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"
ROOM = "4c2e1f6a9b8d4e3f"
GOAL = 1.05
EXPIRE = 3600

Build = Callable[[int], str]

_rtc = RtcTokenBuilder2.RtcTokenBuilder
_rtm = RtmTokenBuilder2.RtmTokenBuilder
_chat = ChatTokenBuilder2.ChatTokenBuilder
_apaas = apaas_token_builder.ApaasTokenBuilder
_edu = education_token_builder.EducationTokenBuilder
_permissions = at.Rtm2Permissions().add(1, 1, ["room-1", "room-2"])


def _rtc_rtm(pythonic: Callable[..., str], dropin: Callable[..., str]) -> tuple[Build, Build]:
    """An RTC+RTM-shaped pair: RTC as uid i, RTM as user-i, every lifetime EXPIRE."""
    return (
        lambda i: pythonic(APP_ID, CERT, CHANNEL, uid=i, rtm_user_id=f"user-{i}", expire=EXPIRE),
        lambda i: dropin(APP_ID, CERT, CHANNEL, i, 1, EXPIRE, EXPIRE, EXPIRE, EXPIRE, EXPIRE, f"user-{i}", EXPIRE),
    )


def _user(pythonic: Callable[..., str], dropin: Callable[..., str], *extra: Any) -> tuple[Build, Build]:
    """A pair for user-i (after ``extra`` arguments, e.g. a room), for EXPIRE seconds."""
    return (
        lambda i: pythonic(APP_ID, CERT, *extra[:1], f"user-{i}", *extra[1:], expire=EXPIRE),
        lambda i: dropin(APP_ID, CERT, *extra[:1], f"user-{i}", *extra[1:], EXPIRE),
    )


def _app(pythonic: Callable[..., str], dropin: Callable[..., str]) -> tuple[Build, Build]:
    """A pair of app-level tokens (no user), for EXPIRE seconds."""
    return lambda i: pythonic(APP_ID, CERT, expire=EXPIRE), lambda i: dropin(APP_ID, CERT, EXPIRE)


#: builder -> (Pythonic call, drop-in call): both build the same token for user i.
PAIRS: dict[str, tuple[Build, Build]] = {
    "RTC (build_token_with_uid)": (
        lambda i: at.build_rtc_token(APP_ID, CERT, CHANNEL, uid=i, expire=EXPIRE, privilege_expire=EXPIRE),
        lambda i: _rtc.build_token_with_uid(APP_ID, CERT, CHANNEL, i, 1, EXPIRE, EXPIRE),
    ),
    "RTM (RtmTokenBuilder2.build_token)": _user(at.build_rtm_token, _rtm.build_token),
    "RTM2 (build_token_with_permissions)": (
        lambda i: at.build_rtm_token(APP_ID, CERT, f"user-{i}", expire=EXPIRE, permissions=_permissions),
        lambda i: _rtm.build_token_with_permissions(APP_ID, CERT, f"user-{i}", _permissions, EXPIRE),
    ),
    "Chat user (build_user_token)": _user(at.build_chat_user_token, _chat.build_user_token),
    "Chat app (build_app_token)": _app(at.build_chat_app_token, _chat.build_app_token),
    "RTC+RTM (build_token_with_rtm2)": _rtc_rtm(at.build_rtc_rtm_token, _rtc.build_token_with_rtm2),
    "APaaS room user (build_room_user_token)": _user(
        at.build_apaas_room_user_token, _apaas.build_room_user_token, ROOM, 1
    ),
    "APaaS user (build_user_token)": _user(at.build_apaas_user_token, _apaas.build_user_token),
    "APaaS app (build_app_token)": _app(at.build_apaas_app_token, _apaas.build_app_token),
    "Education room user (build_room_user_token)": _user(
        at.build_education_room_user_token, _edu.build_room_user_token, ROOM, 2
    ),
    "FPA (build_token)": (
        lambda i: at.build_fpa_token(APP_ID, CERT),
        lambda i: fpa_token_builder.FpaTokenBuilder.build_token(APP_ID, CERT),
    ),
    "ConvoAI (build_token)": _rtc_rtm(at.build_convoai_token, convoai_token_builder.ConvoAITokenBuilder.build_token),
    "STT (build_token)": _rtc_rtm(at.build_stt_token, stt_token_builder.SttTokenBuilder.build_token),
}


def same_token(pythonic: str, dropin: str) -> bool:
    """Whether two tokens grant the same (their issue times and salts aside)."""
    a, b = AccessToken2.parse(pythonic), AccessToken2.parse(dropin)
    return (a.app_id, a.expire, a.services) == (b.app_id, b.expire, b.services)


def round_us(build: Build, first: int, calls: int) -> float:
    users = range(first, first + calls)
    start = time.perf_counter()
    for i in users:
        build(i)
    return (time.perf_counter() - start) / calls * 1e6


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40, help="interleaved rounds per builder (default 40)")
    parser.add_argument("--calls", type=int, default=2000, help="tokens per round (default 2000)")
    args = parser.parse_args()
    if _backend.name != "c":
        print("the C backend is not installed: this compares the C paths", file=sys.stderr)
        return 2
    print(f"Python {sys.version.split()[0]}, C backend; {args.rounds} interleaved rounds x {args.calls} tokens "
          "per builder, a fresh user per token; median round per side")  # fmt: skip
    print()
    print("| builder | Pythonic µs/token | drop-in µs/token | drop-in / Pythonic |")
    print("|---|---:|---:|---:|")
    worst: list[tuple[float, str]] = []
    user = 1
    for label, (pythonic, dropin) in PAIRS.items():
        if not same_token(pythonic(user), dropin(user)):
            print(f"{label}: the two calls build different tokens", file=sys.stderr)
            return 1
        times: Any = {pythonic: [], dropin: []}
        for r in range(args.rounds):
            for build in (pythonic, dropin) if r % 2 == 0 else (dropin, pythonic):
                user += args.calls
                times[build].append(round_us(build, user, args.calls))
        best = {b: statistics.median(ts) for b, ts in times.items()}
        ratio = best[dropin] / best[pythonic]
        worst.append((ratio, label))
        print(f"| {label} | {best[pythonic]:.2f} | {best[dropin]:.2f} | {ratio:.2f}× |", flush=True)
    print()
    ratio, label = max(worst)
    verdict = "OK" if ratio <= GOAL else "MISSED"
    print(f"- slowest drop-in relative to its Pythonic call: {label}, {ratio:.2f}× (goal ≤ {GOAL:.2f}×) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
