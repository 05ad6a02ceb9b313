"""The OpenAPI 3.0 document of the token server, written by hand to match routes.py."""

from __future__ import annotations

import copy
from typing import Any

from .._limits import U32_MAX
from .._version import __version__
from ..validation import MAX_ACCOUNT_BYTES, MAX_CHANNEL_BYTES, MAX_LIFETIME
from .routes import ROLES

_ERROR = {"$ref": "#/components/responses/Error"}
_NOT_FOUND = {"$ref": "#/components/responses/NotFound"}
# Agora's documented channel alphabet (docs/format.md, "Limits Agora documents"); the server answers
# 400 for anything else.
_CHANNEL_PATTERN = r"^[a-zA-Z0-9 !#$%&()+\-:;<=.>?@\[\]^_{}|~,]+$"
_TOKEN = {"type": "string", "pattern": "^007[A-Za-z0-9+/=]+$", "description": "An AccessToken2 (007) token."}

# Path parameters as agora-token-service names them; limits as Agora documents them (docs/format.md).
_PARAMS: dict[str, dict[str, Any]] = {
    "channel": {
        "name": "channel", "in": "path", "required": True, "description": "Channel name (at most 64 bytes).",
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_CHANNEL_BYTES, "pattern": _CHANNEL_PATTERN},
    },
    "role": {
        "name": "role", "in": "path", "required": True,
        "description": "publisher, host or broadcaster: join and publish; subscriber or audience: join only.",
        "schema": {"type": "string", "enum": list(ROLES)},
    },
    "tokentype": {
        "name": "tokentype", "in": "path", "required": True,
        "description": "How the user id is read: `uid` (a number, 0 = any user) or `userAccount` (a string).",
        "schema": {"type": "string", "enum": ["uid", "userAccount"]},
    },
    "expiry": {
        "name": "expiry", "in": "query", "required": False,
        "description": "Token lifetime in seconds (default 3600; 0 means the default; at most 86400).",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_LIFETIME, "default": 3600},
    },
    "expire": {
        "name": "expire", "in": "query", "required": False,
        "description": "The same as `expiry` (POST /getToken's name for it); give one of the two.",
        "schema": {"type": "integer", "minimum": 0, "maximum": MAX_LIFETIME},
    },
}  # fmt: skip


#: The query parameters of every GET token route: the lifetime, under either of its names.
_LIFETIME = (_PARAMS["expiry"], _PARAMS["expire"])


def _user_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name, "in": "path", "required": True, "description": description,
        "schema": {"type": "string", "minLength": 1, "maxLength": MAX_ACCOUNT_BYTES},
    }  # fmt: skip


def _op(summary: str, params: list[dict[str, Any]], body: dict[str, Any], tag: str = "tokens") -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "tags": [tag],
            "parameters": params,
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": body}}},
                "400": _ERROR,
                # A path with a segment too many or too few matches no route.
                **({"404": _NOT_FOUND} if any(p["in"] == "path" for p in params) else {}),
            },
        }
    }


