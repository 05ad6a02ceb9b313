"""Runs every test on both kernels: the C extension and the pure-Python mirror."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
from hypothesis import HealthCheck, settings

from agora_token import _backend, _pure

try:
    from agora_token import _fastpack
except ImportError:  # reported by the fixture: a skip locally, a failure where the build is required
    _fastpack = None  # type: ignore[assignment]

REQUIRE_EXTENSION = os.environ.get("AGORA_TOKEN_REQUIRE_EXTENSION", "") == "1"
KERNELS = {"c": _fastpack, "python": _pure}
VECTORS: List[Dict[str, Any]] = json.loads((Path(__file__).parent / "data" / "official_vectors.json").read_text())

# The backend fixture swaps a module attribute once per test, which is safe across examples.
settings.register_profile("default", suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
settings.register_profile("ci", parent=settings.get_profile("default"), max_examples=300)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture(params=sorted(KERNELS), autouse=True)
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The backend under test ("c" or "python"), installed as the package's kernel."""
    kernel = KERNELS[request.param]
    if kernel is None:
        if REQUIRE_EXTENSION:
            pytest.fail("AGORA_TOKEN_REQUIRE_EXTENSION=1 but agora_token._fastpack did not import")
        pytest.skip("the C extension is not built")
    saved = (_backend.kernel, _backend.name)
    _backend.kernel, _backend.name = kernel, request.param
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
