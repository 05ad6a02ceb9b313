"""Random tokens against the official peers: agoraiotools 0.3.4 (byte for byte) and npm agora-token 2.0.6.

The npm comparisons run where Node and the package are installed (``.ci/run`` installs them and sets
AGORA_NPM_PEER_DIR); with AGORA_TOKEN_REQUIRE_PEERS=1 a missing peer fails instead of skipping.
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from agora_token import AccessToken2, Service

from .common import APP_ID, payload

pytestmark = pytest.mark.usefixtures("backend")  # every test on both kernels (conftest.py)

REQUIRE_PEERS = os.environ.get("AGORA_TOKEN_REQUIRE_PEERS") == "1"

hex32 = st.text("0123456789abcdefABCDEF", min_size=32, max_size=32)
text = st.text(st.characters(exclude_categories=("Cs",)), max_size=24)
u32 = st.integers(0, 2**32 - 1)
privileges = st.dictionaries(st.integers(0, 0xFFFF), u32, max_size=5)
uid = st.one_of(st.integers(0, 2**32 - 1), text)


@st.composite
def service_specs(draw: Any, types: list[int]) -> dict[str, Any]:
    """One service as a plain description every peer can build."""
    kind = draw(st.sampled_from(types))
    spec: dict[str, Any] = {"type": kind, "privileges": sorted(draw(privileges).items()), "permissions": []}
    if kind in (1, 3, 6):
        spec["fields"] = [draw(text), draw(uid)]
    elif kind in (2, 5):
        spec["fields"] = [draw(text)]
    elif kind == 7:
        # npm packs role 0 as -1 (docs/format.md, "Differences between implementations"), so 0 is left
        # out of the npm comparison.
        spec["fields"] = [draw(text), draw(text), draw(st.integers(-0x8000, 0x7FFF).filter(bool))]
    elif kind == 8:
        spec["fields"] = [draw(text)]
        spec["permissions"] = draw(
            st.lists(st.tuples(st.integers(0, 4), st.integers(0, 1), st.lists(text, max_size=3)), max_size=4)
        )
    else:
        spec["fields"] = []
    return spec


@st.composite
def token_specs(draw: Any, types: list[int], one_per_type: bool = False) -> dict[str, Any]:
    """A whole 007 token as a plain description."""
    services = draw(st.lists(service_specs(types), min_size=1, max_size=5))
    if one_per_type:
        services = list({s["type"]: s for s in services}.values())
    return {
        "app_id": draw(hex32),
        "app_certificate": draw(hex32),
        "issue_ts": draw(st.integers(1, 2**32 - 1)),
        "expire": draw(u32),
        "salt": draw(st.integers(1, 99999999)),
        "services": services,
    }


def ours(spec: dict[str, Any]) -> AccessToken2:
    """The spec built with this package's core classes."""
    from agora_token.services import SERVICE_CLASSES, Rtm2Permissions

    token = AccessToken2(
        spec["app_id"], spec["app_certificate"], issue_ts=spec["issue_ts"], expire=spec["expire"], salt=spec["salt"]
    )
    for s in spec["services"]:
        cls = SERVICE_CLASSES[s["type"]]
        if s["type"] == 8:
            permissions = Rtm2Permissions()
            for resource_type, permission_type, resources in s["permissions"]:
                permissions.add(resource_type, permission_type, resources)
            service: Service = cls(s["fields"][0], permissions)
        else:
            service = cls(*s["fields"])
        for privilege, expire in s["privileges"]:
            service.add_privilege(privilege, expire)
        token.add_service(service)
    return token


# --- agoraiotools 0.3.4: the official python3 code on PyPI --------------------------------------

# importlib, not "import … as": agoraiotools' __init__ shadows its module names with classes.
if REQUIRE_PEERS:
    official = importlib.import_module("agoraiotools.AccessToken2")  # a missing peer fails loudly
else:
    official = pytest.importorskip("agoraiotools.AccessToken2")


