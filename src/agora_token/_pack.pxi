# ------------------------------------------------------------------------------------ conversions

# Values that do not fit their wire field: the project's own words, the same as _pure's (which
# finds the field by walking the values in this kernel's order) on every Python.

cdef object _range_error(str what, long long top):
    return ValueError(f"{what} must be from 0 to {top}")


cdef object _count_error(str what):
    return ValueError(f"{what} must be at most 65535")


cdef object _length_error(str what):
    return ValueError(f"{what} must be at most 65535 bytes of UTF-8")


cdef object _not_str(str what, object value):
    return TypeError(f"{what} must be a str, not {type(value).__name__}")


cdef inline const char* _utf8(object text, Py_ssize_t* size, str what) except NULL:
    """UTF-8 of a str (cached by the str itself); TypeError for anything else."""
    if not PyUnicode_Check(text):
        raise _not_str(what, text)
    return PyUnicode_AsUTF8AndSize(text, size)


cdef object _integer(object value, str what):
    """An int, or an object with __index__ (as struct accepts); TypeError naming ``what`` else."""
    try:
        return PyNumber_Index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not {type(value).__name__}") from None


cdef inline long long _in_range(object value, str what, long long top) except -1:
    """An int or __index__ object within 0..``top``; ValueError naming ``what`` else (never -1 on success)."""
    cdef int overflow = 0
    cdef long long v
    if not PyLong_Check(value):
        value = _integer(value, what)
    v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or v < 0 or v > top:
        raise _range_error(what, top)
    return v


cdef uint32_t _u32(object value, str what) except? 0xFFFFFFFF:
    return <uint32_t>_in_range(value, what, 0xFFFFFFFF)


cdef int _u16(object value, str what) except -1:
    return <int>_in_range(value, what, 0xFFFF)


# ------------------------------------------------------------------------------------ packing

cdef struct Packer:
    unsigned char* data
    size_t len
    size_t cap
    bint heap


cdef int _reserve(Packer* p, size_t extra) except -1:
    cdef size_t need = p.len + extra
    cdef size_t cap = p.cap
    cdef unsigned char* grown
    if need <= cap:
        return 0
    if need < p.len:
        raise MemoryError()
    while cap < need:
        if cap > (<size_t>-1) // 2:
            cap = need
            break
        cap *= 2
    if p.heap:
        grown = <unsigned char*>realloc(p.data, cap)
    else:
        grown = <unsigned char*>malloc(cap)
        if grown != NULL:
            memcpy(grown, p.data, p.len)
    if grown == NULL:
        raise MemoryError()
    p.data = grown
    p.cap = cap
    p.heap = True
    return 0


cdef inline void _put16(Packer* p, unsigned int v) noexcept nogil:
    p.data[p.len] = <unsigned char>v
    p.data[p.len + 1] = <unsigned char>(v >> 8)
    p.len += 2


cdef inline void _put32(Packer* p, uint32_t v) noexcept nogil:
    p.data[p.len] = <unsigned char>v
    p.data[p.len + 1] = <unsigned char>(v >> 8)
    p.data[p.len + 2] = <unsigned char>(v >> 16)
    p.data[p.len + 3] = <unsigned char>(v >> 24)
    p.len += 4


cdef int _pack_bytes(Packer* p, const char* data, Py_ssize_t size, str what) except -1:
    """string/bytes: u16 length, then the bytes."""
    if size > 0xFFFF:
        raise _length_error(what)
    _reserve(p, 2 + <size_t>size)
    _put16(p, <unsigned int>size)
    if size:
        memcpy(p.data + p.len, data, <size_t>size)
        p.len += <size_t>size
    return 0


cdef int _pack_text(Packer* p, object text, str what) except -1:
    cdef Py_ssize_t size
    cdef const char* data = _utf8(text, &size, what)
    return _pack_bytes(p, data, size, what)


cdef inline bint _pack_plain_privilege(Packer* p, object key, object value) noexcept:
    """Pack (key, value) if both are exact ints in range (the usual case); else leave it to the
    general path, which converts and raises. The caller has reserved the room."""
    cdef long long k, v
    if not (PyLong_CheckExact(key) and PyLong_CheckExact(value)):
        return False
    # long long, not long: a u32 value must fit, and C long is 32 bits on Windows.
    k = PyLong_AsLongLong(key)
    v = PyLong_AsLongLong(value)
    if k < 0 or k > 0xFFFF or v < 0 or v > 0xFFFFFFFF:  # -1 with an error set is caught here too
        PyErr_Clear()
        return False
    _put16(p, <unsigned int>k)
    _put32(p, <uint32_t>v)
    return True


