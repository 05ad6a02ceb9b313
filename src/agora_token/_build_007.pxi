# 007 tokens (docs/format.md, "007"): the signature over the packed signing info, one token from
# its services, and many tokens that differ only in their user (sealed in blocks without the GIL).

def sign_007(app_certificate, issue_ts, salt, signing_info):
    """HMAC-SHA256 signature of a 007 token's signing info (docs/format.md, "The signing chain")."""
    cdef uint32_t ts = _u32(issue_ts, "issue_ts")
    cdef Py_ssize_t certlen
    cdef const char* cert = _utf8(app_certificate, &certlen, "app_certificate")
    cdef uint32_t sa = _u32(salt, "salt")
    cdef unsigned char sig[32]
    cdef Py_buffer view
    cdef fp_status status
    cdef PyThreadState* gil
    PyObject_GetBuffer(signing_info, &view, PyBUF_SIMPLE)
    try:
        gil = _release_gil_from(<size_t>view.len, NOGIL_SIGN)
        status = fp_sign_007(cert, <size_t>certlen, ts, sa, <const unsigned char*>view.buf, <size_t>view.len, sig)
        _retake_gil(gil)
    finally:
        PyBuffer_Release(&view)
    _check(status)
    return PyBytes_FromStringAndSize(<char*>sig, 32)


cdef int _put_007_times(Packer* p, uint32_t ts, uint32_t ex, uint32_t sa, Py_ssize_t count) except -1:
    """The signing info after the App ID: issue time, expire, salt, service count."""
    if count > 0xFFFF:
        raise _count_error("service count")
    _reserve(p, 14)
    _put32(p, ts)
    _put32(p, ex)
    _put32(p, sa)
    _put16(p, <unsigned int>count)
    return 0


def build_007(app_id, app_certificate, issue_ts, expire, salt, services):
    """Pack, sign, deflate and base64 one 007 token; ``salt`` None draws a fresh salt."""
    cdef unsigned char stack[STACK_PACK]
    cdef Packer p
    cdef Py_ssize_t count
    cdef uint32_t ts, ex, sa
    cdef int rc
    cdef tuple items
    p.data = stack
    p.len = 34  # room for string(signature), written once the signing info is packed
    p.cap = STACK_PACK
    p.heap = False
    try:
        _pack_text(&p, app_id, "app_id")
        items = _sequence(services, "services")
        count = PyTuple_GET_SIZE(items)
        ts = _u32(issue_ts, "issue_ts")
        ex = _u32(expire, "expire")
        sa = _salt_or_draw(salt)
        _put_007_times(&p, ts, ex, sa, count)
        for service in items:
            if PyTuple_CheckExact(service) and len(<tuple>service) == 3:
                service_type = (<tuple>service)[0]
                privileges = (<tuple>service)[1]
                fields = (<tuple>service)[2]
            else:
                try:
                    service_type, privileges, fields = service
                except (TypeError, ValueError):  # in the interpreter's words
                    raise TypeError(_msg.NOT_A_SERVICE) from None
            rc = _u16(service_type, "service type")
            _reserve(&p, 2)
            _put16(&p, <unsigned int>rc)
            _pack_privileges(&p, privileges)
            if fields:
                _pack_fields(&p, fields)
        return _seal_007(&p, app_certificate, ts, sa)
    finally:
        if p.heap:
            free(p.data)


cdef object _seal_007(Packer* p, object app_certificate, uint32_t ts, uint32_t sa):
    """Sign the packed signing info (after 34 bytes of room for the signature), deflate, base64."""
    cdef unsigned char stack_out[STACK_OUT]
    cdef unsigned char* out = stack_out
    cdef size_t bound, outlen = 0
    cdef Py_ssize_t certlen
    cdef const char* cert = _utf8(app_certificate, &certlen, "app_certificate")
    cdef fp_status status
    if _DEFLATE_WITH_PYTHON:
        return _seal_with_python_zlib(cert, <size_t>certlen, ts, sa, p)
    bound = fp_deflate_bound(p.len)
    if bound > STACK_OUT:
        out = <unsigned char*>malloc(bound)
        if out == NULL:
            raise MemoryError()
    try:
        with nogil:
            status = fp_seal_007(cert, <size_t>certlen, ts, sa, p.data, p.len, out, bound, &outlen)
        _check(status)
        return _ascii_token("007", 3, NULL, 0, out, outlen)
    finally:
        if out != stack_out:
            free(out)


