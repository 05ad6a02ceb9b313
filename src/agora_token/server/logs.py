"""Logging for the token server: an access logger, and a filter that keeps secrets out of every line."""

from __future__ import annotations

import logging
import os
import re
import select
import threading
import time
import traceback
from collections import deque
from collections.abc import Iterable, Iterator
from re import Pattern
from typing import IO, Any, Optional

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


#: A line of the text format.
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class LineFormatter(logging.Formatter):
    """``TEXT_FORMAT``, the time's text made once per second: a busy server writes thousands of lines a second."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)
        self._second: tuple[int, str] = (-1, "")

    def formatTime(self, record: logging.LogRecord, datefmt: Optional[str] = None) -> str:  # noqa: N802 (logging's name)
        """As ``logging.Formatter`` writes it (local time, then ``,`` and the milliseconds)."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        return self._time(record.created, record.msecs)

    def _time(self, created: float, msecs: float) -> str:
        second, text = self._second
        if int(created) != second:
            text = time.strftime(self.default_time_format, self.converter(created))
            self._second = (int(created), text)
        msec = self.default_msec_format
        return msec % (text, msecs) if msec else text

    def line(self, name: str, level: int, message: str, created: float) -> str:
        """The line ``format`` makes of a record without a traceback: for a line logged without a record."""
        msecs = int((created - int(created)) * 1000) + 0.0  # as LogRecord computes them
        values = {"asctime": self._time(created, msecs), "levelname": logging.getLevelName(level), "name": name,
                  "message": message}  # fmt: skip
        return TEXT_FORMAT % values


class BufferedStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler that formats a line when it is logged and writes lines from a thread of its own, together.

    The access log has a line per request. Written and flushed one by one, each costs the event loop a
    system call, and a reader of stderr that falls behind (a full pipe) would stop the loop outright.
    Here a line joins a queue (a deque: appending takes no lock), and a writer thread writes what
    gathered every ``interval`` seconds, a few kilobytes per call. Should the stream block until
    ``max_pending`` lines wait, further lines are counted rather than kept, and a line says how many were
    lost once the stream takes writes again. ``flush()`` writes whatever waits: the server calls it when
    it stops, and ``logging`` at exit.
    """

    def __init__(self, stream: Optional[IO[str]] = None, interval: float = 0.1, max_pending: int = 100_000) -> None:
        super().__init__(stream)
        self.interval = interval
        self.max_pending = max_pending
        #: Lines without their line end: appended by any thread, taken out only under ``_writing``.
        self._pending: deque[str] = deque()
        self._dropped = 0
        self._dropped_lock = threading.Lock()  # only when lines are dropped
        self._writing = threading.Lock()
        self._closed = False
        self._writer: Optional[threading.Thread] = None
        self._writer_pid = -1

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)
            return
        self.append(line)

    def append(self, line: str) -> None:
        """Queue one formatted line (without its line end)."""
        if len(self._pending) < self.max_pending:
            self._pending.append(line)
        else:
            with self._dropped_lock:
                self._dropped += 1
        if self._writer_pid != os.getpid():  # none yet, or this is a fork: threads do not survive one
            self._start_writer()

    def _start_writer(self) -> None:
        self._writer_pid = os.getpid()
        self._writer = threading.Thread(target=self._run, name="agora-token-log-writer", daemon=True)
        self._writer.start()

    def _run(self) -> None:
        while not self._closed:
            time.sleep(self.interval)
            self.flush()

    def flush(self) -> None:
        """Write every line that waits, in one call, and flush the stream."""
        with self._writing:
            pending = self._pending
            lines = [pending.popleft() for _ in range(len(pending))]  # what is there now; later lines wait
            with self._dropped_lock:
                dropped, self._dropped = self._dropped, 0
            if dropped:
                lines.append(f"{dropped} log lines were dropped: the log's reader did not keep up")
            try:
                for chunk in _chunks(lines, PIPE_BUF, self.terminator):
                    self.stream.write(chunk)
                    self.stream.flush()  # one system call per chunk
            except Exception:  # a closed or broken stream: nothing to write to, and no line to report it on
                pass

    def close(self) -> None:
        self._closed = True
        self.flush()
        super().close()


#: The most a write to a pipe keeps whole when several processes write to it (POSIX guarantees 512): the
#: workers of ``serve --workers N`` share stderr, and no line of one may be cut by a line of another.
try:
    PIPE_BUF: int = select.PIPE_BUF
except AttributeError:  # not on Windows
    PIPE_BUF = 512


def _chunks(lines: list[str], size: int, end: str = "\n") -> Iterator[str]:
    """``lines``, each ended by ``end``, joined into texts of whole lines of at most ``size`` bytes (a longer
    line alone)."""
    chunk: list[str] = []
    length = 0
    for line in lines:
        n = (len(line) if line.isascii() else len(line.encode())) + len(end)
        if chunk and length + n > size:
            yield end.join(chunk) + end
            chunk, length = [], 0
        chunk.append(line)
        length += n
    if chunk:
        yield end.join(chunk) + end


def log_directly(logger: logging.Logger, level: int, message: str) -> bool:
    """Give ``message`` to ``logger``'s handler as its record would reach it, without making the record; False
    (nothing done) when the logger is set up otherwise than that shortcut reproduces.

    The access log's path on every request. It reproduces exactly this set-up, ``serve``'s
    (``logging_config``): the logger enabled for ``level``, not propagating, its one handler a
    ``BufferedStreamHandler`` with a ``LineFormatter`` that takes ``level``, and no filter but the
    redaction on either (so the message is redacted here, as the filter would). Anything else, a JSON
    format, a handler a host or a test added, takes the record's way.
    """
    if logger.propagate or logger.disabled or not logger.isEnabledFor(level) or len(logger.handlers) != 1:
        return False
    handler = logger.handlers[0]
    if type(handler) is not BufferedStreamHandler or type(handler.formatter) is not LineFormatter:
        return False
    if level < handler.level or not _only_redaction(logger.filters) or not _only_redaction(handler.filters):
        return False
    if logger.filters and _GUARD._found(message):
        message = _GUARD.redact(message)
    handler.append(handler.formatter.line(logger.name, level, message, time.time()))
    return True


def _only_redaction(filters: list[Any]) -> bool:
    return not filters or (len(filters) == 1 and filters[0] is _GUARD)


def _formatter(fmt: str) -> dict[str, Any]:
    return {"()": json_formatter if fmt == "json" else LineFormatter}


def logging_config(level: str = "info", fmt: str = "text") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for uvicorn's loggers and ours: one line (text or JSON) per event, on stderr."""
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"line": _formatter(fmt)},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"},
            # A line per request: written in batches, off the event loop (BufferedStreamHandler).
            "access": {"class": f"{__name__}.BufferedStreamHandler", "formatter": "line", "stream": "ext://sys.stderr"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            # Our middleware writes the access log (redacted, with latency); uvicorn's is turned off.
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            ERROR_LOGGER: {"handlers": ["stderr"], "level": level, "propagate": False},
            ACCESS_LOGGER: {"handlers": ["access"], "level": level, "propagate": False},
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
    handler.setFormatter(_formatter(fmt)["()"]())
    top.addHandler(handler)
    if top.level == logging.NOTSET:
        top.setLevel(logging.INFO)
    top.propagate = False
    return True
