# cython: language_level=3, boundscheck=False, wraparound=False, initializedcheck=False
# cython: cdivision=True, freethreading_compatible=True, autotestdict=False
"""The token kernel in C: packs, signs, deflates and base64-encodes whole tokens in one call.

It mirrors ``_pure`` byte for byte (same names, signatures, results and exception types); see that
module's docstring for the data shapes. Like ``_pure`` it knows the wire format alone
(docs/format.md) and reads no clock: the caller gives every time. zlib deflates and inflates,
OpenSSL's libcrypto supplies SHA-256 (HMAC is built on it) and the random bytes of salts.

Python objects are read while the GIL is held: every string is copied into a C buffer as it is
packed, so no pointer into a Python object outlives the conversion except those of the call's own
``str`` arguments, which the caller keeps alive. Signing, deflating and base64 then run without the
GIL. Each thread keeps its own z_streams and salt randomness (fp_state.h says how, per platform);
a fork discards the buffered randomness in the child.

The C lives in C files, one concern each, declared to Cython in fp_kernel.pxd: fp_hmac.c
(HMAC-SHA256), fp_sign.c (006/007 signatures), fp_state.c (per-thread state, salts), fp_codec.c
(CRC-32, deflate/inflate, base64) and fp_deflate.c (zlib's level 6, exact). This file holds the
shared declarations and helpers and includes the Python side by concern: _values.pxi (Python values
to C values), _packer.pxi (the byte buffer and the wire's primitives), _build_006.pxi and
_build_007.pxi (building tokens), _deflate.pxi (choosing the deflate path) and _parse.pxi (parsing
tokens). Every message it raises is worded in _messages.py.
"""

from libc.stdint cimport uint32_t
from libc.stdlib cimport malloc, realloc, free
from libc.string cimport memcpy
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_SIMPLE
from cpython.bytes cimport PyBytes_FromStringAndSize, PyBytes_AS_STRING, PyBytes_GET_SIZE
from cpython.long cimport PyLong_FromUnsignedLong
from cpython.number cimport PyNumber_Index
from cpython.tuple cimport PyTuple_New, PyTuple_SET_ITEM, PyTuple_GET_SIZE
from cpython.ref cimport Py_INCREF

from agora_token.fp_kernel cimport *

import zlib as _zlib

from agora_token import _limits
from agora_token import _messages as _msg
from agora_token.errors import TokenError

cdef Py_ssize_t _MAX_TOKEN_LENGTH = _limits.MAX_TOKEN_LENGTH
cdef str _TOO_LONG = _msg.TOO_LONG

cdef extern from "Python.h":
    # Declared here rather than cimported to control the error handling exactly.
    const char* PyUnicode_AsUTF8AndSize(object, Py_ssize_t*) except NULL
    object PyUnicode_New(Py_ssize_t, Py_UCS4)
    object PyUnicode_DecodeUTF8(const char*, Py_ssize_t, const char*)
    object PyUnicode_Substring(object, Py_ssize_t, Py_ssize_t)
    void* PyUnicode_DATA(object)
    bint PyUnicode_IS_ASCII(object)
    Py_ssize_t PyUnicode_GET_LENGTH(object)
    Py_UCS4 PyUnicode_READ_CHAR(object, Py_ssize_t)
    bint PyUnicode_Check(object)
    bint PyLong_Check(object)
    bint PyLong_CheckExact(object)
    void* PyTuple_GET_ITEM(object, Py_ssize_t)
    bint PyUnicode_CheckExact(object)
    bint PyBool_Check(object)
    bint PyTuple_CheckExact(object)
    long long PyLong_AsLongLongAndOverflow(object, int*) except? -1
    # The same call, for an exact int (it cannot fail then): no error check, so noexcept code may use it.
    long long _long_long "PyLong_AsLongLongAndOverflow"(object, int*) noexcept
    ctypedef struct PyThreadState
    PyThreadState* PyEval_SaveThread()
    void PyEval_RestoreThread(PyThreadState*)

