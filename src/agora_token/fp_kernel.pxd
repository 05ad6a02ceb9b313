# The C side of the token kernel (fp_*.c): what _fastpack.pyx calls. Each header states its contract.

from libc.stdint cimport uint32_t


cdef extern from "fp_common.h":
    size_t FP_MAX_PAYLOAD
    uint32_t FP_SALT_MAX
    size_t FP_B64LEN(size_t) nogil

    ctypedef enum fp_status:
        FP_OK
        FP_ENOMEM
        FP_ECRYPTO
        FP_EZLIB
        FP_ERANDOM
        FP_EBASE64
        FP_EZSTREAM
        FP_ETOOBIG
        FP_ETRUNCATED
        FP_ETRAILING


cdef extern from "fp_hmac.h":
    const char* fp_hmac_path()


cdef extern from "fp_state.h":
    fp_status fp_random_salt(uint32_t*) nogil


cdef extern from "fp_sign.h":
    fp_status fp_sign_007(const char*, size_t, uint32_t, uint32_t, const unsigned char*, size_t,
                          unsigned char*) nogil
    fp_status fp_sign_006(const char*, size_t, const char*, size_t, const char*, size_t, const char*, size_t,
                          const unsigned char*, size_t, unsigned char*) nogil
    fp_status fp_seal_007(const char*, size_t, uint32_t, uint32_t, unsigned char*, size_t, unsigned char*,
                          size_t, size_t*) nogil


cdef extern from "fp_codec.h":
    int fp_exact_deflate
    uint32_t fp_crc32(const char*, size_t) nogil
    size_t fp_deflate_bound(size_t) nogil
    fp_status fp_deflate(const unsigned char*, size_t, unsigned char*, size_t, size_t*) nogil
    void fp_b64encode(const unsigned char*, size_t, unsigned char*) nogil
    fp_status fp_b64decode(const unsigned char*, size_t, unsigned char*, size_t*) nogil
    fp_status fp_unpack_007(const unsigned char*, size_t, unsigned char*, size_t, unsigned char*, size_t,
                            unsigned char**, size_t*) nogil


cdef extern from "fp_deflate.h":
    enum: FPD_MAX_INPUT
    enum: FPD_OK
    int fpd_compress(const unsigned char*, size_t, unsigned char*, size_t, size_t*) nogil
