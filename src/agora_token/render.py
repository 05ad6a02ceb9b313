"""A ``describe`` report as lines for a terminal: what ``agora-token inspect`` prints.

Every string taken from a token is quoted and escaped (``describe.quote``); times are shown both as
UTC and relative to now. The report itself, and the words it shares with this page, are ``describe``'s.
"""

from __future__ import annotations

import time
from typing import Any, Optional

from .describe import ERROR_TEXT, Report, app_id_text, duration, quote, words


def until(ts: int, now: int) -> str:
    """``expires in …`` or ``expired … ago`` for an expiry time."""
    return f"expires in {duration(ts - now)}" if ts > now else f"expired {duration(now - ts)} ago"


def since(ts: int, now: int) -> str:
    """``… ago`` or ``in …`` for an issue time."""
    return f"{duration(now - ts)} ago" if ts <= now else f"in {duration(ts - now)}, in the future"


def render(report: Report, now: Optional[int] = None) -> list[str]:
    """The report as lines for a terminal; every string taken from the token is quoted and escaped."""
    now = int(time.time()) if now is None else int(now)
    lines = [f"Token:      {report['version']} ({report['format']})", f"App ID:     {app_id_text(report['app_id'])}"]
    if report["issue_ts"] is not None:
        lines.append(f"Issued:     {report['issued_at']} ({since(report['issue_ts'], now)})")
    if report["expires_at"] is not None:
        extra = ""
        if report["version"] == "007":
            extra = f"; lifetime {duration(report['expire'])}" if report["expire"] else "; lifetime 0 s"
        lines.append(f"Expires:    {report['expires_at_utc']} ({until(report['expires_at'], now)}{extra})")
    elif report["version"] not in ("007", "006"):
        lines.append("Expires:    no expiry stored in the key")
    if report["salt"] is not None:
        lines.append(f"Salt:       {report['salt']}")
    lines.append(f"Signature:  {_signature_text(report)}")
    lines.append(f"Services:   {len(report['services'])}")
    for service in report["services"]:
        lines.extend(_service_lines(service, report, now))
    if report["join"] is not None:
        join = report["join"]
        parts = []
        if join["channel"] is not None:
            parts.append(f"channel {quote(join['channel'])}")
        if join["uid"] is not None:
            parts.append(f"uid {join['uid']}")
        if join["account"] is not None:
            parts.append(f"account {quote(join['account'])}")
        lines.append(f"Join check: {', '.join(parts)}")
    for note in report["notes"]:
        lines.append(f"Note:       {note}")
    if report["diagnosis"]:
        lines.append("Problems:")
        for problem in report["diagnosis"]:
            code = problem["error"]
            prefix = f"error {code} ({ERROR_TEXT[code]}): " if code in ERROR_TEXT else ""
            lines.append(f"  - {prefix}{problem['message']}")
    elif report["join"] is not None:
        lines.append("Problems:   none found for this join" + _unchecked_suffix(report))
    return lines


def _unchecked_suffix(report: Report) -> str:
    return "" if report["signature_valid"] is not None else " (signature not checked)"


def _signature_text(report: Report) -> str:
    valid = report["signature_valid"]
    state = "valid" if valid else "INVALID" if valid is False else "present"
    return f"{state}; {report['signature_note']}"


def _service_lines(service: dict[str, Any], report: Report, now: int) -> list[str]:
    type_text = f" (type {service['type']})" if service["type"] is not None else ""
    lines = [f"  {service['display_name']}{type_text}"]
    skip = {"type", "name", "display_name", "privileges"}
    for name, value in service.items():
        if name in skip:
            continue
        lines.append(f"    {name + ':':<19} {_field_text(name, value)}")
    if service["privileges"]:
        lines.append("    privileges:")
        width = max(len(words(p["name"])) for p in service["privileges"]) + 1
        for p in service["privileges"]:
            lines.append(f"      {words(p['name']) + ':':<{width + 1}} {_privilege_text(p, report, now)}")
    elif report["version"] == "007":
        lines.append("    privileges:         none")
    return lines


def _field_text(name: str, value: Any) -> str:
    if isinstance(value, str):
        text = quote(value)
        if value == "" and name in ("uid", "account"):
            text += " (any user)"
        return text
    if isinstance(value, dict):
        if not value:
            return "none"
        return "; ".join(f"{k}: {_field_text(k, v)}" for k, v in value.items())
    if isinstance(value, list):
        return "[" + ", ".join(quote(str(v)) for v in value) + "]"
    if name.startswith("crc_") and isinstance(value, int):
        return f"{value:#010x}"
    return str(value)


def _privilege_text(privilege: dict[str, Any], report: Report, now: int) -> str:
    value = privilege["value"]
    when = f"{privilege['expires_at_utc']} ({until(privilege['expires_at'], now)})"
    if report["version"] == "007":
        if value == 0:
            return f"0 (as long as the token) -> {when}"
        return f"{value} s after issue -> {when}"
    if value == 0:
        return f"0 (as long as the token) -> {when}"
    return when


__all__ = ["render", "since", "until"]
