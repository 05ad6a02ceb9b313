"""Helpers shared by the tests: building core objects from the vectors' input descriptions."""

from __future__ import annotations

import base64
import hashlib
import zlib
from typing import Any, Dict, List

from agora_token import (
    AccessToken,
    AccessToken2,
    Rtm2Permissions,
    Service,
    ServiceApaas,
    ServiceChat,
    ServiceConvoAI,
    ServiceFCdn,
    ServiceFpa,
    ServiceRtc,
    ServiceRtm,
    ServiceRtm2,
    ServiceStreaming,
    ServiceStt,
)


def user_id(value: str) -> str:
    """The vectors write an APaaS chat id as ``md5:X``: the lowercase hex MD5 of X."""
    return hashlib.md5(value[4:].encode()).hexdigest() if value.startswith("md5:") else value


def service_from_vector(spec: Dict[str, Any]) -> Service:
    """A core service object from one entry of a vector's ``services`` list."""
    kind = spec["type"]
    if kind == 1:
        service: Service = ServiceRtc(spec["channel_name"], spec["uid"])
    elif kind == 2:
        service = ServiceRtm(spec["user_id"])
    elif kind == 3:
        service = ServiceStreaming(spec["channel_name"], spec["account"])
    elif kind == 4:
        service = ServiceFpa()
    elif kind == 5:
        service = ServiceChat(user_id(spec["user_id"]))
    elif kind == 6:
        service = ServiceFCdn(spec["channel_name"], spec["account"])
    elif kind == 7:
        service = ServiceApaas(spec["room_uuid"], spec["user_uuid"], spec["role"])
    elif kind == 8:
        permissions = Rtm2Permissions()
        for resource_type, by_permission in spec["permissions"].items():
            for permission_type, resources in by_permission.items():
                permissions.add(int(resource_type), int(permission_type), resources)
        service = ServiceRtm2(spec["user_id"], permissions)
    elif kind == 9:
        service = ServiceConvoAI()
    else:
        service = ServiceStt()
    for privilege, expire in spec["privileges"].items():
        service.add_privilege(int(privilege), expire)
    return service


def token007_from_vector(inputs: Dict[str, Any]) -> AccessToken2:
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


def token006_from_vector(inputs: Dict[str, Any]) -> AccessToken:
    """A core 006 token object from a vector's inputs."""
    token = AccessToken(
        inputs["app_id"], inputs["app_certificate"], inputs["channel_name"], inputs["uid"],
        salt=inputs["salt"], ts=inputs["ts"],
    )  # fmt: skip
    for privilege, expire in inputs["privileges"].items():
        token.add_privilege(int(privilege), expire)
    return token


def payload(token: str) -> bytes:
    """The inflated content of a 007 token (what must match whatever the peer's deflate)."""
    return zlib.decompress(base64.b64decode(token[3:]))


def vectors(data: List[Dict[str, Any]], fmt: str, kind: str = "build") -> List[Dict[str, Any]]:
    """The vectors of one format and kind."""
    return [v for v in data if v["format"] == fmt and v["kind"] == kind]
