"""What the tests share: the test app's credentials, the official vectors, real tokens, example
services, and helpers that build core objects from the vectors' input descriptions.

Also imported by fuzz/make_corpus.py (the fuzzers' seeds are the tests' real tokens).
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Callable, TypeVar

import pytest

from agora_token import AccessToken, AccessToken2, Rtm2Permissions, Service, _pure
from agora_token.services import SERVICE_CLASSES

#: The credentials of the test app (the official vectors' own), and a certificate of another app.
APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OTHER_CERT = "0123456789abcdef0123456789abcdef"

#: Agora's official test vectors (tests/data/official_vectors.json): inputs and expected tokens.
VECTORS: list[dict[str, Any]] = json.loads((Path(__file__).parent / "data" / "official_vectors.json").read_text())

_F = TypeVar("_F", bound=Callable[..., Any])

try:  # pytest-run-parallel (free-threaded CPython): keep process-global tests on one thread
    import pytest_run_parallel  # noqa: F401

    thread_unsafe = pytest.mark.thread_unsafe
except ImportError:

    def thread_unsafe(func: _F) -> _F:  # type: ignore[no-redef]  # the plugin's marker, or nothing
        return func


#: The example services' field values, by field name (a field not named here gets its own name as
#: its value), and where one type's example differs; the same set ``fuzz/make_corpus.py`` seeds from.
EXAMPLE_FIELDS: dict[str, Any] = {
    "channel_name": "channel", "uid": 42, "user_id": "user", "account": "acct", "room_uuid": "room",
    "user_uuid": "user", "role": -2,
}  # fmt: skip
EXAMPLE_OVERRIDES: dict[str, dict[str, Any]] = {"ServiceChat": {"user_id": "chat-user"}, "ServiceFCdn": {"account": 7}}


#: A service type this package does not know (yet): parsing must stop at it.
UNKNOWN_SERVICE_TYPE = max(SERVICE_CLASSES) + 1


def example_permissions() -> Rtm2Permissions:
    """RTM2 permissions with several resource and permission types, an empty list and a non-ASCII resource."""
    return Rtm2Permissions().add(0, 0, ["a", "b"]).add(4, 1, []).add(1, 1, ["s\u00e9"])


def every_service(classes: Mapping[int, type[Service]] = SERVICE_CLASSES) -> list[Service]:
    """One example of each registered service type, in type order, each granting privilege 1 (600 + n s)."""
    services = []
    for n, cls in enumerate(classes[t] for t in sorted(classes)):
        values = {**EXAMPLE_FIELDS, "permissions": example_permissions(), **EXAMPLE_OVERRIDES.get(cls.__name__, {})}
        service = cls(*(values.get(name, name) for name in cls.field_names))
        service.add_privilege(1, 600 + n)
        services.append(service)
    return services


def user_id(value: str) -> str:
    """The vectors write an APaaS chat id as ``md5:X``: the lowercase hex MD5 of X."""
    return hashlib.md5(value[4:].encode()).hexdigest() if value.startswith("md5:") else value


def _vector_field(cls: type[Service], name: str, value: Any) -> Any:
    if name == "permissions":
        permissions = cls.Permissions()  # type: ignore[attr-defined]
        for resource_type, by_permission in value.items():
            for permission_type, resources in by_permission.items():
                permissions.add(int(resource_type), int(permission_type), resources)
        return permissions
    return user_id(value) if name == "user_id" else value


def service_from_vector(spec: dict[str, Any], classes: Mapping[int, type[Service]] = SERVICE_CLASSES) -> Service:
    """A service of ``classes`` (core by default) from one entry of a vector's ``services`` list."""
    cls = classes[spec["type"]]
    service = cls(*(_vector_field(cls, name, spec[name]) for name in cls.field_names))
    for privilege, expire in spec["privileges"].items():
        service.add_privilege(int(privilege), expire)
    return service


def token007_from_vector(inputs: dict[str, Any]) -> AccessToken2:
    """A core 007 token object from a vector's inputs."""
    token = AccessToken2(
        inputs["app_id"],
        inputs["app_certificate"],
        issue_ts=inputs["issue_ts"],
        expire=inputs["expire"],
        salt=inputs["salt"],
    )
    for spec in inputs["services"]:
        token.add_service(service_from_vector(spec))
    return token


def token006_from_vector(inputs: dict[str, Any]) -> AccessToken:
    """A core 006 token object from a vector's inputs."""
    token = AccessToken(
        inputs["app_id"], inputs["app_certificate"], inputs["channel_name"], inputs["uid"],
        salt=inputs["salt"], ts=inputs["ts"],
    )  # fmt: skip
    for privilege, expire in inputs["privileges"].items():
        token.add_privilege(int(privilege), expire)
    return token


def b64(data: bytes) -> str:
    """Standard padded base64, as token bodies are."""
    return base64.b64encode(data).decode("ascii")


def real_tokens() -> dict[str, str]:
    """Real tokens, by name: a 007 token of each service type alone and of all together, one with a
    service type this package does not know, and 006 tokens; built by ``_pure`` at fixed times and
    salts. The differential tests mutate them, and fuzz/make_corpus.py seeds the fuzzers with them."""
    tokens = {f"007-type{s.service_type}": _pure.build_007(APP_ID, CERT, 1700000000, 3600, 7, [s.to_wire()])
              for s in every_service()}  # fmt: skip
    tokens["007-all"] = _pure.build_007(APP_ID, CERT, 1, 86400, 99999999, [s.to_wire() for s in every_service()])
    unknown = (UNKNOWN_SERVICE_TYPE, (), ("x",))
    tokens["007-unknown-type"] = _pure.build_007(APP_ID, CERT, 5, 60, 3, [(1, ((1, 5),), ("c", "1")), unknown])
    tokens["006-rtc"] = _pure.build_006(APP_ID, CERT, "channel", "1234", 3, 2_000_000_000, ((1, 5), (2, 6), (1000, 7)))
    tokens["006-empty"] = _pure.build_006(APP_ID, CERT, "c", "", 1, 1, ())
    return tokens


#: ``real_tokens()``, all of them, the 007 ones and the 006 ones.
REAL: list[str] = []
REAL_007: list[str] = []
REAL_006: list[str] = []


def payload(token: str) -> bytes:
    """The inflated content of a 007 token (what must match whatever the peer's deflate)."""
    return zlib.decompress(base64.b64decode(token[3:]))


def vectors(data: list[dict[str, Any]], fmt: str, kind: str = "build") -> list[dict[str, Any]]:
    """The vectors of one format and kind."""
    return [v for v in data if v["format"] == fmt and v["kind"] == kind]


REAL += real_tokens().values()
REAL_007 += [t for t in REAL if t.startswith("007")]
REAL_006 += [t for t in REAL if t.startswith("006")]
