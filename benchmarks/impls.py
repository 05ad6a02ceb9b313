"""The workloads and implementations the benchmarks compare, as batch functions.

Every implementation of a workload is a function ``run(inputs)`` that builds one token per input, and
a function ``one(input)`` that returns one token (for the sanity check). Inputs differ on every call
(a new uid, and a new RTM user id where there is one), for every implementation alike: identical
inputs would let zlib's deflate of a 007 payload run artificially fast.

Backends ("c", "python") are switched in-process through ``agora_token._backend.kernel``, which the
builders read on every call.
"""

from __future__ import annotations

import importlib
import itertools
import time
from typing import Any, Callable, Optional

import agora_token as at
from agora_token import _backend, _pure
from agora_token.compat import RtcTokenBuilder as compat006
from agora_token.compat import RtcTokenBuilder2 as compat007
from agora_token.compat import RtmTokenBuilder2 as compat_rtm

try:
    from agora_token import _fastpack
except ImportError:  # pragma: no cover - a pure-Python install
    _fastpack = None  # type: ignore[assignment]

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"
CHANNEL = "7d72365eb983485397e3e3f9d460bdda"  # a 32-character channel name, as apps often use
EXPIRE = 3600
PUBLISHER = 1

KERNELS = {"c": _fastpack, "python": _pure}

#: Workload -> token format, for the table.
WORKLOADS = {
    "rtc-007": "007 RTC token, numeric uid, publisher",
    "rtc-006": "006 RTC token, numeric uid, publisher",
    "rtm-007": "007 RTM login token",
    "rtc+rtm-007": "007 token with RTC and RTM services",
}

#: Implementation labels, in table order. "official" is the reference every ratio divides by.
OFFICIAL = "agoraiotools 0.3.4 (official python3)"
IMPLS = [
    "agora-token C, compat",
    "agora-token C, Pythonic",
    "agora-token pure, compat",
    "agora-token pure, Pythonic",
    OFFICIAL,
    "agora-token-builder 1.0.0",
]

_ids = itertools.count(10_000_001)  # shared by every benchmark: no two calls see the same uid


def make_inputs(workload: str, n: int) -> list[Any]:
    """``n`` fresh inputs: uids, or (uid, rtm user id) pairs, or RTM user ids."""
    ids = list(itertools.islice(_ids, n))
    if workload == "rtm-007":
        return [f"user-{i}" for i in ids]
    if workload == "rtc+rtm-007":
        return [(i, f"user-{i}") for i in ids]
    return ids


# Workload -> the public function each implementation builds it with: (Pythonic, compat, official,
# agora-token-builder). A peer is named (module, class, function) and imported only when asked for, by
# module path (agoraiotools' __init__ shadows its module names with classes); None where it has no such
# call.
_Where = tuple[str, str, str]
_FUNCTIONS: dict[str, tuple[Callable[..., str], Callable[..., str], _Where, Optional[_Where]]] = {
    "rtc-007": (
        at.build_rtc_token, compat007.RtcTokenBuilder.build_token_with_uid,
        ("agoraiotools.RtcTokenBuilder2", "RtcTokenBuilder", "build_token_with_uid"), None,
    ),
    "rtc-006": (
        at.build_rtc_token, compat006.RtcTokenBuilder.buildTokenWithUid,
        ("agoraiotools.RtcTokenBuilder", "RtcTokenBuilder", "buildTokenWithUid"),
        ("agora_token_builder.RtcTokenBuilder", "RtcTokenBuilder", "buildTokenWithUid"),
    ),
    "rtm-007": (
        at.build_rtm_token, compat_rtm.RtmTokenBuilder.build_token,
        ("agoraiotools.RtmTokenBuilder2", "RtmTokenBuilder", "build_token"), None,
    ),
    # agoraiotools 0.3.4 has build_token_with_rtm2 on the RtcTokenBuilder2 class only.
    "rtc+rtm-007": (
        at.build_rtc_rtm_token, compat007.RtcTokenBuilder.build_token_with_rtm2,
        ("agoraiotools.RtcTokenBuilder2", "RtcTokenBuilder2", "build_token_with_rtm2"), None,
    ),
}  # fmt: skip


def _pythonic(impl: str) -> bool:
    return "Pythonic" in impl and _ours(impl)


def _ours(impl: str) -> bool:
    return impl.startswith("agora-token ")  # the space: not agora-token-builder, a peer


def _function(workload: str, impl: str) -> Optional[Callable[..., str]]:
    """The implementation's public function for the workload; None if that pair does not exist."""
    pythonic, compat, official, peer = _FUNCTIONS[workload]  # KeyError for an unknown workload
    if _pythonic(impl):
        return pythonic
    if _ours(impl):
        return compat
    where = official if impl == OFFICIAL else peer
    if where is None:
        return None
    module, cls, name = where
    return getattr(getattr(importlib.import_module(module), cls), name)


