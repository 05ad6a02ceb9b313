"""The two kernels under test: the C extension and the pure-Python mirror.

A test runs on both kernels only when it asks for them: the ``backend`` (or ``kernel``) fixture,
often through a module's ``pytestmark = pytest.mark.usefixtures("backend")``. The kernel, model,
builder, compat, hardening, vector, legacy, peer and deflate tests do; tests about the layers above
the kernel (argument parsing, HTTP, processes, docs, packaging) run once, on the kernel the package
chose at import, and so do their subprocesses.

``@pytest.mark.c_extension`` marks a test of the C kernel alone: with ``backend`` it runs on the
"c" parameter only, and wherever the extension did not import it fails when
AGORA_TOKEN_REQUIRE_EXTENSION=1 (a broken build must not pass as skips), else skips. The "c"
parameter carries the marker itself. ``--no-c-extensions`` skips all of those and runs the rest on
the pure kernel (subprocesses too), as on a platform without a compiler.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from agora_token import _backend, _pure

try:
    from agora_token import _fastpack
except ImportError:  # reported per test by pytest_runtest_setup: a skip locally, a failure where required
    _fastpack = None  # type: ignore[assignment]

REQUIRE_EXTENSION = os.environ.get("AGORA_TOKEN_REQUIRE_EXTENSION", "") == "1"
KERNELS = {"c": _fastpack, "python": _pure}

# The backend fixture swaps a module attribute once per test, which is safe across examples.
settings.register_profile("default", suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=300)
settings.load_profile("ci" if os.environ.get("CI") else "default")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--no-c-extensions", action="store_true", default=False,
        help="skip the tests of the C kernel and run the rest on the pure-Python kernel",
    )  # fmt: skip


def pytest_configure(config: pytest.Config) -> None:
    # Also declared here, not only in pyproject.toml: cibuildwheel runs a copy of tests/ alone.
    config.addinivalue_line("markers", 'c_extension: a test of the C kernel alone (its "c" run only)')
    if not config.getoption("--no-c-extensions"):
        return
    if REQUIRE_EXTENSION:
        raise pytest.UsageError("--no-c-extensions contradicts AGORA_TOKEN_REQUIRE_EXTENSION=1")
    # The tests that run once, and the processes they start, then run on the pure kernel too.
    _backend.kernel, _backend.name, _backend.reason = _pure, "python", "pytest --no-c-extensions"
    os.environ["AGORA_TOKEN_PURE_PYTHON"] = "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Drops the "python" run of a C-only test: it would only skip."""
    keep, drop = [], []
    for item in items:
        params = getattr(item, "callspec", None)
        on_python = params is not None and params.params.get("backend") == "python"
        (drop if on_python and item.get_closest_marker("c_extension") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def _need_c_extension(config: pytest.Config) -> None:
    """Skips, or fails where the build is required, when the C kernel cannot be tested."""
    if config.getoption("--no-c-extensions"):
        pytest.skip("--no-c-extensions")
    if _fastpack is None:
        if REQUIRE_EXTENSION:
            pytest.fail("AGORA_TOKEN_REQUIRE_EXTENSION=1 but agora_token._fastpack did not import", pytrace=False)
        pytest.skip("the C extension is not built")


@pytest.hookimpl(tryfirst=True)  # before any fixture: the "c" backend must not install a missing kernel
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("c_extension") is not None:
        _need_c_extension(item.config)


@pytest.fixture(params=[pytest.param("c", marks=pytest.mark.c_extension), "python"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend under test ("c" or "python"), installed as the package's kernel."""
    saved = (_backend.kernel, _backend.name)
    _backend.kernel, _backend.name = KERNELS[request.param], request.param
    # Subprocesses (CLI tests) pick their backend from the environment.
    old_env = os.environ.get("AGORA_TOKEN_PURE_PYTHON")
    os.environ["AGORA_TOKEN_PURE_PYTHON"] = "1" if request.param == "python" else "0"
    try:
        yield request.param
    finally:
        _backend.kernel, _backend.name = saved
        if old_env is None:
            os.environ.pop("AGORA_TOKEN_PURE_PYTHON", None)
        else:
            os.environ["AGORA_TOKEN_PURE_PYTHON"] = old_env


@pytest.fixture
def kernel(backend: str) -> Any:
    """The kernel module under test."""
    return KERNELS[backend]


@pytest.fixture
def c_kernel(request: pytest.FixtureRequest) -> Any:
    """The built C kernel, for a test that compares it with the pure one whichever backend it runs on
    (the differential oracle); missing, it fails or skips as a ``c_extension`` test does."""
    _need_c_extension(request.config)
    return _fastpack
