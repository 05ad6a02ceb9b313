#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_parse.py into fuzz/corpus/ from real tokens (kept under 100 files).

Seeds: every 007 service type alone and all together, a token with an unknown service type, 006
tokens, each as token text (mode 0), as its decompressed payload (mode 1/2) and as its compressed
body (mode 3); a few hostile shapes (bomb, counts that lie, truncations). Deterministic: fixed
times and salts, built by the pure kernel. Run from the repository root:

    python fuzz/make_corpus.py
"""

from __future__ import annotations

import base64
import hashlib
import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repository root: its tests' example set

from agora_token import _pure  # noqa: E402
from tests.tokens import every_service as services  # noqa: E402

APP_ID = "970CA35de60c44645bbae8a215061b33"
CERT = "5CFd2fd1755d40ecb72977518be15d3b"
OUT = Path(__file__).resolve().parent / "corpus"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    seeds = {}
    tokens = {f"007-type{s.service_type}": _pure.build_007(APP_ID, CERT, 1700000000, 3600, 7, [s.to_wire()])
              for s in services()}  # fmt: skip
    tokens["007-all"] = _pure.build_007(APP_ID, CERT, 1, 86400, 99999999, [s.to_wire() for s in services()])
    tokens["007-unknown-type"] = _pure.build_007(APP_ID, CERT, 5, 60, 3, [(1, ((1, 5),), ("c", "1")), (11, (), ("x",))])
    tokens["006-rtc"] = _pure.build_006(APP_ID, CERT, "channel", "1234", 3, 2_000_000_000, ((1, 5), (2, 6), (1000, 7)))
    tokens["006-empty"] = _pure.build_006(APP_ID, CERT, "c", "", 1, 1, ())
    for name, token in tokens.items():
        seeds[f"{name}.text"] = b"\0" + token.encode()
        if token.startswith("007"):
            body = base64.b64decode(token[3:])
            seeds[f"{name}.payload"] = b"\1" + zlib.decompress(body)
            seeds[f"{name}.deflated"] = b"\3" + body
        else:
            seeds[f"{name}.payload"] = b"\2" + base64.b64decode(token[35:])
    content = zlib.decompress(base64.b64decode(tokens["007-all"][3:]))
    for cut in (1, 33, 34, 60, len(content) // 2, len(content) - 1):
        seeds[f"007-all.cut{cut}"] = b"\1" + content[:cut]
    head = struct.pack("<HH", 0, 0) + struct.pack("<IIIH", 1, 1, 1, 0xFFFF)
    seeds["hostile.service-count"] = b"\1" + head
    seeds["hostile.privilege-count"] = b"\1" + head + struct.pack("<HH", 1, 0xFFFF)
    seeds["hostile.rtm2-count"] = b"\1" + head + struct.pack("<HHHH", 8, 0, 0, 0xFFFF)
    seeds["hostile.bomb"] = b"\3" + zlib.compress(b"\0" * (2 << 20), 9)
    seeds["hostile.trailing"] = b"\3" + zlib.compress(content) + b"junk"
    seeds["hostile.raw-deflate"] = b"\3" + zlib.compress(content)[2:-4]
    seeds["hostile.006-message-count"] = b"\2" + struct.pack("<HIIH", 0, 0, 0, 10) + struct.pack("<IIH", 1, 1, 0xFFFF)
    seeds["hostile.non-ascii"] = b"\0" + "007\u00e9\u00e9\u00e9\u00e9".encode()
    seeds["hostile.padding"] = b"\0" + b"007eJw=="
    assert len(seeds) < 100
    for name, data in sorted(seeds.items()):
        (OUT / name).write_bytes(data)
    digest = hashlib.sha256(b"".join(seeds[n] for n in sorted(seeds))).hexdigest()[:16]
    print(f"wrote {len(seeds)} seeds to {OUT} (sha256 {digest})")


if __name__ == "__main__":
    main()
