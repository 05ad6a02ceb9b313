"""Logging for the token server: an access logger, and a filter that keeps secrets out of every line."""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Iterable
from re import Pattern
from typing import Any, Optional

ACCESS_LOGGER = "agora_token.server.access"
ERROR_LOGGER = "agora_token.server"
#: Loggers that can carry request data: ours and uvicorn's (for users who keep uvicorn's access log).
GUARDED_LOGGERS = (ERROR_LOGGER, ACCESS_LOGGER, "uvicorn", "uvicorn.error", "uvicorn.access")
REDACTED = "[REDACTED]"
#: Control characters (C0, DEL, C1) and the line/paragraph separators some log viewers break lines at.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group())
    return {0x0A: "\\n", 0x0D: "\\r", 0x09: "\\t"}.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escape(text: str) -> str:
    """``text`` safe for one log line: control characters (newline, ESC, ...) written as escapes."""
    # isprintable() is the fast common case (C, no regex); it is False for every character _UNSAFE takes.
    return text if text.isprintable() else _UNSAFE.sub(_escape_char, text)


def _secret_pattern(secret: str) -> str:
    """A regex for ``secret`` in any case, each character plain or percent-encoded (%XX, either case)."""
    parts = []
    for char in secret:
        forms = {char.lower(), char.upper()}
        alternatives = [re.escape(f) for f in sorted(forms)]
        for form in sorted(forms):
            if ord(form) < 0x80:
                alternatives.append(f"%{ord(form):02x}")  # matched case-insensitively: %4a and %4A
        parts.append("(?:" + "|".join(alternatives) + ")")
    return "".join(parts)


#: A JSON Web Token (base64url parts; the header is a JSON object, so it starts "eyJ"), whole or cut short:
#: a bearer credential, redacted wherever it appears in a line or an error message (an Authorization
#: header is never logged, but a client may put a JWT in a URL, which an error may quote in part).
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{10,}(?:\.[A-Za-z0-9_-]*)*")
_JWT_MARK = "eyJ"


class RedactSecrets(logging.Filter):
    """Replaces each secret, and anything shaped like a JWT, in a record's message and traceback with [REDACTED].

    A secret is found in upper or lower case, and percent-encoded in part or whole (as a client may send
    it in a URL), so a log line shows neither the decoded nor the encoded form. ``add`` teaches it a new
    secret (a rotated certificate) in place, so every logger and middleware holding it learns at once.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self._secrets: set[str] = set()
        #: (any-form pattern, plain pattern), swapped as one value so a reader never sees half an update.
        self._patterns: tuple[Optional[Pattern[str]], Optional[Pattern[str]]] = (None, None)
        self.add(secrets)

    def add(self, secrets: Iterable[str]) -> None:
        """Redact ``secrets`` too, from the next line on."""
        new = {s for s in secrets if s} - self._secrets
        if not new:
            return
        self._secrets |= new
        unique = sorted(self._secrets, key=len, reverse=True)
        # Case-insensitive: a hex certificate is the same secret in upper or lower case. Without a "%" no
        # character can be percent-encoded: the plain pattern is several times faster.
        self._patterns = (
            re.compile("|".join(_secret_pattern(s) for s in unique), re.IGNORECASE),
            re.compile("|".join(re.escape(s) for s in unique), re.IGNORECASE),
        )

    def _pattern_for(self, text: str) -> Optional[Pattern[str]]:
        pattern, plain = self._patterns
        return pattern if "%" in text else plain

    def _found(self, text: str) -> bool:
        pattern = self._pattern_for(text)
        return (pattern is not None and pattern.search(text) is not None) or (
            _JWT_MARK in text and _JWT.search(text) is not None
        )

    def redact(self, text: str) -> str:
        """``text`` with every secret and every JWT replaced."""
        pattern = self._pattern_for(text)
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        return _JWT.sub(REDACTED, text) if _JWT_MARK in text else text

    def _arg(self, value: object) -> object:
        # Numbers stay numbers (a "%d" must still format); anything else is cleaned as text.
        if value is None or isinstance(value, (int, float)):
            return value
        return self.redact(value if isinstance(value, str) else str(value))

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place if it holds a secret; never drops it."""
        # One filter sits on a logger and on its handlers: do the work once per record.
        if getattr(record, "_agora_redacted", False):
            return True
        record._agora_redacted = True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it as usual
            message = str(record.msg)
        if self._found(message):
            # Clean the arguments one by one rather than merging them into the message: formatters
            # such as uvicorn's access formatter read ``record.args`` themselves.
            record.msg = self.redact(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(self._arg(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: self._arg(v) for k, v in record.args.items()}
            try:
                still = self._found(record.getMessage())
            except Exception:
                still = True
            if still:  # a secret split across arguments: give up the arguments, keep the clean text
                record.msg, record.args = self.redact(message), None
        if record.exc_info:
            # The traceback is formatted later by the handler: format it now, so it can be cleaned.
            record.exc_text = self.redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
            record.exc_info = None
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        return True


#: The one guard of this process: it knows every secret any app here has guarded (two apps with two
#: certificates must both stay hidden, and so must a certificate that was rotated out).
_GUARD = RedactSecrets(())


def guard_loggers(secrets: Iterable[str]) -> RedactSecrets:
    """Teach the process's redacting filter ``secrets``, and attach it to every logger (and its handlers)
    that may carry request data; returns it (``add`` teaches it more later)."""
    _GUARD.add(secrets)
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        for owner in [logger, *logger.handlers]:
            for old in [f for f in owner.filters if isinstance(f, RedactSecrets) and f is not _GUARD]:
                owner.removeFilter(old)
            if _GUARD not in owner.filters:
                owner.addFilter(_GUARD)
    return _GUARD


#: LogRecord attributes of our own that must not show up as fields of a JSON line.
_PRIVATE_ATTRS = ("_agora_redacted",)


def json_formatter() -> logging.Formatter:
    """One JSON object per line (python-json-logger): time, level, logger, message and any extra fields."""
    # python-json-logger 3.1 (the oldest the server extra allows) has these modules.
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    return JsonFormatter(
        "%(asctime)s %(levelname)s %(name)s %(message)s",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        reserved_attrs=[*RESERVED_ATTRS, *_PRIVATE_ATTRS],
        json_ensure_ascii=True,
    )


def _formatter(fmt: str) -> dict[str, Any]:
    if fmt == "json":
        return {"()": json_formatter}
    return {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}


def logging_config(level: str = "info", fmt: str = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's loggers and ours: one line (text or JSON) per event, on stderr."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": _formatter(fmt)},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Our middleware writes the access log (redacted, with latency); uvicorn's is turned off.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            ERROR_LOGGER: {"handlers": ["stderr"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"handlers": ["stderr"], "level": level, "propagate": False},
        },
    }


def ensure_handlers(fmt: str = "text") -> bool:
    """Give our loggers a stderr handler at INFO when nothing else will print them; True if it did.

    ``agora-token serve`` configures logging itself, but under gunicorn (or any host that configures
    only its own loggers) our lines would reach no handler and the access log would be silent.
    """
    top = logging.getLogger(ERROR_LOGGER)
    if logging.getLogger(ACCESS_LOGGER).hasHandlers():
        return False
    handler = logging.StreamHandler()
    spec = _formatter(fmt)
    handler.setFormatter(json_formatter() if "()" in spec else logging.Formatter(spec["format"]))
    top.addHandler(handler)
    if top.level == logging.NOTSET:
        top.setLevel(logging.INFO)
    top.propagate = False
    return True
