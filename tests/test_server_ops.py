"""Operating the server: /metrics for Prometheus without the API key when the operator chooses, every
request counted under its route (CORS preflights and refused keys too), and errors in one shape."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("uvicorn")
pytest.importorskip("starlette")

from agora_token.server import Settings  # noqa: E402
from agora_token.server.openapi import build_openapi  # noqa: E402

from .test_server import ALLOWED, API_KEY, APP_ID, CERT, check_rtm, error, metric_values, ok, running  # noqa: E402

RTM = "/rtm/{uid}/"


@pytest.fixture
def client() -> Iterator[Any]:
    with httpx.Client(timeout=30) as c:
        yield c


def _settings(**changes: Any) -> Settings:
    return Settings(app_id=APP_ID, app_certificate=CERT, api_key=API_KEY, cors_allow_origins=(ALLOWED,), **changes)


def test_metrics_need_the_key_unless_the_operator_makes_them_public(client: Any) -> None:
    with running(_settings()) as (url, _):
        assert "API key" in error(client.get(url + "/metrics"), 401)
    with running(_settings(metrics_public=True)) as (url, _):
        for path in ("/metrics", "/metrics/"):
            response = client.get(url + path)
            assert response.status_code == 200 and "agora_token_http_requests_total" in response.text
        # Only /metrics: every token route still needs the key.
        assert "API key" in error(client.get(url + "/rtm/bob/"), 401)
        check_rtm(ok(client.get(url + "/rtm/bob/", headers={"Authorization": f"Bearer {API_KEY}"}))["rtmToken"], "bob")
        assert "security" not in client.get(url + "/openapi.json").json()["paths"]["/metrics"]["get"]


def test_the_metrics_switch_is_read_from_the_environment() -> None:
    env = {"APP_ID": APP_ID, "APP_CERTIFICATE": CERT, "AGORA_TOKEN_API_KEY": API_KEY}
    assert Settings.from_env(env).metrics_public is False
    assert Settings.from_env({**env, "AGORA_TOKEN_METRICS_PUBLIC": "1"}).metrics_public is True
    assert build_openapi(api_key=True)["paths"]["/metrics"]["get"]["security"] == [{"apiKey": []}]
    assert "security" not in build_openapi(api_key=True, metrics_public=True)["paths"]["/metrics"]["get"]


def test_preflights_and_refusals_are_counted_under_their_route(client: Any) -> None:
    """Issue 20: a CORS preflight was counted under route="unmatched"."""
    preflight = {"Origin": ALLOWED, "Access-Control-Request-Method": "GET"}
    with running(_settings(metrics_public=True)) as (url, _):
        assert client.options(url + "/rtm/bob/", headers=preflight).status_code == 204
        assert client.options(url + "/getToken", headers={**preflight, "Access-Control-Request-Method": "POST"}
                              ).status_code == 204  # fmt: skip
        error(client.get(url + "/rtm/bob/"), 401)  # refused by the key check, before the router
        error(client.get(url + "/rtm/bob/", headers={"Origin": "https://elsewhere.example"}), 403)
        error(client.get(url + "/nowhere/"), 401)
        values = metric_values(client.get(url + "/metrics").text)
    requests = "agora_token_http_requests_total"
    assert values[f'{requests}{{method="OPTIONS",route="{RTM}",status="204"}}'] == 1
    assert values[f'{requests}{{method="OPTIONS",route="/getToken",status="204"}}'] == 1
    assert values[f'{requests}{{method="GET",route="{RTM}",status="401"}}'] == 1
    assert values[f'{requests}{{method="GET",route="{RTM}",status="403"}}'] == 1
    assert values[f'{requests}{{method="GET",route="unmatched",status="401"}}'] == 1


def test_an_encoded_slash_is_counted_under_the_route_it_was_sent_to(client: Any) -> None:
    with running(Settings(app_id=APP_ID, app_certificate=CERT)) as (url, _):
        says = error(client.get(url + "/rtc/room%2Fx/publisher/uid/1/"))
        assert says == "channel contains an encoded '/' (%2F), which no channel may hold"
        values = metric_values(client.get(url + "/metrics").text)
    rtc = "/rtc/{channel}/{role}/{tokentype}/{uid}/"
    assert values[f'agora_token_http_requests_total{{method="GET",route="{rtc}",status="400"}}'] == 1
