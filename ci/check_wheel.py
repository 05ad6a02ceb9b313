"""Checks an installed agora-token wheel: the C kernel is there and gives the pure backend's bytes.

Run by cibuildwheel's test step (and by hand) against the installed package, never the source
tree. It fails unless:

* ``agora_token.backend`` is ``"c"`` (the wheel carries a working ``_fastpack``);
* on a free-threaded Python, importing the kernel leaves the GIL disabled (the extension declares
  ``freethreading_compatible``; an undeclared one makes CPython re-enable the GIL);
* for thousands of seeded random inputs, ``_fastpack`` and ``_pure`` give identical 006 and 007
  token strings and CRCs. A 007 token is deflated, so this proves that the zlib the wheel links
  (vendored or static) deflates exactly as this platform's Python ``zlib`` module does;
* the same holds with several threads building tokens at once.

Usage: python ci/check_wheel.py [--count N]
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import ssl
import sys
import sysconfig
import threading
import zlib
from typing import Any, Callable

TEXT = "abcXYZ019 _-.:/!@#$%^&*()ÿ中文😀"


def text(rng: random.Random, longest: int = 24) -> str:
    return "".join(rng.choice(TEXT) for _ in range(rng.randint(0, longest)))


def privileges(rng: random.Random) -> list[tuple[int, int]]:
    ids = sorted(rng.sample(range(0x10000), rng.randint(0, 5)))
    return [(i, rng.randint(0, 2**32 - 1)) for i in ids]


def field(rng: random.Random) -> Any:
    return text(rng) if rng.random() < 0.7 else rng.randint(-0x8000, 0xFFFF)


def case_007(rng: random.Random) -> tuple:
    services = sorted(
        (
            (rng.randint(1, 15), privileges(rng), [field(rng) for _ in range(rng.randint(0, 4))])
            for _ in range(rng.randint(0, 4))
        ),
        key=lambda service: service[0],
    )
    return (
        rng.choice(["970CA35de60c44645bbae8a215061b33", text(rng, 40)]),
        text(rng, 40),
        rng.randint(0, 2**32 - 1),
        rng.randint(0, 2**32 - 1),
        rng.randint(0, 2**32 - 1),
        services,
    )


def case_006(rng: random.Random) -> tuple:
    return (
        "970CA35de60c44645bbae8a215061b33",
        text(rng, 40),
        text(rng),
        str(rng.randint(0, 2**32 - 1)) if rng.random() < 0.5 else text(rng),
        rng.randint(0, 2**32 - 1),
        rng.randint(0, 2**32 - 1),
        privileges(rng),
    )


def outcome(function: Callable[..., Any], args: tuple) -> Any:
    """A call's result, or its exception type: both kernels must refuse the same inputs."""
    try:
        return function(*args)
    except (ValueError, OverflowError, TypeError) as exc:
        return ("raised", type(exc).__name__ in ("ValueError", "OverflowError"))


def compare(fast: Any, pure: Any, seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    problems = []
    for index in range(count):
        for name, make in (("build_007", case_007), ("build_006", case_006)):
            args = make(rng)
            want, got = outcome(getattr(pure, name), args), outcome(getattr(fast, name), args)
            if want != got:
                problems.append(f"{name} seed={seed} case={index}: C {got!r} != pure {want!r} for {args!r}")
        word = text(rng, 64)
        if fast.crc32(word) != pure.crc32(word):
            problems.append(f"crc32({word!r}): C {fast.crc32(word)} != pure {pure.crc32(word)}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000, help="random inputs per check (default 2000)")
    options = parser.parse_args()

    import agora_token
    from agora_token import _pure

    free_threaded = bool(sysconfig.get_config_var("Py_GIL_DISABLED"))
    print(
        f"python {platform.python_version()} {platform.python_implementation()} {sysconfig.get_platform()}"
        f"{' free-threaded' if free_threaded else ''}"
    )
    print(f"agora_token from {os.path.dirname(agora_token.__file__)}, backend {agora_token.backend!r}")
    print(
        f"python zlib {zlib.ZLIB_VERSION} (runtime {getattr(zlib, 'ZLIB_RUNTIME_VERSION', '?')}"
        f"{', zlib-ng ' + zlib.ZLIBNG_VERSION if hasattr(zlib, 'ZLIBNG_VERSION') else ''}); "
        f"python ssl {ssl.OPENSSL_VERSION}"
    )
    if agora_token.backend != "c":
        print("FAIL: the wheel's C kernel (agora_token._fastpack) is not in use", file=sys.stderr)
        return 1
    from agora_token import _fastpack

    print(f"_fastpack from {_fastpack.__file__}")
    for attribute in ("OPENSSL_VERSION", "ZLIB_VERSION", "openssl_version", "zlib_version"):
        if hasattr(_fastpack, attribute):
            print(f"_fastpack.{attribute} = {getattr(_fastpack, attribute)!r}")

    failures = []
    if free_threaded:
        gil = sys._is_gil_enabled()  # type: ignore[attr-defined]
        print(f"GIL enabled after importing _fastpack: {gil}")
        if gil and os.environ.get("PYTHON_GIL") != "1":
            failures.append("importing _fastpack re-enabled the GIL: declare freethreading_compatible")

    failures += compare(_fastpack, _pure, seed=20240607, count=options.count)

    results: list[list[str]] = []

    def worker(seed: int) -> None:
        results.append(compare(_fastpack, _pure, seed=seed, count=max(1, options.count // 8)))

    threads = [threading.Thread(target=worker, args=(seed,)) for seed in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failures += [problem for problems in results for problem in problems]

    if failures:
        for problem in failures[:20]:
            print(f"FAIL: {problem}", file=sys.stderr)
        print(f"FAIL: {len(failures)} difference(s) between the C and pure kernels", file=sys.stderr)
        return 1
    print(
        f"OK: C and pure kernels agree on {options.count * 3 + 8 * max(1, options.count // 8) * 3} "
        "token/CRC checks (single- and multi-threaded)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
