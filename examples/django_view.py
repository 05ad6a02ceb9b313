"""A token view in Django: ``rtc_token`` is the view to put in your urls.py.

    pip install django              # or: pip install '.[examples]' from a checkout
    python examples/django_view.py runserver 8000
    curl 'localhost:8000/token?channel=demo&uid=42'

Run as a script, this file is also a one-file Django project (settings, URLconf) to try the view.
In your project keep only the view, and read the credentials from your settings or environment.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # _credentials, when run as a script

from _credentials import credentials  # noqa: E402
from django.conf import settings  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402
from django.views.decorators.http import require_GET  # noqa: E402

import agora_token as at  # noqa: E402

APP_ID, APP_CERTIFICATE = credentials()


@require_GET
def rtc_token(request: HttpRequest) -> JsonResponse:
    """An RTC token for ``?channel=`` and ``?uid=`` or ``?account=``; 400 with the reason on bad input."""
    uid = request.GET.get("uid")
    try:
        if uid is not None and not uid.isdigit():
            raise ValueError(f"uid must be a number, got {uid!r} (use account= for a string user account)")
        token = at.build_rtc_token(
            APP_ID, APP_CERTIFICATE, request.GET.get("channel", ""), uid=None if uid is None else int(uid),
            account=request.GET.get("account"), role=request.GET.get("role", "publisher"),
        )  # fmt: skip
    except (TypeError, ValueError) as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    return JsonResponse({"token": token})


urlpatterns = [path("token", rtc_token)]

if not settings.configured:  # a one-file project when run (or imported) on its own
    settings.configure(DEBUG=False, ROOT_URLCONF=__name__, ALLOWED_HOSTS=["127.0.0.1", "localhost", "testserver"],
                       SECRET_KEY="only-for-this-example")  # fmt: skip

if __name__ == "__main__":
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
