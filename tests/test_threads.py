"""Threads: 8 threads build, parse and verify at once on each kernel; every token is checked, and
hostile parses on some threads never disturb builds on others."""

from __future__ import annotations

import hmac
import threading
import zlib
from typing import Callable

import pytest

from agora_token import (
    AccessToken,
    AccessToken2,
    TokenError,
    _pure,
)  # fmt: skip
from agora_token.services import LAYOUTS

from .common import APP_ID, CERT, REAL_007, b64, thread_unsafe

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)


THREADS = 8
PER_THREAD = 150


def _expected_007(thread: int, i: int) -> tuple[str, tuple]:
    channel, uid = f"ch-{thread}-{i}", str(thread * 1000 + i)
    services = [(1, ((1, 600 + i), (2, 600)), (channel, uid)), (2, ((1, 60),), (f"user-{thread}",))]
    return channel, tuple(services)


def _run_on_threads(work: Callable[[int], None]) -> list[threading.Thread]:
    """Run ``work(t)`` on THREADS threads at once, give each 60 s to finish; return the ones still running,
    so a test that cares can fail on a hang instead of checking a half-filled result."""
    workers = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    return [w for w in workers if w.is_alive()]


@thread_unsafe
def test_eight_threads_build_parse_verify_concurrently(kernel):
    """Every thread builds its own tokens (fixed and fresh salts), parses them and verifies them;
    each fixed-salt token must equal the pure kernel's, computed beforehand on one thread."""
    expected = {
        (t, i): _pure.build_007(
            APP_ID, CERT, 1_700_000_000 + i, 3600, t * PER_THREAD + i + 1, list(_expected_007(t, i)[1])
        )  # fmt: skip
        for t in range(THREADS)
        for i in range(PER_THREAD)
    }
    expected_006 = {
        (t, i): _pure.build_006(APP_ID, CERT, f"ch-{t}", str(i), i + 1, 2_000_000_000, ((1, i), (2, t)))
        for t in range(THREADS)
        for i in range(0, PER_THREAD, 5)
    }
    barrier = threading.Barrier(THREADS)
    errors: list[str] = []
    salts: list[list[int]] = [[] for _ in range(THREADS)]

    def work(t: int) -> None:
        try:
            barrier.wait()
            for i in range(PER_THREAD):
                services = list(_expected_007(t, i)[1])
                token = kernel.build_007(APP_ID, CERT, 1_700_000_000 + i, 3600, t * PER_THREAD + i + 1, services)
                if token != expected[t, i]:
                    errors.append(f"thread {t} token {i} differs")
                signature, info, app_id, issue_ts, expire, salt, _, parsed = kernel.parse_007(token, LAYOUTS)
                if parsed != services or (app_id, issue_ts, salt) != (
                    APP_ID,
                    1_700_000_000 + i,
                    t * PER_THREAD + i + 1,
                ):
                    errors.append(f"thread {t} token {i} parsed wrong")
                if not hmac.compare_digest(kernel.sign_007(CERT, issue_ts, salt, info), signature):
                    errors.append(f"thread {t} token {i} does not verify")
                fresh = kernel.build_007(APP_ID, CERT, 1_700_000_000, 600, None, services)
                model = AccessToken2.parse(fresh)
                if not model.verify(CERT) or model.verify("0" * 32):
                    errors.append(f"thread {t} fresh token {i} verify wrong")
                salts[t].append(model.salt)
                if i % 5 == 0:
                    t006 = kernel.build_006(APP_ID, CERT, f"ch-{t}", str(i), i + 1, 2_000_000_000, ((1, i), (2, t)))
                    if t006 != expected_006[t, i]:
                        errors.append(f"thread {t} 006 token {i} differs")
                    p006 = AccessToken.parse(t006)
                    if not p006.verify(CERT, f"ch-{t}", str(i)) or p006.verify(CERT, f"ch-{t}", str(i + 1)):
                        errors.append(f"thread {t} 006 token {i} verify wrong")
        except Exception as exc:  # pragma: no cover
            errors.append(f"thread {t}: {type(exc).__name__}: {exc}")

    assert _run_on_threads(work) == []
    assert errors == []
    every = [s for per in salts for s in per]
    assert len(every) == THREADS * PER_THREAD
    # 1200 draws from 10^8: a shared or repeated stream would collide by the hundred.
    assert len(every) - len(set(every)) <= 2


@thread_unsafe
def test_threads_parse_hostile_input_while_others_build(kernel):
    """Parsing errors on some threads (TokenError, freed buffers) never disturb builds on others."""
    hostile = ["007" + b64(zlib.compress(b"\0" * (2 << 20), 9)), "007!!", REAL_007[0][:-8], "006" + APP_ID + "AAAA"]
    good = {i: _pure.build_007(APP_ID, CERT, 1, 60, i + 1, [(2, ((1, 60),), (f"u{i}",))]) for i in range(100)}
    errors: list[str] = []
    barrier = threading.Barrier(THREADS)

    def work(t: int) -> None:
        barrier.wait()
        for i in range(100):
            try:
                if t % 2:
                    for text in hostile:
                        try:
                            kernel.parse_007(text, LAYOUTS)
                            errors.append("hostile token parsed")
                        except TokenError:
                            pass
                elif kernel.build_007(APP_ID, CERT, 1, 60, i + 1, [(2, ((1, 60),), (f"u{i}",))]) != good[i]:
                    errors.append(f"thread {t} token {i} differs")
            except Exception as exc:  # pragma: no cover
                errors.append(f"{type(exc).__name__}: {exc}")

    assert _run_on_threads(work) == []  # none still running: a hang fails too
    assert errors == []