cdef object _seal_with_python_zlib(const char* cert, size_t certlen, uint32_t ts, uint32_t sa, Packer* p):
    """Sign in C but deflate with Python's zlib module (see _DEFLATE_WITH_PYTHON)."""
    cdef fp_status status
    cdef bytes compressed
    p.data[0] = 32
    p.data[1] = 0
    with nogil:
        status = fp_sign_007(cert, certlen, ts, sa, p.data + 34, p.len - 34, p.data + 2)
    _check(status)
    compressed = _zlib.compress(PyBytes_FromStringAndSize(<char*>p.data, <Py_ssize_t>p.len))
    return _ascii_token("007", 3, NULL, 0, <const unsigned char*>PyBytes_AS_STRING(compressed),
                        <size_t>PyBytes_GET_SIZE(compressed))


cdef enum:
    EACH_BLOCK = 256  # tokens sealed per GIL release in build_007_each (bounds its buffers)


def build_007_user(app_id, app_certificate, issue_ts, expire, salt, service_type, privileges, channel_name, uid):
    """One 007 token of one service ``(service_type, privileges, (channel_name, uid))``: ``build_007``
    of that service, packed without the tuples (the shape of RTC, Streaming and fusion CDN). ``uid``
    is the user's wire string, or a numeric uid written as its decimal (0: the empty string)."""
    cdef unsigned char stack[STACK_PACK]
    cdef char digits[USER_DIGITS]
    cdef Packer p
    cdef uint32_t ts, ex, sa
    cdef int kind
    cdef Py_ssize_t chlen, uidlen
    cdef const char* channel = _utf8(channel_name, &chlen, "channel_name")  # as _pure checks them: first
    cdef const char* user = _user(uid, digits, &uidlen)
    p.data = stack
    p.len = 34  # room for string(signature), written once the signing info is packed
    p.cap = STACK_PACK
    p.heap = False
    try:
        _pack_text(&p, app_id, "app_id")
        ts = _u32(issue_ts, "issue_ts")
        ex = _u32(expire, "expire")
        sa = _salt_or_draw(salt)
        _put_007_times(&p, ts, ex, sa, 1)
        kind = _u16(service_type, "service type")
        _reserve(&p, 2)
        _put16(&p, <unsigned int>kind)
        _pack_privileges(&p, privileges)
        _pack_bytes(&p, channel, chlen, "service field")
        _pack_bytes(&p, user, uidlen, "service field")
        return _seal_007(&p, app_certificate, ts, sa)
    finally:
        if p.heap:
            free(p.data)


