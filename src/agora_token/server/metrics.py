"""Prometheus metrics for the token server, kept and rendered by ``prometheus_client``.

Each app has its own registry (two apps in one process count apart). With ``PROMETHEUS_MULTIPROC_DIR``
set, as ``agora-token serve --workers N`` and the gunicorn config do, every worker writes its values
there and ``/metrics``, whichever worker answers it, reports the sum over all workers.

Label values are bounded: a method outside ``METHODS`` is counted as "other", a path that matches no
route as "unmatched", so no client can grow the number of series.
"""

from __future__ import annotations

import os
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

try:
    from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4 as _TEXT_FORMAT
except ImportError:  # prometheus_client before 0.21: the latest text format was 0.0.4
    from prometheus_client.exposition import CONTENT_TYPE_LATEST as _TEXT_FORMAT

#: The content type of ``render()``'s text.
CONTENT_TYPE: str = _TEXT_FORMAT

#: Request latency buckets in seconds: a token takes tens of microseconds, a slow request milliseconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
#: The methods counted under their own name; any other is "other".
METHODS = frozenset({"GET", "POST", "OPTIONS", "HEAD", "PUT", "DELETE", "PATCH"})
#: Error kind by status, so dashboards need not know HTTP codes.
ERROR_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    # An origin not allowed, or the user policy (agora_token_auth_refusals tells which rule).
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    499: "client_disconnected",
    # Not configured, or the identity provider's keys not fetched yet.
    503: "unavailable",
}
#: The status recorded (never sent) for a request whose client went away first, as nginx logs it.
CLIENT_CLOSED = 499
TOKEN_TYPES = ("rtc", "rtm", "chat")
#: Why user authorization refused a request: a 401 reason (``bearer.REASONS``), a 403 rule
#: (``policy.RULES``), or the identity provider's keys unavailable (503). A fixed set.
AUTH_REFUSALS = (
    "missing", "too_large", "malformed", "algorithm", "unknown_key", "bad_signature", "expired", "not_yet_valid",
    "wrong_audience", "wrong_issuer", "missing_claim", "user", "uid_any", "channel", "role", "chat_app",
    "keys_unavailable",
)  # fmt: skip


def multiprocess_dir() -> str:
    """The directory of prometheus_client's multiprocess mode, "" when it is off."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR", "") or os.environ.get("prometheus_multiproc_dir", "")


#: Connections the HTTP protocol (``protocol``) ended before the app saw a request, by reason. Not in any
#: registry of its own: each app's registry includes it (or, in multiprocess mode, its files do).
CONNECTIONS_REFUSED = Counter(
    "agora_token_connections_refused", "Connections ended before the app saw a request, by reason.",
    ["reason"], registry=None,
)  # fmt: skip
REFUSAL_REASONS = ("too_many_connections", "request_timeout", "header_too_large", "malformed_request")
for _reason in REFUSAL_REASONS:
    CONNECTIONS_REFUSED.labels(_reason)


class Metrics:
    """Requests by route/method/status, tokens by type, errors by kind, and a latency histogram."""

    def __init__(self) -> None:
        self.started = time.time()
        self.multiprocess = bool(multiprocess_dir())
        # In multiprocess mode the values live in files; this registry only names the metrics.
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "agora_token_http_requests", "HTTP requests answered, by method, route and status.",
            ["method", "route", "status"], registry=self.registry,
        )  # fmt: skip
        self.tokens = Counter("agora_token_tokens_issued", "Tokens handed out, by type.", ["type"],
                              registry=self.registry)  # fmt: skip
        self.errors = Counter("agora_token_errors", "Requests answered with an error, by kind.", ["kind"],
                              registry=self.registry)  # fmt: skip
        self.duration = Histogram(
            "agora_token_http_request_duration_seconds", "Time from request to the end of the response.",
            buckets=BUCKETS, registry=self.registry,
        )  # fmt: skip
        start = Gauge("agora_token_process_start_time_seconds", "Unix time the server started.",
                      registry=self.registry, multiprocess_mode="min")  # fmt: skip
        start.set(self.started)
        for kind in TOKEN_TYPES:
            self.tokens.labels(kind)  # present at 0 from the start, so rate() has a baseline
        self.refusals = Counter(
            "agora_token_auth_refusals", "Requests refused by user authorization, by reason or rule.", ["reason"],
            registry=self.registry,
        )  # fmt: skip
        self._refusal_children = {reason: self.refusals.labels(reason) for reason in AUTH_REFUSALS}
        self.registry.register(CONNECTIONS_REFUSED)
        # labels() takes a lock and builds a key each call: the per-request path reuses the children.
        self._request_children: dict[tuple[str, str, int], object] = {}
        self._error_children: dict[str, object] = {}
        self._token_children: dict[str, object] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        key = (method if method in METHODS else "other", route, status)
        child = self._request_children.get(key)
        if child is None:
            child = self._request_children[key] = self.requests.labels(key[0], route, str(status))
        child.inc()  # type: ignore[attr-defined]
        if status >= 400:
            kind = ERROR_KINDS.get(status, "internal" if status >= 500 else "client_error")
            error = self._error_children.get(kind)
            if error is None:
                error = self._error_children[kind] = self.errors.labels(kind)
            error.inc()  # type: ignore[attr-defined]
        self.duration.observe(seconds)

    def token_issued(self, kind: str) -> None:
        """Count one token handed out ("rtc", "rtm" or "chat")."""
        child = self._token_children.get(kind)
        if child is None:
            child = self._token_children[kind] = self.tokens.labels(kind)
        child.inc()  # type: ignore[attr-defined]

    def auth_refused(self, reason: str) -> None:
        """Count one request refused by user authorization (``reason`` one of ``AUTH_REFUSALS``)."""
        self._refusal_children[reason].inc()

    def render(self) -> bytes:
        """The Prometheus text exposition: this app's metrics, or every worker's summed in multiprocess mode."""
        if not self.multiprocess:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]  # unannotated upstream
        return generate_latest(registry)
