# Python values to C values: text to UTF-8, ints checked against their wire field's width, users,
# salts.
#
# A value that does not fit raises in the project's own words (_messages), the same words _pure
# gives (it finds the field by walking the values in this kernel's order) on every Python.

cdef object _range_error(str what, long long top):
    return ValueError(_msg.out_of_range(what, top))


cdef object _count_error(str what):
    return ValueError(_msg.too_many(what))


cdef object _length_error(str what):
    return ValueError(_msg.too_long(what))


cdef inline const char* _utf8(object text, Py_ssize_t* size, str what) except NULL:
    """UTF-8 of a str (cached by the str itself); TypeError for anything else."""
    if not PyUnicode_Check(text):
        raise TypeError(_msg.not_a("a str", what, text))
    return PyUnicode_AsUTF8AndSize(text, size)


cdef object _integer(object value, str what):
    """An int, or an object with __index__ (as struct accepts); TypeError naming ``what`` else."""
    try:
        return PyNumber_Index(value)
    except TypeError:
        raise TypeError(_msg.not_a("an int", what, value)) from None


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


cdef enum:
    USER_DIGITS = 10  # the decimal digits of the largest uid, 4294967295


cdef const char* _user(object uid, char* digits, Py_ssize_t* size) except NULL:
    """A user's wire bytes (docs/format.md, "User ids"): a str's UTF-8; a numeric uid (an int
    0..2^32-1) as its decimal digits, written into ``digits`` (USER_DIGITS bytes), or none at all
    for uid 0, any user. TypeError for anything else, naming the argument as _pure does."""
    cdef char* end = digits + USER_DIGITS
    cdef char* at = end
    cdef uint32_t value
    if PyUnicode_Check(uid):
        return PyUnicode_AsUTF8AndSize(uid, size)
    if not PyLong_Check(uid):
        try:
            uid = PyNumber_Index(uid)
        except TypeError:
            raise TypeError(_msg.not_a("a str or an int", "uid", uid)) from None
    value = _u32(uid, "uid")
    while value:
        at -= 1
        at[0] = <char>(c'0' + value % 10)
        value //= 10
    size[0] = end - at
    return at


cdef uint32_t _salt_or_draw(object salt) except? 0xFFFFFFFF:
    """The given salt, or a fresh one for None (drawn here: one Python call less per token)."""
    cdef uint32_t value
    if salt is not None:
        return _u32(salt, "salt")
    _check(fp_random_salt(&value))
    return value


def random_salt():
    """A fresh salt in 1..99999999 from the OS CSPRNG."""
    cdef uint32_t value
    _check(fp_random_salt(&value))
    return PyLong_FromUnsignedLong(value)