def build_007_each(app_id, app_certificate, issue_ts, expire, service_type, privileges, channel_name, uids):
    """One 007 token per wire uid of ``uids``: service ``(service_type, privileges, (channel_name,
    uid))``, a fresh salt each; blocks of tokens are packed, signed, deflated and base64-encoded
    without the GIL, so threads building many tokens rarely wait for it."""
    cdef tuple users = tuple(uids)
    cdef Py_ssize_t n = len(users), start, count, i, uidlen, longest = 0
    cdef Packer head, tail
    cdef unsigned char head_stack[256]
    cdef unsigned char tail_stack[256]
    cdef uint32_t ts, ex
    cdef Py_ssize_t certlen, chlen
    cdef const char* cert
    cdef const char* channel
    cdef const char** uid_data = NULL
    cdef size_t* uid_len = NULL
    cdef unsigned char* packed = NULL
    cdef unsigned char* sealed = NULL
    cdef unsigned char* text = NULL
    cdef size_t* text_len = NULL
    cdef size_t packed_cap, bound, text_cap, outlen
    cdef fp_status status = FP_OK
    cdef uint32_t sa
    cdef list tokens = []
    if _DEFLATE_WITH_PYTHON:  # the zlib module deflates: token by token, as build_007 does
        return [build_007(app_id, app_certificate, issue_ts, expire, None,
                          ((service_type, privileges, (channel_name, uid)),)) for uid in users]
    head.data, head.len, head.cap, head.heap = head_stack, 0, 256, False
    tail.data, tail.len, tail.cap, tail.heap = tail_stack, 0, 256, False
    try:
        # signing info = string(app_id) u32 ts u32 expire | u32 salt | u16 1, u16 type, privileges,
        # string(channel) | string(uid): everything but the salt and the uid is packed once.
        _pack_text(&head, app_id, "app_id")
        ts = _u32(issue_ts, "issue_ts")
        ex = _u32(expire, "expire")
        _reserve(&head, 8)
        _put32(&head, ts)
        _put32(&head, ex)
        _reserve(&tail, 4)
        _put16(&tail, 1)
        _put16(&tail, <unsigned int>_u16(service_type, "service type"))
        _pack_privileges(&tail, privileges)
        channel = _utf8(channel_name, &chlen, "channel_name")
        _pack_bytes(&tail, channel, chlen, "service field")  # as _pure's build_007 calls it
        cert = _utf8(app_certificate, &certlen, "app_certificate")
        uid_data = <const char**>malloc(max(n, 1) * sizeof(const char*))
        uid_len = <size_t*>malloc(max(n, 1) * sizeof(size_t))
        if uid_data == NULL or uid_len == NULL:
            raise MemoryError()
        for i in range(n):  # every uid is a str before any is measured, as in _pure
            uid_data[i] = _utf8(users[i], &uidlen, "uid")
            uid_len[i] = <size_t>uidlen
        for i in range(n):
            if uid_len[i] > 0xFFFF:
                raise _length_error("service field")
            longest = max(longest, <Py_ssize_t>uid_len[i])
        packed_cap = 34 + head.len + 4 + tail.len + 2 + <size_t>longest
        bound = fp_deflate_bound(packed_cap)
        text_cap = FP_B64LEN(bound)
        packed = <unsigned char*>malloc(packed_cap)
        sealed = <unsigned char*>malloc(bound)
        text = <unsigned char*>malloc(EACH_BLOCK * text_cap)
        text_len = <size_t*>malloc(EACH_BLOCK * sizeof(size_t))
        if packed == NULL or sealed == NULL or text == NULL or text_len == NULL:
            raise MemoryError()
        for start in range(0, n, EACH_BLOCK):
            count = min(<Py_ssize_t>EACH_BLOCK, n - start)
            with nogil:
                for i in range(count):
                    status = fp_random_salt(&sa)
                    if status == FP_OK:
                        status = _seal_each(packed, &head, sa, &tail, uid_data[start + i], uid_len[start + i],
                                            cert, <size_t>certlen, ts, sealed, bound, &outlen)
                    if status != FP_OK:
                        break
                    fp_b64encode(sealed, outlen, text + i * text_cap)
                    text_len[i] = FP_B64LEN(outlen)
            _check(status)
            for i in range(count):
                tokens.append(_ascii_token("007", 3, <const char*>(text + i * text_cap),
                                           <Py_ssize_t>text_len[i], NULL, 0))
        return tokens
    finally:
        free(uid_data)
        free(uid_len)
        free(packed)
        free(sealed)
        free(text)
        free(text_len)
        if head.heap:
            free(head.data)
        if tail.heap:
            free(tail.data)


cdef inline fp_status _seal_each(unsigned char* packed, Packer* head, uint32_t sa, Packer* tail,
                                 const char* uid, size_t uidlen, const char* cert, size_t certlen, uint32_t ts,
                                 unsigned char* out, size_t bound, size_t* outlen) noexcept nogil:
    """Assemble one token's content in ``packed`` (34 bytes of room, head, salt, tail, string(uid))
    and seal it into ``out``; fp_seal_007's status."""
    cdef Packer p
    p.data, p.len, p.cap, p.heap = packed, 34, 0, False
    memcpy(p.data + p.len, head.data, head.len)
    p.len += head.len
    _put32(&p, sa)
    memcpy(p.data + p.len, tail.data, tail.len)
    p.len += tail.len
    _put16(&p, <unsigned int>uidlen)
    memcpy(p.data + p.len, uid, uidlen)
    p.len += uidlen
    return fp_seal_007(cert, certlen, ts, sa, p.data, p.len, out, bound, outlen)