cdef int _pack_privileges(Packer* p, object privileges) except -1:
    """map<u16,u32>: u16 count, then (u16 id, u32 value) pairs in the given order."""
    cdef Py_ssize_t count = len(privileges)
    cdef tuple items
    cdef int key
    cdef uint32_t value
    if count > 0xFFFF:
        raise _count_error("privilege count")
    _reserve(p, 2)
    _put16(p, <unsigned int>count)
    if count == 0:
        return 0
    items = privileges if PyTuple_CheckExact(privileges) else tuple(privileges)
    _reserve(p, 6 * <size_t>count)
    for item in items:
        if PyTuple_CheckExact(item) and len(<tuple>item) == 2:
            if _pack_plain_privilege(p, <object>PyTuple_GET_ITEM(item, 0), <object>PyTuple_GET_ITEM(item, 1)):
                continue
            key = _u16((<tuple>item)[0], "privilege id")
            value = _u32((<tuple>item)[1], "privilege value")
        else:
            k, v = item
            key = _u16(k, "privilege id")
            value = _u32(v, "privilege value")
        _put16(p, <unsigned int>key)  # the room was reserved for every pair above
        _put32(p, value)
    return 0


cdef int _pack_word(Packer* p, object value) except -1:
    """A 16-bit field: -32768..65535, packed as value & 0xFFFF."""
    cdef int overflow = 0
    cdef long long v
    if not PyLong_Check(value):
        value = _integer(value, "service field")
    v = PyLong_AsLongLongAndOverflow(value, &overflow)
    if overflow or v < -0x8000 or v > 0xFFFF:
        raise ValueError("service field must be from -32768 to 65535")
    _reserve(p, 2)
    _put16(p, <unsigned int>(v & 0xFFFF))
    return 0


cdef int _pack_fields(Packer* p, object fields) except -1:
    cdef tuple items = fields if PyTuple_CheckExact(fields) else tuple(fields)
    for field in items:
        if PyUnicode_Check(field):
            _pack_text(p, field, "service field")
        else:
            _pack_word(p, field)
    return 0


cdef object _ascii_token(const char* p1, Py_ssize_t n1, const char* p2, Py_ssize_t n2,
                         const unsigned char* data, size_t size):
    """p1 + p2 + base64(data) as a new ASCII str, encoded in place (without the GIL when long)."""
    cdef size_t b64 = FP_B64LEN(size)
    cdef object text = PyUnicode_New(n1 + n2 + <Py_ssize_t>b64, 127)
    cdef unsigned char* out = <unsigned char*>PyUnicode_DATA(text)
    cdef PyThreadState* gil
    if n1:
        memcpy(out, p1, <size_t>n1)
    if n2:
        memcpy(out + n1, p2, <size_t>n2)
    out += n1 + n2
    gil = _release_gil_from(b64, NOGIL_BASE64)
    fp_b64encode(data, size, out)
    _retake_gil(gil)
    return text


# ------------------------------------------------------------------------------------ 007

def sign_007(app_certificate, issue_ts, salt, signing_info):
    """HMAC-SHA256 signature of a 007 token's signing info (SPEC §3.1)."""
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


cdef uint32_t _salt_or_draw(object salt) except? 0xFFFFFFFF:
    """The given salt, or a fresh one for None (drawn here: one Python call less per token)."""
    cdef uint32_t value
    if salt is not None:
        return _u32(salt, "salt")
    _check(fp_random_salt(&value))
    return value


cdef uint32_t _now_plus(object value, uint32_t lifetime, str what) except? 0xFFFFFFFF:
    """The given time (the argument ``what``), or now + ``lifetime`` for None."""
    if value is not None:
        return _u32(value, what)
    return <uint32_t>(<unsigned long long>time(NULL) + lifetime)


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


cdef int _pack_privileges_until(Packer* p, tuple ids, uint32_t value) except -1:
    """map<u16,u32> giving each privilege id of ``ids`` the same value."""
    cdef Py_ssize_t count = len(ids), i
    if count > 0xFFFF:
        raise _count_error("privilege count")
    _reserve(p, 2 + 6 * <size_t>count)
    _put16(p, <unsigned int>count)
    for i in range(count):
        _put16(p, <unsigned int>_u16(ids[i], "privilege id"))
        _put32(p, value)
    return 0


def build_007(app_id, app_certificate, issue_ts, expire, salt, services):
    """Pack, sign, deflate and base64 one 007 token; ``issue_ts``/``salt`` None: now / a fresh salt."""
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
        count = len(services)
        ts = _now_plus(issue_ts, 0, "issue_ts")
        ex = _u32(expire, "expire")
        sa = _salt_or_draw(salt)
        _put_007_times(&p, ts, ex, sa, count)
        items = services if PyTuple_CheckExact(services) else tuple(services)
        for service in items:
            if PyTuple_CheckExact(service) and len(<tuple>service) == 3:
                service_type = (<tuple>service)[0]
                privileges = (<tuple>service)[1]
                fields = (<tuple>service)[2]
            else:
                service_type, privileges, fields = service
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


# ------------------------------------------------------------------------------------ 006