def _object(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": sorted(properties), "properties": properties}


def build_openapi(api_key: bool = False, metrics_public: bool = False, user_jwt: bool = False) -> dict[str, Any]:
    """The document. With ``api_key``, token routes (and /metrics unless ``metrics_public``) declare the key's
    bearer scheme; with ``user_jwt`` (user authorization on), token routes also take a JWT (either will do)."""
    rtc_id = _user_param("uid", "The uid (digits) or the user account, as `tokentype` says.")
    paths: dict[str, Any] = {
        "/getToken": {
            "post": {
                "summary": "A token of any type (agora-token-service's JSON route).",
                "tags": ["tokens"],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TokenRequest"}}},
                },
                "responses": {
                    "200": {
                        "description": "OK",
                        "content": {"application/json": {"schema": _object(token=_TOKEN)}},
                    },
                    "400": _ERROR,
                },
            }
        },
        "/rtc/{channel}/{role}/{tokentype}/{uid}/": _op(
            "An RTC token.",
            [_PARAMS["channel"], _PARAMS["role"], _PARAMS["tokentype"], rtc_id, *_LIFETIME],
            _object(rtcToken=_TOKEN),
        ),
        "/rtm/{uid}/": _op(
            "An RTM login token.",
            [_user_param("uid", "The RTM user id (not `0`)."), *_LIFETIME],
            _object(rtmToken=_TOKEN),
        ),
        "/rte/{channel}/{role}/{tokentype}/{rtcid}/": _op(
            "An RTC token and an RTM token, the RTC user being the RTM user too (not 0).",
            [
                _PARAMS["channel"],
                _PARAMS["role"],
                _PARAMS["tokentype"],
                _user_param("rtcid", "The RTC uid or account, as `tokentype` says; also the RTM user id."),
                *_LIFETIME,
            ],
            _object(rtcToken=_TOKEN, rtmToken=_TOKEN),
        ),
        "/rte/{channel}/{role}/{tokentype}/{rtcid}/{rtmid}/": _op(
            "An RTC token and an RTM token (which also joins the channel as an RTM stream channel).",
            [
                _PARAMS["channel"],
                _PARAMS["role"],
                _PARAMS["tokentype"],
                _user_param("rtcid", "The RTC uid or account, as `tokentype` says."),
                _user_param("rtmid", "The RTM user id."),
                *_LIFETIME,
            ],
            _object(rtcToken=_TOKEN, rtmToken=_TOKEN),
        ),  # fmt: skip
        "/chat/app/": _op("A Chat app token (for Chat's REST API).", [*_LIFETIME], _object(chatToken=_TOKEN)),
        "/chat/account/{uid}/": _op(
            "A Chat user token.",
            [_user_param("uid", "The Chat user id."), *_LIFETIME],
            _object(chatToken=_TOKEN),
        ),
        "/ping": _op(
            "Liveness, as agora-token-service.", [], _object(message={"type": "string", "enum": ["pong"]}), "ops"
        ),
        "/healthz": _op(
            "Health: the server is up and configured.",
            [],
            {
                "type": "object",
                "required": ["status", "version", "backend"],
                "properties": {
                    "status": {"type": "string", "enum": ["ok"]},
                    "version": {"type": "string"},
                    "backend": {"type": "string", "enum": ["c", "python"]},
                    "uptime_seconds": {"type": "number"},
                    "max_expire_seconds": {"type": "integer"},
                },
            },
            "ops",
        ),
        "/metrics": {
            "get": {
                "summary": "Prometheus metrics (per worker process).",
                "tags": ["ops"],
                "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }
        },
    }
    for path in ("/ping", "/healthz"):
        del paths[path]["get"]["responses"]["400"]  # they take no input
    doc: dict[str, Any] = {
        "openapi": "3.0.3",
        "info": {
            "title": "agora-token server",
            "version": __version__,
            "description": "Agora access tokens over HTTP; routes compatible with agora-token-service. "
            'Every bad input is answered 400 with {"error": "...", "message": "...", "status": 400}.',
        },
        "paths": paths,
        "components": {
            "schemas": {
                # agora-token-service's clients read "message" or "error": both hold the same text.
                "Error": _object(error={"type": "string"}, message={"type": "string"}, status={"type": "integer"}),
                "TokenRequest": {
                    "type": "object",
                    "required": ["tokenType"],
                    "properties": {
                        "tokenType": {"type": "string", "enum": ["rtc", "rtm", "chat"]},
                        "channel": {
                            "type": "string",
                            "maxLength": MAX_CHANNEL_BYTES,
                            "pattern": _CHANNEL_PATTERN,
                            "description": "Required for rtc; at most 64 bytes.",
                        },
                        "role": {"type": "string", "enum": list(ROLES), "default": "subscriber"},
                        "uid": {
                            "type": "string",
                            "maxLength": MAX_ACCOUNT_BYTES,
                            "description": f"Digits: a numeric uid (0..{U32_MAX}, 0 = any user); otherwise a user "
                            "account. rtc and rtm: required; chat: absent means the app token.",
                        },
                        "expire": {"type": "integer", "minimum": 0, "maximum": MAX_LIFETIME, "default": 3600},
                    },
                },  # fmt: skip
            },
            "responses": {
                "Error": {
                    "description": "Bad input: the message names the problem.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
                "NotFound": {
                    "description": "No such route.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
                "Unauthorized": {
                    "description": "Missing or wrong API key, or a missing or invalid JWT (WWW-Authenticate says).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
                "Forbidden": {
                    "description": "The JWT is valid, but its claims do not allow this token (the message names "
                    "the rule: user, uid 0, channel, role or the Chat app token).",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                },
            },
        },
    }
    schemes: dict[str, Any] = {}
    if api_key:
        schemes["apiKey"] = {"type": "http", "scheme": "bearer"}
    if user_jwt:
        schemes["userJwt"] = {
            "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
            "description": "A JWT from the application's identity provider; its claims decide which tokens the user "
            "may have.",
        }  # fmt: skip
    if schemes:
        doc["components"]["securitySchemes"] = schemes
        for path, item in paths.items():
            item_op = next(iter(item.values()))
            if path in ("/ping", "/healthz") or (path == "/metrics" and (metrics_public or not api_key)):
                continue
            if path == "/metrics":  # for the operator: a JWT never opens it
                item_op["security"] = [{"apiKey": []}]
            else:
                item_op["security"] = [{name: []} for name in schemes]
                if user_jwt:
                    item_op["responses"]["403"] = {"$ref": "#/components/responses/Forbidden"}
            item_op["responses"]["401"] = {"$ref": "#/components/responses/Unauthorized"}
    return copy.deepcopy(doc)