def _batch_fn(workload: str, impl: str) -> Optional[Callable[[list[Any]], Any]]:
    """The batch function: the same plain loop around each implementation's own call.

    Written out per workload (not ``for x in xs: one(x)``) so the measured time has no extra
    lambda call in it: each iteration is exactly one call to the implementation's public function.
    """
    f = _function(workload, impl)
    if f is None:
        return None
    A, C, CH, E, P = APP_ID, APP_CERTIFICATE, CHANNEL, EXPIRE, PUBLISHER
    R = at.RtcRole.PUBLISHER
    pythonic = _pythonic(impl)
    if workload == "rtc-007":
        if pythonic:

            def run(xs: list[int]) -> str:
                for uid in xs:
                    t = f(A, C, CH, uid=uid, role=R, expire=E)
                return t

            return run

        def run(xs: list[int]) -> str:
            for uid in xs:
                t = f(A, C, CH, uid, P, E, E)
            return t

        return run
    if workload == "rtc-006":
        if pythonic:

            def run(xs: list[int]) -> str:
                for uid in xs:
                    t = f(A, C, CH, uid=uid, role=R, expire=E, version="006")
                return t

            return run
        ts = int(time.time()) + E

        def run(xs: list[int]) -> str:
            for uid in xs:
                t = f(A, C, CH, uid, P, ts)
            return t

        return run
    if workload == "rtm-007":
        if pythonic:

            def run(xs: list[str]) -> str:
                for user in xs:
                    t = f(A, C, user, expire=E)
                return t

            return run

        def run(xs: list[str]) -> str:
            for user in xs:
                t = f(A, C, user, E)
            return t

        return run
    if workload == "rtc+rtm-007":
        if pythonic:

            def run(xs: list[tuple[int, str]]) -> str:
                for uid, user in xs:
                    t = f(A, C, CH, uid=uid, rtm_user_id=user, role=R, expire=E)
                return t

            return run

        def run(xs: list[tuple[int, str]]) -> str:
            for uid, user in xs:
                t = f(A, C, CH, uid, P, E, E, E, E, E, user, E)
            return t

        return run
    raise KeyError(workload)  # not reached: _function refused it


def cases() -> list[tuple[str, str]]:
    """Every (workload, implementation) pair that exists."""
    return [(w, i) for w in WORKLOADS for i in IMPLS if _function(w, i) is not None]


def backend_of(impl: str) -> Optional[str]:
    """The agora-token backend an implementation runs on ("c", "python"), None for a peer."""
    if impl.startswith("agora-token C"):
        return "c"
    if impl.startswith("agora-token pure"):
        return "python"
    return None


class use_backend:
    """Context manager: install a kernel as the package's backend, restore the previous one."""

    def __init__(self, name: Optional[str]) -> None:
        self.name = name
        self.saved: tuple[Any, str] = (_backend.kernel, _backend.name)

    def __enter__(self) -> use_backend:
        self.saved = (_backend.kernel, _backend.name)
        if self.name is not None:
            kernel = KERNELS[self.name]
            if kernel is None:
                raise RuntimeError("the C extension agora_token._fastpack is not built")
            _backend.kernel, _backend.name = kernel, self.name
        return self

    def __exit__(self, *exc: object) -> None:
        _backend.kernel, _backend.name = self.saved


def batch_function(workload: str, impl: str) -> Callable[[list[Any]], Any]:
    fn = _batch_fn(workload, impl)
    if fn is None:
        raise KeyError((workload, impl))
    return fn


def one_function(workload: str, impl: str) -> Callable[[Any], str]:
    """One token for one input: the timed loop run over a batch of one, so the sanity check checks the
    very call that is timed (each ``run`` returns the token of its last input)."""
    run = batch_function(workload, impl)
    return lambda x: run([x])


def check_token(workload: str, token: str, x: Any) -> None:
    """The token is what the workload asks for, signed with the certificate (any implementation)."""
    if workload == "rtc-006":
        assert token.startswith("006" + APP_ID), token
        parsed = at.AccessToken.parse(token)
        assert parsed.verify(APP_CERTIFICATE, CHANNEL, str(x)), token
        return
    parsed = at.AccessToken2.parse(token)
    assert parsed.app_id == APP_ID and parsed.verify(APP_CERTIFICATE), token
    fields: dict[str, Any] = {}
    for s in parsed.services:
        fields[type(s).__name__] = s
    if workload == "rtc-007":
        assert set(fields) == {"ServiceRtc"} and fields["ServiceRtc"].uid == str(x), token
    elif workload == "rtm-007":
        assert set(fields) == {"ServiceRtm"} and fields["ServiceRtm"].user_id == x, token
    else:
        assert set(fields) == {"ServiceRtc", "ServiceRtm"}, token
        assert fields["ServiceRtc"].uid == str(x[0]) and fields["ServiceRtm"].user_id == x[1], token
