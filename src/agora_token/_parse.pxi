# ------------------------------------------------------------------------------------ parsing

cdef struct Reader:
    const unsigned char* data
    size_t len
    size_t pos


cdef int _truncated(const char* what) except -1:
    raise TokenError(_msg.truncated(what.decode("ascii")))


cdef inline const unsigned char* _take(Reader* r, size_t size, const char* what) except NULL:
    cdef const unsigned char* chunk
    if size > r.len - r.pos:
        _truncated(what)
    chunk = r.data + r.pos
    r.pos += size
    return chunk


cdef inline int _read_u16(Reader* r, const char* what) except -1:
    cdef const unsigned char* c = _take(r, 2, what)
    return c[0] | (c[1] << 8)


cdef inline int _read_i16(Reader* r, const char* what) except -100000:
    cdef const unsigned char* c = _take(r, 2, what)
    cdef int v = c[0] | (c[1] << 8)
    return v - 0x10000 if v >= 0x8000 else v


cdef inline long long _read_u32(Reader* r, const char* what) except -1:
    cdef const unsigned char* c = _take(r, 4, what)
    return <long long>(c[0] | (c[1] << 8) | (c[2] << 16) | (<uint32_t>c[3] << 24))


cdef bytes _read_raw(Reader* r, const char* what):
    cdef int size = _read_u16(r, what)
    cdef const unsigned char* data = _take(r, <size_t>size, what)
    return PyBytes_FromStringAndSize(<const char*>data, size)


cdef str _read_text(Reader* r, const char* what):
    cdef int size = _read_u16(r, what)
    cdef const unsigned char* data = _take(r, <size_t>size, what)
    try:
        return PyUnicode_DecodeUTF8(<const char*>data, size, NULL)
    except UnicodeDecodeError:
        raise TokenError(_msg.not_utf8(what.decode("ascii"))) from None


cdef tuple _read_privileges(Reader* r):
    cdef int count = _read_u16(r, "privilege count")
    cdef size_t left = r.len - r.pos
    cdef size_t whole = left // 6
    cdef tuple result, pair
    cdef int i
    if <size_t>count > whole:
        # the same error _Reader raises at the first pair that runs short
        if left - whole * 6 < 2:
            _truncated("privilege id")
        _truncated("privilege value")
    result = PyTuple_New(count)
    for i in range(count):
        pair = (_read_u16(r, "privilege id"), _read_u32(r, "privilege value"))
        Py_INCREF(pair)
        PyTuple_SET_ITEM(result, i, pair)
    return result


cdef tuple _read_fields(Reader* r, object codes):
    cdef list fields = []
    cdef Py_ssize_t i, n
    cdef Py_UCS4 code
    cdef int resource_types, permission_types, resources, a, b, c
    if PyUnicode_Check(codes):
        n = PyUnicode_GET_LENGTH(codes)
    else:
        codes = tuple(codes)
        n = len(<tuple>codes)
    for i in range(n):
        if PyUnicode_Check(codes):
            code = PyUnicode_READ_CHAR(codes, i)
        else:
            item = (<tuple>codes)[i]
            code = 115 if item == "s" else (104 if item == "h" else 112)
        if code == 115:  # "s"
            fields.append(_read_text(r, "service field"))
        elif code == 104:  # "h"
            fields.append(_read_i16(r, "service field"))
        else:  # "p": RTM2 permissions
            resource_types = _read_u16(r, "permission count")
            fields.append(resource_types)
            for a in range(resource_types):
                fields.append(_read_u16(r, "resource type"))
                permission_types = _read_u16(r, "permission count")
                fields.append(permission_types)
                for b in range(permission_types):
                    fields.append(_read_u16(r, "permission type"))
                    resources = _read_u16(r, "resource count")
                    fields.append(resources)
                    for c in range(resources):
                        fields.append(_read_text(r, "resource"))
    return tuple(fields)


cdef int _check_str(object token) except -1:
    if not PyUnicode_Check(token):
        raise TokenError(_msg.not_a_str(token))
    fp_unicode_ready(token)
    return 0


cdef bint _starts(object token, const char* prefix):
    return (PyUnicode_GET_LENGTH(token) >= 3 and PyUnicode_READ_CHAR(token, 0) == <Py_UCS4>prefix[0]
            and PyUnicode_READ_CHAR(token, 1) == <Py_UCS4>prefix[1]
            and PyUnicode_READ_CHAR(token, 2) == <Py_UCS4>prefix[2])


