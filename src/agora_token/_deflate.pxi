cdef bint _linked_zlib_matches_python() except -1:
    """Whether the zlib this module links deflates exactly like the interpreter's zlib module."""
    cdef bytes sample = bytes(range(256)) + b"agora-token " * 40 + bytes(range(255, -1, -3))
    cdef unsigned char out[4096]
    cdef size_t outlen = 0
    if fp_deflate(<const unsigned char*>PyBytes_AS_STRING(sample), <size_t>len(sample), out, 4096, &outlen) != FP_OK:
        return False
    return PyBytes_FromStringAndSize(<char*>out, <Py_ssize_t>outlen) == _zlib.compress(sample)


# Tokens must be the same bytes on both backends, and the pure one deflates with the interpreter's
# zlib. Some interpreters ship zlib-ng instead of zlib (CPython 3.14 on Windows, distributions with
# zlib-ng-compat), whose output differs: there this module deflates through the zlib module too.
cdef bint _DEFLATE_WITH_PYTHON = not _linked_zlib_matches_python()
DEFLATES_WITH_PYTHON_ZLIB = bool(_DEFLATE_WITH_PYTHON)


def _set_deflate_with_python_zlib(bint on):
    """Tests only: take the zlib-module path even where the linked zlib matches it."""
    global _DEFLATE_WITH_PYTHON
    _DEFLATE_WITH_PYTHON = on


# ------------------------------------------------------------------------------------ exact deflate

EXACT_DEFLATE_MAX = FPD_MAX_INPUT


def _exact_deflate(data):
    """Tests and tools: fp_deflate.c's output for ``data`` (bytes-like, at most EXACT_DEFLATE_MAX
    bytes), whichever path tokens take; None for longer inputs."""
    cdef unsigned char out[FPD_MAX_INPUT + 64]
    cdef size_t outlen = 0
    cdef bytes raw = bytes(data)
    if len(raw) > FPD_MAX_INPUT:
        return None
    if fpd_compress(<const unsigned char*>PyBytes_AS_STRING(raw), <size_t>len(raw), out, sizeof(out), &outlen) != FPD_OK:
        raise RuntimeError(_msg.EXACT_DEFLATE_REFUSED)
    return PyBytes_FromStringAndSize(<char*>out, <Py_ssize_t>outlen)


def _deflate_probes():
    """The inputs the exact deflate is checked on at import: real token payloads (inflated from
    tokens this module builds through zlib) and edge cases of the matcher and the block choice."""
    import base64
    cert = "5CFd2fd1755d40ecb72977518be15d3b"
    app = "970CA35de60c44645bbae8a215061b33"
    rtc = ((1, ((1, 600), (2, 600), (3, 600), (4, 600)), ("room", "12345")),)
    every = tuple((t, ((1, 3600),), ("channel-%d" % t, "user")) for t in range(1, 11))
    global fp_exact_deflate
    saved = fp_exact_deflate
    fp_exact_deflate = 0
    try:
        tokens = [build_007(app, cert, 1700000000, 86400, 12345678, rtc),
                  build_007(app, cert, 1, 0xFFFFFFFF, 1, every),
                  build_007(app, cert, 1700000000, 600, 99999999, ())]
    finally:
        fp_exact_deflate = saved
    probes = [_zlib.decompress(base64.b64decode(t[3:])) for t in tokens]
    noise = bytes((i * 2654435761 >> 7) & 0xFF for i in range(1, 901))
    text = b"agora-token " * 40 + bytes(range(256)) + b"the quick brown fox " * 9
    probes += [b"", b"\x00", b"a", b"ab", b"abc", b"\x07" * 1000, b"x" + b"y" * 258 + b"z",
               b"q" * 259, noise, noise[:200] * 3, text, bytes(range(256)) * 8,
               (text * 4)[:FPD_MAX_INPUT], (noise * 3)[:FPD_MAX_INPUT]]
    return probes


cdef bint _exact_matches_python(bint force_mismatch) except -1:
    """Whether fp_deflate.c deflates every probe exactly as the interpreter's zlib module does."""
    for i, probe in enumerate(_deflate_probes()):
        expected = _zlib.compress(probe)
        if force_mismatch and i == 0:
            expected = expected[:len(expected) - 1] + bytes([expected[len(expected) - 1] ^ 1])
        if _exact_deflate(probe) != expected:
            return False
    return True


def _select_deflate(bint force_mismatch=False):
    """Chooses the deflate path, as at import: the exact re-implementation for inputs up to
    EXACT_DEFLATE_MAX bytes when it matches the interpreter's zlib on every probe and
    AGORA_TOKEN_EXACT_DEFLATE is not 0; zlib otherwise. ``force_mismatch`` (tests) pretends a probe
    differs. Returns DEFLATE_PATH: "exact", "zlib" (the linked zlib) or "python-zlib" (the zlib
    module, where the linked zlib differs from it)."""
    global fp_exact_deflate, DEFLATE_PATH
    import os
    fp_exact_deflate = 0
    off = os.environ.get("AGORA_TOKEN_EXACT_DEFLATE", "").strip().lower() in {"0", "false", "no", "off"}
    if not off and _exact_matches_python(force_mismatch):
        fp_exact_deflate = 1
    DEFLATE_PATH = "python-zlib" if _DEFLATE_WITH_PYTHON else "exact" if fp_exact_deflate else "zlib"
    return DEFLATE_PATH


DEFLATE_PATH = _select_deflate()
