"""Fork: children (os.fork, multiprocessing "fork", a pre-fork worker pool) never share the salt
stream of their parent or a sibling, and a fork right after a thread exits never hangs."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import threading

import pytest

import agora_token as at
from agora_token import (
    AccessToken,
    AccessToken2,
    _backend,
)  # fmt: skip
from agora_token.services import LAYOUTS

from .common import APP_ID, CERT, thread_unsafe

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)


DRAWS = 300  # per process and per kind; from 10^8 values, chance collisions stay below 1 in 10^4


def _draw_salts(n: int) -> dict[str, list[int]]:
    """Salts from the kernel directly, from kernel-built tokens and from the model."""
    kernel = _backend.kernel
    direct = [kernel.random_salt() for _ in range(n)]
    built = [kernel.parse_007(kernel.build_007(APP_ID, CERT, 1, 60, None, [(4, (), ())]), LAYOUTS)[5]
             for _ in range(n // 3)]  # fmt: skip
    model = [AccessToken2(APP_ID, CERT).salt for _ in range(n // 3)]
    legacy006 = [AccessToken(APP_ID, CERT, "c", 1).salt for _ in range(n // 3)]
    return {"direct": direct, "built": built, "model": model, "006": legacy006}


def _check_streams(streams: dict[str, dict[str, list[int]]]) -> None:
    """No two processes share a stream: a copied buffer repeats dozens of salts, in order."""
    names = sorted(streams)
    everything: list[int] = []
    for name in names:
        for kind, values in streams[name].items():
            assert values and all(1 <= v <= 99_999_999 for v in values), (name, kind)
            everything += values
    for a in names:
        for b in names:
            if a < b:
                assert streams[a]["direct"][:32] != streams[b]["direct"][:32], f"{a} and {b} share a salt stream"
    # ~2,500 draws from 10^8: ≥ 4 repeats by chance has probability ~1e-8; a shared stream gives 100+.
    repeats = len(everything) - len(set(everything))
    assert repeats <= 3, f"{repeats} salts repeated across processes"


def _child_report(write_fd: int) -> None:
    signal.alarm(60)  # a child that hangs (a lock inherited locked) dies and fails the test
    try:
        payload = json.dumps(_draw_salts(DRAWS)).encode()
        with os.fdopen(write_fd, "wb") as pipe:
            pipe.write(payload)
    finally:
        os._exit(0)


def _read_child(pid: int, read_fd: int) -> dict[str, list[int]]:
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    assert not os.WIFSIGNALED(status), f"a forked child hung or crashed (signal {os.WTERMSIG(status)})"
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
    return json.loads(data)


def _fork_child() -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child_report(write_fd)
    os.close(write_fd)
    return pid, read_fd


@thread_unsafe
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_os_fork_children_never_share_the_parent_salt_stream(kernel):
    kernel.random_salt()  # the parent's buffer is now filled and partly used
    AccessToken2(APP_ID, CERT)
    children = [_fork_child() for _ in range(4)]
    streams = {"parent": _draw_salts(DRAWS)}
    for n, (pid, fd) in enumerate(children):
        streams[f"child{n}"] = _read_child(pid, fd)
    _check_streams(streams)


def _pool_task(_: int) -> dict[str, list[int]]:
    return _draw_salts(DRAWS // 2)


@thread_unsafe
@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork start method")
def test_multiprocessing_fork_pool_never_shares_salt_streams(kernel):
    kernel.random_salt()
    context = multiprocessing.get_context("fork")
    with context.Pool(3) as pool:
        results = pool.map(_pool_task, range(6), chunksize=1)
    streams: dict[str, dict[str, list[int]]] = {"parent": _draw_salts(DRAWS // 2)}
    # Tasks on one worker continue one stream: merge by content, then compare the workers' streams.
    for n, result in enumerate(results):
        streams[f"task{n}"] = result
    everything = [v for s in streams.values() for values in s.values() for v in values]
    assert len(everything) - len(set(everything)) <= 3
    firsts = [tuple(s["direct"][:16]) for s in streams.values()]
    assert len(set(firsts)) == len(firsts)


@thread_unsafe
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_prefork_worker_pool_like_gunicorn(kernel):
    """A master warms up (builds tokens on its main thread and a second thread), then forks workers
    that serve with several threads each, as gunicorn's gthread workers do; a worker also re-forks."""
    at.build_rtc_token(APP_ID, CERT, "warm", uid=1)
    warm = threading.Thread(target=lambda: [at.build_rtm_token(APP_ID, CERT, "w") for _ in range(10)])
    warm.start()
    warm.join()

    def worker(write_fd: int, refork: bool) -> None:
        signal.alarm(60)
        try:
            results: dict[str, list[int]] = {}
            grandchild = _fork_child() if refork else None
            lock = threading.Lock()

            def serve(name: str) -> None:
                values = []
                for i in range(DRAWS // 3):
                    token = at.build_rtc_token(APP_ID, CERT, "room", uid=i + 1)
                    values.append(AccessToken2.parse(token).salt)
                with lock:
                    results[name] = values

            threads = [threading.Thread(target=serve, args=(f"t{n}",)) for n in range(3)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            results["direct"] = [_backend.kernel.random_salt() for _ in range(DRAWS)]
            if grandchild is not None:
                results["grandchild"] = [v for vs in _read_child(*grandchild).values() for v in vs]
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(json.dumps(results).encode())
        finally:
            os._exit(0)

    workers = []
    for n in range(4):
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            worker(write_fd, refork=(n == 0))
        os.close(write_fd)
        workers.append((pid, read_fd))
    streams = {"master": _draw_salts(DRAWS)}
    for n, (pid, fd) in enumerate(workers):
        streams[f"worker{n}"] = _read_child(pid, fd)
    _check_streams(streams)


@thread_unsafe
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork on this platform")
def test_fork_right_after_a_thread_exits_never_hangs(kernel):
    """Thread.join() returns before the OS thread has run its TLS destructors (OpenSSL's per-thread
    cleanup takes its global RAND lock): a fork in that window must not leave the child unable to
    draw a salt. Each child gets 20 s, then SIGALRM makes a hang a failure."""
    hung = 0
    for _ in range(40):
        worker = threading.Thread(target=kernel.random_salt)
        worker.start()
        worker.join()
        pid = os.fork()
        if pid == 0:
            signal.alarm(20)
            try:
                drawer = threading.Thread(target=kernel.random_salt)
                drawer.start()
                drawer.join()
            finally:
                os._exit(0)
        _, status = os.waitpid(pid, 0)
        hung += os.WIFSIGNALED(status)
    assert hung == 0, f"{hung} of 40 children hung drawing a salt"