cdef extern from *:
    # The C this module writes itself: it reads Python objects, so it needs Python.h, which the
    # fp_*.c files must not include.
    r"""
    /* PyUnicode_READY is deprecated from 3.12 on, where every str is ready. */
    static int fp_unicode_ready(PyObject *o) {
    #if PY_VERSION_HEX < 0x030C0000
        return PyUnicode_READY(o);
    #else
        (void)o;
        return 0;
    #endif
    }

    /* Packs the pairs of an exact tuple as map<u16,u32> entries (u16 id, u32 value; 6 bytes each)
       into out, while each pair is an exact 2-tuple of exact ints in range: the shape every
       builder passes. Returns how many it packed: fewer than the tuple holds when a pair is of
       another shape or out of range, which the caller's general path then converts or refuses.
       Items are borrowed and nothing can fail (AsLongLongAndOverflow on an exact int only sets
       the overflow flag), so no reference is counted and no error is checked. */
    static Py_ssize_t fp_pack_int_pairs(PyObject *pairs, unsigned char *out) {
        Py_ssize_t i, n = PyTuple_GET_SIZE(pairs);
        for (i = 0; i < n; i++, out += 6) {
            PyObject *pair = PyTuple_GET_ITEM(pairs, i), *k, *v;
            long long key, value;
            int overflow = 0;
            if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) break;
            k = PyTuple_GET_ITEM(pair, 0);
            v = PyTuple_GET_ITEM(pair, 1);
            if (!PyLong_CheckExact(k) || !PyLong_CheckExact(v)) break;
            key = PyLong_AsLongLongAndOverflow(k, &overflow);
            value = PyLong_AsLongLongAndOverflow(v, &overflow);
            if (overflow || key < 0 || key > 0xFFFF || value < 0 || value > 0xFFFFFFFFLL) break;
            out[0] = (unsigned char)key;
            out[1] = (unsigned char)(key >> 8);
            out[2] = (unsigned char)value;
            out[3] = (unsigned char)(value >> 8);
            out[4] = (unsigned char)(value >> 16);
            out[5] = (unsigned char)(value >> 24);
        }
        return i;
    }
    """
    int fp_unicode_ready(object) except -1
    Py_ssize_t fp_pack_int_pairs(object, unsigned char*) noexcept

cdef extern from "<openssl/err.h>":
    void ERR_clear_error() nogil

MAX_PAYLOAD = _limits.MAX_PAYLOAD
MAX_TOKEN_LENGTH = _limits.MAX_TOKEN_LENGTH
SALT_MAX = _limits.SALT_MAX
# The C code's own copies (macros) must say the same.
if FP_MAX_PAYLOAD != MAX_PAYLOAD or FP_SALT_MAX != SALT_MAX:
    raise ImportError("the C kernel's limits differ from agora_token._limits")

cdef enum:
    STACK_PACK = 1536        # packed content of a typical token fits on the stack
    STACK_OUT = 2048         # so does its deflated form
    STACK_DECODE = 2048      # a parsed token's base64-decoded body
    STACK_INFLATE = 4096     # and its inflated payload
    NOGIL_BASE64 = 16384     # encode this much base64 or more without the GIL
    NOGIL_PARSE = 4096       # decode/inflate a token body this long or longer without the GIL
    NOGIL_SIGN = 4096        # sign this many bytes or more without the GIL

cdef str _BASE64_ERROR = _msg.NOT_BASE64


# ------------------------------------------------------------------------------------ C results

cdef int _raise_status(fp_status status) except -1:
    """Raise the exception a failed C call's status stands for: the one place a status becomes one.

    Allocation failures are MemoryError; a libcrypto or zlib failure is RuntimeError (OpenSSL's error
    queue is cleared first, so its reason does not linger into an unrelated later call on this
    thread); a token that cannot be decoded is TokenError, in the words _pure uses."""
    if status == FP_ENOMEM:
        ERR_clear_error()  # an EVP context that could not be allocated queues an error too
        raise MemoryError()
    if status == FP_ECRYPTO:
        ERR_clear_error()
        raise RuntimeError(_msg.HMAC_FAILED)
    if status == FP_EZLIB:
        raise RuntimeError(_msg.ZLIB_FAILED)
    if status == FP_ERANDOM:
        ERR_clear_error()  # Windows draws through RAND_bytes, which queues its reason
        raise OSError(_msg.NO_RANDOM)
    if status == FP_EBASE64:
        raise TokenError(_BASE64_ERROR)
    if status == FP_EZSTREAM:
        raise TokenError(_msg.NOT_ZLIB)
    if status == FP_ETOOBIG:
        raise TokenError(_msg.INFLATES_TOO_FAR)
    if status == FP_ETRUNCATED:
        raise TokenError(_msg.TRUNCATED_ZLIB)
    if status == FP_ETRAILING:
        raise TokenError(_msg.DATA_AFTER_ZLIB)
    raise SystemError(_msg.unknown_status(<int>status))


cdef inline int _check(fp_status status) except -1:
    """Nothing for FP_OK; the status's exception otherwise."""
    if status != FP_OK:
        _raise_status(status)
    return 0


# A call on a short input is a fraction of a microsecond of C: less than dropping and retaking the
# GIL. So C work is done without the GIL only from a size up (the NOGIL_* thresholds above), and
# that choice has one home: between these two calls, only C may run (no Python object is touched).

cdef inline PyThreadState* _release_gil_from(size_t size, size_t threshold) noexcept:
    """Release the GIL when ``size`` reaches ``threshold``; hand the result to _retake_gil."""
    if size >= threshold:
        return PyEval_SaveThread()
    return NULL


cdef inline void _retake_gil(PyThreadState* saved) noexcept:
    if saved != NULL:
        PyEval_RestoreThread(saved)


HMAC_PATH = fp_hmac_path().decode("ascii")


include "_values.pxi"
include "_packer.pxi"
include "_build_006.pxi"
include "_build_007.pxi"
include "_deflate.pxi"
include "_parse.pxi"