def sign_006(app_certificate, app_id, channel_name, uid, message):
    """HMAC-SHA256 signature of a 006 token (SPEC §2.1)."""
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
    except Exception:  # as ``bytes + message`` reports it
        raise TypeError(f"can't concat {type(message).__name__} to bytes") from None
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
    """Pack, sign and base64 one 006 token; ``uid`` is already the decimal or account string.

    ``salt`` None draws a fresh salt; ``ts`` None is 24 h from now.
    """
    cdef unsigned char stack[STACK_PACK]
    cdef Packer p
    cdef Py_ssize_t chlen, uidlen
    cdef const char* channel = _utf8(channel_name, &chlen, "channel_name")
    cdef const char* account = _utf8(uid, &uidlen, "uid")
    cdef uint32_t s, t
    p.data = stack
    p.len = _MESSAGE_006
    p.cap = STACK_PACK
    p.heap = False
    try:
        s = _salt_or_draw(salt)
        t = _now_plus(ts, _TOKEN_006_LIFETIME, "ts")
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
        raise ValueError("006 message must be at most 65535 bytes")
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


# ------------------------------------------------------------------------------------ RTC hot path

cdef inline Py_ssize_t _decimal(uint32_t value, char* out) noexcept nogil:
    """``value`` in decimal, as str(value) writes it (1 to 10 digits); returns the length."""
    cdef char reversed_digits[10]
    cdef Py_ssize_t n = 0, i
    while True:
        reversed_digits[n] = <char>(48 + value % 10)  # 48: '0'
        n += 1
        value //= 10
        if value == 0:
            break
    for i in range(n):
        out[i] = reversed_digits[n - 1 - i]
    return n


def rtc_token(dict shapes, app_id, app_certificate, channel_name, uid, role, expire, privilege_expire,
              version):
    """An RTC token for a uid, now and with a fresh salt, if the other arguments have a known shape; else None.

    ``shapes`` maps the arguments but the uid, exactly as passed, to what they mean once checked
    (the builder fills it: see ``_pure.rtc_token``); only exact ``str``/``int`` arguments are
    looked up, and the uid must be an ``int`` in 0..2^32-1.
    """
    cdef unsigned char stack[STACK_PACK]
    cdef Packer p
    cdef int overflow = 0
    cdef long long user
    cdef char digits[16]
    cdef Py_ssize_t uidlen = 0, chlen
    cdef const char* channel
    cdef tuple shape, ids
    cdef uint32_t lifetime, privilege_lifetime, sa
    cdef unsigned long long now, until, ts
    cdef int service_type
    cdef bint is_006
    # The key test is _kernel_api.rtc_shape_key_is_exact's, in C; then the uid's.
    if not (PyLong_CheckExact(uid) and PyUnicode_CheckExact(app_id) and PyUnicode_CheckExact(app_certificate)
            and PyUnicode_CheckExact(channel_name) and PyLong_CheckExact(expire)
            and (privilege_expire is None or PyLong_CheckExact(privilege_expire))
            and PyUnicode_CheckExact(version)
            and (PyUnicode_CheckExact(role) or (PyLong_Check(role) and not PyBool_Check(role)))):
        return None
    user = PyLong_AsLongLongAndOverflow(uid, &overflow)
    if overflow or user < 0 or user > 0xFFFFFFFF:
        return None
    found = shapes.get((app_id, app_certificate, channel_name, role, expire, privilege_expire, version))
    if found is None:
        return None
    shape = <tuple?>found
    is_006 = shape[0]
    lifetime = _u32(shape[1], "expire")
    privilege_lifetime = _u32(shape[2], "privilege_expire")
    service_type = _u16(shape[3], "service type")
    ids = <tuple?>shape[4]
    if user:
        uidlen = _decimal(<uint32_t>user, digits)
    channel = _utf8(channel_name, &chlen, "channel_name")
    now = <unsigned long long>time(NULL)
    p.data = stack
    p.cap = STACK_PACK
    p.heap = False
    try:
        sa = _salt_or_draw(None)
        if is_006:
            p.len = _MESSAGE_006
            until = now + privilege_lifetime
            ts = now + lifetime
            if until > 0xFFFFFFFF or ts > 0xFFFFFFFF:
                raise _range_error("ts", 0xFFFFFFFF)
            _reserve(&p, 8)
            _put32(&p, sa)
            _put32(&p, <uint32_t>ts)
            _pack_privileges_until(&p, ids, <uint32_t>until)
            return _seal_006(&p, app_id, app_certificate, channel, chlen, digits, uidlen)
        p.len = 34  # room for string(signature)
        _pack_text(&p, app_id, "app_id")
        _put_007_times(&p, <uint32_t>now, lifetime, sa, 1)  # one service
        _reserve(&p, 2)
        _put16(&p, <unsigned int>service_type)
        _pack_privileges_until(&p, ids, privilege_lifetime)
        _pack_bytes(&p, channel, chlen, "service field")
        _pack_bytes(&p, digits, uidlen, "service field")
        return _seal_007(&p, app_certificate, <uint32_t>now, sa)
    finally:
        if p.heap:
            free(p.data)


# ------------------------------------------------------------------------------------ many tokens

cdef enum:
    EACH_BLOCK = 256  # tokens sealed per GIL release in build_007_each (bounds its buffers)


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
        ts = _now_plus(issue_ts, 0, "issue_ts")
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


def random_salt():
    """A fresh salt in 1..99999999 from the OS CSPRNG."""
    cdef uint32_t value
    _check(fp_random_salt(&value))
    return PyLong_FromUnsignedLong(value)
