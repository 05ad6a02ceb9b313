#!/usr/bin/env python3
"""Differential parse fuzzer for agora-token: the C kernel against its pure-Python mirror.

For every input, ``_fastpack`` and ``_pure`` must both raise ``TokenError`` with the same message
or both return equal results, for ``parse_007`` (with the package's LAYOUTS) and ``parse_006``; any
other exception, a difference, or a crash of the extension is a finding. The check is the test
suite's oracle, ``tests/differential.py``. The model (AccessToken2/AccessToken parse
and verify) runs on the C kernel's accepted inputs too.

An input is one mode byte followed by data:

* mode 0: the data, decoded as UTF-8 (errors replaced), is the token text itself;
* mode 1: the data is a 007 payload: the token is "007" + base64(zlib.compress(data));
* mode 2: the data is a 006 payload: the token is "006" + APP_ID + base64(data);
* mode 3: the data is a 007 *compressed* body: "007" + base64(data) (arbitrary deflate streams).

Run with atheris (libFuzzer), e.g. for five minutes on the committed corpus:

    python fuzz/fuzz_parse.py fuzz/corpus -max_total_time=300 -rss_limit_mb=2048

or replay files (no atheris needed; what tools/sanitize.sh does under ASan):

    python fuzz/fuzz_parse.py --replay fuzz/corpus [more files or dirs]
"""

from __future__ import annotations

import base64
import os
import zlib

from _harness import APP_ID, CERT, instrumented, main

with instrumented():
    from agora_token import AccessToken, AccessToken2, TokenError, _backend, _fastpack
    from agora_token.services import LAYOUTS
    from tests.differential import agree

# FUZZ_PRELOAD=module is imported after the package: a local stand-in for the fix of a bug already
# reported, so a long run can look past it.
if os.environ.get("FUZZ_PRELOAD"):
    __import__(os.environ["FUZZ_PRELOAD"])

_backend.kernel, _backend.name = _fastpack, "c"  # the model runs on the C kernel


def token_from_input(data: bytes) -> str:
    if not data:
        return ""
    mode, body = data[0] % 4, data[1:]
    if mode == 0:
        return body.decode("utf-8", "replace")
    if mode == 1:
        return "007" + base64.b64encode(zlib.compress(body)).decode("ascii")
    if mode == 2:
        return "006" + APP_ID + base64.b64encode(body).decode("ascii")
    return "007" + base64.b64encode(body).decode("ascii")


def check(token: str) -> None:
    agree("parse_007", token, LAYOUTS)
    agree("parse_006", token)
    for cls in (AccessToken2, AccessToken):
        try:
            parsed = cls.parse(token)
        except TokenError:
            continue
        if cls is AccessToken2:
            parsed.verify(CERT)
        else:
            parsed.verify(CERT, "channel", 1234)
        repr(parsed)


def TestOneInput(data: bytes) -> None:  # noqa: N802 - libFuzzer's name
    check(token_from_input(data))


if __name__ == "__main__":
    main(TestOneInput, "no difference, no exception but TokenError")
