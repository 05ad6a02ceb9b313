"""Token renewal on the client: ask the server again before the SDK's onTokenPrivilegeWillExpire.

The RTC SDK calls ``onTokenPrivilegeWillExpire`` 30 s before a token's privileges expire and
``onRequestToken`` once they have; an app that waits for the first callback has 30 s to reach its
server. This client instead schedules its own renewal from the token itself, ``margin`` seconds
(more than 30) before the earliest privilege or the token expires, then hands the new token to the
SDK (``renewToken``). Run it to watch a simulated hour with 10-minute tokens:

    python examples/renewal.py            # a simulated clock: runs in well under a second
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _credentials, when run as a script

from _credentials import credentials  # noqa: E402

import agora_token as at  # noqa: E402

#: The SDK warns this many seconds before expiry (onTokenPrivilegeWillExpire).
SDK_WARNING = 30


def expires_at(token: str) -> int:
    """When a 007 token stops working: the earliest of its own expiry and its privileges' (Unix time)."""
    parsed = at.AccessToken2.parse(token)
    ends = [parsed.issue_ts + parsed.expire]
    for service in parsed.services:
        # A privilege value is seconds after issue; 0 means it lasts as long as the token.
        ends += [parsed.issue_ts + value for value in service.privileges.values() if value]
    return min(ends)


def renew_at(token: str, margin: int = 60) -> int:
    """When to ask for a new token: ``margin`` seconds before it stops, ahead of the SDK's warning."""
    if margin <= SDK_WARNING:
        raise ValueError(f"margin must be more than {SDK_WARNING} s, or the SDK's warning comes first")
    return expires_at(token) - margin


def run(fetch: Callable[[int], str], start: int, duration: int, margin: int = 60) -> list[tuple[int, str]]:
    """Simulate ``duration`` seconds from ``start``: every (time, token) the client fetched and used."""
    now = start
    history = [(now, fetch(now))]
    while True:
        now = renew_at(history[-1][1], margin)
        if now >= start + duration:
            return history
        history.append((now, fetch(now)))  # the app then calls the SDK's renewToken(new token)


def main() -> int:
    """Print each renewal of a simulated hour of 10-minute tokens."""
    app_id, certificate = credentials()

    def fetch(now: int) -> str:  # stands for the app's call to its token server
        return at.build_rtc_token(app_id, certificate, "demo", uid=42, expire=600, issue_ts=now)

    start = 1_700_000_000
    for when, token in run(fetch, start, 3600):
        ends = expires_at(token)
        print(f"t={when - start:>5} s  new token, stops at t={ends - start} s, "
              f"SDK would warn at t={ends - SDK_WARNING - start} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
