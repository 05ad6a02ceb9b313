#!/usr/bin/env python3
"""Writes the seed corpus of fuzz_parse.py into fuzz/corpus/ from real tokens (kept under 100 files).

Seeds: the tests' real tokens (``tests.common.real_tokens``: every 007 service type alone and all
together, a token with an unknown service type, 006 tokens), each as token text (mode 0), as its
decompressed payload (mode 1/2) and as its compressed body (mode 3); a few hostile shapes (bomb,
counts that lie, truncations). Deterministic: fixed times and salts, built by the pure kernel. Run
from the repository root:

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

from tests.common import real_tokens  # noqa: E402

OUT = Path(__file__).resolve().parent / "corpus"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for old in OUT.iterdir():
        old.unlink()
    seeds = {}
    tokens = real_tokens()
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
