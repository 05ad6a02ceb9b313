"""The cost of user authorization alone: one JWT checked (PyJWT, the key by kid) plus the policy, per algorithm.

No HTTP, no server: ``BearerAuth.claims`` on the Authorization header a client sends, then
``policy.check`` on its claims, in a loop on one event loop; beside it, what the token itself costs
(``build_rtc_token``), so the numbers read as a ratio. Interleaved rounds, the median of each row, on
the C kernel unless AGORA_TOKEN_PURE_PYTHON=1. See server_load.py --jwt for the cost inside a request.

    python benchmarks/jwt_check.py
    python benchmarks/jwt_check.py --rounds 9 --number 2000
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

import jwt_load

from agora_token import _backend, build_rtc_token
from agora_token.server.auth import AuthSettings
from agora_token.server.bearer import BearerAuth
from agora_token.server.keys import load_keys
from agora_token.server.policy import Ask, check

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
ALGORITHMS = ("HS256", "RS256", "ES256", "EdDSA")


def checkers(alg: str, directory: str, number: int) -> dict[str, Callable[[], float]]:
    """Two rows for ``alg``: ``number`` JWTs each checked for the first time, and one JWT checked again.

    Each returns seconds per check (claims verified, then the policy applied to them).
    """
    key, jwk = jwt_load.make_key(alg)
    env = jwt_load.server_env(alg, jwk, directory)
    settings = AuthSettings(
        audience=env["AGORA_TOKEN_AUTH_AUDIENCE"], issuer=env["AGORA_TOKEN_AUTH_ISSUER"],
        jwks=env.get("AGORA_TOKEN_AUTH_JWKS"), secret=env.get("AGORA_TOKEN_AUTH_SECRET"),
    )  # fmt: skip
    keys = load_keys(settings)
    kid = {"kid": "bench"} if jwk is not None else None
    # Distinct JWTs (a jti each), so that none is remembered from an earlier check.
    fresh = [f"Bearer {jwt_load.jwt.encode({**jwt_load.claims('42'), 'jti': str(i)}, key, algorithm=alg, headers=kid)}"
             .encode() for i in range(number)]  # fmt: skip
    ask = Ask(("42",), "room-1", publisher=True)
    loop = asyncio.new_event_loop()

    async def timed(headers: list[bytes], bearer: BearerAuth) -> float:
        start = time.perf_counter()
        for header in headers:
            check(await bearer.claims(header), ask)
        return (time.perf_counter() - start) / len(headers)

    def first_use() -> float:
        return loop.run_until_complete(timed(fresh, BearerAuth(settings, keys)))  # a new one: nothing remembered

    again = BearerAuth(settings, keys)

    def repeated() -> float:
        return loop.run_until_complete(timed([fresh[0]] * number, again))

    return {f"JWT {alg}, first use, + policy": first_use, f"JWT {alg}, again (remembered), + policy": repeated}


def token_cost(number: int) -> Callable[[], float]:
    def run() -> float:
        start = time.perf_counter()
        for uid in range(number):
            build_rtc_token(APP_ID, CERTIFICATE, "room-1", uid=uid + 1)
        return (time.perf_counter() - start) / number

    return run


def main(argv: Any = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default: %(default)s)")
    parser.add_argument("--number", type=int, default=1000, help="checks per round and row (default: %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as directory:
        rows: dict[str, Callable[[], float]] = {}
        for alg in ALGORITHMS:
            rows.update(checkers(alg, directory, args.number))
        rows["the RTC token itself (build_rtc_token)"] = token_cost(args.number)
        times: dict[str, list[float]] = {name: [] for name in rows}
        for run in rows.values():
            run()  # warm up
        for _ in range(args.rounds):
            for name, run in rows.items():
                times[name].append(run())
    token = statistics.median(times["the RTC token itself (build_rtc_token)"])
    print(f"{args.rounds} rounds of {args.number}, medians; {_backend.name} kernel; Python {sys.version.split()[0]}")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"  {name:<44} {median * 1e6:8.1f} µs   {median / token:6.1f}x the token")
    return 0


if __name__ == "__main__":
    sys.exit(main())
