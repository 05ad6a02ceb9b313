# 006 tokens (docs/format.md, "006"): the signature, the CRCs a 006 token carries, one token.

def sign_006(app_certificate, app_id, channel_name, uid, message):
    """HMAC-SHA256 signature of a 006 token (docs/format.md, "006")."""
    cdef Py_ssize_t applen, chlen, uidlen, certlen
    cdef const char* app = _utf8(app_id, &applen, "app_id")
    cdef const char* channel = _utf8(channel_name, &chlen, "channel_name")
    cdef const char* account = _utf8(uid, &uidlen, "uid")
    cdef const char* cert
    cdef unsigned char sig[32]
    cdef Py_buffer view
    cdef fp_status status
    cdef PyThreadState* gil
    try:
        PyObject_GetBuffer(message, &view, PyBUF_SIMPLE)
    except Exception:  # not a buffer of bytes
        raise TypeError(_msg.not_a("bytes", "message", message)) from None
    try:
        cert = _utf8(app_certificate, &certlen, "app_certificate")
        gil = _release_gil_from(<size_t>(view.len + applen + chlen + uidlen), NOGIL_SIGN)
        status = fp_sign_006(cert, <size_t>certlen, app, <size_t>applen, channel, <size_t>chlen,
                             account, <size_t>uidlen, <const unsigned char*>view.buf, <size_t>view.len, sig)
        _retake_gil(gil)
    finally:
        PyBuffer_Release(&view)
    _check(status)
    return PyBytes_FromStringAndSize(<char*>sig, 32)


def crc32(text):
    """CRC-32/IEEE of the UTF-8 bytes of ``text``, as 006 tokens carry it."""
    cdef Py_ssize_t size
    cdef const char* data = _utf8(text, &size, "text")
    cdef PyThreadState* gil
    cdef uint32_t crc
    gil = _release_gil_from(<size_t>size, NOGIL_SIGN)
    crc = fp_crc32(data, <size_t>size)
    _retake_gil(gil)
    return PyLong_FromUnsignedLong(crc)


def build_006(app_id, app_certificate, channel_name, uid, salt, ts, privileges):
    """Pack, sign and base64 one 006 token; ``uid`` is the user's wire string, or a numeric uid
    written as its decimal (0: the empty string, any user).

    ``ts`` is when the token itself expires (an absolute time); ``salt`` None draws a fresh salt.
    """
    cdef unsigned char stack[STACK_PACK]
    cdef char digits[USER_DIGITS]
    cdef Packer p
    cdef Py_ssize_t chlen, uidlen
    cdef const char* channel = _utf8(channel_name, &chlen, "channel_name")
    cdef const char* account = _user(uid, digits, &uidlen)
    cdef uint32_t s, t
    p.data = stack
    p.len = _MESSAGE_006
    p.cap = STACK_PACK
    p.heap = False
    try:
        s = _salt_or_draw(salt)
        t = _u32(ts, "ts")
        _put32(&p, s)
        _put32(&p, t)
        _pack_privileges(&p, privileges)
        return _seal_006(&p, app_id, app_certificate, channel, chlen, account, uidlen)
    finally:
        if p.heap:
            free(p.data)


# content = string(signature) | u32 crc(channel) | u32 crc(uid) | string(message): the message
# (salt | ts | privileges) is packed straight into place at this offset.
cdef enum:
    _MESSAGE_006 = 44


cdef inline fp_status _sign_006_into(Packer* p, const char* cert, size_t certlen, const char* app, size_t applen,
                                     const char* channel, size_t chlen, const char* account, size_t uidlen,
                                     size_t msglen) noexcept nogil:
    """Write string(signature), both CRCs and the message length in front of the message."""
    cdef fp_status status = fp_sign_006(cert, certlen, app, applen, channel, chlen, account, uidlen,
                                        p.data + _MESSAGE_006, msglen, p.data + 2)
    p.data[0] = 32
    p.data[1] = 0
    p.len = 34
    _put32(p, fp_crc32(channel, chlen))
    _put32(p, fp_crc32(account, uidlen))
    _put16(p, <unsigned int>msglen)
    p.len = _MESSAGE_006 + msglen
    return status


cdef object _seal_006(Packer* p, object app_id, object app_certificate,
                      const char* channel, Py_ssize_t chlen, const char* account, Py_ssize_t uidlen):
    """Sign the message packed at offset 44, fill in the fields before it, base64 the whole."""
    cdef Py_ssize_t applen, certlen
    cdef const char* app
    cdef const char* cert
    cdef size_t msglen = p.len - _MESSAGE_006
    cdef fp_status status
    cdef PyThreadState* gil
    if msglen > 0xFFFF:
        raise ValueError(_msg.MESSAGE_006_TOO_LONG)
    app = _utf8(app_id, &applen, "app_id")
    cert = _utf8(app_certificate, &certlen, "app_certificate")
    gil = _release_gil_from(msglen + <size_t>(applen + chlen + uidlen), NOGIL_SIGN)
    status = _sign_006_into(p, cert, <size_t>certlen, app, <size_t>applen, channel, <size_t>chlen,
                            account, <size_t>uidlen, msglen)
    _retake_gil(gil)
    _check(status)
    if PyUnicode_IS_ASCII(app_id):
        return _ascii_token("006", 3, app, applen, p.data, p.len)
    return "006" + app_id + _ascii_token(NULL, 0, NULL, 0, p.data, p.len)
