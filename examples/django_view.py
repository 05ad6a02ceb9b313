"""A token view in Django, for the user who is logged in: ``rtc_token`` is the view to put in your urls.py.

    pip install django              # or: pip install '.[examples]' from a checkout
    python examples/django_view.py runserver 8000
    curl -c jar -d user_id=42 localhost:8000/login && curl -b jar 'localhost:8000/token?channel=demo'

The token's user is the logged-in user, never one the client names: a client that chooses its uid can
join as anyone, and with uid 0 as any user at all. With ``django.contrib.auth`` that user is
``request.user`` (``request.user.pk`` as the uid); this one-file project keeps the user id in the
session instead (signed cookies: no database), and ``login`` stands in for your login view.
Run as a script, this file is the whole project (settings, URLconf); in yours keep only the view.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _credentials, when run as a script

from _credentials import credentials  # noqa: E402
from django.conf import settings  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.csrf import csrf_exempt  # noqa: E402
from django.views.decorators.http import require_GET, require_POST  # noqa: E402

import agora_token as at  # noqa: E402

APP_ID, APP_CERTIFICATE = credentials()


@csrf_exempt  # the demo login is posted by curl; a real login form keeps Django's CSRF check
@require_POST
def login(request: HttpRequest) -> JsonResponse:
    """A stand-in for your login view (it checks no password!): remembers the user in the session."""
    user_id = request.POST.get("user_id", "")
    if not user_id.isdigit():
        return JsonResponse({"error": "user_id must be a number"}, status=400)
    request.session["user_id"] = int(user_id)
    return JsonResponse({"user_id": int(user_id)})


@require_GET
def rtc_token(request: HttpRequest) -> JsonResponse:
    """An RTC token for ``?channel=`` and the logged-in user; 401 when nobody is, 400 with the reason on bad input."""
    user_id = request.session.get("user_id")  # with django.contrib.auth: request.user.pk
    if user_id is None:
        return JsonResponse({"error": "log in first"}, status=401)
    try:
        token = at.build_rtc_token(
            APP_ID, APP_CERTIFICATE, request.GET.get("channel", ""), uid=user_id,
            role=request.GET.get("role", "publisher"),
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"token": token, "uid": user_id})


urlpatterns = [path("login", login), path("token", rtc_token)]

if not settings.configured:  # a one-file project when run (or imported) on its own
    settings.configure(
        DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
        SECRET_KEY=os.environ.get("EXAMPLE_SESSION_SECRET", "demo-session-secret-for-the-example-only"),
        MIDDLEWARE=["django.contrib.sessions.middleware.SessionMiddleware"],
        SESSION_ENGINE="django.contrib.sessions.backends.signed_cookies",
    )  # fmt: skip

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
