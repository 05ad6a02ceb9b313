"""Prometheus counters for the token server, rendered in the text exposition format (stdlib only).

One event loop updates them, so plain dicts suffice; with ``--workers N`` each worker counts its own.
"""

from __future__ import annotations

import bisect
import time
from typing import Dict, List, Tuple

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
#: Request latency buckets in seconds: a token takes tens of microseconds, a slow request milliseconds.
BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)
#: Error kind by status, so dashboards need not know HTTP codes.
ERROR_KINDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden_origin",
    404: "not_found",
    405: "method_not_allowed",
    503: "not_configured",
}


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class Metrics:
    """Requests by route/method/status, tokens by type, errors by kind, and a latency histogram."""

    def __init__(self) -> None:
        self.started = time.time()
        self.requests: Dict[Tuple[str, str, int], int] = {}
        self.tokens: Dict[str, int] = {"rtc": 0, "rtm": 0, "chat": 0}
        self.errors: Dict[str, int] = {}
        self.buckets: List[int] = [0] * (len(BUCKETS) + 1)
        self.duration_sum = 0.0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        key = (method, route, status)
        self.requests[key] = self.requests.get(key, 0) + 1
        if status >= 400:
            kind = ERROR_KINDS.get(status, "internal" if status >= 500 else "client_error")
            self.errors[kind] = self.errors.get(kind, 0) + 1
        self.buckets[bisect.bisect_left(BUCKETS, seconds)] += 1
        self.duration_sum += seconds

    def token_issued(self, kind: str) -> None:
        """Count one token handed out ("rtc", "rtm" or "chat")."""
        self.tokens[kind] = self.tokens.get(kind, 0) + 1

    def render(self) -> str:
        """The Prometheus text exposition of every counter."""
        lines = [
            "# HELP agora_token_http_requests_total HTTP requests answered, by method, route and status.",
            "# TYPE agora_token_http_requests_total counter",
        ]
        for (method, route, status), count in sorted(self.requests.items()):
            lines.append(
                f'agora_token_http_requests_total{{method="{_escape(method)}",route="{_escape(route)}",'
                f'status="{status}"}} {count}'
            )
        lines += [
            "# HELP agora_token_tokens_issued_total Tokens handed out, by type.",
            "# TYPE agora_token_tokens_issued_total counter",
        ]
        lines += [f'agora_token_tokens_issued_total{{type="{k}"}} {v}' for k, v in sorted(self.tokens.items())]
        lines += [
            "# HELP agora_token_errors_total Requests answered with an error, by kind.",
            "# TYPE agora_token_errors_total counter",
        ]
        lines += [f'agora_token_errors_total{{kind="{k}"}} {v}' for k, v in sorted(self.errors.items())]
        lines += [
            "# HELP agora_token_http_request_duration_seconds Time from request to the end of the response.",
            "# TYPE agora_token_http_request_duration_seconds histogram",
        ]
        cumulative = 0
        for bound, count in zip(BUCKETS, self.buckets):
            cumulative += count
            lines.append(f'agora_token_http_request_duration_seconds_bucket{{le="{bound}"}} {cumulative}')
        total = cumulative + self.buckets[-1]
        lines += [
            f'agora_token_http_request_duration_seconds_bucket{{le="+Inf"}} {total}',
            f"agora_token_http_request_duration_seconds_sum {self.duration_sum:.6f}",
            f"agora_token_http_request_duration_seconds_count {total}",
            "# HELP agora_token_process_start_time_seconds Unix time the server started.",
            "# TYPE agora_token_process_start_time_seconds gauge",
            f"agora_token_process_start_time_seconds {self.started:.3f}",
        ]
        return "\n".join(lines) + "\n"
