# The packed content of a token: a byte buffer on the stack that moves to the heap when it grows,
# and the wire's primitives written into it (docs/format.md, "Primitives"): u16 and u32 little-endian,
# length-prefixed strings, privilege maps, service fields; and a finished token's base64 text.

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


cdef tuple _sequence(object value, str what):
    """``value`` (a sequence: it has a length) as a tuple, else TypeError in our words, as in _pure."""
    if PyTuple_CheckExact(value):
        return <tuple>value
    try:
        len(value)
        return tuple(value)
    except TypeError:  # in the interpreter's words
        raise TypeError(_msg.not_a_sequence(what, value)) from None


cdef int _pack_privileges(Packer* p, object privileges) except -1:
    """map<u16,u32>: u16 count, then (u16 id, u32 value) pairs in the given order."""
    cdef tuple items
    cdef Py_ssize_t count, i, done
    cdef int key
    cdef uint32_t value
    items = _sequence(privileges, "privileges")
    count = PyTuple_GET_SIZE(items)
    if count > 0xFFFF:
        raise _count_error("privilege count")
    _reserve(p, 2 + 6 * <size_t>count)  # the count and every pair: no reserve per pair below
    _put16(p, <unsigned int>count)
    # Exact ints in exact pairs (the usual case) are packed in C; the general path converts or
    # refuses the rest, from the first pair the fast path left.
    done = fp_pack_int_pairs(items, p.data + p.len)
    p.len += 6 * <size_t>done
    for i in range(done, count):
        item = items[i]
        if PyTuple_CheckExact(item) and len(<tuple>item) == 2:
            key = _u16((<tuple>item)[0], "privilege id")
            value = _u32((<tuple>item)[1], "privilege value")
        else:
            try:
                k, v = item
            except (TypeError, ValueError):  # not a pair: in our words, not the interpreter's
                raise TypeError(_msg.NOT_A_PAIR) from None
            key = _u16(k, "privilege id")
            value = _u32(v, "privilege value")
        _put16(p, <unsigned int>key)
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
        raise ValueError(_msg.WORD_RANGE)
    _reserve(p, 2)
    _put16(p, <unsigned int>(v & 0xFFFF))
    return 0


cdef int _pack_fields(Packer* p, object fields) except -1:
    cdef tuple items
    if PyTuple_CheckExact(fields):
        items = <tuple>fields
    else:
        try:
            items = tuple(fields)
        except TypeError:  # in the interpreter's words
            raise TypeError(_msg.not_a_sequence("service fields", fields)) from None
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


