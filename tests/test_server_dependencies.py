"""The server's uvicorn range: the one it was tested on (tools/deps.sh), refused outside it at start."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

pytest.importorskip("uvicorn")

from agora_token.server.protocol import UVICORN_TESTED, check_uvicorn, protocol_class  # noqa: E402

from .common import APP_ID, CERT  # noqa: E402
from .processes import free_port, run, server_env  # noqa: E402

OLDEST, NEWEST = (".".join(map(str, v)) for v in UVICORN_TESTED)


@pytest.mark.parametrize("version", [f"{OLDEST}.0", f"{NEWEST}.0", f"{NEWEST}.9", f"{NEWEST}.1.post1"])
def test_the_tested_uvicorn_releases_are_accepted(version: str) -> None:
    check_uvicorn(version)


@pytest.mark.parametrize("version", ["0.29.0", "0.56.0", "1.0.0", "0", "", "dev", "0.x"])
def test_other_uvicorn_releases_are_refused_naming_the_tested_range(version: str) -> None:
    with pytest.raises(ValueError) as caught:
        check_uvicorn(version)
    assert str(caught.value) == (
        f"uvicorn {version} is not supported: the server's connection guards are tested on uvicorn "
        f"{OLDEST} to {NEWEST}.x (pip install '.[server]' picks one)"
    )


def test_the_installed_uvicorn_is_one_of_the_tested() -> None:
    protocol_class("h11")  # raises if not


def test_the_declared_range_is_the_tested_one() -> None:
    """pyproject.toml's uvicorn requirements allow exactly the (major, minor) releases UVICORN_TESTED names."""
    text = (Path(__file__).resolve().parent.parent / "pyproject.toml").read_text()
    ranges = set(re.findall(r'"uvicorn(?:\[standard\])?(>=[^"]+)"', text))
    next_minor = f"{UVICORN_TESTED[1][0]}.{UVICORN_TESTED[1][1] + 1}"
    assert ranges == {f">={OLDEST},<{next_minor}"}


def test_serve_refuses_an_untested_uvicorn_with_one_line() -> None:
    code = (
        "import sys, uvicorn; uvicorn.__version__ = '0.99.0'; "
        "from agora_token.cli import main; sys.exit(main(['serve']))"
    )
    done = run([sys.executable, "-c", code], server_env(APP_ID=APP_ID, APP_CERTIFICATE=CERT, PORT=str(free_port())))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"agora-token serve: uvicorn 0.99.0 is not supported: the server's connection guards are tested on "
        f"uvicorn {OLDEST} to {NEWEST}.x (pip install '.[server]' picks one)"
    ]