def official_token(spec: dict[str, Any]) -> str:
    """The spec built with agoraiotools, its random salt and clock replaced by the spec's."""
    token = official.AccessToken(
        spec["app_id"], spec["app_certificate"], issue_ts=spec["issue_ts"], expire=spec["expire"]
    )
    token._AccessToken__salt = spec["salt"]
    classes = {1: official.ServiceRtc, 2: official.ServiceRtm, 4: official.ServiceFpa, 5: official.ServiceChat,
               7: official.ServiceApaas}  # fmt: skip
    for s in spec["services"]:
        service = classes[s["type"]](*s["fields"])
        for privilege, expire in s["privileges"]:
            service.add_privilege(privilege, expire)
        token.add_service(service)
    return token.build()


# agoraiotools knows types 1, 2, 4, 5, 7 and keeps one service per type (docs/format.md, "Differences
# between implementations").
@given(token_specs([1, 2, 4, 5, 7], one_per_type=True))
def test_byte_identical_to_agoraiotools(spec):
    expected = official_token(spec)
    assert ours(spec).build() == expected
    parsed = AccessToken2.parse(expected)
    assert parsed.verify(spec["app_certificate"])
    assert [s.service_type for s in parsed.services] == sorted(s["type"] for s in spec["services"])


# --- npm agora-token 2.0.6: knows all ten service types ------------------------------------------


def _npm_dir() -> Path:
    directory = os.environ.get("AGORA_NPM_PEER_DIR", "")
    if shutil.which("node") and directory and (Path(directory) / "node_modules" / "agora-token").is_dir():
        return Path(directory)
    if REQUIRE_PEERS:
        pytest.fail("npm agora-token 2.0.6 is required (set AGORA_NPM_PEER_DIR to where it is installed)")
    pytest.skip("npm agora-token is not installed (set AGORA_NPM_PEER_DIR)")


def npm(request: dict[str, Any]) -> dict[str, Any]:
    """One round trip to the Node peer."""
    script = Path(__file__).parent / "peers" / "npm_peer.js"
    env = {**os.environ, "AGORA_NPM_PEER_DIR": str(_npm_dir())}
    out = subprocess.run(
        ["node", str(script)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=60,
    )
    return json.loads(out.stdout)


def _npm_ready_spec(spec: dict[str, Any]) -> dict[str, Any]:
    # npm takes the uid as given; hand it the wire string this package derives (0 → "").
    for s in spec["services"]:
        if s["type"] in (1, 3, 6):
            s["fields"][1] = str(s["fields"][1]) if s["fields"][1] != 0 else ""
    return spec


@settings(max_examples=3)
@given(st.lists(token_specs(list(range(1, 11))), min_size=30, max_size=30))
def test_same_payload_as_npm_and_mutually_verified(specs):
    specs = [_npm_ready_spec(s) for s in specs]
    mine = [ours(s).build() for s in specs]
    answer = npm(
        {"build": specs, "check": [{"token": t, "app_certificate": s["app_certificate"]} for t, s in zip(mine, specs)]}
    )
    for spec, token, theirs, check in zip(specs, mine, answer["built"], answer["checked"]):
        # Node bundles a zlib fork, so the deflate bytes may differ; the signed payload may not.
        assert payload(token) == payload(theirs)
        assert check["ok"] and check["verified"], check
        assert check["services"] == sorted(s["type"] for s in spec["services"])
        parsed = AccessToken2.parse(theirs)
        assert parsed.verify(spec["app_certificate"])
        assert len(parsed.services) == len(spec["services"])


@pytest.mark.parametrize("user_id", [12345, 0, 4294967295])
def test_numeric_rtm2_user_id_gives_npm_payload(user_id):
    # The newest official Node code takes a number as its decimal string (0: ""); so must we.
    spec = {
        "app_id": APP_ID, "app_certificate": "5CFd2fd1755d40ecb72977518be15d3b", "issue_ts": 1_700_000_000,
        "expire": 600, "salt": 99,
        "services": [{"type": 8, "fields": [user_id], "privileges": [[1, 600]], "permissions": [[0, 0, ["lobby"]]]}],
    }  # fmt: skip
    (theirs,) = npm({"build": [spec]})["built"]
    assert payload(ours(spec).build()) == payload(theirs)
    assert AccessToken2.parse(theirs).services[0].user_id == ("" if user_id == 0 else str(user_id))