def parse_007(token, layouts):
    """Decode a 007 token.

    Returns ``(signature, signing_info, app_id, issue_ts, expire, salt, service_count, services)``:
    ``service_count`` is the count the token declares, ``services`` a list of ``(type, privileges,
    fields)`` read until the end or the first type not in ``layouts``.
    """
    cdef unsigned char dstack[STACK_DECODE]
    cdef unsigned char istack[STACK_INFLATE]
    cdef unsigned char* content = istack
    cdef size_t size = 0, body_len
    cdef const unsigned char* body
    cdef fp_status status
    cdef PyThreadState* gil
    cdef int count, i
    cdef Reader r
    _check_str(token)
    if PyUnicode_GET_LENGTH(token) > _MAX_TOKEN_LENGTH:
        raise TokenError(_TOO_LONG)
    if not _starts(token, "007"):
        raise TokenError(_msg.wrong_version("007"))
    if not PyUnicode_IS_ASCII(token):
        raise TokenError(_BASE64_ERROR)
    body = <const unsigned char*>PyUnicode_DATA(token) + 3
    body_len = <size_t>PyUnicode_GET_LENGTH(token) - 3
    gil = _release_gil_from(body_len, NOGIL_PARSE)
    status = fp_unpack_007(body, body_len, dstack, STACK_DECODE, istack, STACK_INFLATE, &content, &size)
    _retake_gil(gil)
    _check(status)  # on failure nothing is left to free: fp_unpack_007 freed it
    try:
        r.data = content
        r.len = size
        r.pos = 0
        signature = _read_raw(&r, "signature")
        signing_info = PyBytes_FromStringAndSize(<const char*>content + r.pos, <Py_ssize_t>(size - r.pos))
        app_id = _read_text(&r, "app id")
        issue_ts = _read_u32(&r, "issue_ts")
        expire = _read_u32(&r, "expire")
        salt = _read_u32(&r, "salt")
        services = []
        count = _read_u16(&r, "service count")
        is_dict = type(layouts) is dict
        for i in range(count):
            service_type = _read_u16(&r, "service type")
            if is_dict:
                codes = (<dict>layouts).get(service_type)
            else:
                codes = layouts.get(service_type)
            if codes is None:
                break  # its length is unknown: nothing after it can be read (docs/format.md, "Parsing")
            privileges = _read_privileges(&r)
            services.append((service_type, privileges, _read_fields(&r, codes)))
        return signature, signing_info, app_id, issue_ts, expire, salt, count, services
    finally:
        if content != istack:
            free(content)


def parse_006(token):
    """Decode a 006 token.

    Returns ``(app_id, signature, crc_channel, crc_uid, message, salt, ts, privileges)``; ``message``
    is the raw signed bytes.
    """
    cdef unsigned char dstack[STACK_DECODE]
    cdef unsigned char* content = dstack
    cdef size_t size = 0, body_len
    cdef Py_ssize_t n, i
    cdef const unsigned char* body
    cdef fp_status status
    cdef PyThreadState* gil
    cdef Reader r, inner
    cdef bytes message
    _check_str(token)
    if PyUnicode_GET_LENGTH(token) > _MAX_TOKEN_LENGTH:
        raise TokenError(_TOO_LONG)
    if not _starts(token, "006"):
        raise TokenError(_msg.wrong_version("006"))
    n = PyUnicode_GET_LENGTH(token)
    if n < 35:
        raise TokenError(_msg.SHORT_006)
    if not PyUnicode_IS_ASCII(token):
        for i in range(3, 35):
            if PyUnicode_READ_CHAR(token, i) > 127:
                raise TokenError(_msg.SHORT_006)
        raise TokenError(_BASE64_ERROR)
    body = <const unsigned char*>PyUnicode_DATA(token) + 35
    body_len = <size_t>(n - 35)
    if body_len // 4 * 3 > STACK_DECODE:
        content = <unsigned char*>malloc(body_len // 4 * 3)
        if content == NULL:
            raise MemoryError()
    try:
        gil = _release_gil_from(body_len, NOGIL_PARSE)
        status = fp_b64decode(body, body_len, content, &size)
        _retake_gil(gil)
        _check(status)
        r.data = content
        r.len = size
        r.pos = 0
        signature = _read_raw(&r, "signature")
        crc_channel = _read_u32(&r, "channel CRC")
        crc_uid = _read_u32(&r, "uid CRC")
        message = _read_raw(&r, "message")
        inner.data = <const unsigned char*>PyBytes_AS_STRING(message)
        inner.len = <size_t>PyBytes_GET_SIZE(message)
        inner.pos = 0
        salt = _read_u32(&inner, "salt")
        ts = _read_u32(&inner, "ts")
        privileges = _read_privileges(&inner)
        return (PyUnicode_Substring(token, 3, 35), signature, crc_channel, crc_uid, message, salt, ts,
                privileges)
    finally:
        if content != dstack:
            free(content)
