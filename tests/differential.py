"""The differential oracle: one call of a kernel function on the C kernel and on its pure mirror,
which must agree (CONTRIBUTING.md, "How the code is laid out": the kernels are byte-identical).

The tests (tests/test_parse_differential.py, tests/test_deflate.py) and the fuzz harnesses (fuzz/, through
fuzz/_harness.py) share this one function, so a fuzzer's finding is a failure of the very check the
suite runs, and the suite's check is the one the fuzzer hardens. It lives beside the tests because
they travel everywhere the package is tested (sdist, cibuildwheel's test sources); fuzz/ only runs
from a checkout, where tests/ is beside it. It imports neither pytest nor atheris: a disagreement
is a plain AssertionError either runner reports.
"""

from __future__ import annotations

from typing import Any

from agora_token import TokenError, _pure

try:
    from agora_token import _fastpack
except ImportError:  # the callers say what a missing build means to them (skip, fail, exit)
    _fastpack = None  # type: ignore[assignment]

#: What a call gave: ``("ok", result)``, or ``("raised", (exception type, message))``.
Outcome = tuple[str, Any]


def outcome(func: Any, *args: Any) -> Outcome:
    """Calls ``func(*args)``; an exception becomes its type and message, compared like a result."""
    try:
        return "ok", func(*args)
    except Exception as exc:  # every exception is an outcome: agree() judges which are allowed
        return "raised", (type(exc), str(exc))


def agree(name: str, *args: Any, allowed: tuple[type[BaseException], ...] = (TokenError,)) -> Outcome:
    """Runs kernel function ``name`` on both kernels with ``args``; returns their common outcome.

    Raises AssertionError when the kernels differ (result, exception type or message), and when
    both raise an exception that is not one of ``allowed`` (by default only TokenError may escape a
    kernel; ``allowed=()`` for a call that must succeed).
    """
    if _fastpack is None:
        raise AssertionError("the differential oracle needs the C extension, which did not import")
    c, pure = outcome(getattr(_fastpack, name), *args), outcome(getattr(_pure, name), *args)
    if c != pure:
        raise AssertionError(f"{name} differs for {args[:1]!r:.300}: c {c!r:.300}, pure {pure!r:.300}")
    if c[0] == "raised" and not issubclass(c[1][0], allowed):
        kind, message = c[1]
        raise AssertionError(f"{name} raised {kind.__name__}: {message:.300} for {args[:1]!r:.300}")
    return c
