"""Logging for the token server: an access logger, and a filter that keeps secrets out of every line."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any, Dict, Iterable, Optional, Pattern, Set

ACCESS_LOGGER = "agora_token.server.access"
ERROR_LOGGER = "agora_token.server"
#: Loggers that can carry request data: ours and uvicorn's (for users who keep uvicorn's access log).
GUARDED_LOGGERS = (ERROR_LOGGER, ACCESS_LOGGER, "uvicorn", "uvicorn.error", "uvicorn.access")
REDACTED = "[REDACTED]"


class RedactSecrets(logging.Filter):
    """Replaces each secret (case-insensitively) in a record's message and traceback with [REDACTED]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        unique = sorted({s for s in secrets if s}, key=len, reverse=True)
        # Case-insensitive: a hex certificate is the same secret in upper or lower case.
        self.pattern: Optional[Pattern[str]] = (
            re.compile("|".join(re.escape(s) for s in unique), re.IGNORECASE) if unique else None
        )

    def redact(self, text: str) -> str:
        """``text`` with every secret replaced."""
        return text if self.pattern is None else self.pattern.sub(REDACTED, text)

    def _arg(self, value: object) -> object:
        # Numbers stay numbers (a "%d" must still format); anything else is cleaned as text.
        if value is None or isinstance(value, (int, float)):
            return value
        return self.redact(value if isinstance(value, str) else str(value))

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place if it holds a secret; never drops it."""
        # One filter sits on a logger and on its handlers: do the work once per record.
        if self.pattern is None or getattr(record, "_agora_redacted", False):
            return True
        record._agora_redacted = True  # type: ignore[attr-defined]
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: logging reports it as usual
            message = str(record.msg)
        if self.pattern.search(message):
            # Clean the arguments one by one rather than merging them into the message: formatters
            # such as uvicorn's access formatter read ``record.args`` themselves.
            record.msg = self.redact(str(record.msg))
            if isinstance(record.args, tuple):
                record.args = tuple(self._arg(a) for a in record.args)
            elif isinstance(record.args, dict):
                record.args = {k: self._arg(v) for k, v in record.args.items()}
            try:
                still = self.pattern.search(record.getMessage())
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


#: Every secret any app in this process has guarded: two apps with two certificates must both stay hidden.
_guarded: Set[str] = set()


def guard_loggers(secrets: Iterable[str]) -> RedactSecrets:
    """Attach one redacting filter to every logger (and its handlers) that may carry request data."""
    _guarded.update(s for s in secrets if s)
    guard = RedactSecrets(_guarded)
    for name in GUARDED_LOGGERS:
        logger = logging.getLogger(name)
        for owner in [logger, *logger.handlers]:
            # Replace the previous guard (it knew fewer secrets) rather than stacking filters.
            for old in [f for f in owner.filters if isinstance(f, RedactSecrets)]:
                owner.removeFilter(old)
            owner.addFilter(guard)
    return guard


def logging_config(level: str = "info") -> Dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's loggers and ours: one line per event, on stderr."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        },
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"},
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
