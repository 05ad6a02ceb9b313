/* fp_codec: the byte transforms around a token's content — CRC-32, deflate, inflate, base64.
 *
 * Contract. Every function works on caller-owned buffers and may run without the GIL; the zlib
 * streams are the calling thread's own (fp_state.h) or call-local, so all are reentrant.
 *   fp_crc32          CRC-32/IEEE, as zlib.crc32 and 006 tokens compute it.
 *   fp_deflate        exactly zlib.compress(data) of the interpreter (level 6, windowBits 15,
 *                     memLevel 8): fp_deflate.c's re-implementation for inputs of at most
 *                     FPD_MAX_INPUT bytes when fp_exact_deflate is 1, the linked zlib otherwise.
 *                     out must hold fp_deflate_bound(n) bytes. FP_OK, FP_ENOMEM or FP_EZLIB.
 *   fp_inflate        zlib.decompressobj().decompress(data, FP_MAX_PAYLOAD) with _pure._inflate's
 *                     checks: FP_OK, FP_ENOMEM, FP_EZSTREAM, FP_ETOOBIG, FP_ETRUNCATED or
 *                     FP_ETRAILING. *out is stackbuf, or on FP_OK possibly a malloc'd block the
 *                     caller frees.
 *   fp_b64encode      standard padded base64 of n bytes into FP_B64LEN(n) bytes (no terminator).
 *   fp_b64decode      the _pure._BASE64 rule (whole groups of 4, standard alphabet, "xx=="/"xxx="
 *                     last); at most n / 4 * 3 bytes out. FP_OK or FP_EBASE64.
 *   fp_unpack_007     fp_b64decode then fp_inflate of a 007 body (without its "007"): their
 *                     statuses, or FP_ENOMEM; *out as fp_inflate's.
 */
#ifndef AGORA_TOKEN_FP_CODEC_H
#define AGORA_TOKEN_FP_CODEC_H

#include "fp_common.h"

/* 1: inputs of at most FPD_MAX_INPUT bytes take fp_deflate.c's exact deflate. Set by the module
   at import, once that deflate matched the interpreter's zlib on every probe; 0 before. */
extern int fp_exact_deflate;

uint32_t fp_crc32(const char *data, size_t len);
size_t fp_deflate_bound(size_t n);
fp_status fp_deflate(const unsigned char *in, size_t n, unsigned char *out, size_t cap, size_t *outlen);
fp_status fp_inflate(const unsigned char *in, size_t n, unsigned char *stackbuf, size_t stackcap,
                     unsigned char **out, size_t *outlen);
void fp_b64encode(const unsigned char *in, size_t n, unsigned char *out);
fp_status fp_b64decode(const unsigned char *in, size_t n, unsigned char *out, size_t *outlen);
fp_status fp_unpack_007(const unsigned char *body, size_t n, unsigned char *dstack, size_t dcap,
                        unsigned char *istack, size_t icap, unsigned char **out, size_t *outlen);

#endif
