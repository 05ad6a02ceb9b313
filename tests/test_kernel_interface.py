"""Both kernels expose one interface: the names and signatures of ``_fastpack.pyi`` (the C kernel's
stub, hand-written) are exactly ``_pure``'s, and the built C kernel has them too; the ``Kernel``
Protocol (``_kernel_api``) is that interface less the C kernel's own names, and both modules
provide each of its members with its signature."""

from __future__ import annotations

import ast
import importlib
import inspect
import typing
from pathlib import Path
from typing import Any, Optional

import pytest

import agora_token
from agora_token import _pure
from agora_token._kernel_api import Kernel

try:
    from agora_token import _fastpack
except ImportError:  # pragma: no cover - conftest.py fails or skips the c_extension test
    _fastpack = None  # type: ignore[assignment]

STUB = Path(agora_token.__file__).with_name("_fastpack.pyi")
# Names only the C kernel has: how it deflates where the interpreter's zlib is zlib-ng (_pure *is*
# the interpreter's zlib), the test hook that forces that path, and its choice of deflate (the
# exact re-implementation, fp_deflate.c) with that choice's probes: _pure always deflates with zlib.
# And which HMAC-SHA256 fp_hmac.c was compiled with (tools/evp.sh checks it): _pure has hmac.
C_ONLY = {
    "DEFLATES_WITH_PYTHON_ZLIB", "_set_deflate_with_python_zlib",
    "DEFLATE_PATH", "EXACT_DEFLATE_MAX", "_exact_deflate", "_deflate_probes", "_select_deflate",
    "HMAC_PATH",
}  # fmt: skip


def _stub() -> dict[str, Optional[list[str]]]:
    """Each public name of the stub: a function's parameter names, or None for a constant."""
    names: dict[str, Optional[list[str]]] = {}
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


def _protocol() -> dict[str, Any]:
    """Each member of ``Kernel``: a method's parameters (name, kind, default) without ``self``, or
    for a constant (a read-only property) the type of its value."""
    members: dict[str, Any] = {}
    for name, value in vars(Kernel).items():
        if isinstance(value, property):
            members[name] = typing.get_type_hints(value.fget)["return"]
        elif inspect.isfunction(value) and not name.startswith("_"):
            members[name] = _parameters(value)[1:]
    return members


def _parameters(func: Any) -> list[tuple[str, Any, Any]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(func).parameters.values()]


def test_protocol_is_the_stub_less_the_c_kernels_own_names():
    protocol = _protocol()
    assert {"build_007", "parse_007", "build_006", "parse_006", "random_salt", "MAX_PAYLOAD"} <= set(protocol)
    shared = {name: params for name, params in _stub().items() if name not in C_ONLY}
    assert set(protocol) == set(shared), "the Protocol and the stub list different members"
    for name, params in shared.items():
        if params is None:
            assert not isinstance(protocol[name], list), f"{name} is a constant in the stub"
        else:
            assert [p[0] for p in protocol[name]] == params, name


@pytest.mark.parametrize("module", [pytest.param("_fastpack", marks=pytest.mark.c_extension), "_pure"])
def test_each_kernel_provides_every_protocol_member_with_its_signature(module: str):
    kernel = importlib.import_module(f"agora_token.{module}")
    assert isinstance(kernel, Kernel)  # every member present (runtime_checkable looks no further)
    for name, expected in _protocol().items():
        value = getattr(kernel, name)
        if isinstance(expected, list):
            assert _parameters(value) == expected, f"{module}.{name}"
        else:
            assert type(value) is expected, f"{module}.{name} is a {type(value).__name__}"
