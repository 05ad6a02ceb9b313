"""Shared by the examples: the App ID and certificate from the environment, as the CLI and server read them.

The demo values from Agora's test vectors are the fallback so that each example runs as it is;
a real app sets APP_ID and APP_CERTIFICATE (or the AGORA_ names) and keeps the certificate secret.
"""

from __future__ import annotations

import os

from agora_token.credentials import APP_ID_VARS, CERTIFICATE_VARS, first_set

DEMO_APP_ID = "970CA35de60c44645bbae8a215061b33"
DEMO_APP_CERTIFICATE = "5CFd2fd1755d40ecb72977518be15d3b"


def credentials() -> tuple[str, str]:
    """(app_id, app_certificate): from the environment, else the demo pair."""
    app_id = first_set(os.environ, APP_ID_VARS)[1] or DEMO_APP_ID
    certificate = first_set(os.environ, CERTIFICATE_VARS)[1] or DEMO_APP_CERTIFICATE
    return app_id, certificate
