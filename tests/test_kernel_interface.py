"""Both kernels expose one interface: the names and signatures of ``_fastpack.pyi`` (the C kernel's
stub, hand-written) are exactly ``_pure``'s, and the built C kernel has them too."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Dict, List, Optional

import pytest

import agora_token
from agora_token import _pure

try:
    from agora_token import _fastpack
except ImportError:  # pragma: no cover - conftest.py fails or skips the c_extension test
    _fastpack = None  # type: ignore[assignment]

STUB = Path(agora_token.__file__).with_name("_fastpack.pyi")
# Names only the C kernel has: how it deflates where the interpreter's zlib is zlib-ng (_pure *is*
# the interpreter's zlib), the test hook that forces that path, and its choice of deflate (the
# exact re-implementation, fp_deflate.c) with that choice's probes: _pure always deflates with zlib.
C_ONLY = {
    "DEFLATES_WITH_PYTHON_ZLIB", "_set_deflate_with_python_zlib",
    "DEFLATE_PATH", "EXACT_DEFLATE_MAX", "_exact_deflate", "_deflate_probes", "_select_deflate",
}  # fmt: skip


def _stub() -> Dict[str, Optional[List[str]]]:
    """Each public name of the stub: a function's parameter names, or None for a constant."""
    names: Dict[str, Optional[List[str]]] = {}
    for node in ast.parse(STUB.read_text()).body:
        if isinstance(node, ast.FunctionDef):
            names[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if not node.target.id.startswith("_"):
                names[node.target.id] = None
    return names


def test_stub_declares_exactly_the_pure_kernels_names_and_signatures():
    stub = _stub()
    assert stub, "the stub declares nothing"
    for name, params in stub.items():
        if name in C_ONLY:
            continue
        assert hasattr(_pure, name), f"_pure lacks {name}"
        if params is not None:
            assert list(inspect.signature(getattr(_pure, name)).parameters) == params, name
    public_pure = {
        n for n, v in vars(_pure).items()
        if not n.startswith("_") and getattr(v, "__module__", None) == _pure.__name__ and inspect.isfunction(v)
    }  # fmt: skip
    assert public_pure <= set(stub), f"the stub lacks {sorted(public_pure - set(stub))}"


@pytest.mark.c_extension
def test_c_kernel_has_every_name_and_signature_of_the_stub():
    for name, params in _stub().items():
        assert hasattr(_fastpack, name), f"_fastpack lacks {name}"
        value = getattr(_fastpack, name)
        if params is not None:
            assert list(inspect.signature(value).parameters) == params, name
        elif name not in C_ONLY:
            assert value == getattr(_pure, name), name  # one value for each shared constant
